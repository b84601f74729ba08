//! `mfa-harness load`: full flows under load with goose, every answer checked against the
//! contract, thresholds, and a summary in text and JSON.

pub mod exchange;
pub mod flows;
pub mod progress;
pub mod recorder;
pub mod session;
pub mod summary;
pub mod thresholds;
pub mod wire;

use crate::schemas::Schemas;
use crate::target::{Target, TargetSpec};
use crate::{Error, Outcome, Result};
use futures::StreamExt;
use goose::config::GooseConfiguration;
use goose::prelude::*;
use session::LoadContext;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use summary::{LoadSummary, ThresholdResult};
use thresholds::Threshold;

/// What `load` runs with.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub target: TargetSpec,
    pub flow: String,
    pub users: usize,
    /// Users started per second (default: all within the first second).
    pub increase_rate: Option<f64>,
    pub run_time: Duration,
    /// Constant arrival rate in flows per second (goose throttling).
    pub rate: Option<f64>,
    pub thresholds: Vec<String>,
    /// goose reports: .html, .json or .md by extension.
    pub report_files: Vec<PathBuf>,
    pub baseline_file: Option<PathBuf>,
    /// The summary as JSON (schemas/reports/load-summary.schema.json).
    pub json_file: Option<PathBuf>,
    pub scenarios: Option<PathBuf>,
    pub timeout: Duration,
    /// Least time left in the TOTP step for a bind to be sent (default: 2 s, 300 ms for the
    /// embedded server, which shares our clock).
    pub totp_margin: Option<Duration>,
    /// What sends the measured requests.
    pub client: LoadClient,
}

/// What sends the measured requests of a load test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LoadClient {
    /// One HTTP/1.1 keep-alive connection per goose user, on hyper's connection API (what wrk
    /// does); plain-HTTP targets only, an `https://` target falls back to `goose`.
    Connection,
    /// goose's own client (reqwest, with its connection pool).
    Goose,
}

/// Least time left in a TOTP step for a bind against a target with its own clock.
pub const REMOTE_TOTP_MARGIN: Duration = Duration::from_secs(2);
/// The same against the embedded server: one clock, answers in microseconds.
pub const EMBEDDED_TOTP_MARGIN: Duration = Duration::from_millis(300);

/// Runs the load test and returns its summary (thresholds evaluated).
pub async fn execute(config: &LoadConfig) -> Result<LoadSummary> {
    let flow = flows::find(&config.flow, config.scenarios.as_deref())?;
    let mut thresholds = Vec::new();
    for text in flow.thresholds.iter().chain(&config.thresholds) {
        let threshold = Threshold::parse(text)?;
        threshold.check_steps(&flow.name, &flow.measured_steps())?;
        thresholds.push(threshold);
    }
    check_options(config)?;
    let schemas = Schemas::embedded().map_err(|e| Error::Internal(e.to_string()))?;
    let target = Target::open(&config.target, config.timeout).await?;
    if target.capacity().is_some_and(|c| c < config.users) {
        let c = target.capacity().unwrap_or(0);
        target.close().await;
        return Err(Error::Usage(format!("--users {} needs as many identities; the pool file has {c}", config.users)));
    }
    let result = tokio::select! {
        r = attack(config, &flow, &target, schemas, &thresholds) => Some(r),
        _ = tokio::signal::ctrl_c() => None,
    };
    let leftovers = target.close().await;
    let mut summary =
        result.ok_or_else(|| Error::Internal("interrupted; the users this run created were deleted".into()))??;
    for (id, why) in leftovers {
        summary.errors.push(summary::ErrorCount {
            step: "cleanup".into(),
            reason: format!("user {id} not deleted: {why}"),
            count: 1,
        });
    }
    Ok(summary)
}

