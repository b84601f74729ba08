//! Who the harness is at a target, besides the admin password: an administrator token
//! (`--admin-token`), an access key whose every administrator request is signed
//! (`--access-key`, `--secret-key`, against `serve --access-key AK:SK`), the signature the
//! reference server refuses, and `--header` through a gateway that wants its key.

use crate::common::admin::harness_users;
use crate::common::hostile::gateway_key;
use crate::common::process::{command, serve};
use mfa_harness::sign::{Keys, sign_url};
use std::time::{Duration, SystemTime};

const PASSWORD: &str = "Auth-Admin-Pw-5";
const AK: &str = "AKAUTHTEST0001";
const SK: &str = "Sk-Auth-Secret-0001";

fn admin_token(url: &str) -> String {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = mfa_harness::client::HttpClient::new(url, Duration::from_secs(5)).unwrap();
        let password = mfa_harness::target::Secret::new(PASSWORD);
        let redactor = mfa_harness::target::Redactor::default();
        let (token, _) =
            mfa_harness::target::password_token(&client, "mfa-harness", "admin", &password, &redactor).await.unwrap();
        token.expose().to_string()
    })
}

fn runs(snapshots: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["check"],
        vec!["load", "--run-time", "1s", "--users", "2", "--flow", "mixed", "--client", "connection"],
        vec!["load", "--run-time", "1s", "--users", "2", "--flow", "mixed", "--client", "goose"],
        vec!["snapshot", "--dir", snapshots],
    ]
}

#[test]
fn an_admin_token_or_an_access_key_runs_every_command() {
    let keys = format!("{AK}:{SK}");
    let server = serve().admin_password(PASSWORD).args(&["--access-key", &keys]).start();
    let token = admin_token(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let snapshots = dir.path().to_str().unwrap().to_string();
    let as_token = [("MFA_ADMIN_TOKEN", token.as_str())];
    let as_keys = [("MFA_ACCESS_KEY", AK), ("MFA_SECRET_KEY", SK)];
    for env in [&as_token[..], &as_keys[..]] {
        for extra in runs(&snapshots) {
            let mut args = vec![extra[0], "--target", &server.url, "--domain", "mfa-harness"];
            args.extend(&extra[1..]);
            let out = command().args(&args).envs(env.iter().copied()).output().unwrap();
            let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert_eq!(out.status.code(), Some(0), "{args:?} {:?}\n{stdout}\n{stderr}", env[0].0);
            assert!(!stdout.contains(SK) && !stderr.contains(SK) && !stdout.contains(&token));
        }
    }
    assert!(harness_users(&server.url, "mfa-harness", "admin", PASSWORD).is_empty(), "no user is left behind");
}

#[test]
fn a_refused_credential_is_exit_3_naming_it_before_any_user_is_made() {
    let keys = format!("{AK}:{SK}");
    let server = serve().admin_password(PASSWORD).args(&["--access-key", &keys]).start();
    let target = ["--target", server.url.as_str(), "--domain", "mfa-harness"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["check", "--access-key", AK, "--secret-key", "wrong-secret"],
            "the signature of access key 'AKAUTHTEST0001'",
        ),
        (vec!["load", "--run-time", "1s", "--access-key", AK, "--secret-key", "wrong-secret"], "signature"),
        (vec!["check", "--access-key", "AKUNKNOWN", "--secret-key", SK], "access key 'AKUNKNOWN'"),
        (vec!["snapshot", "--admin-token", "never-issued-token"], "the administrator's token (--admin-token)"),
    ];
    for (extra, named) in cases {
        let mut args = vec![extra[0]];
        args.extend(target);
        args.extend(&extra[1..]);
        let out = command().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}\n{stderr}");
        assert!(stderr.contains(named) && stderr.contains("refused"), "{args:?}\n{stderr}");
        assert!(
            !stderr.contains("wrong-secret") && !stderr.contains(SK) && !stderr.contains("never-issued"),
            "{stderr}"
        );
    }
    assert!(harness_users(&server.url, "mfa-harness", "admin", PASSWORD).is_empty());
    // Without --domain, or with two credentials: exit 2, nothing sent.
    for extra in [vec!["--admin-token", "t"], vec!["--admin-token", "t", "--access-key", AK, "--secret-key", SK]] {
        let mut args = vec!["check", "--target", server.url.as_str()];
        args.extend(&extra);
        if extra.len() > 2 {
            args.extend(["--domain", "mfa-harness"]);
        }
        let out = command().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The reference server recomputes the signature: a good one is the administrator, anything
/// else 401 IAM.0001 in the documented error shape.
#[test]
fn serve_accepts_only_good_fresh_signatures_of_known_keys() {
    let keys = format!("{AK}:{SK}");
    let server = serve().admin_password(PASSWORD).args(&["--access-key", &keys]).start();
    let url = format!("{}/v3/users?a=1&b=x:y/z", server.url);
    let now = SystemTime::now();
    let old = mfa_harness::sign::format_date(now - Duration::from_secs(16 * 60));
    let signed = |keys: &Keys, headers: &[(String, String)]| sign_url(keys, "GET", &url, headers, b"", now).unwrap();
    let good = signed(&Keys::new(AK, SK), &[]);
    let cases = [
        ("good", good.clone(), 200),
        ("wrong secret", signed(&Keys::new(AK, "other"), &[]), 401),
        ("unknown key", signed(&Keys::new("AKOTHER", SK), &[]), 401),
        ("16 minutes old", signed(&Keys::new(AK, SK), &[("X-Sdk-Date".into(), old.clone())]), 401),
    ];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (what, signed, status) in cases {
        let (answer, body) = runtime.block_on(async {
            let mut request = reqwest::Client::new().get(&url).header("Authorization", &signed.authorization);
            let date = signed.added.iter().find(|(n, _)| n == "X-Sdk-Date").map_or(old.clone(), |(_, v)| v.clone());
            request = request.header("X-Sdk-Date", date);
            let answer = request.send().await.unwrap();
            (answer.status().as_u16(), answer.text().await.unwrap())
        });
        assert_eq!(answer, status, "{what}: {body}");
        if status == 401 {
            let body: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["error_code"], "IAM.0001", "{what}");
        }
    }
    // The same good signature on another query, or without its date: refused.
    let answer = runtime.block_on(async {
        let tampered = url.replace("a=1", "a=2");
        let date = good.added.iter().find(|(n, _)| n == "X-Sdk-Date").unwrap().1.clone();
        let other = reqwest::Client::new().get(&tampered).header("Authorization", &good.authorization);
        let undated = reqwest::Client::new().get(&url).header("Authorization", &good.authorization);
        (
            other.header("X-Sdk-Date", date).send().await.unwrap().status().as_u16(),
            undated.send().await.unwrap().status().as_u16(),
        )
    });
    assert_eq!(answer, (401, 401));
}

