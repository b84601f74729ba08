//! The summary of a load run: one model, rendered as text (stdout) and JSON
//! (`schemas/reports/load-summary.schema.json`).

use super::hdr::serialize_base64;
use super::recorder::Measured;
use super::shard::{MergedFacts, ShardFacts, rfc3339_millis};
use super::thresholds::{Metric, Threshold};
use crate::error::{Cleanup, Interrupted, Outcome, Result, TargetError};
use crate::signals::Signal;
use hdrhistogram::Histogram;
use serde::Serialize;

/// Latency figures in milliseconds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Latency {
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepSummary {
    pub name: String,
    pub count: u64,
    pub failures: u64,
    pub requests_per_second: f64,
    pub latency: Latency,
    /// Per second with answers (seconds since the first request sent), for plotting.
    pub series: Vec<SecondFigures>,
    /// The run was longer than the series keeps (24 h): later seconds are left out of it.
    pub series_truncated: bool,
    /// The whole run's HDR histogram (µs), V2 + DEFLATE, base64: what `load merge` adds up.
    #[serde(serialize_with = "serialize_base64")]
    pub histogram: Vec<u8>,
}

/// One second of one step, latencies in microseconds from that second's own histogram.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SecondFigures {
    pub second: u64,
    pub count: u64,
    pub errors: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    /// That second's HDR histogram, encoded as the step's.
    #[serde(serialize_with = "serialize_base64")]
    pub histogram: Vec<u8>,
}

/// Failures in one second.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SecondCount {
    pub second: u64,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorCount {
    pub step: String,
    pub reason: String,
    pub count: u64,
    /// The seconds (since the first request sent) with such failures, in order.
    pub per_second: Vec<SecondCount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ThresholdResult {
    pub threshold: String,
    /// The measured value in `unit`; `null` when the run measured nothing for it.
    pub measured: Option<f64>,
    /// `ms`, `%`, `requests` or `/s`.
    pub unit: String,
    pub passed: bool,
}

/// The whole run, as printed and as JSON (`schemas/reports/load-summary.schema.json`).
#[derive(Debug, Clone, Serialize)]
pub struct LoadSummary {
    pub tool: String,
    pub flow: String,
    pub target: String,
    /// What sent the measured requests: `connection` (one keep-alive HTTP/1.1 connection per
    /// user) or `goose` (goose's reqwest client).
    pub client: String,
    pub users: usize,
    pub duration_s: f64,
    /// When the first request was sent and the last answer received (RFC 3339, UTC, ms).
    pub started_at: String,
    pub ended_at: String,
    /// The Unix second that is `second` 0 of every series and error count.
    pub series_start_unix: u64,
    /// The steps the flow measures, and the flow's own thresholds: what `load merge` checks
    /// shards against and evaluates again.
    pub flow_steps: Vec<String>,
    pub flow_thresholds: Vec<String>,
    /// `--shard K/N`: which share this run was; `null` for a whole run.
    pub shard: Option<ShardFacts>,
    /// `load merge`: the shards this summary joins; `null` for a run.
    pub merged: Option<MergedFacts>,
    pub flows_completed: u64,
    pub flows_failed: u64,
    pub flows_per_second: f64,
    pub requests: u64,
    pub failed_requests: u64,
    pub requests_per_second: f64,
    /// Binds refused for a TOTP reason, not the target's: the 30-s step ended while they were in
    /// flight, or their pair of codes also matched another step; not failures.
    pub totp_window_retries: u64,
    /// With `--rate`: the interval at which each user was meant to run each step; latencies
    /// are corrected for coordinated omission against it. `null` without `--rate`.
    pub co_expected_interval_ms: Option<f64>,
    /// With `--rate-stages`: flows the schedule had due that found no free user within 50 ms
    /// of their start and were not run (k6's dropped iterations); `null` without it.
    pub dropped_flows: Option<u64>,
    pub all: Latency,
    pub steps: Vec<StepSummary>,
    pub errors: Vec<ErrorCount>,
    pub thresholds: Vec<ThresholdResult>,
    /// Stopped by Ctrl-C before `--run-time` was over.
    pub interrupted: bool,
    pub passed: bool,
    /// The first signal that stopped the run, if one did.
    #[serde(skip)]
    pub signal: Option<Signal>,
    /// A second signal skipped waiting for goose to stop (cleanup still ran).
    #[serde(skip)]
    pub forced_stop: bool,
    /// What became of the users this run created.
    #[serde(skip)]
    pub cleanup: Cleanup,
}

/// What a summary says besides what the recorder measured.
#[derive(Debug, Clone)]
pub struct RunFacts<'a> {
    pub flow: &'a str,
    pub target: &'a str,
    pub users: usize,
    /// `connection` or `goose`.
    pub client: &'a str,
    pub flow_steps: Vec<String>,
    pub flow_thresholds: Vec<String>,
    pub shard: Option<ShardFacts>,
    pub merged: Option<MergedFacts>,
    /// With `--rate-stages`: flows dropped for want of a free user.
    pub dropped_flows: Option<u64>,
    pub interrupted: bool,
    pub signal: Option<Signal>,
    pub forced_stop: bool,
    /// What became of the users the run created.
    pub cleanup: Cleanup,
}