/// Checks what can be checked before any user is made.
fn check_options(config: &LoadConfig) -> Result<()> {
    for file in &config.report_files {
        let extension = file.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(extension, "html" | "htm" | "json" | "md") {
            return Err(Error::Usage(format!(
                "--report-file {}: the extension says which goose report to write: .html, .json or .md",
                file.display()
            )));
        }
    }
    if let Some(file) = &config.baseline_file
        && let Err(e) = std::fs::metadata(file)
    {
        return Err(Error::Usage(format!(
            "--baseline-file {}: {e}; give the goose JSON report of an earlier run (--report-file x.json)",
            file.display()
        )));
    }
    if config.users == 0 {
        return Err(Error::Usage("--users must be at least 1".into()));
    }
    for (flag, value) in [("--rate", config.rate), ("--increase-rate", config.increase_rate)] {
        if value.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
            return Err(Error::Usage(format!("{flag} must be a number above 0, e.g. {flag} 50")));
        }
    }
    if config.totp_margin.is_some_and(|m| m > Duration::from_secs(20)) {
        return Err(Error::Usage("--totp-margin must be at most 20s of the 30-s TOTP step".into()));
    }
    if config.run_time < Duration::from_secs(1) {
        return Err(Error::Usage("--run-time must be at least 1s".into()));
    }
    Ok(())
}

async fn attack(
    config: &LoadConfig,
    flow: &flows::Flow,
    target: &Target,
    schemas: Schemas,
    thresholds: &[Threshold],
) -> Result<LoadSummary> {
    let identities: Vec<_> = futures::stream::iter(0..config.users)
        .map(|_| target.acquire())
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    let ctx = Arc::new(LoadContext {
        identities: Mutex::new(identities),
        admin_token: target.admin.token.expose().to_string(),
        client: target.client.clone(),
        schemas,
        recorder: recorder::Recorder::new(config.rate.map(|rate| Duration::from_secs_f64(config.users as f64 / rate))),
        device_prefix: format!("mfa-harness-load-{}", crate::reference::store::random_hex(3)),
        step_margin: config.totp_margin.unwrap_or(match config.target {
            TargetSpec::Embedded { .. } => EMBEDDED_TOTP_MARGIN,
            _ => REMOTE_TOTP_MARGIN,
        }),
        endpoint: match config.client {
            LoadClient::Connection => url::Url::parse(target.client.base_url())
                .ok()
                .and_then(|base| wire::Endpoint::of(&base, config.timeout)),
            LoadClient::Goose => None,
        },
    });
    // One client shared by every user (its pool holds one connection per request in flight);
    // no gzip: the answers are a few hundred bytes, and wrk does not ask for it either.
    let client = goose::client::GooseClientBuilder::new().without_cookies().timeout(config.timeout).gzip(false);
    let mut goose = GooseAttack::initialize_with_config(goose_configuration(config, flow, target.client.base_url()))
        .and_then(|g| g.set_client_builder_without_cookies(client))
        .map_err(|e| Error::Internal(format!("could not set up goose: {}", goose_error(&e))))?;
    for scenario in &flow.scenarios {
        let shared = Arc::new(scenario.clone());
        let start = Transaction::new(session::on_start(ctx.clone(), shared.clone())).set_name("start").set_on_start();
        let run =
            Transaction::new(session::iteration(ctx.clone(), shared)).set_name(&format!("flow:{}", scenario.name));
        let goose_scenario = Scenario::new(&scenario.name)
            .set_weight(scenario.weight)
            .map_err(|e| Error::Usage(format!("scenario {}: {e}", scenario.name)))?
            .register_transaction(start)
            .register_transaction(run);
        goose = goose.register_scenario(goose_scenario);
    }
    let progress = progress::ProgressLine::of(ctx.clone());
    let executed = goose.execute().await;
    drop(progress);
    executed.map_err(|e| match e {
        GooseError::InvalidOption { .. } => Error::Usage(goose_error(&e)),
        _ => Error::Internal(format!("the load test failed to run: {}", goose_error(&e))),
    })?;
    let mut summary = ctx.recorder.summarize(&flow.name, target.client.base_url(), config.users);
    summary.client = if ctx.endpoint.is_some() { "connection" } else { "goose" }.into();
    // goose's own Ctrl-C handler stops the attack gracefully and trips its killswitch.
    summary.interrupted = goose::is_killswitch_triggered();
    summary.thresholds = thresholds
        .iter()
        .map(|t| {
            let measured = t.measure(&summary);
            ThresholdResult {
                threshold: t.text.clone(),
                measured,
                unit: t.unit().to_string(),
                passed: measured.is_some_and(|m| t.holds(m)),
            }
        })
        .collect();
    summary.passed = summary.failed_requests == 0 && summary.thresholds.iter().all(|t| t.passed);
    Ok(summary)
}

