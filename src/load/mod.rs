//! `mfa-harness load`: full flows under load with goose, every answer checked against the
//! contract, thresholds, and a summary in text and JSON.

pub mod flows;
pub mod session;
pub mod summary;
pub mod thresholds;

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
}

/// Runs the load test and returns its summary (thresholds evaluated).
pub async fn execute(config: &LoadConfig) -> Result<LoadSummary> {
    let flow = flows::find(&config.flow, config.scenarios.as_deref())?;
    let mut thresholds = Vec::new();
    for text in flow.thresholds.iter().chain(&config.thresholds) {
        thresholds.push(Threshold::parse(text)?);
    }
    if config.users == 0 {
        return Err(Error::Usage("--users must be at least 1".into()));
    }
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
        recorder: summary::Recorder::default(),
    });
    let client = goose::client::GooseClientBuilder::new().without_cookies().timeout(config.timeout);
    let mut goose = GooseAttack::initialize_with_config(goose_configuration(config, flow, target.client.base_url())?)
        .and_then(|g| g.set_client_builder_without_cookies(client))
        .map_err(|e| Error::Internal(format!("could not set up goose: {e}")))?;
    for scenario in &flow.scenarios {
        let start = Transaction::new(session::on_start(ctx.clone(), scenario.clone())).set_name("start").set_on_start();
        let run = Transaction::new(session::iteration(ctx.clone(), scenario.clone()))
            .set_name(&format!("flow:{}", scenario.name));
        let goose_scenario = Scenario::new(&scenario.name)
            .set_weight(scenario.weight)
            .map_err(|e| Error::Usage(format!("scenario {}: {e}", scenario.name)))?
            .register_transaction(start)
            .register_transaction(run);
        goose = goose.register_scenario(goose_scenario);
    }
    goose.execute().await.map_err(|e| Error::Internal(format!("the load test failed to run: {e}")))?;
    let mut summary = ctx.recorder.summarize(&flow.name, target.client.base_url(), config.users);
    summary.thresholds = thresholds
        .iter()
        .map(|t| {
            let measured = t.measure(&summary);
            ThresholdResult { threshold: t.text.clone(), measured, passed: measured.is_some_and(|m| t.holds(m)) }
        })
        .collect();
    summary.passed = summary.failed_requests == 0 && summary.thresholds.iter().all(|t| t.passed);
    Ok(summary)
}

fn goose_configuration(config: &LoadConfig, flow: &flows::Flow, host: &str) -> Result<GooseConfiguration> {
    let mut g = GooseConfiguration::default();
    g.host = Some(host.to_string());
    g.users = Some(config.users);
    g.increase_rate = Some(format!("{}", config.increase_rate.unwrap_or(config.users as f64).max(0.001)));
    g.run_time = Some(format!("{}", config.run_time.as_secs().max(1)));
    g.no_telnet = true;
    g.no_print_metrics = true;
    g.no_error_summary = true;
    g.no_autostart = false;
    g.quiet = 1;
    g.timeout = Some(format!("{}", config.timeout.as_secs().max(1)));
    if let Some(rate) = config.rate {
        if rate <= 0.0 {
            return Err(Error::Usage("--rate must be above 0".into()));
        }
        g.throttle_requests = Some((rate * flow.requests_per_iteration()).ceil().max(1.0) as usize);
        g.co_mitigation = Some(GooseCoordinatedOmissionMitigation::Average);
    }
    // Our own recorder measures every request; goose's aggregation is only paid for when its
    // reports are asked for.
    g.no_metrics = config.report_files.is_empty() && config.baseline_file.is_none() && config.rate.is_none();
    g.report_file = config.report_files.iter().map(|p| p.display().to_string()).collect();
    g.baseline_file = config.baseline_file.as_ref().map(|p| p.display().to_string());
    Ok(g)
}

/// `mfa-harness load`.
pub fn run(config: LoadConfig) -> Result<Outcome> {
    let summary = crate::serve::runtime()?.block_on(execute(&config))?;
    print!("{}", summary::render(&summary));
    if let Some(path) = &config.json_file {
        let json = serde_json::to_string_pretty(&summary).map_err(|e| Error::Internal(e.to_string()))?;
        std::fs::write(path, json + "\n")
            .map_err(|e| Error::Usage(format!("could not write {}: {e}", path.display())))?;
    }
    if summary.flows_completed == 0 && summary.requests == 0 {
        return Err(Error::Target("no request was made; is the target healthy and --run-time long enough?".into()));
    }
    Ok(if summary.passed { Outcome::Passed } else { Outcome::Failed })
}
