//! The TAP 13 report: one test point per case (`ok`, `not ok`, `# SKIP`), and a YAML block
//! under every case that has findings or a reason — `should` and `open` findings of passing
//! cases included, so they are visible to a TAP consumer. YAML values are written as JSON
//! strings and lists, which YAML reads as they are (no escaping rules of our own).

use super::report::{CaseStatus, Finding, Report};
use std::io::Write;

fn json(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// A TAP description may not hold `#` (it starts a directive) or a line break.
fn description(text: &str) -> String {
    text.replace('#', "\\#").replace(['\n', '\r'], " ")
}

fn finding(out: &mut impl Write, f: &Finding) -> std::io::Result<()> {
    writeln!(out, "    - severity: {}", json(&f.severity.to_string()))?;
    writeln!(out, "      step: {}", f.step)?;
    writeln!(out, "      operation: {}", json(&f.operation))?;
    writeln!(out, "      check: {}", json(&f.check))?;
    writeln!(out, "      message: {}", json(&f.message))?;
    if let Some(s) = &f.schema {
        writeln!(out, "      schema: {}", json(&s.schema))?;
        writeln!(out, "      keyword: {}", json(&s.keyword))?;
        writeln!(out, "      pointer: {}", json(&s.pointer))?;
    }
    if let Some(r) = &f.request {
        let body = r.body.as_ref().map(|b| format!(" {b}")).unwrap_or_default();
        writeln!(out, "      sent: {}", json(&format!("{} {}{body}", r.method, r.path)))?;
    }
    if let Some(r) = &f.response {
        writeln!(out, "      received_status: {}", r.status)?;
        writeln!(out, "      received_body: {}", json(&r.body))?;
    }
    Ok(())
}

/// Writes the report as TAP version 13.
pub fn render(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "TAP version 13")?;
    writeln!(out, "1..{}", report.cases.len())?;
    for (i, case) in report.cases.iter().enumerate() {
        let n = i + 1;
        let id = description(&case.id);
        match case.status {
            CaseStatus::Passed | CaseStatus::Warned => writeln!(out, "ok {n} - {id}")?,
            CaseStatus::Failed | CaseStatus::Error => writeln!(out, "not ok {n} - {id}")?,
            CaseStatus::Skipped => {
                let reason = description(case.reason.as_deref().unwrap_or("does not apply"));
                writeln!(out, "ok {n} - {id} # SKIP {reason}")?;
                if case.findings.is_empty() {
                    continue;
                }
            }
        }
        if case.findings.is_empty() && case.reason.is_none() && case.status == CaseStatus::Passed {
            continue;
        }
        let status = match case.status {
            CaseStatus::Passed => "passed",
            CaseStatus::Warned => "warned",
            CaseStatus::Failed => "failed",
            CaseStatus::Error => "error",
            CaseStatus::Skipped => "skipped",
        };
        writeln!(out, "  ---")?;
        writeln!(out, "  status: {status}")?;
        writeln!(out, "  severity: {}", json(&case.severity.to_string()))?;
        writeln!(out, "  title: {}", json(&case.title))?;
        writeln!(out, "  doc: {}", serde_json::to_string(&case.doc).unwrap_or_else(|_| "[]".into()))?;
        if let Some(reason) = &case.reason {
            writeln!(out, "  reason: {}", json(reason))?;
        }
        if !case.findings.is_empty() {
            writeln!(out, "  findings:")?;
            for f in &case.findings {
                finding(out, f)?;
            }
        }
        writeln!(out, "  ...")?;
    }
    writeln!(
        out,
        "# {} passed, {} failed, {} warned, {} errors, {} skipped; target {}",
        report.summary.passed,
        report.summary.failed,
        report.summary.warned,
        report.summary.errors,
        report.summary.skipped,
        description(&report.target)
    )?;
    Ok(())
}
