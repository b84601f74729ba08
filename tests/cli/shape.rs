//! Load shapes: `--iterations` (per user, exact flow counts), `--stages` (users ramped stage by
//! stage; a ramp up after a ramp down starts new users, each with its own identity, all
//! deleted at the end) and the refusals (sub-second run times, shapes that do not combine).

use crate::common::admin::user_names;
use crate::common::process::{run, serve};
use crate::common::schema;

fn load_json(args: &[&str]) -> (std::process::Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    let out = run(&[&["load", "--json", json.to_str().unwrap()], args].concat());
    let summary = std::fs::read_to_string(&json).map(|t| serde_json::from_str(&t).unwrap()).unwrap_or_default();
    (out, summary)
}

#[test]
fn iterations_are_per_user_and_the_run_ends_when_every_user_is_done() {
    let (out, summary) = load_json(&["--users", "3", "--iterations", "4"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    schema::assert_valid(schema::LOAD_SUMMARY, &summary);
    assert_eq!(summary["flows_completed"], 12, "3 users × 4 iterations: {summary}");
    assert_eq!(summary["requests"], 36, "create, bind, query per flow");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("mfa-harness load") && !text.contains("launched"), "stdout is the summary's: {text}");
}

#[test]
fn stages_ramp_users_and_every_user_started_has_its_own_identity_deleted_at_the_end() {
    let server = serve().admin_password("Shape-pass-1").start();
    let (out, summary) =
        load_json(&[&server.target_args("Shape-pass-1")[..], &["--stages", "1s:3,1s:0,1s:2"]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(summary["users"], 3, "the peak");
    assert!(text.starts_with("mfa-harness load") && !text.contains("launched"), "stdout is the summary's: {text}");
    assert!(summary["flows_completed"].as_u64().unwrap() > 0);
    assert_eq!(summary["failed_requests"], 0, "no user lacked an identity: {summary}");
    assert!(summary["duration_s"].as_f64().unwrap() > 1.5, "three 1-s stages: {summary}");
    assert_eq!(user_names(&server.url, "mfa-harness", "admin", "Shape-pass-1"), vec!["admin".to_string()]);
}

#[test]
fn shapes_that_goose_would_round_or_cannot_combine_are_usage_errors() {
    for (args, says) in [
        (&["--run-time", "1.5s"][..], "give 1s or 2s"),
        (&["--run-time", "1500ms"][..], "give 1s or 2s"),
        (&["--stages", "1s:2", "--rate", "10"][..], "--stages or --rate"),
        (&["--stages", "1s:2", "--users", "3"][..], "cannot be used with"),
        (&["--stages", "1s:2", "--run-time", "3s"][..], "cannot be used with"),
        (&["--iterations", "2", "--run-time", "3s"][..], "cannot be used with"),
        (&["--iterations", "0"][..], "at least 1"),
        (&["--stages", "1s"][..], "DUR:USERS"),
        (&["--stages", "1s:0"][..], "no stage has users"),
    ] {
        let out = run(&[&["load"][..], args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing ran");
    }
}
