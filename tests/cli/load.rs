//! The built binary's `load`: short runs (1 s) against the embedded server and a separate
//! `serve`, contract violations under load, thresholds, and the JSON summary's schema.

use crate::common::admin::user_names;
use crate::common::process::{run, serve};
use crate::common::schema;
use std::process::Output;

fn load(args: &[&str]) -> (Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    let out = run(&[&["load", "--run-time", "1s", "--json", json.to_str().unwrap()], args].concat());
    let summary = std::fs::read_to_string(&json).map(|t| serde_json::from_str(&t).unwrap()).unwrap_or_default();
    (out, summary)
}

fn validate(summary: &serde_json::Value) {
    schema::assert_valid(schema::LOAD_SUMMARY, summary);
}

fn step<'a>(summary: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    summary["steps"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no {name} step"))
}

#[test]
fn create_bind_query_against_the_embedded_server_completes_flows_without_failures() {
    let (out, summary) = load(&["--flow", "create-bind-query", "--users", "4"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    validate(&summary);
    assert!(summary["flows_completed"].as_u64().unwrap() > 0);
    assert_eq!(summary["failed_requests"], 0);
    for name in ["create", "bind", "query"] {
        assert!(step(&summary, name)["count"].as_u64().unwrap() > 0, "{name}");
    }
    assert!(summary["steps"].as_array().unwrap().iter().all(|s| s["name"] != "unbind"), "recycling is not measured");
    assert_eq!(summary["client"], "connection", "plain HTTP: one connection per user by default");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("PASSED") && text.contains("p99 ms") && text.contains("client connection"), "{text}");
}

#[test]
fn an_unknown_client_is_a_usage_error() {
    let (out, _) = load(&["--client", "curl"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("connection") && stderr.contains("goose"), "{stderr}");
}

#[test]
fn contract_violations_under_load_are_counted_by_step_and_reason_and_exit_1() {
    let (out, summary) = load(&["--flow", "lifecycle", "--users", "2", "--fault", "query-missing-serial"]);
    assert_eq!(out.status.code(), Some(1));
    validate(&summary);
    let errors = summary["errors"].as_array().unwrap();
    let query = errors.iter().find(|e| e["step"] == "query").expect("query violations");
    assert!(query["reason"].as_str().unwrap().contains("query.200.json"), "{query}");
    assert_eq!(step(&summary, "query")["failures"], step(&summary, "query")["count"]);
    assert_eq!(step(&summary, "create")["failures"], 0, "recycling keeps the other steps clean");
}

#[test]
fn thresholds_decide_the_exit_code() {
    let (out, summary) = load(&["--flow", "query-only", "--users", "2", "--threshold", "query.p99<1us"]);
    assert_eq!(out.status.code(), Some(1));
    let t = &summary["thresholds"].as_array().unwrap().iter().find(|t| t["threshold"] == "query.p99<1us").unwrap();
    assert_eq!(t["passed"], false);
    assert!(t["measured"].as_f64().unwrap() > 0.001);
    let (out, summary) =
        load(&["--flow", "query-only", "--users", "2", "--threshold", "query.p99<10s", "--threshold", "req/s>1"]);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    let (out, _) = load(&["--threshold", "bind.p97<5ms"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("p97"));
}

#[test]
fn against_a_separate_serve_it_leaves_no_users_behind() {
    let server = serve().admin_password("Load-pass-1").start();
    let (out, summary) = load(&[&server.target_args("Load-pass-1")[..], &["--flow", "mixed", "--users", "6"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(summary["flows_completed"].as_u64().unwrap() > 0);
    let names = user_names(&server.url, "mfa-harness", "admin", "Load-pass-1");
    assert_eq!(names, vec!["admin".to_string()]);
}

fn assert_passed(out: &Output) {
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
}

/// `--threads 1`: the generator and the embedded server share one worker thread and the run
/// is whole; and a flow's think time still pauses after every flow (flows run in a row only
/// when nothing is to happen between them).
#[test]
fn one_worker_thread_runs_whole_flows_and_a_think_time_still_paces_them() {
    let (out, summary) = load(&["--flow", "create-bind-query", "--users", "2", "--threads", "1"]);
    assert_passed(&out);
    assert!(summary["flows_completed"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(summary["failed_requests"], 0, "{summary}");
    let dir = tempfile::tempdir().unwrap();
    let flow = "name = \"paced\"\n[[scenario]]\nname = \"paced\"\nsetup = [\"create\", \"bind\"]\nsteps = [\"query\"]\nthink_time = \"400ms\"\n";
    std::fs::write(dir.path().join("paced.toml"), flow).unwrap();
    let (out, summary) = load(&["--scenarios", dir.path().to_str().unwrap(), "--flow", "paced", "--users", "1"]);
    assert_passed(&out);
    let (flows, seconds) = (summary["flows_completed"].as_u64().unwrap(), summary["duration_s"].as_f64().unwrap());
    // A 400 ms pause after each flow: at most one flow more than the pauses the run had time for.
    let most = (seconds / 0.4).floor() as u64 + 1;
    assert!(
        (1..=most).contains(&flows),
        "one user pausing 400 ms after each flow ran {flows} in {seconds} s: {summary}"
    );
}
