//! The built binary against hostile targets: redirects are never followed (the admin password
//! goes nowhere else), and bodies are read up to `--max-body` only, with memory staying flat.

use crate::common::hostile::{Elsewhere, OnMfa, endless, peak_rss_kb, proxy, redirecting};
use crate::common::process::{Guard, command, run, serve};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "SECRETPW";

/// `check`, a short `load` and `snapshot` (into a temporary folder) against `target` with
/// admin credentials, each with `extra` flags.
fn each_command(target: &str, password: &str, extra: &[&str]) -> Vec<(&'static str, Output)> {
    let dir = tempfile::tempdir().unwrap();
    let creds = ["--target", target, "--domain", "mfa-harness", "--admin-name", "admin", "--admin-password", password];
    let commands: [(&str, Vec<&str>); 3] = [
        ("check", vec!["check"]),
        ("load", vec!["load", "--users", "1", "--run-time", "1s"]),
        ("snapshot", vec!["snapshot", "--dir", dir.path().to_str().unwrap()]),
    ];
    commands.into_iter().map(|(name, args)| (name, run(&[&args[..], &creds, extra].concat()))).collect()
}

fn texts(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A target that redirects the token request elsewhere: every command exits 3, says what the
/// target answered and where to, and nothing ever connects to the redirect's target.
#[test]
fn a_redirected_token_request_exits_3_and_the_password_goes_nowhere_else() {
    let elsewhere = Elsewhere::new();
    let target = redirecting(&elsewhere.url());
    for (name, out) in each_command(&target, PASSWORD, &[]) {
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(3), "{name}: {stdout}{stderr}");
        let expected = format!("answered 307 Temporary Redirect to {}/v3/auth/tokens", elsewhere.url());
        assert!(stderr.contains(&expected), "{name}: {stderr}");
        assert!(stderr.contains("mfa-harness follows no redirects (the API documents none)"), "{name}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{name}: one line: {stderr}");
        assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD), "{name}: {stdout}{stderr}");
    }
    assert!(!elsewhere.was_connected(), "a redirect was followed");
}

/// A target whose MFA calls redirect: `check` reports the status and the Location of each
/// such answer as a finding, `load` counts them as violations on either client, and neither
/// follows one.
#[test]
fn redirected_mfa_calls_are_findings_and_violations_and_are_not_followed() {
    let server = serve().admin_password("Redirect-pass-1").start();
    let elsewhere = Elsewhere::new();
    let target = proxy(&server.url, OnMfa::Redirect(elsewhere.url()));
    let creds = ["--target", &target, "--domain", "mfa-harness", "--admin-name", "admin"];
    let out =
        run(&[&["check", "--only", "create.success", "--admin-password", "Redirect-pass-1"], &creds[..]].concat());
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let expected = format!("answered 307 Temporary Redirect to {}/v3.0/OS-MFA/virtual-mfa-devices", elsewhere.url());
    assert!(stdout.contains(&expected) && stdout.contains("(never followed)"), "{stdout}");
    assert!(stdout.contains(&format!("Location: {}/v3.0/OS-MFA/", elsewhere.url())), "{stdout}");
    for client in ["connection", "goose"] {
        let args =
            ["load", "--users", "1", "--run-time", "1s", "--client", client, "--admin-password", "Redirect-pass-1"];
        let out = run(&[&args[..], &creds].concat());
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{client}: {stdout}{stderr}");
        assert!(stdout.contains("status 307 (expected 201)"), "{client}: {stdout}");
    }
    assert!(!elsewhere.was_connected(), "a redirect was followed");
}

/// A target whose MFA calls answer endless bodies: `check` reports `body-size` findings and
/// exits 1; `load` counts each such answer as a violation with the reason, on either client.
#[test]
fn endless_mfa_answers_are_body_size_findings_and_load_violations() {
    let server = serve().admin_password("Endless-pass-1").start();
    let target = proxy(&server.url, OnMfa::Endless);
    let creds = ["--target", &target, "--domain", "mfa-harness", "--admin-name", "admin"];
    let mine = ["--admin-password", "Endless-pass-1", "--max-body", "64KiB"];
    let out = run(&[&["check", "--only", "create.success", "--format", "json"], &creds[..], &mine].concat());
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    crate::common::schema::assert_valid(crate::common::schema::CHECK_REPORT, &report);
    let findings = report["cases"][0]["findings"].as_array().unwrap();
    let size = findings.iter().find(|f| f["check"] == "body-size").unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(size["severity"], "must");
    assert!(size["message"].as_str().unwrap().contains("exceeds 65536 bytes"), "{size}");
    assert!(findings.iter().all(|f| f["check"] != "schema"), "a cut body is judged by its size only: {stdout}");
    for client in ["connection", "goose"] {
        let args = ["load", "--users", "1", "--run-time", "1s", "--client", client];
        let out = run(&[&args[..], &creds, &mine].concat());
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{client}: {stdout}{stderr}");
        assert!(stdout.contains("status 201: the body exceeds 65536 bytes (--max-body)"), "{client}: {stdout}");
    }
    // query-only creates and binds its device unmeasured, through the harness's own client.
    let args = ["load", "--users", "1", "--run-time", "1s", "--flow", "query-only"];
    let out = run(&[&args[..], &creds, &mine].concat());
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("create (unmeasured): status 201: the body exceeds 65536 bytes"), "{stdout}");
    assert!(stdout.contains("query: status 200: the body exceeds 65536 bytes"), "{stdout}");
}

/// Every command against a target that answers every request with an endless body: exit 3
/// within seconds, the token answer named as too large, and a flat peak RSS.
#[test]
fn an_endless_body_on_every_path_exits_3_quickly_with_flat_memory() {
    let target = endless();
    let dir = tempfile::tempdir().unwrap();
    let creds = ["--target", &target, "--domain", "d", "--admin-name", "a", "--admin-password", PASSWORD];
    let commands: [Vec<&str>; 3] = [
        vec!["check"],
        vec!["load", "--users", "1", "--run-time", "1s"],
        vec!["snapshot", "--dir", dir.path().to_str().unwrap()],
    ];
    for args in commands {
        let mut child = command();
        child.args(&args).args(creds).args(["--timeout", "5s"]);
        child.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut guard = Guard::spawn(&mut child);
        let (started, mut peak) = (Instant::now(), 0);
        let status = loop {
            if let Some(status) = guard.0.try_wait().unwrap() {
                break status;
            }
            peak = peak.max(peak_rss_kb(guard.pid()).unwrap_or(0));
            assert!(started.elapsed() < Duration::from_secs(20), "{args:?} still runs");
            std::thread::sleep(Duration::from_millis(5));
        };
        let stderr = guard.read_stderr();
        assert_eq!(status.code(), Some(3), "{args:?}: {stderr}");
        let expected = "the target's answer to POST /v3/auth/tokens?nocatalog=true exceeds 1048576 bytes";
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains(PASSWORD), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(10), "{args:?} took {:?}", started.elapsed());
        assert!(peak > 0 && peak < 64 * 1024, "{args:?}: peak RSS {peak} kB");
    }
}

/// `--max-body` takes sizes with units and refuses 0 with exit 2.
#[test]
fn max_body_refuses_zero_and_nonsense_with_exit_2() {
    for value in ["0", "0KiB", "lots", "-1"] {
        let out = run(&["check", &format!("--max-body={value}")]);
        let (_, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(2), "{value}: {stderr}");
        assert!(stderr.contains("--max-body"), "{value}: {stderr}");
    }
    let out = run(&["check", "--only", "create.success", "--max-body", "64KiB"]);
    assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
}
