//! Ctrl-C during `load` against a separate `serve`: the attack stops, the summary is printed,
//! every user the run created is deleted, and the exit code is 3 (the run was cut short); a
//! second Ctrl-C skips the wait for goose but not the cleanup (exit 130).

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

/// A flow whose users sit 20 s in each iteration: after the first Ctrl-C goose waits for them.
const SLOW_FLOW: &str = "name = \"slow\"\n[[scenario]]\nname = \"slow\"\nsetup = [\"create\", \"bind\"]\nsteps = [\"query\"]\nthink_time = \"20s\"\n";

/// The first Ctrl-C makes goose wait for its users (here up to 20 s); a second one skips the
/// wait (goose's own handler would `exit(1)` here and leave every user behind), still deletes
/// every user, prints the summary, and exits 130.
#[test]
fn a_second_ctrl_c_skips_the_wait_but_still_deletes_every_user() {
    let server = serve().admin_password(PASSWORD).start();
    let url = server.url.clone();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slow.toml"), SLOW_FLOW).unwrap();
    let mut load = Guard::spawn(
        command()
            .args(["load", "--target", &url, "--domain", "mfa-harness", "--admin-name", "admin"])
            .args(["--admin-password", PASSWORD, "--users", "4", "--run-time", "60s", "--flow", "slow"])
            .args(["--scenarios", dir.path().to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while user_names(&url).len() < 5 {
        assert!(Instant::now() < deadline, "the load never provisioned its users");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    load.signal("INT");
    std::thread::sleep(Duration::from_millis(1000));
    assert!(load.0.try_wait().unwrap().is_none(), "after one Ctrl-C, goose waits for its users' iterations");
    let second = Instant::now();
    load.signal("INT");
    let status = load.wait_within(Duration::from_secs(10), "load did not stop after a second Ctrl-C");
    let (stdout, stderr) = (load.read_stdout(), load.read_stderr());
    assert_eq!(status.code(), Some(130), "{stdout}{stderr}");
    assert!(second.elapsed() < Duration::from_secs(10), "the second Ctrl-C did not skip the 20-s wait");
    assert!(stdout.contains("interrupted"), "the summary covers what ran: {stdout}");
    assert!(stderr.contains("interrupted by a second Ctrl-C"), "{stderr}");
    assert!(stderr.contains("were deleted"), "{stderr}");
    assert_eq!(user_names(&url), vec!["admin".to_string()]);
    drop(server);
}
