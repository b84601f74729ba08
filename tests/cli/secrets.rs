//! No secret in anything the harness writes: every command, every format and file, against a
//! `serve` whose faults put TOTP seeds into answers where only create may return them. Scanned
//! for the admin password, generated user passwords (`Mh-` and 24 hex digits), tokens (`MII` and
//! hex) and base32 seeds (runs of 26 or more `A–Z2–7`).

use crate::common::hostile::echoing;
use crate::common::process::serve;
use std::path::Path;

const PASSWORD: &str = "Secret-Admin-Pw-7";
/// The secret key of the access key `serve --access-key` accepts.
const SECRET_KEY: &str = "Sk-Never-Printed-4242";

/// What in `text` looks like a secret, with some context.
fn secrets_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    if text.contains(PASSWORD) {
        found.push("the admin password".to_string());
    }
    if text.contains(SECRET_KEY) {
        found.push("the secret key".to_string());
    }
    let bytes = text.as_bytes();
    let hex_run = |from: usize| bytes[from..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
    for (at, _) in text.match_indices("Mh-").filter(|(at, _)| hex_run(at + 3) >= 24) {
        found.push(format!("a generated password at {at}: {}", &text[at..(at + 27).min(text.len())]));
    }
    for (at, _) in text.match_indices("MII").filter(|(at, _)| hex_run(at + 3) >= 40) {
        let from = text[..at].char_indices().rev().nth(60).map_or(0, |(i, _)| i);
        found.push(format!("a token at {at}: …{}", &text[from..(at + 10).min(text.len())]));
    }
    let mut run_start = None;
    for (i, b) in bytes.iter().chain(std::iter::once(&b' ')).enumerate() {
        let base32 = b.is_ascii_uppercase() || (b'2'..=b'7').contains(b);
        match (base32, run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(start)) => {
                if i - start >= 26 && bytes[start..i].iter().any(|b| b.is_ascii_digit()) {
                    found.push(format!("a base32 seed at {start}: {}", &text[start..i]));
                }
                run_start = None;
            }
            _ => {}
        }
    }
    found
}

fn scan_dir(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            scan_dir(&path, found);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            found.extend(secrets_in(&text).into_iter().map(|s| format!("{}: {s}", path.display())));
        }
    }
}

