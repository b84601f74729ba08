//! Ctrl-C during `load` against a separate `serve`: the attack stops, the summary is printed,
//! every user the run created is deleted, and the exit code is 3 (the run was cut short).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mfa-harness");
const PASSWORD: &str = "Load-pass-2";

/// Validates a JSON summary against `schemas/reports/load-summary.schema.json`.
fn validate(summary: &serde_json::Value) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/reports/load-summary.schema.json");
    let schema = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(summary).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn user_names(url: &str) -> Vec<String> {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = mfa_harness::client::HttpClient::new(url, Duration::from_secs(5)).unwrap();
        let secret = mfa_harness::target::Secret::new(PASSWORD);
        let redactor = mfa_harness::target::Redactor::default();
        let (token, _) =
            mfa_harness::target::password_token(&client, "mfa-harness", "admin", &secret, &redactor).await.unwrap();
        let users = client.send(&mfa_harness::api::ops::list_users(Some(token.expose()))).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&users.body).unwrap();
        body["users"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap().to_string()).collect()
    })
}

#[test]
fn ctrl_c_stops_the_run_and_deletes_every_user() {
    let mut serve = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-password", PASSWORD])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(serve.stdout.take().unwrap()).read_line(&mut url).unwrap();
    let _serve = Killed(serve);
    let url = url.trim().to_string();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    let load = Command::new(BIN)
        .args(["load", "--target", &url, "--domain", "mfa-harness", "--admin-name", "admin"])
        .args(["--admin-password", PASSWORD, "--users", "6", "--run-time", "60s", "--json", json.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = load.id().to_string();
    let mut load = Killed(load);
    let deadline = Instant::now() + Duration::from_secs(20);
    while user_names(&url).len() < 7 {
        assert!(Instant::now() < deadline, "the load never provisioned its users");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let status = loop {
        if let Some(status) = load.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "load did not stop after Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    std::io::Read::read_to_string(load.0.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    std::io::Read::read_to_string(load.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("interrupted"), "{stdout}");
    assert!(stderr.contains("interrupted by Ctrl-C"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    validate(&summary);
    assert_eq!(summary["interrupted"], true);
    assert!(summary["flows_completed"].as_u64().unwrap() > 0);
    assert_eq!(user_names(&url), vec!["admin".to_string()]);
}
