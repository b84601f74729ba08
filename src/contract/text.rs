//! The text report: a line per case, the findings of failed cases, a summary. Colour only on
//! a terminal.

use super::report::{CaseStatus, Finding, Report};
use crate::error::Outcome;
use std::fmt::Write;

struct Palette {
    on: bool,
}

impl Palette {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
}

fn label(status: CaseStatus, p: &Palette) -> String {
    match status {
        CaseStatus::Passed => p.paint("32", "PASS "),
        CaseStatus::Failed => p.paint("31;1", "FAIL "),
        CaseStatus::Warned => p.paint("33", "WARN "),
        CaseStatus::Error => p.paint("35", "ERROR"),
        CaseStatus::Skipped => p.paint("2", "SKIP "),
    }
}

fn write_finding(out: &mut String, f: &Finding) {
    let _ = writeln!(out, "      [{}] step {} {} · {}: {}", f.severity, f.step, f.operation, f.check, f.message);
    if let Some(s) = &f.schema {
        let _ = writeln!(
            out,
            "        schema {} keyword '{}' at '{}' (schema {})",
            s.schema, s.keyword, s.pointer, s.schema_pointer
        );
    }
    if let Some(r) = &f.request {
        let _ = writeln!(out, "        sent     {} {} (X-Auth-Token: {})", r.method, r.path, r.token);
        if let Some(body) = &r.body {
            let _ = writeln!(out, "                 {body}");
        }
    }
    if let Some(r) = &f.response {
        let content_type = r.content_type.as_deref().unwrap_or("no Content-Type");
        let _ = writeln!(
            out,
            "        received {} ({content_type}) {}",
            r.status,
            if r.body.is_empty() { "<empty>" } else { &r.body }
        );
        if let Some(location) = &r.location {
            let _ = writeln!(out, "                 Location: {location}");
        }
    }
}

/// Writes the report; `colour` adds ANSI colours.
pub fn render(report: &Report, colour: bool, out: &mut impl std::io::Write) -> std::io::Result<()> {
    out.write_all(text(report, colour).as_bytes())
}

fn text(report: &Report, colour: bool) -> String {
    let p = Palette { on: colour };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "mfa-harness check · target {} · {} cases{}",
        report.target,
        report.summary.total,
        if report.strict { " · strict" } else { "" }
    );
    let width = report.cases.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for case in &report.cases {
        let _ = writeln!(
            out,
            "  {} {:width$}  {:6} {:>5} ms  {}",
            label(case.status, &p),
            case.id,
            case.severity.to_string(),
            case.duration_ms,
            case.title
        );
        if let Some(reason) = &case.reason {
            let _ = writeln!(out, "      {reason}");
        }
        for reading in &case.readings {
            let _ = writeln!(out, "      reading: {reading}");
        }
        if case.status != CaseStatus::Passed {
            let _ = writeln!(out, "      doc: {}", case.doc.join(", "));
            for finding in &case.findings {
                write_finding(&mut out, finding);
            }
        }
    }
    let s = &report.summary;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} warned, {} errors, {} skipped of {} cases ({} must, {} should and {} open findings) in {} ms",
        s.passed,
        s.failed,
        s.warned,
        s.errors,
        s.skipped,
        s.total,
        s.must_findings,
        s.should_findings,
        s.open_findings,
        report.duration_ms
    );
    if let Some(e) = &report.exploration {
        let _ = writeln!(
            out,
            "exploration: seed {} · {} · {} walks, {} actions, {} requests{} (the same --seed draws the same walks)",
            e.seed,
            e.budget,
            e.walks,
            e.actions,
            e.requests,
            if e.stopped_by_time { " · stopped by the time bound" } else { "" }
        );
    }
    for leftover in &report.cleanup_failures {
        let _ = writeln!(out, "{}", p.paint("33", &format!("cleanup: could not delete user {leftover}")));
    }
    let verdict = match report.outcome() {
        Ok(Outcome::Passed) if s.warned > 0 => {
            p.paint("33", "PASSED with should-level warnings (--strict fails on them)")
        }
        Ok(Outcome::Passed) => p.paint("32;1", "PASSED"),
        Ok(Outcome::Failed) => p.paint("31;1", "FAILED: the target violates the contract"),
        Err(incomplete) => p.paint("35;1", &format!("INCOMPLETE: {incomplete}")),
    };
    let _ = writeln!(out, "{verdict}");
    out
}
