//! The built binary behind gateways that throttle (429 IAM.0012, `Retry-After`) or fail
//! transiently (503): the harness's own requests are retried with bounded backoff, a case
//! whose measured request is throttled is an error "throttled by the target" (exit 3, advice
//! --rate-limit) and never a credential problem, and --rate-limit paces a whole run.

use crate::common::admin::harness_users;
use crate::common::hostile::{Gateway, Throttle, throttling};
use crate::common::process::{Server, run, serve};
use std::process::Output;
use std::time::{Duration, Instant};

const PASSWORD: &str = "Throttle-pw-3";

fn server() -> Server {
    serve().admin_password(PASSWORD).start()
}

fn check(url: &str, extra: &[&str]) -> Output {
    let creds = ["--target", url, "--domain", "mfa-harness", "--admin-name", "admin", "--admin-password", PASSWORD];
    run(&[&["check"][..], &creds, extra].concat())
}

fn texts(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Each case's id and status, from a JSON report.
fn verdicts(out: &Output) -> Vec<(String, String)> {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let cases = report["cases"].as_array().expect("cases");
    cases.iter().map(|c| (c["id"].as_str().unwrap().to_string(), c["status"].to_string())).collect()
}

/// Nothing a throttled run prints hints at the credentials.
fn assert_no_credential_hint(text: &str) {
    for hint in ["credential", "--admin-password", "--admin-name", "--domain", "put a fresh token"] {
        assert!(!text.contains(hint), "a credential hint ({hint}) for throttling: {text}");
    }
}

/// Every 7th token request of the harness's own answered 429 (`Retry-After: 0`), or every 5th
/// 503: retried, the run passes with the verdict of a run without the gateway.
#[test]
fn check_passes_through_a_gateway_that_throttles_every_nth_token_request() {
    let server = server();
    let direct = check(&server.url, &["--format", "json", "--seed", "7"]);
    assert_eq!(direct.status.code(), Some(0), "{}", texts(&direct).1);
    for (n, status) in [(7, 429), (5, 503)] {
        let gateway = throttling(&server.url, Throttle::EveryNthToken { n, status });
        let out = check(&gateway.url, &["--format", "json", "--seed", "7"]);
        let (_, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "every {n}th token request {status}: {stderr}");
        assert!(gateway.refused() >= 2, "the gateway refused {} token requests", gateway.refused());
        assert_eq!(verdicts(&out), verdicts(&direct), "every {n}th token request {status}");
        assert!(harness_users(&server.url, "mfa-harness", "admin", PASSWORD).is_empty());
    }
}

/// An MFA operation always throttled: the cases that measure it (and the setups that need it,
/// once their retries are spent) are errors "throttled by the target", exit 3, with the
/// advice, and nothing about credentials; no user is left.
#[test]
fn a_gateway_that_always_throttles_an_mfa_operation_exits_3_naming_the_throttling() {
    let server = server();
    let throttle = Throttle::Always { method: "POST", path: "/v3.0/OS-MFA/virtual-mfa-devices", retry_after: 0 };
    let gateway = throttling(&server.url, throttle);
    let out = check(&gateway.url, &["--only", "create.*"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("throttled by the target (429 Too Many Requests, IAM.0012)"), "{stdout}");
    assert!(stdout.contains("lower the request rate with --rate-limit N/s"), "{stdout}");
    assert!(!stdout.contains("FAIL "), "throttling is no contract violation: {stdout}");
    assert!(stderr.contains("the target throttled them; lower the request rate with --rate-limit N/s"), "{stderr}");
    assert_no_credential_hint(&stdout);
    assert_no_credential_hint(&stderr);
    assert!(harness_users(&server.url, "mfa-harness", "admin", PASSWORD).is_empty());
}

/// Token requests always throttled (`Retry-After: 1`): the admin token is given up on after
/// the bounded retries (6 attempts, about 5 s of waiting), exit 3 naming the throttling.
#[test]
fn retries_of_an_always_throttled_token_request_are_bounded() {
    let server = server();
    let gateway = throttling(&server.url, Throttle::Always { method: "POST", path: "/v3/auth/tokens", retry_after: 1 });
    let started = Instant::now();
    let out = check(&gateway.url, &[]);
    let elapsed = started.elapsed();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert_eq!(gateway.refused(), 6, "six attempts");
    assert!(elapsed >= Duration::from_secs(5), "Retry-After was honoured: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(30), "bounded: {elapsed:?}");
    assert!(stderr.contains("could not obtain a token for 'admin'"), "{stderr}");
    assert!(stderr.contains("was throttled by the target (429 Too Many Requests, IAM.0012) at each of 6 attempt(s)"));
    assert!(stderr.contains("--rate-limit"), "{stderr}");
    assert_no_credential_hint(&stderr);
}

/// User creation answered 503 twice, then passed through: provisioning retries, the cases
/// pass, and every user (the refused attempts created none) is deleted.
#[test]
fn provisioning_through_a_gateway_that_503s_twice_then_succeeds() {
    let server = server();
    let gateway = throttling(&server.url, Throttle::First { method: "POST", path: "/v3.0/OS-USER/users", n: 2 });
    let out = check(&gateway.url, &["--only", "create.success", "--concurrency", "1"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(gateway.refused(), 2);
    assert!(harness_users(&server.url, "mfa-harness", "admin", PASSWORD).is_empty());
}

/// A case's setup step (bind.success's device create) answered 503 by a gateway, then passed
/// through: the setup is not what the case measures, so it is sent again and the case passes
/// (it used to be "could not be carried out", exit 3). The measured step is never retried:
/// the bind answered 503 is the case's answer, a failure (exit 1).
#[test]
fn a_setup_step_answered_503_once_is_sent_again() {
    let server = server();
    let gateway =
        throttling(&server.url, Throttle::First { method: "POST", path: "/v3.0/OS-MFA/virtual-mfa-devices", n: 1 });
    let out = check(&gateway.url, &["--only", "bind.success", "--format", "json"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(gateway.refused(), 1);
    assert_eq!(verdicts(&out), [("bind.success".to_string(), "\"passed\"".to_string())]);

    let gateway =
        throttling(&server.url, Throttle::First { method: "PUT", path: "/v3.0/OS-MFA/mfa-devices/bind", n: 1 });
    let out = check(&gateway.url, &["--only", "bind.success", "--format", "json"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "the measured bind is not retried: {stdout}{stderr}");
    assert_eq!(gateway.refused(), 1);
    assert!(stdout.contains("answered 503; the contract allows 204"), "{stdout}");
    assert!(harness_users(&server.url, "mfa-harness", "admin", PASSWORD).is_empty());
}

/// `--rate-limit 50`: the run's requests (provisioning and cleanup included) are 20 ms apart,
/// so it takes at least (requests - 1) / 50 s.
#[test]
fn rate_limit_paces_every_request_of_a_check() {
    let server = server();
    let gateway: Gateway = throttling(&server.url, Throttle::Nothing);
    let started = Instant::now();
    let out = check(&gateway.url, &["--only", "create.*", "--rate-limit", "50/s"]);
    let elapsed = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
    let requests = gateway.requests();
    assert!(requests >= 40, "only {requests} requests");
    let floor = Duration::from_millis(20 * (requests - 1));
    assert!(elapsed >= floor, "{requests} requests in {elapsed:?}, less than {floor:?}");
}

/// `load --rate-limit` is refused, pointing at --rate.
#[test]
fn load_refuses_rate_limit_for_rate() {
    let out = run(&["load", "--rate-limit", "10", "--run-time", "1s"]);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--rate-limit") && stderr.contains("--rate PER_S"), "{stderr}");
}

/// A load run whose queries are always throttled counts them as their own class,
/// `throttled (429 IAM.0012)`, in the text and JSON summaries.
#[test]
fn load_counts_throttled_answers_apart() {
    let server = server();
    let throttle = Throttle::Always { method: "GET", path: "/v3.0/OS-MFA/users/", retry_after: 0 };
    let gateway = throttling(&server.url, throttle);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    let creds = ["--target", &gateway.url, "--domain", "mfa-harness", "--admin-name", "admin"];
    let args = ["load", "--users", "2", "--run-time", "2s", "--json", json.to_str().unwrap()];
    let out = run(&[&args[..], &creds, &["--admin-password", PASSWORD]].concat());
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("throttled (429 IAM.0012)"), "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    crate::common::schema::assert_valid(crate::common::schema::LOAD_SUMMARY, &summary);
    let errors = summary["errors"].as_array().unwrap();
    let throttled = errors.iter().find(|e| e["reason"] == "throttled (429 IAM.0012)").expect("a throttled class");
    assert_eq!(throttled["step"], "query", "{errors:?}");
    assert!(
        !errors.iter().any(|e| e["step"] == "query" && e["reason"].as_str().unwrap().starts_with("status 429")),
        "429s are not lumped with other statuses: {errors:?}"
    );
    assert!(harness_users(&server.url, "mfa-harness", "admin", PASSWORD).is_empty());
}
