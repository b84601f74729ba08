//! Proxies: `check`, `load` (both clients) and `snapshot`-like runs through `--proxy` (an
//! in-test forward proxy that records what it saw), credentials in the proxy URL, TLS through
//! a `CONNECT` tunnel, and a loopback target never proxied by the environment.

use crate::common::process::{Server, command, output_within, run, serve};
use crate::common::proxy::ForwardProxy;
use crate::common::tls::Pki;
use base64::Engine;
use std::process::Output;

const PASSWORD: &str = "Proxy-pass-7";
const PROXY_SECRET: &str = "Pr0xy-Secret";

fn plain_serve() -> Server {
    serve().admin_password(PASSWORD).start()
}

fn credentials(url: &str) -> Vec<&str> {
    vec!["--target", url, "--domain", "mfa-harness", "--admin-name", "admin", "--admin-password", PASSWORD]
}

fn check(url: &str, extra: &[&str]) -> Output {
    run(&[&["check", "--only", "create.success", "--explore", "0"][..], &credentials(url), extra].concat())
}

fn load(url: &str, client: &str, extra: &[&str]) -> Output {
    load_counted(url, client, extra).0
}

/// A load run and the number of `query` requests its summary counted.
fn load_counted(url: &str, client: &str, extra: &[&str]) -> (Output, u64) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    let args = ["load", "--flow", "query-only", "--users", "2", "--run-time", "1s", "--client", client];
    let out = run(&[&args[..], &["--json", json.to_str().unwrap()], &credentials(url), extra].concat());
    let summary: serde_json::Value =
        std::fs::read_to_string(&json).map(|t| serde_json::from_str(&t).unwrap()).unwrap_or_default();
    let steps = summary["steps"].as_array().cloned().unwrap_or_default();
    let queries = steps.iter().find(|s| s["name"] == "query").and_then(|s| s["count"].as_u64()).unwrap_or(0);
    (out, queries)
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn check_goes_through_the_proxy_with_its_credentials_never_printed() {
    let server = plain_serve();
    let proxy = ForwardProxy::start();
    let out = check(&server.url, &["--proxy", &proxy.url_with("tester", PROXY_SECRET)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lines = proxy.seen.lines();
    let token = format!("POST {}/v3/auth/tokens", server.url);
    assert!(lines.iter().any(|l| l.starts_with(&token)), "absolute-form requests: {lines:?}");
    assert_eq!(proxy.seen.tunnels(), 0, "a plain target needs no tunnel");
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("tester:{PROXY_SECRET}")));
    assert!(proxy.seen.auth().iter().all(|a| a == &basic) && !proxy.seen.auth().is_empty(), "{:?}", proxy.seen.auth());
    assert!(!text(&out).contains(PROXY_SECRET), "the proxy's password is never printed");
}

#[test]
fn load_goes_through_the_proxy_with_either_client() {
    let server = plain_serve();
    for client in ["connection", "goose"] {
        let proxy = ForwardProxy::start();
        let (out, measured) = load_counted(&server.url, client, &["--proxy", &proxy.url_with("u", PROXY_SECRET)]);
        assert_eq!(out.status.code(), Some(0), "{client}: {}", text(&out));
        let seen = proxy.seen.lines().iter().filter(|l| l.ends_with("/virtual-mfa-device")).count() as u64;
        // Each user's first query is made by the flow's set-up, before measuring starts.
        assert!(measured > 0 && seen >= measured, "{client}: measured {measured}, the proxy saw {seen}");
        assert!(!text(&out).contains(PROXY_SECRET));
    }
}

#[test]
fn tls_goes_through_a_connect_tunnel() {
    let pki = Pki::new();
    let tls = pki.serve_args();
    let tls: Vec<&str> = tls.iter().map(String::as_str).collect();
    let server = serve().admin_password(PASSWORD).args(&tls).start();
    let ca = ["--ca-cert", Pki::path(&pki.ca)];
    let proxy = ForwardProxy::start();
    let out = check(&server.url, &[&ca[..], &["--proxy", &proxy.url]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let authority = server.url.trim_start_matches("https://").to_string();
    assert!(proxy.seen.tunnels() > 0 && proxy.seen.lines().iter().all(|l| l == &format!("CONNECT {authority}")));
    for client in ["connection", "goose"] {
        let proxy = ForwardProxy::start();
        let out = load(&server.url, client, &[&ca[..], &["--proxy", &proxy.url_with("u", PROXY_SECRET)]].concat());
        assert_eq!(out.status.code(), Some(0), "{client}: {}", text(&out));
        assert!(proxy.seen.tunnels() >= 2, "{client}: {:?}", proxy.seen.lines());
        assert_eq!(proxy.seen.forwarded(), 0, "{client}: TLS is never sent in the clear to the proxy");
    }
}

/// `HTTP_PROXY` and friends pointing at a live proxy: a loopback target is reached straight,
/// with and without `--no-proxy`; and an unusable proxy variable is a usage error.
#[test]
fn the_environment_never_proxies_a_loopback_target() {
    let server = plain_serve();
    let proxy = ForwardProxy::start();
    for extra in [&[][..], &["--no-proxy"]] {
        for client in ["connection", "goose"] {
            let mut load = command();
            let args = ["load", "--flow", "query-only", "--users", "1", "--run-time", "1s", "--client", client];
            load.args(args).args(credentials(&server.url)).args(extra);
            for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"] {
                load.env(name, &proxy.url);
            }
            let out = output_within(load, std::time::Duration::from_secs(60));
            assert_eq!(out.status.code(), Some(0), "{client} {extra:?}: {}", text(&out));
        }
        let mut check = command();
        check.args(["check", "--only", "create.success", "--explore", "0"]).args(credentials(&server.url)).args(extra);
        check.env("HTTP_PROXY", &proxy.url);
        let out = output_within(check, std::time::Duration::from_secs(60));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    assert_eq!(proxy.seen.count(), 0, "the proxy saw {:?}", proxy.seen.lines());

    let mut bad = command();
    bad.args(["check", "--only", "create.success"]).env("HTTPS_PROXY", "socks5://user:hidden@127.0.0.1:9");
    let out = output_within(bad, std::time::Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("HTTPS_PROXY") && !text(&out).contains("hidden"), "{}", text(&out));
}
