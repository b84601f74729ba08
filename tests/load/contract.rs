//! `load` in-process against the embedded server with faults: violations found under load are
//! counted by step and reason, failed in goose, and never blamed on the wrong step.

use mfa_harness::load::{LoadClient, LoadConfig, execute, summary::LoadSummary};
use mfa_harness::reference::faults::{Fault, FaultSet};
use mfa_harness::target::TargetSpec;
use std::time::Duration;

fn config(flow: &str, faults: &[Fault]) -> LoadConfig {
    LoadConfig {
        target: TargetSpec::Embedded { faults: FaultSet::new(faults) },
        flow: flow.to_string(),
        users: 2,
        increase_rate: None,
        run_time: Duration::from_secs(1),
        rate: None,
        thresholds: Vec::new(),
        report_files: Vec::new(),
        baseline_file: None,
        json_file: None,
        scenarios: None,
        timeout: Duration::from_secs(5),
        totp_margin: None,
        client: LoadClient::Connection,
    }
}

fn step<'a>(summary: &'a LoadSummary, name: &str) -> &'a mfa_harness::load::summary::StepSummary {
    summary.steps.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no {name} step in {summary:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaked_seed_is_a_query_violation() {
    let summary = execute(&config("lifecycle", &[Fault::QueryLeaksSeed])).await.unwrap();
    assert!(!summary.passed);
    let query = step(&summary, "query");
    assert!(query.count > 0 && query.failures == query.count, "{query:?}");
    assert!(summary.errors.iter().any(|e| e.step == "query" && e.reason.contains("seed")), "{:?}", summary.errors);
    for name in ["create", "bind"] {
        assert_eq!(step(&summary, name).failures, 0, "{name}");
    }
    let rendered = mfa_harness::load::summary::render(&summary);
    assert!(rendered.contains("FAILED") && rendered.contains("× query"), "{rendered}");
    assert_eq!(summary.client, "connection");
}

/// goose's own client (what an https:// target uses) judges the answers the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_goose_client_a_leaked_seed_is_a_query_violation_too() {
    let config = LoadConfig { client: LoadClient::Goose, ..config("lifecycle", &[Fault::QueryLeaksSeed]) };
    let summary = execute(&config).await.unwrap();
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
    let config = LoadConfig { client: LoadClient::Goose, ..config("create-bind-query", &[]) };
    let summary = execute(&config).await.unwrap();
    assert!(summary.passed, "{summary:?}");
    assert!(summary.flows_completed > 0 && summary.failed_requests == 0, "{summary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_create_status_fails_create_and_the_flows_stop_there() {
    let summary = execute(&config("create-bind-query", &[Fault::CreateReturns200])).await.unwrap();
    let create = step(&summary, "create");
    assert!(create.count > 0 && create.failures == create.count, "{create:?}");
    let reason = &summary.errors.iter().find(|e| e.step == "create").unwrap().reason;
    assert!(reason.starts_with("status 200 (expected 201)"), "{reason}");
    assert_eq!(summary.flows_completed, 0);
    assert!(summary.flows_failed > 0);
    assert!(summary.steps.iter().all(|s| s.name != "bind"), "no bind after a failed create");
}
