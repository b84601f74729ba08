//! The one place the tests call the report renderers, so a change of their signatures (for
//! instance writing into `impl std::io::Write`) touches this file only.

use mfa_harness::contract::report::Report;
use mfa_harness::contract::{Format, render};
use mfa_harness::load::summary::{self, LoadSummary};

/// The text report of `check` as printed to a file or pipe (no colours).
pub fn check_text(report: &Report) -> String {
    rendered(report, Format::Text)
}

/// The JUnit XML report of `check --format junit`.
pub fn check_junit(report: &Report) -> String {
    rendered(report, Format::Junit)
}

/// The HTML page of `check --format html`.
pub fn check_html(report: &Report) -> String {
    rendered(report, Format::Html)
}

/// The JSON report of `check --format json`, as a value.
pub fn check_json(report: &Report) -> serde_json::Value {
    serde_json::to_value(report).expect("the report serializes")
}

/// The text summary `load` prints.
pub fn load_text(summary: &LoadSummary) -> String {
    summary::text(summary)
}

fn rendered(report: &Report, format: Format) -> String {
    let mut out = Vec::new();
    render(report, format, false, &mut out).expect("the report renders");
    String::from_utf8(out).expect("reports are UTF-8")
}
