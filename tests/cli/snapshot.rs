//! The built binary's `snapshot` against fresh `serve` processes: a baseline, identical runs,
//! a fault shown as exactly its diff, and `--accept`.

use crate::common::process::{Server, run, serve};
use std::process::Output;

fn serve_with(faults: &[&str]) -> Server {
    serve().admin_password("Snap-pass-1").faults(faults).start()
}

fn snapshot(server: &Server, dir: &std::path::Path, extra: &[&str]) -> Output {
    let args = ["snapshot", "--target", &server.url, "--domain", "mfa-harness", "--admin-name", "admin"];
    let more = ["--admin-password", "Snap-pass-1", "--name", "local", "--dir", dir.to_str().unwrap()];
    run(&[&args[..], &more, extra].concat())
}

#[test]
fn baseline_identical_runs_a_fault_as_its_diff_and_accept() {
    let dir = tempfile::tempdir().unwrap();
    let first = snapshot(&serve_with(&[]), dir.path(), &[]);
    assert_eq!(first.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&first.stdout).contains("there was no baseline"));
    let stored = dir.path().join("local/query.success.snap");
    assert!(stored.exists());

    let second = snapshot(&serve_with(&[]), dir.path(), &[]);
    let text = String::from_utf8_lossy(&second.stdout);
    assert_eq!(second.status.code(), Some(0), "fresh ids and seeds, same snapshots: {text}");
    assert!(text.contains("UNCHANGED") && text.contains(" 0 changed"), "{text}");

    let serials = || std::fs::read_to_string(&stored).unwrap().matches("\"serial_number\"").count();
    let before = serials();
    let faulty = snapshot(&serve_with(&["query-missing-serial"]), dir.path(), &[]);
    let text = String::from_utf8_lossy(&faulty.stdout).to_string();
    assert_eq!(faulty.status.code(), Some(1), "{text}");
    assert!(text.contains("changed: query.success"), "{text}");
    let removed: Vec<&str> = text.lines().filter(|l| l.starts_with('-') && !l.starts_with("---")).collect();
    let added: Vec<&str> = text.lines().filter(|l| l.starts_with('+') && !l.starts_with("+++")).collect();
    assert!(!removed.is_empty() && removed.iter().all(|l| l.contains("\"serial_number\"")), "{removed:?}");
    assert!(added.is_empty(), "only the missing field changes: {added:?}");
    assert!(dir.path().join("local/query.success.snap.new").exists(), "pending for cargo insta review");

    let accepted = snapshot(&serve_with(&["query-missing-serial"]), dir.path(), &["--accept"]);
    assert_eq!(accepted.status.code(), Some(0));
    assert!(!dir.path().join("local/query.success.snap.new").exists());
    let after = snapshot(&serve_with(&["query-missing-serial"]), dir.path(), &[]);
    assert_eq!(after.status.code(), Some(0), "{}", String::from_utf8_lossy(&after.stdout));
    assert_eq!(serials(), before - 1, "the accepted snapshot lacks the query's serial_number");
}

/// In CI (`--ci`, or `CI=true` in the environment) a missing baseline is exit 1 and nothing
/// is recorded; `CI=false` is not CI; a change in CI mode leaves only `.snap.new` files, and
/// `--accept --only CASE` accepts that one case.
#[test]
fn in_ci_a_missing_baseline_fails_and_changes_are_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_with(&[]);
    for (flag, env) in [(Some("--ci"), None), (None, Some("true")), (None, Some("1"))] {
        let mut command = crate::common::process::command();
        command.args(["snapshot", "--target", &server.url, "--domain", "mfa-harness", "--admin-name", "admin"]);
        command.args(["--admin-password", "Snap-pass-1", "--name", "local", "--dir", dir.path().to_str().unwrap()]);
        command.args(flag);
        if let Some(value) = env {
            command.env("CI", value);
        }
        let out = crate::common::process::output_within(command, crate::common::process::TIME_LIMIT);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flag:?} {env:?}: {stderr}");
        assert!(stderr.contains("no baseline recorded for local") && stderr.contains("run without --ci"), "{stderr}");
        assert!(!dir.path().join("local").exists(), "nothing recorded in CI mode");
    }
    let mut command = crate::common::process::command();
    command.args(["snapshot", "--target", &server.url, "--domain", "mfa-harness", "--admin-name", "admin"]);
    command.args(["--admin-password", "Snap-pass-1", "--name", "local", "--dir", dir.path().to_str().unwrap()]);
    command.env("CI", "false");
    let recorded = crate::common::process::output_within(command, crate::common::process::TIME_LIMIT);
    assert_eq!(recorded.status.code(), Some(0), "CI=false records: {}", String::from_utf8_lossy(&recorded.stdout));

    let faulty = serve_with(&["query-missing-serial"]);
    let stored = dir.path().join("local/query.success.snap");
    let before = std::fs::read_to_string(&stored).unwrap();
    let changed = snapshot(&faulty, dir.path(), &["--ci"]);
    let text = String::from_utf8_lossy(&changed.stdout).to_string();
    assert_eq!(changed.status.code(), Some(1), "{text}");
    assert!(text.contains("--accept --only CASE") && !text.contains("cargo insta"), "{text}");
    assert_eq!(std::fs::read_to_string(&stored).unwrap(), before, "the baseline is untouched");
    assert!(dir.path().join("local/query.success.snap.new").exists());

    let one = snapshot(&faulty, dir.path(), &["--accept", "--only", "query.success"]);
    assert_eq!(one.status.code(), Some(0), "{}", String::from_utf8_lossy(&one.stdout));
    assert_ne!(std::fs::read_to_string(&stored).unwrap(), before, "query.success accepted");
    let rest = snapshot(&faulty, dir.path(), &["--ci"]);
    let text = String::from_utf8_lossy(&rest.stdout).to_string();
    assert!(!text.contains("changed: query.success\n"), "query.success was accepted: {text}");
}
