//! Command-line definitions (clap) and their conversion into the plain plans of [`crate::app`].

use crate::app::{CheckOutput, Plan, TotpOnly, TotpPlan};
use crate::contract::explore::ExplorePlan;
use crate::contract::{CheckPlan, Format};
use crate::error::{Result, UsageError};
pub use crate::flags::{MAX_USERS, parse_duration, parse_timeout, parse_users};
use crate::snapshot::SnapshotPlan;
use crate::target::display_url;
use crate::totp::Seed;
use clap::{Args, Parser, Subcommand, ValueEnum};
pub mod config;
mod live;
pub mod load;
mod manual;
mod network;
mod serve;
pub mod sign;
mod target;

pub use load::{ClientArg, LoadArgs, LoadCommand, MergeArgs};
pub use network::NetworkArgs;
pub use serve::ServeArgs;
use std::path::PathBuf;
use std::time::Duration;
pub use target::TargetArgs;

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Write the report to FILE (a text report still goes to stdout).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the report as FORMAT to FILE, repeatable: junit:out.xml, html:out.html,
    /// json:out.json, tap:out.tap, text:out.txt (the text report still goes to stdout).
    #[arg(long = "report", value_name = "FORMAT:FILE", value_parser = parse_report)]
    pub reports: Vec<(Format, PathBuf)>,
    /// Run only the cases whose id starts with PATTERN at a `.` or `-` (bind: bind.*, not
    /// unbind.*), or matches it as a glob with *; repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub only: Vec<String>,
    /// Fail on should-level findings too, and forbid unknown properties where the docs list all.
    #[arg(long)]
    pub strict: bool,
    /// Directory of extra or replacement contract cases (*.toml).
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
    /// Directory of schemas that replace or add to the embedded ones.
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,
    /// Also print the coverage matrix: every cell of the contract's axes with the cases that
    /// cover it (the JSON report always carries it).
    #[arg(long)]
    pub coverage: bool,
    /// How many cases run at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Explore with N random actions judged by the spec's model (default 300; 0: not even a quick one).
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "300")]
    pub explore: Option<usize>,
    /// Seed of the exploration (printed in every report): the same seed draws the same walks.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop exploring (shrinking included) after this long (default 2m; quick exploration 20s).
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub explore_time: Option<Duration>,
    /// Waits (up to 30 s each) for a fresh TOTP step per exploration walk; a rebind needs two.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub explore_waits: u32,
    /// Also run the cases that wait for fresh TOTP steps (up to a minute in all).
    #[arg(long)]
    pub slow: bool,
    /// List the cases the other flags select (id, severity, title) and exit; nothing is sent.
    #[arg(long)]
    pub list: bool,
    /// Replay a sequence of exploration actions, as a finding prints it.
    #[arg(long, value_name = "ACTIONS", conflicts_with = "explore")]
    pub replay: Option<String>,
}

/// The start of the command that replays an exploration against the same target.
fn replay_command(target: &TargetArgs, strict: bool) -> String {
    let mut words = vec!["mfa-harness check".to_string()];
    match (target.target.as_ref().or(target.url.as_ref()), &target.pool) {
        (Some(url), Some(pool)) => words.push(format!("--target {} --pool {}", display_url(url), pool.display())),
        (Some(url), None) => {
            words.push(format!("--target {}", display_url(url)));
            // Secrets (password, token, secret key) come from the environment, as before.
            let flags = [
                ("--domain", &target.domain),
                ("--admin-name", &target.admin_name),
                ("--access-key", &target.access_key),
            ];
            words.extend(flags.iter().filter_map(|(flag, value)| value.as_ref().map(|v| format!("{flag} {v}"))));
        }
        (None, _) => {
            words.extend(target.faults.iter().map(|f| format!("--fault {}", f.name())));
            words.extend(target.readings.iter().map(|r| format!("--reading {}", r.name())));
        }
    }
    words.extend(strict.then(|| "--strict".to_string()));
    words.join(" ")
}