/// A goose error with the detail its `Display` leaves out.
fn goose_error(e: &GooseError) -> String {
    match e {
        GooseError::InvalidOption { option, value, detail } => format!("goose option {option} '{value}': {detail}"),
        GooseError::InvalidHost { host, detail, .. } => format!("goose host '{host}': {detail}"),
        other => other.to_string(),
    }
}

/// goose's configuration: only the target as host, no controller or dashboard listening, no
/// output of its own unless reports are asked for.
fn goose_configuration(config: &LoadConfig, flow: &flows::Flow, host: &str) -> GooseConfiguration {
    let mut g = GooseConfiguration::default();
    g.host = Some(host.to_string());
    g.users = Some(config.users);
    g.increase_rate = Some(format!("{}", config.increase_rate.unwrap_or(config.users as f64)));
    g.run_time = Some(format!("{}", config.run_time.as_secs().max(1)));
    // The telnet controller listens on 127.0.0.1:5116 unless switched off; the WebSocket
    // controller and the dashboard are off by default in goose 0.19 (and `no_websocket` is
    // deprecated there), so they stay untouched.
    g.no_telnet = true;
    g.websocket = false;
    g.dashboard = false;
    g.no_autostart = false;
    g.no_print_metrics = true;
    g.no_error_summary = true;
    g.quiet = 1;
    g.timeout = Some(format!("{:.3}", config.timeout.as_secs_f64().max(0.001)));
    // goose resets its own metrics once every user has started (its reports show the steady
    // phase); `no_reset_metrics` would make it print to stdout whatever `quiet` says.
    // Our own recorder measures every request; goose's aggregation is only paid for when its
    // reports are asked for.
    g.no_metrics = config.report_files.is_empty() && config.baseline_file.is_none();
    if let Some(rate) = config.rate {
        g.throttle_requests = Some((rate * flow.requests_per_iteration()).ceil().max(1.0) as usize);
        if !g.no_metrics {
            g.co_mitigation = Some(GooseCoordinatedOmissionMitigation::Average);
        }
    }
    g.report_file = config.report_files.iter().map(|p| p.display().to_string()).collect();
    g.baseline_file = config.baseline_file.as_ref().map(|p| p.display().to_string());
    g
}

/// `mfa-harness load`.
pub fn run(config: LoadConfig) -> Result<Outcome> {
    let summary = crate::serve::runtime()?.block_on(execute(&config))?;
    print!("{}", summary::render(&summary));
    if let Some(path) = &config.json_file {
        std::fs::write(path, summary::to_json(&summary))
            .map_err(|e| Error::Usage(format!("could not write {}: {e}", path.display())))?;
    }
    if summary.interrupted {
        return Err(Error::Internal(format!(
            "interrupted by Ctrl-C after {:.1} s; the summary covers what ran, and the users this run created \
             were deleted",
            summary.duration_s
        )));
    }
    if summary.flows_completed == 0 && summary.requests == 0 {
        return Err(Error::Target("no request was made; is the target healthy and --run-time long enough?".into()));
    }
    Ok(if summary.passed { Outcome::Passed } else { Outcome::Failed })
}
