//! A distributed run on one machine: 4 `load --shard K/4` processes with one `--start-at`
//! against one `serve`, then `load merge`. The merged counts are the sums, the merged
//! percentiles those of one histogram fed with every shard's samples, rates are over the
//! union of the spans, and a threshold every shard meets but the whole run does not fails the
//! merge. A signal while a shard waits for `--start-at` still deletes its users.

use crate::common::admin;
use crate::common::process::{Guard, command, output_within, run, serve};
use crate::common::schema;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PASSWORD: &str = "Shard-pass-4";
const SHARDS: u32 = 4;

/// `load` against `url` as the server's administrator, with `args` after it.
fn shard_command(url: &str, args: &[&str]) -> std::process::Command {
    let mut load = command();
    load.args(["load", "--target", url, "--domain", "mfa-harness", "--admin-name", "admin"])
        .env("MFA_ADMIN_PASSWORD", PASSWORD)
        .args(args);
    load
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn decode(text: &Value) -> Histogram<u64> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.as_str().unwrap()).unwrap();
    Deserializer::new().deserialize(&mut bytes.as_slice()).unwrap()
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn unix_ms(rfc3339: &Value) -> u128 {
    humantime::parse_rfc3339(rfc3339.as_str().unwrap()).unwrap().duration_since(UNIX_EPOCH).unwrap().as_millis()
}

fn sum(shards: &[Value], field: &str) -> u64 {
    shards.iter().map(|s| s[field].as_u64().unwrap()).sum()
}

