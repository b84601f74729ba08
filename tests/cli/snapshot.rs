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
