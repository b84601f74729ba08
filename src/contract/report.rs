//! The result model of a contract run: one [`Report`] that every renderer reads.

use super::case::Severity;
use crate::error::{Incomplete, Outcome};
use serde::Serialize;

/// What became of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseStatus {
    /// Every check held.
    Passed,
    /// A `must` check failed (or a `should` check under `--strict`).
    Failed,
    /// Only `should` checks failed, and the run is not strict.
    Warned,
    /// The case could not be carried out: a setup step failed or the target did not answer.
    Error,
    /// The case does not apply to this target (e.g. it needs a password the pool lacks).
    Skipped,
}

/// The request of a finding, secrets redacted.
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub method: String,
    pub path: String,
    pub token: &'static str,
    pub body: Option<String>,
}

/// The answer of a finding, truncated and sanitised.
#[derive(Debug, Clone, Serialize)]
pub struct ResponseView {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
    /// The `Location` header (a redirect's target, never followed), when the answer had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// Where a schema check failed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SchemaFailure {
    pub schema: String,
    pub keyword: String,
    /// JSON pointer into the body.
    pub pointer: String,
    /// JSON pointer into the schema.
    pub schema_pointer: String,
}

/// One failed check.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// 1-based step number in the case.
    pub step: usize,
    pub operation: String,
    /// The kind of check: status, preferred-status, schema, equals, absent, listed, count,
    /// seed-leak, content-type, body-size, …
    pub check: String,
    pub message: String,
    pub request: Option<RequestView>,
    pub response: Option<ResponseView>,
    pub schema: Option<SchemaFailure>,
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub id: String,
    pub title: String,
    pub doc: Vec<String>,
    pub severity: Severity,
    pub status: CaseStatus,
    pub duration_ms: u64,
    pub requests: usize,
    pub findings: Vec<Finding>,
    /// Why the case is an error or was skipped.
    pub reason: Option<String>,
    /// The readings the target implements where the documentation allows several, e.g.
    /// "step 2 create → 409: OTC documents 409".
    pub readings: Vec<String>,
    /// The scenario file and 1-based line the case is written at (none for the exploration).
    pub file: Option<String>,
    pub line: Option<usize>,
}

/// Counts over all cases.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub warned: usize,
    pub errors: usize,
    pub skipped: usize,
    pub must_findings: usize,
    pub should_findings: usize,
    /// Findings on open points: recorded, never failing.
    pub open_findings: usize,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: String,
    pub version: String,
    pub target: String,
    pub strict: bool,
    pub duration_ms: u64,
    pub summary: Summary,
    pub cases: Vec<CaseResult>,
    /// Users the run created and could not delete again, with the reason.
    pub cleanup_failures: Vec<String>,
    /// The coverage axes' cells and the cases of this run that cover them.
    pub coverage: super::coverage::Coverage,
    /// The model-based exploration, when the run explored: seed, budget, shrunk failures.
    pub exploration: Option<Exploration>,
}

impl Report {
    pub fn new(
        target: String,
        strict: bool,
        duration_ms: u64,
        cases: Vec<CaseResult>,
        coverage: super::coverage::Coverage,
    ) -> Report {
        let mut summary = Summary { total: cases.len(), ..Summary::default() };
        for case in &cases {
            match case.status {
                CaseStatus::Passed => summary.passed += 1,
                CaseStatus::Failed => summary.failed += 1,
                CaseStatus::Warned => summary.warned += 1,
                CaseStatus::Error => summary.errors += 1,
                CaseStatus::Skipped => summary.skipped += 1,
            }
            for finding in &case.findings {
                match finding.severity {
                    Severity::Must => summary.must_findings += 1,
                    Severity::Should => summary.should_findings += 1,
                    Severity::Open => summary.open_findings += 1,
                }
            }
        }
        Report {
            tool: "mfa-harness".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            target,
            strict,
            duration_ms,
            summary,
            cases,
            cleanup_failures: Vec::new(),
            coverage,
            exploration: None,
        }
    }

    /// The verdict as an outcome, or the cases that kept the run from reaching one.
    pub fn outcome(&self) -> Result<Outcome, Incomplete> {
        if self.summary.failed > 0 {
            return Ok(Outcome::Failed);
        }
        let blocking: Vec<&CaseResult> =
            self.cases.iter().filter(|c| c.status == CaseStatus::Error && c.severity.fails(self.strict)).collect();
        if !blocking.is_empty() {
            let throttled = blocking.iter().all(|c| c.reason.as_deref().is_some_and(|r| r.contains(THROTTLED)));
            let mut incomplete = Incomplete::verdict(blocking.iter().map(|c| c.id.clone()).collect());
            if throttled {
                incomplete.reason = Some(format!("the target throttled them; {}", crate::client::retry::ADVICE));
            }
            return Err(incomplete);
        }
        Ok(Outcome::Passed)
    }
}

/// What the reason of a case that was throttled says.
pub const THROTTLED: &str = "throttled by the target";

/// The status a case gets from its findings: any failing one fails it; a `should` one warns
/// (outside `--strict`); `open` ones leave it passed.
pub fn status_from(findings: &[Finding], strict: bool) -> CaseStatus {
    if findings.iter().any(|f| f.severity.fails(strict)) {
        CaseStatus::Failed
    } else if findings.iter().any(|f| f.severity == Severity::Should) {
        CaseStatus::Warned
    } else {
        CaseStatus::Passed
    }
}

/// A failing walk as the report shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ExploreFailure {
    pub walk: usize,
    /// Actions of the walk up to its failure, before shrinking.
    pub found_after: usize,
    /// The shrunk sequence, as `--replay` reads it.
    pub actions: String,
    pub replay: String,
    pub message: String,
}

/// What the exploration did, for the report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Exploration {
    pub seed: u64,
    pub walks: usize,
    pub actions: usize,
    pub requests: usize,
    /// The budget, in words.
    pub budget: String,
    pub stopped_by_time: bool,
    pub failures: Vec<ExploreFailure>,
}
