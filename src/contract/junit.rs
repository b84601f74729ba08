//! The JUnit XML report (quick-junit): one testcase per case; contract failures are
//! `<failure>`, cases the harness could not carry out are `<error>`.

use super::report::{CaseStatus, Report};
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use std::fmt::Write;
use std::time::Duration;

fn details(case: &super::report::CaseResult) -> String {
    let mut text = format!("doc: {}\n", case.doc.join(", "));
    for f in &case.findings {
        let _ = writeln!(text, "[{}] step {} {} · {}: {}", f.severity, f.step, f.operation, f.check, f.message);
        if let Some(s) = &f.schema {
            let _ = writeln!(text, "  schema {} keyword '{}' at '{}'", s.schema, s.keyword, s.pointer);
        }
        if let Some(r) = &f.request {
            let _ = writeln!(
                text,
                "  sent {} {}{}",
                r.method,
                r.path,
                r.body.as_ref().map(|b| format!(" {b}")).unwrap_or_default()
            );
        }
        if let Some(r) = &f.response {
            let location = r.location.as_ref().map(|l| format!(" (Location: {l})")).unwrap_or_default();
            let _ = writeln!(text, "  received {}{location} {}", r.status, r.body);
        }
    }
    text
}

/// Writes the report as JUnit XML.
pub fn render(report: &Report, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut suite = TestSuite::new("mfa-harness contract");
    suite.set_time(Duration::from_millis(report.duration_ms));
    suite.add_property(("target", report.target.as_str()));
    suite.add_property(("strict", if report.strict { "true" } else { "false" }));
    for case in &report.cases {
        let status = match case.status {
            CaseStatus::Passed | CaseStatus::Warned => TestCaseStatus::success(),
            CaseStatus::Skipped => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(case.reason.clone().unwrap_or_default());
                s
            }
            CaseStatus::Failed => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let first = case.findings.first().map(|f| f.message.clone()).unwrap_or_default();
                let first = match case.findings.len() {
                    0 | 1 => first,
                    n => format!("{first} (and {} more findings, all below)", n - 1),
                };
                s.set_message(first).set_type("contract").set_description(details(case));
                s
            }
            CaseStatus::Error => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(case.reason.clone().unwrap_or_default())
                    .set_type("harness")
                    .set_description(details(case));
                s
            }
        };
        let mut test = TestCase::new(case.id.as_str(), status);
        let group = case.id.split('.').next().unwrap_or("contract");
        test.set_classname(format!("mfa-harness.{group}"));
        test.set_time(Duration::from_millis(case.duration_ms));
        // Where the case is written, for CI systems that annotate files (GitLab, Jenkins and
        // GitHub reporters read `file` and `line` attributes).
        if let Some(file) = &case.file {
            test.extra.insert("file".into(), file.as_str().into());
        }
        if let Some(line) = case.line {
            test.extra.insert("line".into(), line.to_string().into());
        }
        test.add_property(("severity", case.severity.to_string().as_str()));
        for reading in &case.readings {
            test.add_property(("reading", reading.as_str()));
        }
        // `should` and `open` findings of a passing case: in its output, which junitparser,
        // junit2html and xunit-viewer all show.
        if matches!(case.status, CaseStatus::Warned | CaseStatus::Passed) && !case.findings.is_empty() {
            test.set_system_out(details(case));
        }
        suite.add_test_case(test);
    }
    let mut junit = quick_junit::Report::new("mfa-harness");
    junit.set_time(Duration::from_millis(report.duration_ms));
    junit.add_test_suite(suite);
    junit.serialize(out).map_err(std::io::Error::other)
}
