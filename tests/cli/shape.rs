//! Load shapes: `--iterations` (per user, exact flow counts), `--stages` (users ramped stage by
//! stage; a ramp up after a ramp down starts new users, each with its own identity, all
//! deleted at the end), `--rate-stages` (a ramping arrival rate: every flow the schedule holds
//! is run or counted as dropped, shards share it) and the refusals (sub-second run times,
//! shapes that do not combine).

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

/// Flows the schedule holds: completed, failed or dropped, each counted once.
fn scheduled(summary: &serde_json::Value) -> u64 {
    ["flows_completed", "flows_failed", "dropped_flows"].iter().map(|f| summary[f].as_u64().unwrap()).sum()
}

#[test]
fn rate_stages_run_every_flow_of_the_schedule_and_end_with_it() {
    // 0 → 20 flows/s over 1 s, 20/s for 1 s, down to 0 over 1 s: 10 + 20 + 10 flows.
    let started = std::time::Instant::now();
    let (out, summary) = load_json(&["--flow", "query-only", "--users", "4", "--rate-stages", "1s:20,1s:20,1s:0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    schema::assert_valid(schema::LOAD_SUMMARY, &summary);
    assert_eq!(scheduled(&summary), 40, "{summary}");
    assert_eq!(summary["requests"], summary["flows_completed"], "one query per flow");
    assert_eq!(summary["interrupted"], false, "the schedule's end is not an interruption");
    let span = summary["duration_s"].as_f64().unwrap();
    assert!(span > 1.5 && span < 3.5, "the flows spread over the 3 s of the schedule: {span}");
    assert!(started.elapsed().as_secs() < 30, "the run ends with its schedule, not with goose's bound");
    assert!(text.contains("arrival rate stages: "), "{text}");
}

#[test]
fn a_pool_too_small_for_the_rate_drops_flows_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let (out, summary) = load_json(&[
        "--flow",
        "query-only",
        "--users",
        "1",
        "--rate-stages",
        "0s:20000,1s:20000",
        "--report-file",
        html.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(scheduled(&summary), 20_000, "{summary}");
    let dropped = summary["dropped_flows"].as_u64().unwrap();
    assert!(dropped > 0, "one user cannot query 20,000 times a second: {summary}");
    assert!(text.contains(&format!("{dropped} flows dropped")) && text.contains("give more --users"), "{text}");
    let report = std::fs::read_to_string(&html).unwrap();
    assert!(report.contains(&format!("Arrival rate stages: {dropped} flows dropped")), "the HTML report says so too");
}

#[test]
fn shards_share_the_arrival_rate_and_their_merge_adds_the_dropped_flows() {
    let server = serve().admin_password("Shape-pass-2").start();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for k in 0..2 {
        let json = dir.path().join(format!("shard-{k}.json"));
        let shard = format!("{k}/2");
        let out = run(&[
            &["load"][..],
            &server.target_args("Shape-pass-2"),
            &["--flow", "query-only", "--users", "4", "--rate-stages", "0s:20,1s:20", "--shard", &shard],
            &["--json", json.to_str().unwrap()],
        ]
        .concat());
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(scheduled(&summary), 10, "half of 20 flows/s for 1 s: {summary}");
        files.push(json.to_str().unwrap().to_string());
    }
    let merged = dir.path().join("merged.json");
    let out =
        run(&[&["load", "merge", "--json", merged.to_str().unwrap()][..], &[&files[0][..], &files[1][..]]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    schema::assert_valid(schema::LOAD_SUMMARY, &summary);
    assert_eq!(scheduled(&summary), 20, "{summary}");
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
        (&["--rate-stages", "1s:5", "--rate", "3"][..], "cannot be used with"),
        (&["--rate-stages", "1s:5", "--run-time", "3s"][..], "cannot be used with"),
        (&["--rate-stages", "1s:5", "--stages", "1s:2"][..], "cannot be used with"),
        (&["--rate-stages", "1s"][..], "DUR:RATE"),
        (&["--rate-stages", "1s:0,2s:0"][..], "start no flow"),
        (&["--rate-stages", "500ms:5"][..], "give 0s or 1s"),
    ] {
        let out = run(&[&["load"][..], args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing ran");
    }
}
