//! Signals during `load` against a separate `serve`: Ctrl-C stops the attack, the summary is
//! printed, every user the run created is deleted, and the exit code is 130; a second signal
//! skips the wait for goose but not the cleanup; SIGTERM while 2,000 users are being created,
//! and during the final cleanup, leaves none either (exit 143).

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
    assert_eq!(status.code(), Some(130), "{stdout}{stderr}");
    assert!(stdout.contains("interrupted"), "{stdout}");
    assert!(stderr.contains("interrupted by SIGINT (Ctrl-C) after "), "{stderr}");
    assert!(stderr.contains("the 6 users this run created were all deleted"), "{stderr}");
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
    assert!(stderr.contains("interrupted by SIGINT (Ctrl-C) and a second signal (waiting was skipped)"), "{stderr}");
    assert!(stderr.contains("the 4 users this run created were all deleted"), "{stderr}");
    assert_eq!(user_names(&url), vec!["admin".to_string()]);
    drop(server);
}

fn start_load(url: &str, args: &[&str]) -> Guard {
    Guard::spawn(
        command()
            .args(["load", "--target", url, "--domain", "mfa-harness", "--admin-name", "admin"])
            .args(["--admin-password", PASSWORD])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )
}

fn harness_users(url: &str) -> usize {
    admin::harness_users(url, "mfa-harness", "admin", PASSWORD).len()
}

/// `--users 2000`, SIGTERM half-way through creating them (each create answered 5 ms late, so
/// 16 are always in flight): the creates in flight are awaited, all 2,000-or-fewer users
/// deleted, exit 143, and the admin API lists none.
#[test]
fn sigterm_while_2000_users_are_being_created_leaves_none() {
    let server = serve().admin_password(PASSWORD).args(&["--delay-user-create", "5ms"]).start();
    let url = server.url.clone();
    let load = start_load(&url, &["--users", "2000", "--run-time", "30s"]);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    while harness_users(&url) < 500 {
        assert!(Instant::now() < deadline, "the load never provisioned 500 users");
        std::thread::sleep(Duration::from_millis(100));
    }
    let signalled = Instant::now();
    load.signal("TERM");
    let mut load = load;
    let status = load.wait_within(Duration::from_secs(60), "load after SIGTERM");
    let took = signalled.elapsed();
    let (stdout, stderr) = (load.read_stdout(), load.read_stderr());
    assert_eq!(status.code(), Some(143), "{stdout}{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM; the "), "{stderr}");
    assert!(stderr.contains("users this run created were all deleted"), "{stderr}");
    assert_eq!(harness_users(&url), 0);
    eprintln!("500 users after {:?}; stopped and cleaned up {took:?} after SIGTERM: {stderr}", signalled - started);
}

/// SIGTERM while the users are being deleted after the run (each delete takes 2 s): every
/// delete finishes, the summary is printed, and the exit code says the run was stopped.
#[test]
fn sigterm_during_the_final_cleanup_still_deletes_every_user() {
    let server = serve().admin_password(PASSWORD).args(&["--delay-user-delete", "2s"]).start();
    let url = server.url.clone();
    let mut load = start_load(&url, &["--users", "8", "--run-time", "1s"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while harness_users(&url) < 8 {
        assert!(Instant::now() < deadline, "the load never provisioned its users");
        std::thread::sleep(Duration::from_millis(50));
    }
    // 1 s of attack and goose's stop, then the 2-s deletes.
    std::thread::sleep(Duration::from_millis(2000));
    assert!(load.0.try_wait().unwrap().is_none(), "the run ended before its cleanup was signalled");
    load.signal("TERM");
    let status = load.wait_within(Duration::from_secs(20), "load after SIGTERM");
    let (stdout, stderr) = (load.read_stdout(), load.read_stderr());
    assert_eq!(status.code(), Some(143), "{stdout}{stderr}");
    assert!(stdout.contains("flows"), "the summary is printed: {stdout}");
    assert!(stderr.contains("the 8 users this run created were all deleted"), "{stderr}");
    assert_eq!(harness_users(&url), 0);
}
