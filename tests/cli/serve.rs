//! The built binary's `serve` and `totp`: output, exit codes, secrets, shutdown.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mfa-harness");

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` on a free port; returns the process and the first stdout line.
fn serve(args: &[&str]) -> (Guard, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("MFA_ADMIN_PASSWORD")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (Guard(child), line.trim().to_string())
}

fn stop_and_read_stderr(mut guard: Guard) -> (Option<i32>, String) {
    let pid = guard.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = guard.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    guard.0.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (status.code(), stderr)
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
    let (guard, url) = serve(&["--admin-password", "Given-pass1"]);
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"), "{url}");
    assert_eq!(token_request(&url, "Given-pass1"), 201);
    assert_eq!(token_request(&url, "wrong-Pass1"), 401);
    let (code, stderr) = stop_and_read_stderr(guard);
    assert_eq!(code, Some(0));
    assert!(stderr.contains("/v3/auth/tokens") && stderr.contains("201"), "a log line per request: {stderr}");
    assert!(!stderr.contains("Given-pass1"), "a given password is never printed");
    assert!(!stderr.contains("MII"), "tokens are never logged");
}

#[test]
fn a_generated_password_is_printed_once_and_works() {
    let (guard, url) = serve(&[]);
    assert_eq!(token_request(&url, "not-it-1A"), 401);
    let (_, stderr) = stop_and_read_stderr(guard);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("admin password")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let password = lines[0].rsplit(' ').next().unwrap();
    assert!(password.len() >= 12, "{password}");
    let (guard, url) = serve(&["--admin-password", password]);
    assert_eq!(token_request(&url, password), 201);
    drop(guard);
}

#[test]
fn list_faults_and_bad_faults() {
    let out = Command::new(BIN).args(["serve", "--list-faults"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for fault in mfa_harness::reference::faults::Fault::ALL {
        assert!(text.contains(fault.name()) && text.contains(fault.description()), "{fault}");
    }
    let out = Command::new(BIN).args(["serve", "--fault", "nonsense"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--list-faults"));
}

#[test]
fn a_busy_address_is_a_usage_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(BIN).args(["serve", "--listen", &addr, "--admin-password", "X-pass-12"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not listen"));
}

#[test]
fn totp_prints_rfc6238_codes_and_rejects_bad_seeds() {
    let seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let out = Command::new(BIN).args(["totp", "--seed", seed, "--at", "59", "--only", "code"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "287082");
    let out =
        Command::new(BIN).args(["totp", "--seed", seed, "--at", "1111111111", "--only", "bind"]).output().unwrap();
    let codes: Vec<String> = String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect();
    assert_eq!(codes, vec!["081804".to_string(), "050471".to_string()], "steps t−1 and t");
    let out = Command::new(BIN).args(["totp", "--seed", seed, "--at", "59"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("code: 287082") && text.contains("bind: "), "{text}");
    let out = Command::new(BIN).args(["totp", "--seed", "not base32!"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not base32"));
}
