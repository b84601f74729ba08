//! `load` and `load merge`: clap definitions and their conversion into plans.

use super::target::TargetArgs;
use crate::app::{LoadOutput, SummaryJson};
use crate::error::Result;
use crate::flags::{parse_duration, parse_users};
use crate::load::merge::MergePlan;
use crate::load::shard::{self, Shard};
use crate::load::{LoadClient, LoadPlan, thresholds::Threshold};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct LoadArgs {
    #[command(subcommand)]
    pub command: Option<LoadCommand>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// The flow: create-bind-query, lifecycle, query-only, mixed (or one from --scenarios).
    #[arg(long, default_value = "create-bind-query")]
    pub flow: String,
    /// Concurrent goose users (1 to 100,000); each gets its own IAM identity.
    #[arg(long, default_value_t = 8, value_parser = parse_users)]
    pub users: usize,
    /// Users started per second [default: all of them within the first second].
    #[arg(long, value_name = "PER_S")]
    pub increase_rate: Option<f64>,
    /// How long to run once every user has started, e.g. 10s, 1m (whole seconds) [default: 10s].
    #[arg(long, value_parser = parse_duration, conflicts_with_all = ["stages", "iterations", "rate_stages"])]
    pub run_time: Option<Duration>,
    /// Ramp users stage by stage, DUR:USERS,…: e.g. 30s:100,2m:100,30s:0 ramps to 100 users over
    /// 30 s, holds them 2 min, stops them over 30 s (whole seconds; in place of --users).
    #[arg(long, value_name = "STAGES", value_parser = parse_stages, conflicts_with_all = ["users", "increase_rate", "iterations"])]
    pub stages: Option<StagesArg>,
    /// Each user runs the flow N times, then stops; the run ends when every user has (per
    /// user: --users 8 --iterations 10 runs 80 flows).
    #[arg(long, value_name = "N")]
    pub iterations: Option<usize>,
    /// Constant arrival rate in flows per second (goose's throttle). Latency is measured from
    /// when a request is let through and corrected for coordinated omission.
    #[arg(long, value_name = "PER_S")]
    pub rate: Option<f64>,
    /// Ramp the arrival rate stage by stage, DUR:RATE,… in flows per second: e.g.
    /// 10s:50,1m:50,10s:0 (whole seconds; in place of --run-time). --users is the pool of users
    /// that run the flows; a flow that finds none free is dropped and counted.
    #[arg(long, value_name = "STAGES", value_parser = parse_rate_stages, conflicts_with_all = ["rate", "stages", "iterations", "increase_rate"])]
    pub rate_stages: Option<RateStagesArg>,
    /// Pass/fail threshold, repeatable: bind.p95<50ms, query.p99<=20ms, errors<0.1%, flows/s>500,
    /// req/s>1000, create.errors<5 (docs/load.md has the grammar).
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// Report file by extension: .html (ours: self-contained, charts per second), .json or .md (goose's); repeatable.
    #[arg(long = "report-file", value_name = "FILE")]
    pub report_files: Vec<PathBuf>,
    /// A goose JSON report of an earlier run (--report-file x.json) to compare with.
    #[arg(long, value_name = "FILE")]
    pub baseline_file: Option<PathBuf>,
    /// Write the summary as JSON (schemas/reports/load-summary.schema.json); `-`: as one line,
    /// the last of stdout (after the text summary), for `kubectl logs POD | tail -1`.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Run shard K of N of a distributed run (K from 0, as Kubernetes' JOB_COMPLETION_INDEX):
    /// its share of --users, --rate and --increase-rate, users named per shard, its slice of
    /// --pool. `load merge` joins the shards' --json summaries.
    #[arg(long, value_name = "K/N", env = "MFA_SHARD", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Provision the users, then wait until TIME to begin (RFC 3339, or Unix seconds as
    /// `date -d +30s +%s` prints), so every shard begins together; a shard that begins more
    /// than 1 s late says so in its summary.
    #[arg(long, value_name = "TIME", env = "MFA_START_AT", value_parser = parse_start_at)]
    pub start_at: Option<SystemTime>,
    /// Directory of extra or replacement load flows (*.toml).
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
    /// Least time left in the 30-s TOTP step for a bind to be sent, else it waits for the next
    /// step [default: 2s; 300ms against the embedded server].
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub totp_margin: Option<Duration>,
    /// What sends the measured requests: `connection`, one HTTP/1.1 keep-alive connection per
    /// goose user (http:// and https:// targets, through --proxy too); or `goose`, goose's own
    /// reqwest client (its connection pool). Both share the TLS and proxy settings.
    #[arg(long, value_enum, default_value_t = ClientArg::Connection)]
    pub client: ClientArg,
    /// Worker threads of the generator (1 to 1024) [default: one per CPU]. 1 runs the whole
    /// generator on one thread. With the target on the same machine, 1 leaves it more CPU:
    /// one thread spends less per request than several that keep waking each other
    /// (docs/load.md, "Benchmark").
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    #[command(flatten)]
    pub live: super::live::LiveArgs,
}

/// `load --client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientArg {
    Connection,
    Goose,
}

/// `--stages`: a list in one value (a `Vec` field would make clap expect one per flag).
#[derive(Debug, Clone)]
pub struct StagesArg(Vec<crate::load::shape::Stage>);

fn parse_stages(text: &str) -> std::result::Result<StagesArg, String> {
    crate::load::shape::parse_stages(text, crate::flags::MAX_USERS).map(StagesArg)
}

/// `--rate-stages`: a list in one value.
#[derive(Debug, Clone)]
pub struct RateStagesArg(Vec<crate::load::arrivals::RateStage>);

