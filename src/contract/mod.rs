//! The contract gate: cases from `scenarios/contract`, run against a target, judged against
//! `schemas/`, reported as text, JSON or JUnit.

pub mod build;
pub mod case;
pub mod checks;
pub mod coverage;
pub mod explore;
pub mod generate;
pub mod html;
pub mod json;
pub mod junit;
pub mod report;
pub mod runner;
pub mod suite;
pub mod tap;
pub mod text;
pub mod verify;

use crate::client::Network;
use crate::error::{InternalError, Interrupted, Result, UsageError};
use crate::schemas::Schemas;
use crate::signals::{Interrupts, Signal};
use crate::target::{Redactor, Target, TargetSpec};
use report::Report;
use std::path::PathBuf;
use std::time::Instant;

/// Report formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Junit,
    Tap,
    Html,
}

/// What `check` runs: the target, the cases, how strictly.
#[derive(Debug, Clone)]
pub struct CheckPlan {
    pub target: TargetSpec,
    pub only: Vec<String>,
    pub strict: bool,
    /// How requests reach the target: timeout, `--max-body`, TLS, proxy, headers, rate.
    pub network: Network,
    pub scenarios: Option<PathBuf>,
    pub schemas: Option<PathBuf>,
    pub concurrency: usize,
    /// Also run the cases that wait for fresh TOTP steps.
    pub slow: bool,
    /// The model-based exploration to run alongside the cases, if any.
    pub explore: Option<explore::ExplorePlan>,
}

/// A finished run: the report, every exchange of every case, and every secret seen.
pub struct CheckRun {
    pub report: Report,
    pub runs: Vec<runner::CaseRun>,
    pub redactor: Redactor,
}

/// Loads the cases a run selects, and every case of the suite; `exploring`: the run also
/// explores, so patterns may select no case.
pub fn select_cases(
    scenarios: Option<&std::path::Path>,
    only: &[String],
    exploring: bool,
) -> Result<(Vec<case::Case>, Vec<case::Case>)> {
    let all = suite::load(scenarios)?;
    let selected: Vec<case::Case> = if only.is_empty() {
        all.clone()
    } else {
        all.iter().filter(|c| only.iter().any(|p| case::matches(p, &c.id))).cloned().collect()
    };
    if selected.is_empty() && !exploring {
        return Err(UsageError::NoCaseMatches { patterns: only.to_vec() }.into());
    }
    Ok((selected, all))
}

/// The schemas a plan judges with: `--schemas DIR` or the embedded ones.
pub fn schemas(dir: Option<&std::path::Path>) -> Result<Schemas> {
    match dir {
        Some(dir) => Schemas::from_dir(dir).map_err(|e| {
            UsageError::Invalid {
                what: "--schemas",
                path: dir.to_path_buf(),
                source: crate::error::Detail(e.to_string()),
            }
            .into()
        }),
        None => Schemas::embedded().map_err(|e| InternalError::Schemas { detail: e.to_string() }.into()),
    }
}

/// Opens the target, runs the cases, always closes the target (also on a signal), and returns
/// the report with every exchange made and every secret seen (for redaction).
pub async fn execute(plan: &CheckPlan) -> Result<CheckRun> {
    let (cases, all) = select_cases(plan.scenarios.as_deref(), &plan.only, plan.explore.is_some())?;
    let coverage = coverage::matrix(&cases, &all);
    let schemas = schemas(plan.schemas.as_deref())?;
    let mut interrupts = Interrupts::listen();
    let target = tokio::select! {
        target = Target::open(&plan.target, &plan.network) => target?,
        signal = interrupts.next() => return Err(Interrupted::before_any_user(signal).into()),
    };
    let label = crate::target::display_url(target.client.base_url());
    let started = Instant::now();
    let exploring = async {
        match &plan.explore {
            Some(explore) => Some(explore::explore(&target, &schemas, plan.strict, explore, plan.concurrency).await),
            None => None,
        }
    };
    let work = async {
        tokio::join!(runner::run_cases(&target, &cases, &schemas, plan.strict, plan.concurrency, plan.slow), exploring)
    };
    let runs = tokio::select! {
        runs = work => Some(runs),
        _ = interrupts.next() => None,
    };
    let redactor = target.redactor.clone();
    let cleanup = target.close(&interrupts).await;
    // A signal stops the run; one during cleanup too (cleanup itself is never cut short).
    let (runs, explored) = match (interrupts.first(), runs) {
        (None, Some(runs)) => runs,
        (signal, _) => {
            let (signal, forced) = (signal.unwrap_or(Signal::Interrupt), interrupts.count() > 1);
            return Err(Interrupted { signal, after: None, summarized: false, forced, cleanup }.into());
        }
    };
    let mut results: Vec<_> = runs.iter().map(|r| r.result.clone()).collect();
    let exploration = explored.map(|(result, exploration)| {
        results.push(result);
        exploration
    });
    let mut report = Report::new(label, plan.strict, started.elapsed().as_millis() as u64, results, coverage);
    report.exploration = exploration;
    report.cleanup_failures = cleanup.left;
    Ok(CheckRun { report, runs, redactor })
}

/// Writes the report in `format` (`colour`: ANSI colours, for the text report on a terminal).
pub fn render(report: &Report, format: Format, colour: bool, out: &mut impl std::io::Write) -> Result<()> {
    let written = match format {
        Format::Text => text::render(report, colour, out),
        Format::Json => json::render(report, out),
        Format::Junit => junit::render(report, out),
        Format::Tap => tap::render(report, out),
        Format::Html => html::render(report, out),
    };
    written.map_err(|e| crate::error::ReportError::Render { format: format.name(), detail: e.to_string() }.into())
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "JSON",
            Format::Junit => "JUnit",
            Format::Tap => "TAP",
            Format::Html => "HTML",
        }
    }
}