#[test]
fn the_scanner_finds_each_kind_of_secret() {
    assert!(secrets_in("nothing here: iam:abc:mfa/mfa-harness-1 PASSED IAM.0004").is_empty());
    let planted =
        format!("{PASSWORD} Mh-0123456789abcdef01234567 MII{} GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "ab".repeat(24));
    assert_eq!(secrets_in(&planted).len(), 4, "{:?}", secrets_in(&planted));
}

/// Runs every command in every format against `url` and returns what looks like a secret in
/// any output, and how many redacted seeds the outputs show.
fn scan_every_command(url: &str) -> (Vec<String>, usize) {
    scan_every_command_as(url, &["--admin-name", "admin"], &[("MFA_ADMIN_PASSWORD", PASSWORD)])
}

/// The same as the administrator `credentials` (flags, and variables of the environment).
fn scan_every_command_as(url: &str, credentials: &[&str], env: &[(&str, &str)]) -> (Vec<String>, usize) {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let mut target = vec!["--target", url, "--domain", "mfa-harness"];
    target.extend(credentials);
    let runs: Vec<Vec<String>> = vec![
        vec!["check".into()],
        vec![
            "check".into(),
            "--format".into(),
            "json".into(),
            "--explore".into(),
            "100".into(),
            "--explore-waits".into(),
            "0".into(),
        ],
        vec!["check".into(), "--format".into(), "junit".into(), "--output".into(), file("report.xml")],
        vec![
            "check".into(),
            "--format".into(),
            "json".into(),
            "--output".into(),
            file("report.json"),
            "--coverage".into(),
        ],
        vec![
            "load".into(),
            "--run-time".into(),
            "1s".into(),
            "--users".into(),
            "2".into(),
            "--json".into(),
            file("summary.json"),
        ],
        vec![
            "load".into(),
            "--run-time".into(),
            "1s".into(),
            "--client".into(),
            "goose".into(),
            "--report-file".into(),
            file("goose.html"),
        ],
        vec!["snapshot".into(), "--dir".into(), file("snapshots")],
    ];
    let mut found = Vec::new();
    let mut redacted = 0;
    for extra in runs {
        let mut args: Vec<&str> = vec![extra[0].as_str()];
        args.extend(&target);
        args.extend(extra[1..].iter().map(String::as_str));
        let out =
            crate::common::process::command().args(&args).envs(env.iter().copied()).output().expect("the harness runs");
        assert!(matches!(out.status.code(), Some(0..=3)), "{args:?}: {:?}", out.status);
        // The target was reached as the administrator: the run did its job.
        assert!(
            extra[0] != "check" || out.status.code() != Some(3),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            redacted += text.matches("\"base32_string_seed\":\"[redacted]\"").count();
            found.extend(secrets_in(&text).into_iter().map(|s| format!("{} {stream}: {s}", extra[0])));
        }
    }
    scan_dir(dir.path(), &mut found);
    (found, redacted)
}

#[test]
fn no_command_writes_a_secret_in_any_format() {
    let server = serve().admin_password(PASSWORD).faults(&["query-leaks-seed", "list-leaks-seed"]).start();
    let (found, redacted) = scan_every_command(&server.url);
    assert!(redacted > 0, "the faulty target's leaked seeds reached the reports, redacted");
    assert!(found.is_empty(), "secrets written:\n{}", found.join("\n"));
}

/// The same against a target that echoes every request's token and body back in its answers.
#[test]
fn a_target_echoing_every_secret_back_gets_none_into_any_output() {
    // Faults that make cases fail, so that findings show the echoed answers: a leaked seed,
    // and altered, cut and extended tokens served (their echo is almost a real token).
    let server = serve().admin_password(PASSWORD).faults(&["query-leaks-seed", "invalid-token-accepted"]).start();
    let (found, _) = scan_every_command(&echoing(&server.url));
    assert!(found.is_empty(), "secrets written:\n{}", found.join("\n"));
}

/// Signing with an access key: neither a good secret key nor a wrong one reaches any output,
/// also from a target that echoes every request back.
#[test]
fn the_secret_key_reaches_no_output() {
    let keys = format!("AKSCAN:{SECRET_KEY}");
    let server = serve().admin_password(PASSWORD).faults(&["query-leaks-seed"]).args(&["--access-key", &keys]).start();
    let env = [("MFA_SECRET_KEY", SECRET_KEY)];
    for url in [server.url.clone(), echoing(&server.url)] {
        let (found, _) = scan_every_command_as(&url, &["--access-key", "AKSCAN"], &env);
        assert!(found.is_empty(), "secrets written:\n{}", found.join("\n"));
    }
    let wrong = format!("{SECRET_KEY}-wrong");
    for env in [[("MFA_SECRET_KEY", wrong.as_str())], [("MFA_SECRET_KEY", SECRET_KEY)]] {
        let out = crate::common::process::command()
            .args(["check", "--target", &server.url, "--domain", "mfa-harness", "--access-key", "AKSCAN", "--bogus"])
            .envs(env)
            .output()
            .unwrap();
        assert!(secrets_in(&String::from_utf8_lossy(&out.stderr)).is_empty());
    }
    let out = crate::common::process::command()
        .args(["check", "--target", &server.url, "--domain", "mfa-harness", "--access-key", "AKSCAN"])
        .env("MFA_SECRET_KEY", &wrong)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(!stderr.contains(&wrong) && !stderr.contains(SECRET_KEY), "{stderr}");
}