fn parse_rate_stages(text: &str) -> std::result::Result<RateStagesArg, String> {
    crate::load::arrivals::parse(text).map(RateStagesArg)
}

impl LoadArgs {
    pub fn into_plan(self) -> Result<(LoadPlan, LoadOutput)> {
        let network = self.target.network.clone().into_network()?;
        let thresholds = self.thresholds.iter().map(|t| Threshold::parse(t)).collect::<Result<_>>()?;
        let plan = LoadPlan {
            target: self.target.into_spec()?,
            flow: self.flow,
            users: self.stages.as_ref().map_or(self.users, |s| crate::load::shape::peak_users(&s.0)),
            increase_rate: self.increase_rate,
            run_time: self.run_time.unwrap_or(Duration::from_secs(10)),
            stages: self.stages.clone().map(|s| s.0).unwrap_or_default(),
            iterations: self.iterations,
            rate: self.rate,
            rate_stages: self.rate_stages.map(|s| s.0).unwrap_or_default(),
            thresholds,
            report_files: self.report_files,
            baseline_file: self.baseline_file,
            scenarios: self.scenarios,
            network,
            totp_margin: self.totp_margin,
            client: match self.client {
                ClientArg::Connection => LoadClient::Connection,
                ClientArg::Goose => LoadClient::Goose,
            },
            shard: self.shard,
            start_at: self.start_at,
            threads: self.threads.map(usize::from),
        };
        let progress = self.live.mode(std::io::IsTerminal::is_terminal(&std::io::stderr()));
        let json = self.json.map(SummaryJson::from);
        Ok((plan, LoadOutput { json, metrics_listen: self.live.metrics_listen, progress }))
    }
}

fn parse_shard(text: &str) -> std::result::Result<Shard, String> {
    Shard::parse(text).map_err(|e| strip_flag(e, "--shard"))
}

fn parse_start_at(text: &str) -> std::result::Result<SystemTime, String> {
    shard::parse_start_at(text).map_err(|e| strip_flag(e, "--start-at"))
}

/// A usage error's message without its flag, which clap's own message names.
fn strip_flag(e: crate::Error, flag: &str) -> String {
    let text = e.to_string();
    text.strip_prefix(flag).map_or(text.clone(), |rest| rest.trim_start().to_string())
}

/// What `load` does besides a run.
#[derive(Debug, Subcommand)]
pub enum LoadCommand {
    /// Join the JSON summaries of the shards of one run (load --shard K/N --json FILE) into one
    /// exact summary: counts added, HDR histograms merged, every percentile and rate computed
    /// again, thresholds (the flow's and --threshold) evaluated on the whole; exits 0/1 as load.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' JSON summaries (load --shard K/N --json FILE), e.g. shard-*.json.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Pass/fail threshold on the merged run, repeatable (as for load; the flow's own thresholds
    /// are evaluated too).
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// Write the merged summary as JSON; `-`: one line, the last of stdout.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the merged HTML report (.html), repeatable.
    #[arg(long = "report-file", value_name = "FILE")]
    pub report_files: Vec<PathBuf>,
    /// Merge even when some of the N shards' summaries are not given (the summary names them);
    /// without it a partial run is refused, as it is not the run that was asked for.
    #[arg(long)]
    pub partial: bool,
}

impl MergeArgs {
    pub fn into_plan(self) -> Result<(MergePlan, LoadOutput)> {
        let thresholds = self.thresholds.iter().map(|t| Threshold::parse(t)).collect::<Result<_>>()?;
        for file in &self.report_files {
            if !crate::load::is_html_report(file) {
                let problem = format!("{}: load merge writes our HTML report (.html) only", file.display());
                return Err(crate::error::UsageError::Flag { flag: "--report-file", problem }.into());
            }
        }
        let plan = MergePlan { files: self.files, thresholds, report_files: self.report_files, partial: self.partial };
        Ok((plan, LoadOutput { json: self.json.map(SummaryJson::from), ..LoadOutput::default() }))
    }
}

#[cfg(test)]
mod tests {
    use crate::load::LoadPlan;

    fn parse(args: &[&str]) -> Result<LoadPlan, String> {
        let words = [&["mfa-harness", "load"][..], args].concat();
        let cli = <crate::cli::Cli as clap::Parser>::try_parse_from(words).map_err(|e| e.to_string())?;
        let crate::cli::Command::Load(args) = cli.command else { panic!("not load") };
        args.into_plan().map(|(plan, _)| plan).map_err(|e| e.to_string())
    }

    fn plan(args: &[&str]) -> LoadPlan {
        parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn flows_run_in_a_row_only_when_goose_needs_nothing_between_them() {
        assert!(plan(&[]).batch());
        assert!(plan(&["--stages", "1s:4,1s:0"]).batch(), "goose stops a ramped-down user between iterations");
        assert!(plan(&["--report-file", "r.html"]).batch(), "our HTML report is made from our own recorder");
        for needs_goose in [
            &["--iterations", "3"][..],
            &["--rate", "10"],
            &["--rate-stages", "1s:10"],
            &["--report-file", "r.json"],
            &["--report-file", "r.md"],
            &["--baseline-file", "b.json"],
        ] {
            assert!(!plan(needs_goose).batch(), "{needs_goose:?}: goose counts or paces every iteration");
        }
    }

    #[test]
    fn threads_are_one_to_1024_or_one_per_cpu() {
        assert_eq!(plan(&[]).threads, None);
        assert_eq!(plan(&["--threads", "1"]).threads, Some(1));
        assert_eq!(plan(&["--threads", "1024"]).threads, Some(1024));
        for wrong in ["0", "1025", "two"] {
            let error = parse(&["--threads", wrong]).unwrap_err();
            assert!(error.contains("--threads"), "--threads {wrong}: {error}");
        }
    }
}
