//! The contract gate: cases from `scenarios/contract`, run against a target, judged against
//! `schemas/`, reported as text, JSON or JUnit.

pub mod build;
pub mod case;
pub mod checks;
pub mod junit;
pub mod report;
pub mod runner;
pub mod text;

use crate::schemas::Schemas;
use crate::target::{Redactor, Target, TargetSpec};
use crate::{Error, Outcome, Result};
use report::Report;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Report formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Junit,
}

/// What `check` runs with.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    pub target: TargetSpec,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub only: Vec<String>,
    pub strict: bool,
    pub timeout: Duration,
    pub scenarios: Option<PathBuf>,
    pub schemas: Option<PathBuf>,
    pub concurrency: usize,
}

/// Loads the cases a run selects.
pub fn select_cases(scenarios: Option<&std::path::Path>, only: &[String]) -> Result<Vec<case::Case>> {
    let cases = case::load(scenarios)?;
    let selected: Vec<case::Case> = if only.is_empty() {
        cases
    } else {
        cases.into_iter().filter(|c| only.iter().any(|p| case::matches(p, &c.id))).collect()
    };
    if selected.is_empty() {
        return Err(Error::Usage(format!("--only {} matches no contract case", only.join(", "))));
    }
    Ok(selected)
}

/// Opens the target, runs the cases, always closes the target (also on Ctrl-C), and returns
/// the report with every exchange made and every secret seen (for redaction).
pub async fn execute(config: &CheckConfig) -> Result<(Report, Vec<runner::CaseRun>, Redactor)> {
    let cases = select_cases(config.scenarios.as_deref(), &config.only)?;
    let schemas = match &config.schemas {
        Some(dir) => Schemas::from_dir(dir).map_err(|e| Error::Usage(e.to_string()))?,
        None => Schemas::embedded().map_err(|e| Error::Internal(e.to_string()))?,
    };
    let target = Target::open(&config.target, config.timeout).await?;
    let label = target.client.base_url().to_string();
    let started = Instant::now();
    let runs = tokio::select! {
        runs = runner::run_cases(&target, &cases, &schemas, config.strict, config.concurrency) => Some(runs),
        _ = tokio::signal::ctrl_c() => None,
    };
    let redactor = target.redactor.clone();
    let leftovers = target.close().await;
    let Some(runs) = runs else {
        return Err(Error::Internal(format!(
            "interrupted; the users this run created were deleted{}",
            if leftovers.is_empty() { String::new() } else { format!(" except {}", leftovers.len()) }
        )));
    };
    let results = runs.iter().map(|r| r.result.clone()).collect();
    let mut report = Report::new(label, config.strict, started.elapsed().as_millis() as u64, results);
    report.cleanup_failures = leftovers.into_iter().map(|(id, why)| format!("{id}: {why}")).collect();
    Ok((report, runs, redactor))
}

/// `mfa-harness check`.
pub fn run(config: CheckConfig) -> Result<Outcome> {
    let (report, _, _) = crate::serve::runtime()?.block_on(execute(&config))?;
    let rendered = match config.format {
        Format::Text => text::render(&report, config.output.is_none() && std::io::stdout().is_terminal()),
        Format::Json => serde_json::to_string_pretty(&report).map_err(|e| Error::Internal(e.to_string()))? + "\n",
        Format::Junit => junit::render(&report).map_err(Error::Internal)?,
    };
    match &config.output {
        Some(path) => {
            std::fs::write(path, rendered)
                .map_err(|e| Error::Usage(format!("could not write the report to {}: {e}", path.display())))?;
            if config.format != Format::Text {
                print!("{}", text::render(&report, std::io::stdout().is_terminal()));
            }
        }
        None => print!("{rendered}"),
    }
    report.outcome().map_err(Error::Target)
}
