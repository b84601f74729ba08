//! The built binary's `serve` and `totp`: output, exit codes, secrets, shutdown.

use crate::common::process::{Server, run, serve};

/// Starts `serve` on a free port, logging at info with stderr kept for [`Server::stop`].
fn start(args: &[&str]) -> Server {
    serve().log("info").capture_stderr().args(args).start()
}

fn token_request(url: &str, password: &str) -> u16 {
    let body = format!(
        r#"{{"auth":{{"identity":{{"methods":["password"],"password":{{"user":{{"name":"admin","password":"{password}","domain":{{"name":"mfa-harness"}}}}}}}}}}}}"#
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        client.post(format!("{url}/v3/auth/tokens")).body(body).send().await.unwrap().status().as_u16()
    })
}

#[test]
fn serve_prints_its_url_first_serves_and_stops_on_sigterm() {
    let server = start(&["--admin-password", "Given-pass1"]);
    let url = server.url.clone();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"), "{url}");
    assert_eq!(token_request(&url, "Given-pass1"), 201);
    assert_eq!(token_request(&url, "wrong-Pass1"), 401);
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0));
    assert!(stderr.contains("/v3/auth/tokens") && stderr.contains("201"), "a log line per request: {stderr}");
    assert!(!stderr.contains("Given-pass1"), "a given password is never printed");
    assert!(!stderr.contains("MII"), "tokens are never logged");
}

#[test]
fn a_generated_password_is_printed_once_and_works() {
    let server = start(&[]);
    assert_eq!(token_request(&server.url, "not-it-1A"), 401);
    let (_, stderr) = server.stop();
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("admin password")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let password = lines[0].rsplit(' ').next().unwrap();
    assert!(password.len() >= 12, "{password}");
    let server = start(&["--admin-password", password]);
    assert_eq!(token_request(&server.url, password), 201);
    drop(server);
}

#[test]
fn list_faults_and_bad_faults() {
    let out = run(&["serve", "--list-faults"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for fault in mfa_harness::reference::faults::Fault::ALL {
        assert!(text.contains(fault.name()) && text.contains(fault.description()), "{fault}");
    }
    let out = run(&["serve", "--fault", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--list-faults"));
}

#[test]
fn a_busy_address_is_a_usage_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(&["serve", "--listen", &addr, "--admin-password", "X-pass-12"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not listen"));
}

#[test]
fn totp_prints_rfc6238_codes_and_rejects_bad_seeds() {
    let seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let out = run(&["totp", "--seed", seed, "--at", "59", "--only", "code"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "287082");
    let out = run(&["totp", "--seed", seed, "--at", "1111111111", "--only", "bind"]);
    let codes: Vec<String> = String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect();
    assert_eq!(codes, vec!["081804".to_string(), "050471".to_string()], "steps t−1 and t");
    let out = run(&["totp", "--seed", seed, "--at", "59"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("code: 287082") && text.contains("bind: "), "{text}");
    let out = run(&["totp", "--seed", "not base32!"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not base32"));
}

#[test]
fn list_readings_and_serving_with_a_reading() {
    let out = run(&["serve", "--list-readings"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for reading in mfa_harness::reference::readings::Reading::ALL {
        assert!(text.contains(reading.name()) && text.contains(reading.description()), "{reading}");
    }
    assert!(!text.contains("bind-accepts-any-code"), "readings only, no faults: {text}");
    let out = run(&["serve", "--reading", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--list-readings"));
    for command in ["check", "load", "snapshot"] {
        let out = run(&[command, "--reading", "nonsense"]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        let out = run(&[command, "--reading", "serial-iam-mfa", "--target", "http://127.0.0.1:9"]);
        assert_eq!(out.status.code(), Some(2), "{command}: --reading is for the embedded server only");
    }

    let server =
        start(&["--admin-password", "Given-pass1", "--reading", "serial-iam-mfa", "--reading", "mfa-login-401"]);
    assert_eq!(token_request(&server.url, "Given-pass1"), 201);
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0));
    for name in ["serial-iam-mfa", "mfa-login-401"] {
        assert!(stderr.lines().any(|l| l.starts_with("reading: ") && l.contains(name)), "{stderr}");
    }
}