impl LoadSummary {
    /// The summary of a run: rates over the measured span, thresholds evaluated, the verdict.
    pub fn build(m: &Measured, facts: RunFacts<'_>, thresholds: &[Threshold]) -> LoadSummary {
        let seconds = m.span.as_secs_f64().max(1e-3);
        let mut all = super::recorder::histogram();
        let steps: Vec<StepSummary> = m
            .steps
            .iter()
            .map(|s| {
                all.add(&s.histogram).ok();
                StepSummary {
                    name: s.step.name().into(),
                    count: s.count,
                    failures: s.failures,
                    requests_per_second: s.count as f64 / seconds,
                    latency: Latency::of(&s.histogram),
                    series: s
                        .series
                        .iter()
                        .map(|i| SecondFigures {
                            second: i.second,
                            count: i.count,
                            errors: i.failures,
                            p50_us: i.p50_us,
                            p90_us: i.p90_us,
                            p99_us: i.p99_us,
                            histogram: i.histogram.clone(),
                        })
                        .collect(),
                    series_truncated: s.series_truncated,
                    histogram: super::hdr::encode(&s.histogram),
                }
            })
            .collect();
        let requests: u64 = steps.iter().map(|s| s.count).sum();
        let failed_requests: u64 = steps.iter().map(|s| s.failures).sum();
        let mut errors: Vec<ErrorCount> = m
            .errors
            .iter()
            .map(|e| ErrorCount {
                step: e.step.clone(),
                reason: e.reason.clone(),
                count: e.count,
                per_second: e.per_second.iter().map(|&(second, count)| SecondCount { second, count }).collect(),
            })
            .collect();
        errors.extend(facts.cleanup.left.iter().map(|user| ErrorCount {
            step: "cleanup".into(),
            reason: format!("user not deleted: {user}"),
            count: 1,
            per_second: Vec::new(),
        }));
        let mut summary = LoadSummary {
            tool: "mfa-harness".into(),
            flow: facts.flow.into(),
            target: facts.target.into(),
            client: facts.client.into(),
            users: facts.users,
            duration_s: m.span.as_secs_f64(),
            started_at: rfc3339_millis(m.started_at),
            ended_at: rfc3339_millis(m.ended_at),
            series_start_unix: m.series_start_unix,
            flow_steps: facts.flow_steps,
            flow_thresholds: facts.flow_thresholds,
            shard: facts.shard,
            merged: facts.merged,
            flows_completed: m.flows_completed,
            flows_failed: m.flows_failed,
            flows_per_second: m.flows_completed as f64 / seconds,
            requests,
            failed_requests,
            requests_per_second: requests as f64 / seconds,
            totp_window_retries: m.totp_window,
            co_expected_interval_ms: m.expected_interval_us.map(|us| us as f64 / 1000.0),
            dropped_flows: facts.dropped_flows,
            all: Latency::of(&all),
            steps,
            errors,
            thresholds: Vec::new(),
            interrupted: facts.interrupted,
            passed: false,
            signal: facts.signal,
            forced_stop: facts.forced_stop,
            cleanup: facts.cleanup,
        };
        summary.thresholds = thresholds
            .iter()
            .map(|t| {
                let measured = summary.measure(&t.metric);
                ThresholdResult {
                    threshold: t.text.clone(),
                    measured,
                    unit: t.unit().to_string(),
                    passed: measured.is_some_and(|m| t.holds(m)),
                }
            })
            .collect();
        // A merge with a shard that was cut short did not measure the whole run.
        let cut_short = summary.merged.is_some() && summary.interrupted;
        summary.passed = summary.failed_requests == 0 && summary.thresholds.iter().all(|t| t.passed) && !cut_short;
        summary
    }

    /// The value a threshold's metric measured, or `None` when the run has no such step.
    pub fn measure(&self, metric: &Metric) -> Option<f64> {
        match metric {
            Metric::FlowsPerSecond => Some(self.flows_per_second),
            Metric::RequestsPerSecond => Some(self.requests_per_second),
            Metric::Errors { step, percent } => {
                let (failed, total) = match step {
                    None => (self.failed_requests, self.requests),
                    Some(name) => self.steps.iter().find(|x| &x.name == name).map(|x| (x.failures, x.count))?,
                };
                Some(if *percent { 100.0 * failed as f64 / total.max(1) as f64 } else { failed as f64 })
            }
            Metric::Latency { step, stat } => {
                let latency =
                    if step == "all" { &self.all } else { &self.steps.iter().find(|x| &x.name == step)?.latency };
                Some(match stat.as_str() {
                    "p50" => latency.p50_ms,
                    "p90" => latency.p90_ms,
                    "p95" => latency.p95_ms,
                    "p99" => latency.p99_ms,
                    "max" => latency.max_ms,
                    _ => latency.mean_ms,
                })
            }
        }
    }

