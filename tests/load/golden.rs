//! Golden outputs of `load` as users read them: the text summary of a passing run (with
//! thresholds) and of a run with contract violations, against the embedded server. Every
//! measured figure is redacted by `common::golden`; the layout, the step names, the headings,
//! the thresholds and the verdict stay. The snapshots are in `tests/snapshots/`.

use crate::common::config::Load;
use crate::common::{golden, render};
use mfa_harness::reference::faults::Fault;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_text_summary_of_a_passing_run() {
    let summary = Load::embedded("create-bind-query", &[]).thresholds(&["query.p99<10s", "req/s>1"]).execute().await;
    assert!(summary.passed, "{summary:?}");
    golden::settings().bind(|| insta::assert_snapshot!("load_text_passing", render::load_text(&summary)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_text_summary_with_contract_violations() {
    let summary = Load::embedded("lifecycle", &[Fault::QueryLeaksSeed]).execute().await;
    assert!(!summary.passed, "{summary:?}");
    golden::settings().bind(|| insta::assert_snapshot!("load_text_violations", render::load_text(&summary)));
}