/// `--report FORMAT:FILE`.
fn parse_report(text: &str) -> std::result::Result<(Format, PathBuf), String> {
    let Some((format, file)) = text.split_once(':').filter(|(_, f)| !f.is_empty()) else {
        return Err(format!("'{text}' is not FORMAT:FILE, e.g. junit:report.xml"));
    };
    let format = FormatArg::from_str(format, true)
        .map_err(|_| format!("'{format}' is not a report format (text, json, junit, tap, html)"))?;
    Ok((format.into(), PathBuf::from(file)))
}

/// `check --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Junit,
    /// TAP version 13, a YAML block per case with findings.
    Tap,
    /// One self-contained HTML page (no script, no external asset).
    Html,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Format {
        match format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Junit => Format::Junit,
            FormatArg::Tap => Format::Tap,
            FormatArg::Html => Format::Html,
        }
    }
}

impl CheckArgs {
    /// `--replay`, `--explore N`, or the quick exploration (unless `--only` leaves it out).
    fn explore_plan(&self) -> Result<Option<ExplorePlan>> {
        let seed = self.seed.unwrap_or_else(crate::contract::explore::random_seed);
        let command = replay_command(&self.target, self.strict);
        let mut plan = match (&self.replay, self.explore) {
            (Some(text), _) => ExplorePlan {
                replay: Some(crate::contract::explore::action::parse_actions(text)?),
                ..ExplorePlan::full(1, seed, command)
            },
            (None, Some(0)) => return Ok(None),
            (None, Some(actions)) => {
                ExplorePlan { ticks: self.explore_waits, ..ExplorePlan::full(actions, seed, command) }
            }
            (None, None) => {
                let selected = self.only.is_empty()
                    || self.only.iter().any(|p| crate::contract::case::matches(p, crate::contract::explore::CASE_ID));
                if !selected {
                    return Ok(None);
                }
                ExplorePlan::quick(seed, command)
            }
        };
        if let Some(time) = self.explore_time {
            plan.time = time;
        }
        Ok(Some(plan))
    }

    pub fn into_plan(self) -> Result<(CheckPlan, CheckOutput)> {
        let network = self.target.network.clone().into_network()?;
        let explore = self.explore_plan()?;
        let plan = CheckPlan {
            target: self.target.into_spec()?,
            only: self.only,
            strict: self.strict,
            network,
            scenarios: self.scenarios,
            schemas: self.schemas,
            concurrency: self.concurrency as usize,
            explore,
            slow: self.slow,
        };
        // `--output -` is standard output, as for most tools.
        let output = self.output.filter(|p| p.as_os_str() != "-");
        Ok((plan, CheckOutput { format: self.format.into(), output, coverage: self.coverage, reports: self.reports }))
    }
}

/// Contract, load and snapshot checks for the Huawei Cloud IAM virtual-MFA-device API.
#[derive(Debug, Parser)]
#[command(name = "mfa-harness", version, about, propagate_version = true)]
pub struct Cli {
    /// Read flags from a TOML file (same keys as the flags; a `[check]`, `[load]`… table per
    /// command); flags on the command line win.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the command line after putting `--config`'s settings in; clap's own errors end
    /// the process as clap does (exit 2).
    pub fn parse_with_config(args: Vec<std::ffi::OsString>) -> Result<Cli> {
        Ok(<Cli as Parser>::parse_from(config::expand(args, &Self::clap())?))
    }
}

