//! HTTPS targets: `serve --tls-cert` with a CA, server and client certificates made in the
//! test (rcgen), and `check`, `load` (both clients) and `snapshot` trusting it with
//! `--ca-cert`, refusing it without (exit 3, in words), accepting it with `--insecure` (and a
//! warning), and mutual TLS with `--client-cert`/`--client-key`.

use crate::common::process::{Server, run, serve};
use crate::common::tls::Pki;
use std::process::Output;

const PASSWORD: &str = "Tls-pass-42";

fn https_serve(pki: &Pki, extra: &[&str]) -> Server {
    let tls = pki.serve_args();
    let tls: Vec<&str> = tls.iter().map(String::as_str).collect();
    let server = serve().admin_password(PASSWORD).args(&tls).args(extra).start();
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    server
}

fn credentials(url: &str) -> Vec<&str> {
    vec!["--target", url, "--domain", "mfa-harness", "--admin-name", "admin", "--admin-password", PASSWORD]
}

fn check(url: &str, extra: &[&str]) -> Output {
    run(&[&["check", "--only", "create.success", "--explore", "0"][..], &credentials(url), extra].concat())
}

fn load(url: &str, client: &str, extra: &[&str]) -> (Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    let args = ["load", "--flow", "query-only", "--users", "2", "--run-time", "1s", "--client", client];
    let out = run(&[&args[..], &["--json", json.to_str().unwrap()], &credentials(url), extra].concat());
    let summary = std::fs::read_to_string(&json).map(|t| serde_json::from_str(&t).unwrap()).unwrap_or_default();
    (out, summary)
}

/// How many requests of the `query` step were measured.
fn queries(summary: &serde_json::Value) -> u64 {
    let steps = summary["steps"].as_array().cloned().unwrap_or_default();
    steps.iter().find(|s| s["name"] == "query").and_then(|s| s["count"].as_u64()).unwrap_or(0)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_trusts_a_given_ca_refuses_without_it_and_insecure_warns() {
    let pki = Pki::new();
    let server = https_serve(&pki, &[]);
    let out = run(&[&["check"][..], &credentials(&server.url), &["--ca-cert", Pki::path(&pki.ca)]].concat());
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!text(&out.stderr).contains("WARNING"), "no warning without --insecure");

    let out = check(&server.url, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("TLS: the certificate is not trusted"), "in words: {stderr}");
    assert!(!stderr.contains("Other(") && !stderr.contains(PASSWORD), "{stderr}");

    let out = check(&server.url, &["--ca-cert", Pki::path(&pki.other_ca)]);
    assert_eq!(out.status.code(), Some(3), "another CA does not vouch for it");

    let out = check(&server.url, &["--insecure"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("WARNING: --insecure") && stderr.contains("NOT verified"), "{stderr}");
}

#[test]
fn mutual_tls_needs_the_client_certificate() {
    let pki = Pki::new();
    let server = https_serve(&pki, &["--client-ca", Pki::path(&pki.ca)]);
    let ca = ["--ca-cert", Pki::path(&pki.ca)];
    let identity = ["--client-cert", Pki::path(&pki.client_cert), "--client-key", Pki::path(&pki.client_key)];
    let out = check(&server.url, &[&ca[..], &identity].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let out = check(&server.url, &ca);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("client certificate"), "says what is missing: {stderr}");

    let (out, summary) = load(&server.url, "connection", &[&ca[..], &identity].concat());
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(queries(&summary) > 0, "{summary}");
    assert_eq!(summary["failed_requests"], 0);
}

#[test]
fn load_over_https_keeps_its_own_connection_and_goose_works_too() {
    let pki = Pki::new();
    let server = https_serve(&pki, &[]);
    for client in ["connection", "goose"] {
        let (out, summary) = load(&server.url, client, &["--ca-cert", Pki::path(&pki.ca)]);
        assert_eq!(out.status.code(), Some(0), "{client}: {}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(summary["client"], client, "https no longer falls back to goose");
        assert!(queries(&summary) > 0, "{client}: {summary}");
        assert_eq!(summary["failed_requests"], 0, "{client}");
    }
    let (out, _) = load(&server.url, "connection", &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("TLS: the certificate is not trusted"), "{}", text(&out.stderr));
    let (out, summary) = load(&server.url, "connection", &["--insecure"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("WARNING: --insecure"));
    assert_eq!(summary["failed_requests"], 0);
}

#[test]
fn snapshot_over_https() {
    let pki = Pki::new();
    let server = https_serve(&pki, &[]);
    let dir = tempfile::tempdir().unwrap();
    let snapshot = |extra: &[&str]| {
        let args = ["snapshot", "--name", "tls", "--dir", dir.path().to_str().unwrap()];
        run(&[&args[..], &credentials(&server.url), extra].concat())
    };
    let out = snapshot(&["--ca-cert", Pki::path(&pki.ca)]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(dir.path().join("tls/query.success.snap").exists());
    let out = snapshot(&[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("TLS: the certificate is not trusted"), "{}", text(&out.stderr));
}

#[test]
fn unusable_pem_files_are_usage_errors_naming_the_flag_and_file() {
    let pki = Pki::new();
    let junk = pki.dir.path().join("junk.pem");
    std::fs::write(&junk, "not PEM at all\n").unwrap();
    let missing = pki.dir.path().join("missing.pem");
    let cases: [(&[&str], &str, &std::path::Path); 3] = [
        (&["--ca-cert", Pki::path(&missing)], "--ca-cert", &missing),
        (&["--ca-cert", Pki::path(&junk)], "--ca-cert", &junk),
        (&["--client-cert", Pki::path(&pki.client_cert), "--client-key", Pki::path(&junk)], "--client-key", &junk),
    ];
    for (args, flag, file) in cases {
        let out = check("https://127.0.0.1:9", args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(flag) && stderr.contains(&file.display().to_string()), "{stderr}");
    }
    let out = run(&["serve", "--listen", "127.0.0.1:0", "--tls-cert", Pki::path(&junk), "--tls-key", Pki::path(&junk)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--tls-cert"), "{}", text(&out.stderr));
}
