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

/// A target that never answers an MFA call (identity calls pass through to `serve`): every
/// case times out, and `snapshot` records no baseline of them: exit 3, naming the first few
/// cases and how many, and no `.snap` file is written. Its users are still deleted.
#[test]
fn snapshot_records_no_baseline_of_cases_that_could_not_be_carried_out() {
    let server = serve().admin_password("Hang-pass-1").start();
    let target = proxy(&server.url, OnMfa::Hang);
    let dir = tempfile::tempdir().unwrap();
    let creds = ["--target", &target, "--domain", "mfa-harness", "--admin-name", "admin"];
    let args = ["snapshot", "--only", "create.*", "--timeout", "500ms", "--dir", dir.path().to_str().unwrap()];
    let out = run(&[&args[..], &creds, &["--admin-password", "Hang-pass-1", "--name", "hung"]].concat());
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stderr.contains("error: no snapshot was recorded or compared: "), "{stderr}");
    assert!(stderr.contains(" case(s) could not be carried out (create."), "{stderr}");
    assert!(stderr.contains(" more); the first, create."), "the first few, then a count: {stderr}");
    assert!(stderr.contains("timed out after 500ms"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let written = std::fs::read_dir(dir.path().join("hung")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(written, 0, "no snapshot file is written");
    let left = crate::common::admin::harness_users(&server.url, "mfa-harness", "admin", "Hang-pass-1");
    assert_eq!(left, Vec::<String>::new());
}

/// A pool file whose tokens the target rejects is exit 3 naming the identity (its user_id,
/// never its token), before any case, not a contract violation (exit 1).
#[test]
fn a_pool_token_the_target_rejects_is_exit_3_naming_the_identity() {
    let server = serve().admin_password("Pool-pass-1").start();
    let (admin_id, admin_token) = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = mfa_harness::client::HttpClient::new(&server.url, Duration::from_secs(5)).unwrap();
        let password = mfa_harness::target::Secret::new("Pool-pass-1");
        let redactor = mfa_harness::target::Redactor::default();
        let (token, body) =
            mfa_harness::target::password_token(&client, "mfa-harness", "admin", &password, &redactor).await.unwrap();
        (body.token.user.id, token.expose().to_string())
    });
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("expired-admin-token-0001", "the administrator (user_id {admin})", "expired-admin-token-0001"),
        (admin_token.as_str(), "user 'pool-b' (user_id u-bbb)", "stale-user-token-0002"),
    ];
    for (n, (admin, named, secret)) in cases.into_iter().enumerate() {
        let file = dir.path().join(format!("pool{n}.toml"));
        let toml = format!(
            "[admin]\nuser_id = \"{admin_id}\"\ntoken = \"{admin}\"\n[[users]]\nuser_id = \"u-aaa\"\n\
             token = \"{admin_token}\"\n[[users]]\nuser_id = \"u-bbb\"\nname = \"pool-b\"\n\
             token = \"stale-user-token-0002\"\n"
        );
        std::fs::write(&file, toml).unwrap();
        for command in [vec!["check"], vec!["load", "--users", "2", "--run-time", "1s"]] {
            let args = ["--target", &server.url, "--pool", file.to_str().unwrap()];
            let out = run(&[&command[..], &args].concat());
            let (stdout, stderr) = texts(&out);
            assert_eq!(out.status.code(), Some(3), "{command:?}: {stdout}{stderr}");
            let named = named.replace("{admin}", &admin_id);
            assert!(stderr.contains(&format!("the target rejects the pool file's token of {named}")), "{stderr}");
            assert!(stderr.contains("answered 401; put a fresh token in the pool file"), "{stderr}");
            for token in [secret, admin_token.as_str()] {
                assert!(!stdout.contains(token) && !stderr.contains(token), "a token was printed: {stderr}");
            }
        }
    }
}

/// A load soak against a flaky target (503s and connections reset mid-answer on the MFA
/// paths): no panic, the errors are counted by reason, every user is deleted.
#[test]
fn load_against_a_flaky_target_counts_its_errors_and_leaves_no_user() {
    let server = serve().admin_password("Flaky-pass-1").start();
    let target = proxy(&server.url, OnMfa::Flaky);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    for client in ["connection", "goose"] {
        let args = ["load", "--users", "8", "--run-time", "3s", "--client", client, "--json", json.to_str().unwrap()];
        let creds = ["--target", &target, "--domain", "mfa-harness", "--admin-name", "admin"];
        let out = run(&[&args[..], &creds, &["--admin-password", "Flaky-pass-1"]].concat());
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{client}: the target broke the contract\n{stdout}{stderr}");
        assert!(!stderr.contains("panicked"), "{client}: {stderr}");
        assert!(stdout.contains("503") && stdout.contains("no answer"), "{client}: 503s and resets counted: {stdout}");
        let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        crate::common::schema::assert_valid(crate::common::schema::LOAD_SUMMARY, &summary);
        assert!(summary["flows_completed"].as_u64().unwrap_or(0) > 0, "{client}: flows still complete: {summary}");
        let left = crate::common::admin::harness_users(&server.url, "mfa-harness", "admin", "Flaky-pass-1");
        assert!(left.is_empty(), "{client}: {left:?}");
    }
}
