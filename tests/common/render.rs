//! The one place the tests call the report renderers, so a change of their signatures (for
//! instance writing into `impl std::io::Write`) touches this file only.

use mfa_harness::contract::report::Report;
use mfa_harness::contract::{junit, text};
use mfa_harness::load::summary::{self, LoadSummary};

/// The text report of `check` as printed to a file or pipe (no colours).
pub fn check_text(report: &Report) -> String {
    text::render(report, false)
}

/// The JUnit XML report of `check --format junit`.
pub fn check_junit(report: &Report) -> String {
    junit::render(report).expect("the JUnit report renders")
}

/// The JSON report of `check --format json`, as a value.
pub fn check_json(report: &Report) -> serde_json::Value {
    serde_json::to_value(report).expect("the report serializes")
}

/// The text summary `load` prints.
pub fn load_text(summary: &LoadSummary) -> String {
    summary::render(summary)
}