#[test]
fn four_shards_merge_into_the_figures_of_one_histogram() {
    let server = serve().admin_password(PASSWORD).start();
    let dir = tempfile::tempdir().unwrap();
    let start_at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 4;
    let start_at = start_at.to_string();
    let mut shards: Vec<Guard> = (0..SHARDS)
        .map(|k| {
            let shard = format!("{k}/{SHARDS}");
            // The last shard prints its summary as the last line of stdout, as on Kubernetes.
            let json = if k == SHARDS - 1 { "-".to_string() } else { format!("shard-{k}.json") };
            let mut load = shard_command(
                &server.url,
                &["--flow", "create-bind-query", "--users", "10", "--run-time", "1s", "--totp-margin", "300ms"],
            );
            load.args(["--shard", &shard, "--start-at", &start_at, "--json", &json])
                .current_dir(dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            Guard::spawn(&mut load)
        })
        .collect();
    for (k, shard) in shards.iter_mut().enumerate() {
        let status = shard.wait_within(Duration::from_secs(60), "a shard");
        let (stdout, stderr) = (shard.read_stdout(), shard.read_stderr());
        assert_eq!(status.code(), Some(0), "shard {k}: {stdout}{stderr}");
        assert!(stdout.contains(&format!("shard {k}/{SHARDS} · ")), "{stdout}");
        if k == SHARDS as usize - 1 {
            let last = stdout.lines().last().unwrap();
            assert!(last.starts_with("{\"tool\":\"mfa-harness\"") && stdout.contains("PASSED\n{"), "{stdout}");
            std::fs::write(dir.path().join(format!("shard-{k}.json")), &stdout).unwrap();
            std::fs::write(dir.path().join("last-line.json"), last).unwrap();
        }
    }
    assert_eq!(admin::user_names(&server.url, "mfa-harness", "admin", PASSWORD), ["admin"], "every user deleted");

    let mut summaries: Vec<Value> =
        (0..SHARDS - 1).map(|k| read_json(&dir.path().join(format!("shard-{k}.json")))).collect();
    summaries.push(read_json(&dir.path().join("last-line.json")));
    for (k, s) in summaries.iter().enumerate() {
        schema::assert_valid(schema::LOAD_SUMMARY, s);
        assert_eq!(s["users"], [3, 3, 2, 2][k], "10 users over 4 shards");
        assert_eq!((s["shard"]["index"].as_u64(), s["shard"]["total_users"].as_u64()), (Some(k as u64), Some(10)));
        let late = s["shard"]["late_by_s"].as_f64().unwrap();
        assert!((0.0..1.0).contains(&late), "shard {k} began {late} s after --start-at");
        let started = unix_ms(&s["started_at"]);
        let at = start_at.parse::<u128>().unwrap() * 1000;
        assert!(started >= at, "shard {k} sent its first request before --start-at: {started} < {at}");
    }

    let files: Vec<String> = (0..SHARDS).map(|k| format!("shard-{k}.json")).collect();
    let merge = |extra: &[&str]| {
        let mut merge = command();
        merge.current_dir(dir.path()).args(["load", "merge"]).args(&files).args(extra);
        output_within(merge, Duration::from_secs(60))
    };
    let out = merge(&["--json", "merged.json", "--report-file", "merged.html"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("merged 4 of 4 shards (0, 1, 2, 3)") && text.contains("· 10 users ·"), "{text}");
    let merged = read_json(&dir.path().join("merged.json"));
    schema::assert_valid(schema::LOAD_SUMMARY, &merged);
    let html = std::fs::read_to_string(dir.path().join("merged.html")).unwrap();
    assert!(html.contains("10 users") && html.contains("merged 4 of 4 shards (0, 1, 2, 3)"), "{html}");
    assert_eq!(merged["merged"]["missing"], serde_json::json!([]));
    assert_eq!(merged["shard"], Value::Null);
    for field in ["flows_completed", "flows_failed", "requests", "failed_requests", "totp_window_retries"] {
        assert_eq!(merged[field].as_u64().unwrap(), sum(&summaries, field), "{field}");
    }
    assert!(merged["flows_completed"].as_u64().unwrap() > 0);

    // Every percentile is that of one histogram holding every shard's samples.
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for step in merged["steps"].as_array().unwrap() {
        let name = step["name"].as_str().unwrap();
        let mut one = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        let mut count = 0;
        for s in &summaries {
            for own in s["steps"].as_array().unwrap().iter().filter(|x| x["name"] == name) {
                one.add(decode(&own["histogram"])).unwrap();
                count += own["count"].as_u64().unwrap();
            }
        }
        all.add(&one).unwrap();
        assert_eq!(step["count"].as_u64().unwrap(), count, "{name}");
        assert_eq!(decode(&step["histogram"]), one, "{name}: the merged histogram is the sum");
        let latency = &step["latency"];
        for (field, q) in [("p50_ms", 0.5), ("p90_ms", 0.9), ("p95_ms", 0.95), ("p99_ms", 0.99)] {
            assert_eq!(latency[field].as_f64().unwrap(), ms(one.value_at_quantile(q)), "{name} {field}");
        }
        assert_eq!(latency["max_ms"].as_f64().unwrap(), ms(one.max()), "{name} max");
        let series = step["series"].as_array().unwrap();
        let in_series: u64 = series.iter().map(|p| p["count"].as_u64().unwrap()).sum();
        assert_eq!(in_series, count, "{name}: every answer is in one second of the merged series");
        for point in series {
            let h = decode(&point["histogram"]);
            assert_eq!(point["p99_us"].as_u64().unwrap(), h.value_at_quantile(0.99), "{name} {point}");
        }
    }
    assert_eq!(merged["all"]["p99_ms"].as_f64().unwrap(), ms(all.value_at_quantile(0.99)));

    // Rates are over the union of the spans: earliest first request to latest last answer.
    let first = summaries.iter().map(|s| unix_ms(&s["started_at"])).min().unwrap();
    let last = summaries.iter().map(|s| unix_ms(&s["ended_at"])).max().unwrap();
    let span = (last - first) as f64 / 1000.0;
    let rate = merged["requests_per_second"].as_f64().unwrap();
    let expected = merged["requests"].as_u64().unwrap() as f64 / span;
    assert!((rate - expected).abs() <= expected * 0.002, "{rate} req/s over {span} s, expected {expected}");

    // Each shard meets `req/s<X`; the four together do not.
    let fastest = summaries.iter().map(|s| s["requests_per_second"].as_f64().unwrap()).fold(0.0, f64::max);
    assert!(rate > fastest * 1.5, "the whole run ({rate} req/s) is faster than its fastest shard ({fastest})");
    let bound = format!("req/s<{:.1}", (fastest + rate) / 2.0);
    let out = merge(&["--threshold", &bound, "--json", "-"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(&format!("threshold {bound:24}")) && text.contains("VIOLATED"), "{text}");
    let line: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(line["passed"], false);
    assert!(
        line["thresholds"].as_array().unwrap().iter().any(|t| t["threshold"] == bound.as_str() && t["passed"] == false)
    );
    drop(server);
}

#[test]
fn merge_refuses_shards_that_do_not_belong_together() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    for (name, shard, flow) in [("a0.json", "0/2", "query-only"), ("b1.json", "1/2", "create-bind-query")] {
        let out =
            run(&["load", "--flow", flow, "--users", "2", "--run-time", "1s", "--shard", shard, "--json", &path(name)]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let whole =
        run(&["load", "--flow", "query-only", "--users", "1", "--run-time", "1s", "--json", &path("whole.json")]);
    assert_eq!(whole.status.code(), Some(0));
    std::fs::write(path("broken.json"), "{\"tool\":").unwrap();
    for (files, why) in [
        (vec!["a0.json", "b1.json"], "are of different runs: flows query-only and create-bind-query"),
        (vec!["a0.json", "a0.json"], "are both shard 0/2; give each shard once"),
        (vec!["whole.json"], "is the summary of a whole run, not of a shard"),
        (vec!["broken.json"], "is not a load summary"),
        (vec!["missing.json"], "could not read the shard summary"),
    ] {
        let files: Vec<String> = files.iter().map(|f| path(f)).collect();
        let out = run(&[&["load", "merge"][..], &files.iter().map(String::as_str).collect::<Vec<_>>()].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{files:?}: {stderr}");
        assert!(stderr.contains(why) && stderr.trim().lines().count() == 1, "{files:?}: {stderr}");
    }
    let out = run(&["load", "merge", &path("a0.json"), "--report-file", &path("x.json")]);
    assert_eq!(out.status.code(), Some(2));
    // One shard of two is refused; with --partial it merges, and says which is missing.
    let out = run(&["load", "merge", &path("a0.json")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no summary of shard 1 of 2") && stderr.trim().lines().count() == 1, "{stderr}");
    let out = run(&["load", "merge", "--partial", &path("a0.json")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("merged 1 of 2 shards (0)") && text.contains("missing shards: 1"), "{text}");
    // A config file's [load] settings are a run's; `load merge` takes none of them.
    std::fs::write(path("c.toml"), "[load]\nusers = 4\nflow = \"lifecycle\"\n").unwrap();
    let out = run(&["--config", &path("c.toml"), "load", "merge", "--partial", &path("a0.json")]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn bad_shards_and_start_times_are_usage_errors() {
    for (args, why) in [
        (&["--shard", "4/4"][..], "K = 4, not below N = 4"),
        (&["--shard", "0/0"], "N = 0"),
        (&["--shard", "one/4"], "not a whole number"),
        (&["--shard", "3/4", "--users", "3"], "--shard 3/4 has no users"),
        (&["--start-at", "tomorrow"], "RFC 3339"),
    ] {
        let out = run(&[&["load", "--run-time", "1s"][..], args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.lines().next().unwrap().contains(why), "{args:?}: {stderr}");
    }
    let mut load = command();
    load.args(["load", "--run-time", "1s"]).env("MFA_SHARD", "7/2");
    let out = output_within(load, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "MFA_SHARD is read: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_start_time_in_the_past_begins_at_once_and_says_how_late() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("late.json");
    let at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() - 5;
    let at = humantime::format_rfc3339(UNIX_EPOCH + Duration::from_secs(at)).to_string();
    let args = ["load", "--flow", "query-only", "--users", "1", "--run-time", "1s", "--shard", "0/1"];
    let out = run(&[&args[..], &["--start-at", &at, "--json", json.to_str().unwrap()]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let late = read_json(&json)["shard"]["late_by_s"].as_f64().unwrap();
    assert!((5.0..30.0).contains(&late), "{late}");
    assert!(text.contains("shard 0/1 started ") && text.contains(" s late (after --start-at "), "{text}");
}

#[test]
fn a_signal_while_waiting_for_the_start_time_still_deletes_every_user() {
    let server = serve().admin_password(PASSWORD).start();
    let at = (SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 60).to_string();
    let mut load =
        shard_command(&server.url, &["--users", "4", "--run-time", "1s", "--shard", "1/2", "--start-at", &at]);
    let mut load = Guard::spawn(load.stdout(Stdio::piped()).stderr(Stdio::piped()));
    let names = || admin::user_names(&server.url, "mfa-harness", "admin", PASSWORD);
    let deadline = Instant::now() + Duration::from_secs(20);
    while names().len() < 3 {
        assert!(Instant::now() < deadline, "the shard never provisioned its 2 users");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(names().iter().filter(|n| *n != "admin").all(|n| n.contains("-s1-")), "{:?}", names());
    load.signal("TERM");
    let status = load.wait_within(Duration::from_secs(15), "load after SIGTERM during --start-at");
    let stderr = load.read_stderr();
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert_eq!(names(), ["admin"], "{stderr}");
}