/// `mfa-harness sign` prints headers curl can send as they are.
#[test]
fn sign_prints_headers_the_server_accepts() {
    let keys = format!("{AK}:{SK}");
    let server = serve().admin_password(PASSWORD).args(&["--access-key", &keys]).start();
    let url = format!("{}/v3.0/OS-MFA/virtual-mfa-devices", server.url);
    let out = command().args(["sign", "--url", &url, "--access-key", AK]).env("MFA_SECRET_KEY", SK).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        stdout.starts_with("X-Sdk-Date: ") && stdout.contains("\nAuthorization: SDK-HMAC-SHA256 Access="),
        "{stdout}"
    );
    assert!(!stdout.contains(SK));
    let status = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut request = reqwest::Client::new().get(&url);
        for line in stdout.lines() {
            let (name, value) = line.split_once(": ").unwrap();
            request = request.header(name, value);
        }
        request.send().await.unwrap().status().as_u16()
    });
    assert_eq!(status, 200, "the administrator lists the devices");
    let bad = command()
        .args(["sign", "--url", &url, "--access-key", AK, "--secret-key", SK, "--date", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// Every request of every command, both load clients included, carries `--header`: a gateway
/// that refuses requests without its key lets them all through, and nothing without it.
#[test]
fn header_reaches_every_request_of_every_command() {
    let server = serve().admin_password(PASSWORD).start();
    let gateway = gateway_key(&server.url, "x-gateway-key", "k");
    let dir = tempfile::tempdir().unwrap();
    let snapshots = dir.path().to_str().unwrap().to_string();
    for with_key in [true, false] {
        for extra in runs(&snapshots) {
            let mut args = vec![extra[0], "--target", &gateway, "--domain", "mfa-harness", "--admin-name", "admin"];
            if with_key {
                args.extend(["--header", "X-Gateway-Key: k"]);
            }
            args.extend(&extra[1..]);
            let out = command().args(&args).env("MFA_ADMIN_PASSWORD", PASSWORD).output().unwrap();
            let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            if with_key {
                // Any request without the header would be refused: a finding, a violation (exit 1).
                assert_eq!(out.status.code(), Some(0), "{args:?}\n{stdout}\n{stderr}");
            } else {
                assert_eq!(out.status.code(), Some(3), "{args:?}\n{stdout}\n{stderr}");
                assert!(stderr.contains("403"), "{args:?}: {stderr}");
            }
        }
    }
    assert!(harness_users(&server.url, "mfa-harness", "admin", PASSWORD).is_empty());
}
