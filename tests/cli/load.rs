//! The built binary's `load`: short runs (1 s) against the embedded server and a separate
//! `serve`, contract violations under load, thresholds, and the JSON summary's schema.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mfa-harness");

fn load(args: &[&str]) -> (Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    let out = Command::new(BIN)
        .args(["load", "--run-time", "1s", "--json", json.to_str().unwrap()])
        .args(args)
        .output()
        .expect("binary runs");
    let summary = std::fs::read_to_string(&json).map(|t| serde_json::from_str(&t).unwrap()).unwrap_or_default();
    (out, summary)
}

fn validate(summary: &serde_json::Value) {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/reports/load-summary.schema.json"))
            .unwrap();
    let validator = jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap();
    let errors: Vec<String> = validator.iter_errors(summary).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}");
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

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn against_a_separate_serve_it_leaves_no_users_behind() {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-password", "Load-pass-1"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut url).unwrap();
    let server = Server(child, url.trim().to_string());
    let (out, summary) = load(&[
        "--target",
        &server.1,
        "--domain",
        "mfa-harness",
        "--admin-name",
        "admin",
        "--admin-password",
        "Load-pass-1",
        "--flow",
        "mixed",
        "--users",
        "6",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(summary["flows_completed"].as_u64().unwrap() > 0);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let names: Vec<String> = runtime.block_on(async {
        let client = mfa_harness::client::HttpClient::new(&server.1, std::time::Duration::from_secs(5)).unwrap();
        let (token, _) = mfa_harness::target::password_token(
            &client,
            "mfa-harness",
            "admin",
            &mfa_harness::target::Secret::new("Load-pass-1"),
            &mfa_harness::target::Redactor::default(),
        )
        .await
        .unwrap();
        let users = client.send(&mfa_harness::api::ops::list_users(Some(token.expose()))).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&users.body).unwrap();
        body["users"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap().to_string()).collect()
    });
    assert_eq!(names, vec!["admin".to_string()]);
}
