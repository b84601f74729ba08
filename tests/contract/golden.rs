//! Golden outputs of `check` as users read them: the text report of a passing and of a
//! failing run against the embedded server, and the JUnit XML of the failing run. Volatile
//! values are redacted by `common::golden`; the snapshots are in `tests/snapshots/`.
//!
//! The failing run switches on `query-missing-serial`: six cases fail, each with the same
//! deterministic findings (a schema violation and a missing value).

use crate::common::config::Check;
use crate::common::{golden, render};
use mfa_harness::contract::report::Report;
use mfa_harness::reference::faults::Fault;

async fn failing_run() -> Report {
    let report = Check::embedded(&[Fault::QueryMissingSerial]).report().await;
    assert_eq!(report.summary.failed, 6, "{:?}", report.summary);
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_text_report_of_a_passing_run() {
    let report = Check::embedded(&[]).report().await;
    // Every case passes but the two that wait (for a TOTP step without --slow, for a token's
    // expiry where tokens live 24 h), which are skipped.
    assert_eq!(report.summary.passed + 2, report.summary.total, "{:?}", report.summary);
    assert_eq!(report.summary.skipped, 2, "{:?}", report.summary);
    golden::settings().bind(|| insta::assert_snapshot!("check_text_passing", render::check_text(&report)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_text_report_of_a_failing_run() {
    let report = failing_run().await;
    golden::settings().bind(|| insta::assert_snapshot!("check_text_failing", render::check_text(&report)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_junit_report_of_a_failing_run() {
    let report = failing_run().await;
    golden::settings().bind(|| insta::assert_snapshot!("check_junit_failing", render::check_junit(&report)));
}