    /// The run's verdict: violations or thresholds fail it; an interrupted or idle run did not
    /// do its job.
    pub fn verdict(&self) -> Result<Outcome> {
        if self.interrupted && self.merged.is_none() {
            return Err(Interrupted {
                signal: self.signal.unwrap_or(Signal::Interrupt),
                after: Some(self.duration_s),
                summarized: true,
                forced: self.forced_stop,
                cleanup: self.cleanup.clone(),
            }
            .into());
        }
        if self.flows_completed == 0 && self.requests == 0 {
            return Err(TargetError::Idle.into());
        }
        Ok(if self.passed { Outcome::Passed } else { Outcome::Failed })
    }
}

/// Writes the text summary.
pub fn render(s: &LoadSummary, out: &mut impl std::io::Write) -> std::io::Result<()> {
    out.write_all(text(s).as_bytes())
}

/// The text summary.
pub fn text(s: &LoadSummary) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "mfa-harness load · flow {} · {} users · {:.1} s · target {} · client {}",
        s.flow, s.users, s.duration_s, s.target, s.client
    );
    let _ = writeln!(
        out,
        "flows: {} completed, {} failed, {:.1}/s · requests: {} ({} failed), {:.1}/s · totp-window retries: {}",
        s.flows_completed,
        s.flows_failed,
        s.flows_per_second,
        s.requests,
        s.failed_requests,
        s.requests_per_second,
        s.totp_window_retries
    );
    for line in shard_lines(s) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(dropped) = s.dropped_flows {
        let advice = if dropped > 0 { "; give more --users" } else { "" };
        let _ = writeln!(
            out,
            "arrival rate stages: {dropped} flows dropped (no user free within 50 ms of their start){advice}"
        );
    }
    if let Some(interval) = s.co_expected_interval_ms {
        let _ = writeln!(
            out,
            "latencies corrected for coordinated omission: each user was due to run each step every {interval:.1} ms"
        );
    }
    let _ = writeln!(
        out,
        "  {:8} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "step", "count", "failed", "req/s", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms"
    );
    for step in &s.steps {
        let l = &step.latency;
        let _ = writeln!(
            out,
            "  {:8} {:>9} {:>7} {:>9.1} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            step.name,
            step.count,
            step.failures,
            step.requests_per_second,
            l.p50_ms,
            l.p90_ms,
            l.p95_ms,
            l.p99_ms,
            l.max_ms
        );
    }
    if !s.errors.is_empty() {
        let _ = writeln!(out, "contract violations and errors:");
        for e in &s.errors {
            let _ = writeln!(out, "  {:6} × {}: {}", e.count, e.step, crate::sanitize::for_terminal(&e.reason));
        }
    }
    for t in &s.thresholds {
        let measured = t.measured.map_or("no data".to_string(), |m| format!("{m:.3} {}", t.unit));
        let _ = writeln!(
            out,
            "threshold {:24} measured {:>16}  {}",
            t.threshold,
            measured,
            if t.passed { "ok" } else { "VIOLATED" }
        );
    }
    let verdict = if s.passed { "PASSED" } else { "FAILED" };
    let cut = match (s.interrupted, s.merged.is_some()) {
        (false, _) => "",
        (true, false) => " (interrupted: the run was cut short)",
        (true, true) => " (a shard was interrupted: the merged run was cut short)",
    };
    let _ = writeln!(out, "{verdict}{cut}");
    out
}

/// What the text and HTML summaries say of a shard or a merge: which share, which shards, which
/// are missing, which began late.
pub fn shard_lines(s: &LoadSummary) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(shard) = &s.shard {
        let start = shard.start_at.as_ref().map(|at| format!(" · start-at {at}")).unwrap_or_default();
        lines
            .push(format!("shard {}/{} · {} of {} users{start}", shard.index, shard.count, s.users, shard.total_users));
    }
    if let Some(merged) = &s.merged {
        let indexes: Vec<String> = merged.shards.iter().map(|x| x.index.to_string()).collect();
        lines.push(format!(
            "merged {} of {} shards ({}) · rates over {} to {}",
            merged.shards.len(),
            merged.count,
            indexes.join(", "),
            s.started_at,
            s.ended_at
        ));
        if !merged.missing.is_empty() {
            let missing: Vec<String> = merged.missing.iter().map(u32::to_string).collect();
            lines
                .push(format!("missing shards: {} (their share of users is not in these figures)", missing.join(", ")));
        }
    }
    let shards = s.shard.iter().chain(s.merged.iter().flat_map(|m| &m.shards));
    for (shard, late) in shards.filter_map(|x| x.late().map(|late| (x, late))) {
        let at = shard.start_at.as_deref().unwrap_or("?");
        lines.push(format!("shard {}/{} started {late:.1} s late (after --start-at {at})", shard.index, shard.count));
    }
    lines
}

/// Writes the JSON summary (`schemas/reports/load-summary.schema.json`).
pub fn render_json(s: &LoadSummary, out: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, s)?;
    out.write_all(b"\n")
}

/// Writes the JSON summary as one line (`--json -`: the last line of stdout).
pub fn render_json_line(s: &LoadSummary, out: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, s)?;
    out.write_all(b"\n")
}
