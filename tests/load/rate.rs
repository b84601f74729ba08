//! `load --rate`: a constant arrival rate through goose's throttle; latency is the target's,
//! not the client's pacing, and is corrected for coordinated omission.

use crate::common::process::run;
use crate::common::schema;

#[test]
fn a_constant_rate_paces_flows_without_counting_the_pacing_as_latency() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    let out = run(&[
        "load",
        "--flow",
        "create-bind-query",
        "--users",
        "4",
        "--rate",
        "20",
        "--run-time",
        "2s",
        "--threshold",
        "bind.p95<250ms",
        "--json",
        json.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    schema::assert_valid(schema::LOAD_SUMMARY, &summary);
    let flows = summary["flows_per_second"].as_f64().unwrap();
    assert!((8.0..=26.0).contains(&flows), "about 20 flows/s: {flows}");
    assert_eq!(summary["co_expected_interval_ms"], 200.0, "4 users / 20 flows/s");
    // Each user waits ~200 ms for its turn; before the fix that wait was reported as latency.
    let p50 = summary["all"]["p50_ms"].as_f64().unwrap();
    assert!(p50 < 100.0, "p50 {p50} ms is the pacing, not the target");
    assert!(text.contains("corrected for coordinated omission"), "{text}");
}

#[test]
fn rates_and_durations_are_checked_before_any_user_is_made() {
    for args in [&["--rate", "0"][..], &["--rate=-3"], &["--increase-rate", "0"], &["--users", "0"]] {
        let out = run(&[&["load"][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let flag = args[0].split('=').next().unwrap();
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}
