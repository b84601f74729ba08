//! Ctrl-C during `load` against a separate `serve`: the attack stops, the summary is printed,
//! every user the run created is deleted, and the exit code is 3 (the run was cut short).

use crate::common::admin;
use crate::common::process::{Guard, command, serve};
use crate::common::schema;
use std::process::Stdio;
use std::time::{Duration, Instant};

const PASSWORD: &str = "Load-pass-2";

fn user_names(url: &str) -> Vec<String> {
    admin::user_names(url, "mfa-harness", "admin", PASSWORD)
}

#[test]
fn ctrl_c_stops_the_run_and_deletes_every_user() {
    let server = serve().admin_password(PASSWORD).start();
    let url = server.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    let mut load = Guard::spawn(
        command()
            .args(["load", "--target", &url, "--domain", "mfa-harness", "--admin-name", "admin"])
            .args(["--admin-password", PASSWORD, "--users", "6", "--run-time", "60s", "--json", json.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while user_names(&url).len() < 7 {
        assert!(Instant::now() < deadline, "the load never provisioned its users");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    load.signal("INT");
    let status = load.wait_within(Duration::from_secs(15), "load did not stop after Ctrl-C");
    let stdout = load.read_stdout();
    let stderr = load.read_stderr();
    assert_eq!(status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("interrupted"), "{stdout}");
    assert!(stderr.contains("interrupted by Ctrl-C"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    schema::assert_valid(schema::LOAD_SUMMARY, &summary);
    assert_eq!(summary["interrupted"], true);
    assert!(summary["flows_completed"].as_u64().unwrap() > 0);
    assert_eq!(user_names(&url), vec!["admin".to_string()]);
    drop(server);
}
