//! `load` in-process against the embedded server with faults: violations found under load are
//! counted by step and reason, failed in goose, and never blamed on the wrong step.

use crate::common::config::Load;
use crate::common::render;
use mfa_harness::load::LoadClient;
use mfa_harness::load::summary::LoadSummary;
use mfa_harness::reference::faults::Fault;

fn step<'a>(summary: &'a LoadSummary, name: &str) -> &'a mfa_harness::load::summary::StepSummary {
    summary.steps.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no {name} step in {summary:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaked_seed_is_a_query_violation() {
    let summary = Load::embedded("lifecycle", &[Fault::QueryLeaksSeed]).execute().await;
    assert!(!summary.passed);
    let query = step(&summary, "query");
    assert!(query.count > 0 && query.failures == query.count, "{query:?}");
    assert!(summary.errors.iter().any(|e| e.step == "query" && e.reason.contains("seed")), "{:?}", summary.errors);
    for name in ["create", "bind"] {
        assert_eq!(step(&summary, name).failures, 0, "{name}");
    }
    let rendered = render::load_text(&summary);
    assert!(rendered.contains("FAILED") && rendered.contains("× query"), "{rendered}");
    assert_eq!(summary.client, "connection");
}

/// goose's own client (what an https:// target uses) judges the answers the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_goose_client_a_leaked_seed_is_a_query_violation_too() {
    let summary = Load::embedded("lifecycle", &[Fault::QueryLeaksSeed]).client(LoadClient::Goose).execute().await;
    assert_eq!(summary.client, "goose");
    assert!(!summary.passed);
    let query = step(&summary, "query");
    assert!(query.count > 0 && query.failures == query.count, "{query:?}");
    assert!(summary.errors.iter().any(|e| e.step == "query" && e.reason.contains("seed")), "{:?}", summary.errors);
    for name in ["create", "bind"] {
        let s = step(&summary, name);
        assert!(s.count > 0 && s.failures == 0, "{name}: {s:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_goose_client_a_correct_server_passes() {
    let summary = Load::embedded("create-bind-query", &[]).client(LoadClient::Goose).execute().await;
    assert!(summary.passed, "{summary:?}");
    assert!(summary.flows_completed > 0 && summary.failed_requests == 0, "{summary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_create_status_fails_create_and_the_flows_stop_there() {
    let summary = Load::embedded("create-bind-query", &[Fault::CreateReturns200]).execute().await;
    let create = step(&summary, "create");
    assert!(create.count > 0 && create.failures == create.count, "{create:?}");
    let reason = &summary.errors.iter().find(|e| e.step == "create").unwrap().reason;
    assert!(reason.starts_with("status 200 (expected 201)"), "{reason}");
    assert_eq!(summary.flows_completed, 0);
    assert!(summary.flows_failed > 0);
    assert!(summary.steps.iter().all(|s| s.name != "bind"), "no bind after a failed create");
}