// Parsed once per process and matched at once: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the contract cases against a target (the embedded reference server by default).
    Check(CheckArgs),
    /// Load-test full flows (create → bind → query …) with goose, checking every answer.
    Load(LoadArgs),
    /// Run the reference implementation as a standalone server.
    Serve(ServeArgs),
    /// Record the contract suite's exchanges as normalized snapshots and diff them with the baseline.
    Snapshot(SnapshotArgs),
    /// Print the OpenAPI 3.1 document of the contract.
    Openapi(OpenapiArgs),
    /// Print TOTP codes for a seed: the current code and the pair that bind needs.
    Totp(TotpArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a directory.
    Man {
        /// Write mfa-harness.1 and mfa-harness-COMMAND.1 here instead of printing.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print the Authorization and X-Sdk-Date headers for a request signed with an access key
    /// and secret key (SDK-HMAC-SHA256), to use with curl.
    Sign(sign::SignArgs),
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Store the new snapshots as the baseline (with --only: just those cases').
    #[arg(long)]
    pub accept: bool,
    /// CI mode, also when the CI environment variable is set (not to false/0): a missing
    /// baseline is exit 1 instead of being recorded; changes are never stored (only .snap.new).
    #[arg(long, env = "CI", value_parser = clap::builder::FalseyValueParser::new())]
    pub ci: bool,
    /// Where snapshots live; one folder per target below it.
    #[arg(long, default_value = "snapshots", value_name = "DIR")]
    pub dir: PathBuf,
    /// The target's folder name (default: `reference` for the embedded server, else the host).
    #[arg(long)]
    pub name: Option<String>,
    /// Only the cases whose id starts with PATTERN at a `.` or `-`, or matches it as a glob
    /// with *; repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub only: Vec<String>,
    /// Directory of extra or replacement contract cases (*.toml).
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
}

impl SnapshotArgs {
    pub fn into_plan(self) -> Result<SnapshotPlan> {
        if let Some(name) = &self.name
            && (name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.'))
        {
            return Err(
                UsageError::Flag { flag: "--name", problem: format!("'{name}' must be a plain folder name") }.into()
            );
        }
        let network = self.target.network.clone().into_network()?;
        Ok(SnapshotPlan {
            target: self.target.into_spec()?,
            network,
            only: self.only,
            scenarios: self.scenarios,
            dir: self.dir,
            name: self.name,
            accept: self.accept,
            ci: self.ci,
        })
    }
}

#[derive(Debug, Args)]
pub struct OpenapiArgs {
    /// Write the document to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TotpOnlyArg {
    /// Only the current code.
    Code,
    /// Only the bind pair, "FIRST SECOND".
    Bind,
}

#[derive(Debug, Args)]
pub struct TotpArgs {
    /// The base32 seed (base32_string_seed from create); also read from MFA_TOTP_SEED.
    #[arg(long, env = "MFA_TOTP_SEED", hide_env_values = true)]
    pub seed: String,
    /// Compute for this Unix time instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub at: Option<u64>,
    /// Print only one value, for scripts.
    #[arg(long, value_enum)]
    pub only: Option<TotpOnlyArg>,
}

impl TotpArgs {
    pub fn into_plan(self) -> Result<TotpPlan> {
        let seed = Seed::parse(&self.seed).map_err(UsageError::Seed)?;
        let only = self.only.map(|only| match only {
            TotpOnlyArg::Code => TotpOnly::Code,
            TotpOnlyArg::Bind => TotpOnly::Bind,
        });
        Ok(TotpPlan { seed, at: self.at, only })
    }
}

impl Cli {
    /// The clap definition of the whole command line.
    fn clap() -> clap::Command {
        <Cli as clap::CommandFactory>::command()
    }

    /// The plan this command line asks for.
    pub fn into_plan(self) -> Result<Plan> {
        Ok(match self.command {
            Command::Check(args) if args.list => Plan::ListCases { scenarios: args.scenarios, only: args.only },
            Command::Check(args) => {
                let (plan, output) = args.into_plan()?;
                Plan::Check(plan, output)
            }
            Command::Load(LoadArgs { command: Some(LoadCommand::Merge(args)), .. }) => {
                let (plan, output) = args.into_plan()?;
                Plan::LoadMerge(plan, output)
            }
            Command::Load(args) => {
                let (plan, output) = args.into_plan()?;
                Plan::Load(plan, output)
            }
            Command::Snapshot(args) => Plan::Snapshot(args.into_plan()?),
            Command::Serve(args) => Plan::Serve(args.into_plan()?),
            Command::Openapi(args) => Plan::Openapi { output: args.output },
            Command::Totp(args) => Plan::Totp(args.into_plan()?),
            Command::Completions { shell } => Plan::Print(manual::completions(Self::clap(), shell)),
            Command::Man { dir: None } => Plan::Print(manual::page(Self::clap())?),
            Command::Man { dir: Some(dir) } => Plan::WriteFiles { dir, files: manual::pages(Self::clap())? },
            Command::Sign(args) => Plan::Sign(args.into_plan()?),
        })
    }
}
