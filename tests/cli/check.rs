//! The built binary's `check`: exit codes, report files, and a run against a separately
//! started `serve` that leaves no users behind.

use crate::common::admin::user_names;
use crate::common::process::{Server, run, serve};

const PASSWORD: &str = "Check-Pw-9";

fn serve_with(faults: &[&str]) -> Server {
    serve().domain("acme").admin_name("root").admin_password(PASSWORD).faults(faults).start()
}

fn remote<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args =
        vec!["check", "--target", url, "--domain", "acme", "--admin-name", "root", "--admin-password", PASSWORD];
    args.extend_from_slice(extra);
    args
}

fn users_left(url: &str) -> Vec<String> {
    user_names(url, "acme", "root", PASSWORD)
}

#[test]
fn check_of_the_embedded_server_passes_with_exit_0() {
    let out = run(&["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("PASSED") && stdout.contains(" 0 failed"), "{stdout}");
}

#[test]
fn check_against_a_separate_serve_passes_and_deletes_its_users() {
    let server = serve_with(&[]);
    let out = run(&remote(&server.url, &["--format", "json"]));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert!(report["summary"]["passed"].as_u64().unwrap() >= 40, "{}", report["summary"]);
    assert_eq!(users_left(&server.url), vec!["root".to_string()]);
}

#[test]
fn a_faulty_target_exits_1_and_names_the_case() {
    let server = serve_with(&["query-missing-serial"]);
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let out = run(&remote(&server.url, &["--format", "junit", "--output", junit.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("FAIL  query.success"), "the text report still goes to the log: {stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("name=\"query.success\"") && xml.contains("<failure"), "{xml}");
    assert_eq!(users_left(&server.url), vec!["root".to_string()]);
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let out = run(&["check", "--target", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--admin-password"), "says what is missing");
    let out = run(&["check", "--only", "no-such-case"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("matches no contract case"));
    let out = run(&["check", "--target", "ftp://x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["check", "--fault", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unreachable_target_exits_3_without_printing_the_password() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let out = run(&remote(&url, &["--timeout", "2s"]));
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("could not reach the target"), "{stderr}");
    assert!(!stderr.contains(PASSWORD) && !String::from_utf8_lossy(&out.stdout).contains(PASSWORD));
}

#[test]
fn only_runs_the_matching_cases() {
    let out = run(&["check", "--only", "list.*", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = report["cases"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(!ids.is_empty() && ids.iter().all(|id| id.starts_with("list.")), "{ids:?}");
}

#[test]
fn scenarios_dir_adds_and_replaces_cases_and_bad_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        r#"
[[case]]
id = "mine.query-after-create-is-not-200"
title = "A device that is created but not bound is not reported as the user's MFA device"
doc = ["iam_08_0013"]
severity = "should"
[[case.step]]
op = "create"
expect = [201]
setup = true
[[case.step]]
op = "query"
expect = [404]

[[case]]
id = "create.success"
title = "Replaced: create answers 200 (deliberately wrong, to prove replacement)"
doc = ["iam_08_0019"]
severity = "must"
[[case.step]]
op = "create"
expect = [200]
"#,
    )
    .unwrap();
    let out = run(&[
        "check",
        "--scenarios",
        dir.path().to_str().unwrap(),
        "--only",
        "mine.",
        "--only",
        "create.success",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let status =
        |id: &str| report["cases"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap()["status"].clone();
    assert_eq!(status("mine.query-after-create-is-not-200"), "passed");
    assert_eq!(status("create.success"), "failed", "the replacement expects 200, the server answers 201");
    assert_eq!(out.status.code(), Some(1));

    std::fs::write(dir.path().join("broken.toml"), "[[case]]\nid = 'x'\n").unwrap();
    let out = run(&["check", "--scenarios", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.toml"));
}

#[test]
fn a_missing_identity_endpoint_in_setup_skips_the_case_instead_of_failing_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("needs-login-protect.toml"),
        r#"
[[case]]
id = "mine.needs-login-protection"
title = "A case whose setup needs an identity endpoint that answers 404"
doc = ["iam_08_0016"]
severity = "must"
[[case.step]]
op = "login-protect-show"
expect = [200]
setup = true
[[case.step]]
op = "query"
expect = [404]
"#,
    )
    .unwrap();
    let out = run(&["check", "--scenarios", dir.path().to_str().unwrap(), "--only", "mine.", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let case = &report["cases"][0];
    assert_eq!(case["status"], "skipped");
    assert!(case["reason"].as_str().unwrap().contains("does not implement login-protect-show"), "{case}");
}

/// `--coverage` prints the matrix after the report: every cell with its severity and cases,
/// and no uncovered `must` cell; `--only` narrows the cases, so cells go uncovered.
#[test]
fn coverage_prints_the_matrix_and_only_narrows_it() {
    let out = run(&["check", "--coverage"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let summary = stdout.lines().find(|l| l.starts_with("coverage: ")).expect("a coverage line");
    assert!(summary.contains("not covered: 0 must"), "{summary}");
    assert!(stdout.contains("  caller  query × altered-token"), "{stdout}");
    assert!(stdout.contains("  input   bind × authentication-code-first:five-digits"), "{stdout}");
    let out = run(&["check", "--coverage", "--only", "query.*"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout.lines().find(|l| l.starts_with("coverage: ")).expect("a coverage line");
    assert!(!summary.contains("not covered: 0 must"), "query cases alone leave must cells open: {summary}");
    assert!(stdout.contains("NOT COVERED"), "{stdout}");
}

/// Bad values of shared flags are refused before anything runs: a zero timeout, a report file
/// in a directory that does not exist (the run would be lost at its end), too many load users.
#[test]
fn bad_flag_values_exit_2_before_the_run() {
    let out = run(&["check", "--timeout", "0s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("above 0"));
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("report.xml");
    let out = run(&["check", "--format", "junit", "--output", missing.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing ran: {}", String::from_utf8_lossy(&out.stdout));
    let out = run(&["load", "--users", "100001"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 to 100000"));
}

/// A password in the target URL's userinfo is never printed.
#[test]
fn the_userinfo_of_the_target_url_is_never_printed() {
    let server = serve_with(&[]);
    let url = server.url.replace("http://", "http://alice:S3cret-userinfo@");
    let out = run(&remote(&url, &["--only", "query.success"]));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("S3cret-userinfo") && !stderr.contains("S3cret-userinfo"), "{stdout}{stderr}");
    assert!(stdout.contains(&format!("target {}", server.url)), "{stdout}");
}

/// A target that fails the token request itself (500) is not blamed on the credentials.
#[test]
fn a_failing_target_gets_no_credential_hint() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut buf);
            let body = r#"{"error_msg":"boom","error_code":"IAM.0006"}"#;
            let answer = format!(
                "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = std::io::Write::write_all(&mut stream, answer.as_bytes());
        }
    });
    let out = run(&remote(&url, &[]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("answered 500"), "{stderr}");
    assert!(!stderr.contains("check --domain"), "no credential hint for a 500: {stderr}");
}

/// A faulty target that issues a device (and its seed) to a request without a token: the seed
/// in the finding's received body is redacted in every report format.
#[test]
fn a_seed_issued_by_a_faulty_target_is_redacted_in_findings() {
    for format in ["text", "json", "junit"] {
        let out =
            run(&["check", "--fault", "missing-token-accepted", "--only", "create.requires-token", "--format", format]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(stdout.contains("base32_string_seed"), "the finding shows the body: {stdout}");
        for (at, _) in stdout.match_indices("base32_string_seed") {
            let after: String = stdout[at..].chars().skip("base32_string_seed".len()).take(40).collect();
            assert!(after.contains("[redacted]"), "{format}: seed not redacted: …{after}…");
        }
    }
}

#[test]
fn list_positional_url_output_dash_and_only_at_segment_boundaries() {
    let out = run(&["check", "--list", "--only", "bind"]);
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{listed}");
    let success = listed.lines().find(|l| l.starts_with("bind.success ")).expect("bind.success listed");
    // id, severity, doc refs, title.
    assert!(success.contains(" must ") && success.contains("iam_08_0017"), "{success}");
    assert!(!listed.contains("unbind."), "--only bind selects bind.*, not unbind.*: {listed}");
    assert!(!listed.contains("explore"), "{listed}");
    let all = String::from_utf8_lossy(&run(&["check", "--list"]).stdout).to_string();
    assert!(all.lines().count() > 150 && all.contains("explore "), "{}", all.lines().count());
    // The URL without --target; --output - is standard output, not a file named '-'.
    let server = serve_with(&[]);
    let dir = tempfile::tempdir().unwrap();
    let out = crate::common::process::command()
        .current_dir(dir.path())
        .args(["check", &server.url, "--domain", "acme", "--admin-name", "root", "--admin-password", PASSWORD])
        .args(["--only", "create.success", "--format", "json", "--output", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the JSON report on stdout");
    assert_eq!(report["summary"]["passed"], 1);
    assert!(!dir.path().join("-").exists(), "no file named '-'");
}

#[test]
fn a_proxy_in_the_environment_is_not_used_for_a_loopback_target() {
    // A proxy that does not exist: using it would fail every request.
    let out = crate::common::process::command()
        .args(["check", "--only", "create.success", "--explore", "0"])
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

/// Several reports of one run, each in its file, while the text report goes to the log.
#[test]
fn several_reports_from_one_run_and_text_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let reports =
        [format!("junit:{}", path("r.xml")), format!("html:{}", path("r.html")), format!("tap:{}", path("r.tap"))];
    let json = format!("json:{}", path("r.json"));
    let mut args = vec!["check", "--only", "create.", "--explore", "0", "--fault", "query-missing-serial"];
    for report in reports.iter().chain([&json]) {
        args.extend(["--report", report.as_str()]);
    }
    let out = run(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("PASSED"), "the text report on stdout: {stdout}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path("r.json")).unwrap()).unwrap();
    let total = report["summary"]["total"].as_u64().unwrap() as usize;
    let xml = std::fs::read_to_string(path("r.xml")).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), total);
    assert!(std::fs::read_to_string(path("r.html")).unwrap().starts_with("<!DOCTYPE html>"));
    assert!(std::fs::read_to_string(path("r.tap")).unwrap().starts_with(&format!("TAP version 13\n1..{total}\n")));
    let bad = run(&["check", "--report", "pdf:x.pdf"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("'pdf' is not a report format"));
}
