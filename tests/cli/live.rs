//! `load`'s reports while it runs: `/metrics` scraped twice mid-run (counters rise, histograms
//! are cumulative), a taken `--metrics-listen` port, and `--progress plain|none` on a non-TTY.
//! scripts/check-metrics.sh reads the same scrapes with PyPI prometheus_client's parsers.

use crate::common::process::{Guard, command, run};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::time::Duration;

/// One plain HTTP/1.1 GET of `/metrics`: (content type, body).
fn scrape(address: &str) -> (String, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let kind = head.lines().find_map(|l| l.strip_prefix("content-type: ")).unwrap_or_default().to_string();
    (kind, body.to_string())
}

/// The value of the sample named `name` whose labels include every one of `labels`, summed.
fn value(body: &str, name: &str, labels: &[&str]) -> f64 {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name) && labels.iter().all(|label| l.contains(label)))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

#[test]
fn metrics_are_served_during_the_run_and_their_counters_rise() {
    let mut child = Guard::spawn(
        command()
            .args(["load", "--users", "3", "--run-time", "5s", "--fault", "query-missing-serial"])
            .args(["--metrics-listen", "127.0.0.1:0", "--progress", "none"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let address = first.split("http://").nth(1).and_then(|r| r.strip_suffix("/metrics\n")).expect(&first).to_string();
    std::thread::sleep(Duration::from_millis(2000));
    let (kind, one) = scrape(&address);
    std::thread::sleep(Duration::from_millis(1500));
    let (_, two) = scrape(&address);
    assert!(kind.starts_with("application/openmetrics-text; version=1.0.0"), "{kind}");
    assert!(one.ends_with("# EOF\n") && two.ends_with("# EOF\n"), "{two}");
    let created = |b: &str| value(b, "mfa_harness_requests_total", &[r#"step="create""#, r#"status="201""#, "ok"]);
    assert!(0.0 < created(&one) && created(&one) < created(&two), "{one}\n{two}");
    let violations = |b: &str| value(b, "mfa_harness_violations_total", &[r#"step="query""#]);
    assert!(0.0 < violations(&one) && violations(&one) < violations(&two), "{two}");
    let flows = |b: &str| value(b, "mfa_harness_flows_total", &[r#"outcome="failed""#]);
    assert!(0.0 < flows(&one) && flows(&one) < flows(&two), "{two}");
    assert_eq!(value(&two, "mfa_harness_users", &[]), 3.0, "{two}");
    let buckets: Vec<f64> = two
        .lines()
        .filter(|l| l.starts_with("mfa_harness_request_duration_seconds_bucket") && l.contains(r#"step="bind""#))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(buckets.len(), 15, "14 bounds and +Inf: {two}");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "cumulative: {buckets:?}");
    let count = value(&two, "mfa_harness_request_duration_seconds_count", &[r#"step="bind""#]);
    assert_eq!(buckets[14], count);
    let status = child.wait_within(Duration::from_secs(60), "load with metrics");
    assert_eq!(status.code(), Some(1), "the fault fails the run");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(!rest.contains("progress:"), "--progress none prints no progress: {rest}");
}

#[test]
fn a_metrics_address_already_taken_is_a_usage_error_before_any_user_is_made() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let out = run(&["load", "--run-time", "1s", "--metrics-listen", &address]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--metrics-listen") && stderr.contains(&address), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn plain_progress_prints_a_line_every_interval_on_a_non_tty() {
    // stderr is a pipe here: `auto` means plain, and plain lines are whole lines, no escapes.
    let out = run(&["load", "--users", "2", "--run-time", "3s", "--progress-interval", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<_> = stderr.lines().filter(|l| l.starts_with("progress: ")).collect();
    assert!(lines.len() >= 2, "{stderr}");
    assert!(lines.iter().all(|l| l.contains("flows") && l.contains("requests")), "{stderr}");
    assert!(!stderr.contains('\r') && !stderr.contains('\x1b'), "no terminal control on a pipe: {stderr:?}");
}
