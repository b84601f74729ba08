//! SIGINT, SIGTERM and SIGHUP at several moments of `check` and `snapshot` against a separate
//! `serve` (whose user creation and deletion can be slowed): every user the run created is
//! deleted (the admin API lists none), the message says so, and the exit code is the
//! signal's (130, 143, 129). `load`'s are in `tests/load/interrupt.rs`.

use crate::common::admin;
use crate::common::process::{Guard, Server, command, serve};
use std::process::Stdio;
use std::time::{Duration, Instant};

const PASSWORD: &str = "Stop-pass-1";

fn harness_users(url: &str) -> Vec<String> {
    admin::harness_users(url, "mfa-harness", "admin", PASSWORD)
}

fn server(delays: &[&str]) -> Server {
    serve().admin_password(PASSWORD).args(delays).start()
}

/// `mfa-harness ARGS --target URL …` with its output in pipes.
fn start(url: &str, args: &[&str]) -> Guard {
    let creds = ["--target", url, "--domain", "mfa-harness", "--admin-name", "admin", "--admin-password", PASSWORD];
    Guard::spawn(command().args(args).args(creds).stdout(Stdio::piped()).stderr(Stdio::piped()))
}

/// Waits until the target has at least `n` users made by mfa-harness.
fn wait_for_users(url: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while harness_users(url).len() < n {
        assert!(Instant::now() < deadline, "the run never created {n} users");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for the run to end after a signal; returns its exit code, stdout and stderr.
fn ended(mut run: Guard, limit: Duration) -> (Option<i32>, String, String) {
    let status = run.wait_within(limit, "the run after a signal");
    (status.code(), run.read_stdout(), run.read_stderr())
}

/// Creates answered 300 ms late, the users existing at once: SIGTERM while creates are in
/// flight waits for their answers and deletes every user.
#[test]
fn sigterm_while_users_are_being_created_deletes_every_one_and_exits_143() {
    let server = server(&["--delay-user-create", "300ms"]);
    let check = start(&server.url, &["check"]);
    wait_for_users(&server.url, 3);
    check.signal("TERM");
    let (code, stdout, stderr) = ended(check, Duration::from_secs(20));
    assert_eq!(code, Some(143), "{stdout}{stderr}");
    assert!(stderr.contains("error: interrupted by SIGTERM; the "), "{stderr}");
    assert!(stderr.contains("users this run created were all deleted"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert_eq!(harness_users(&server.url), Vec::<String>::new());
}

/// Creates answered 20 s late: a second signal skips waiting for them, and the users they made
/// are found through the admin API (GET /v3/users) and deleted all the same.
#[test]
fn a_second_signal_skips_waiting_for_creates_but_finds_and_deletes_their_users() {
    let server = server(&["--delay-user-create", "20s"]);
    let check = start(&server.url, &["check"]);
    wait_for_users(&server.url, 4);
    check.signal("INT");
    std::thread::sleep(Duration::from_millis(300));
    let second = Instant::now();
    check.signal("HUP");
    let (code, stdout, stderr) = ended(check, Duration::from_secs(15));
    assert!(second.elapsed() < Duration::from_secs(10), "the second signal did not skip the 20-s wait");
    assert_eq!(code, Some(130), "the first signal decides: {stdout}{stderr}");
    assert!(
        stderr.contains("interrupted by SIGINT (Ctrl-C) and a second signal (waiting was skipped); the "),
        "{stderr}"
    );
    assert!(stderr.contains("were all deleted"), "{stderr}");
    assert_eq!(harness_users(&server.url), Vec::<String>::new());
}

/// SIGHUP while cases run (user creation slowed a little so the run lasts): exit 129.
#[test]
fn sighup_while_cases_run_deletes_every_user_and_exits_129() {
    let server = server(&["--delay-user-create", "40ms"]);
    let check = start(&server.url, &["check"]);
    wait_for_users(&server.url, 1);
    std::thread::sleep(Duration::from_millis(1500));
    check.signal("HUP");
    let (code, stdout, stderr) = ended(check, Duration::from_secs(20));
    assert_eq!(code, Some(129), "{stdout}{stderr}");
    assert!(stderr.contains("interrupted by SIGHUP; the "), "{stderr}");
    assert_eq!(harness_users(&server.url), Vec::<String>::new());
}

/// SIGTERM while the run's last users are being deleted (each delete takes 1.5 s): cleanup is
/// never cut short, and the exit code still says the run was stopped.
#[test]
fn sigterm_during_cleanup_lets_every_delete_finish() {
    let server = server(&["--delay-user-delete", "1500ms"]);
    let check = start(&server.url, &["check", "--only", "query.success"]);
    wait_for_users(&server.url, 1);
    // The case takes well under a second; then its user's delete takes 1.5 s.
    std::thread::sleep(Duration::from_millis(700));
    check.signal("TERM");
    let (code, stdout, stderr) = ended(check, Duration::from_secs(20));
    assert_eq!(code, Some(143), "{stdout}{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM; the 1 user this run created was deleted"), "{stderr}");
    assert_eq!(harness_users(&server.url), Vec::<String>::new());
}

/// `snapshot` stopped by SIGTERM while its cases run: every user deleted, exit 143, and no
/// baseline recorded from half a run.
#[test]
fn sigterm_during_a_snapshot_records_nothing_and_deletes_every_user() {
    let server = server(&["--delay-user-create", "40ms"]);
    let dir = tempfile::tempdir().unwrap();
    let snapshot = start(&server.url, &["snapshot", "--dir", dir.path().to_str().unwrap(), "--name", "stopped"]);
    wait_for_users(&server.url, 2);
    std::thread::sleep(Duration::from_millis(800));
    snapshot.signal("TERM");
    let (code, stdout, stderr) = ended(snapshot, Duration::from_secs(20));
    assert_eq!(code, Some(143), "{stdout}{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM; the "), "{stderr}");
    assert!(!dir.path().join("stopped").exists(), "a stopped snapshot wrote files");
    assert_eq!(harness_users(&server.url), Vec::<String>::new());
}

/// `check` against the embedded server: SIGTERM stops it as SIGINT does (before, SIGTERM
/// killed the process on the spot).
#[test]
fn sigterm_stops_check_against_the_embedded_server() {
    // Paced to 20 requests a second, the suite's few hundred requests take well over 1.5 s on
    // any machine (unpaced, `--concurrency 1` can end in about 1.3 s).
    let args = ["check", "--concurrency", "1", "--rate-limit", "20/s"];
    let mut check = Guard::spawn(command().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(check.0.try_wait().unwrap().is_none(), "check ended within 1.5 s");
    check.signal("TERM");
    let (code, stdout, stderr) = ended(check, Duration::from_secs(20));
    assert_eq!(code, Some(143), "{stdout}{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
}
