//! A target behind an API gateway's path prefix (`http://gw/iam` → `/iam/v3.0/…`): every
//! command and both load clients keep the prefix on every request (the gateway answers 404
//! outside it), and no user is left behind.

use crate::common::admin::harness_users;
use crate::common::hostile::prefixed;
use crate::common::process::{command, serve};

const PASSWORD: &str = "Prefix-Pw-3";

#[test]
fn every_command_and_both_load_clients_keep_the_base_urls_path_prefix() {
    let server = serve().domain("acme").admin_name("root").admin_password(PASSWORD).start();
    let gateway = prefixed(&server.url, "/iam");
    let dir = tempfile::tempdir().unwrap();
    let snapshots = dir.path().to_str().unwrap().to_string();
    let runs: Vec<Vec<&str>> = vec![
        vec!["check"],
        vec!["load", "--run-time", "1s", "--users", "2", "--client", "connection"],
        vec!["load", "--run-time", "1s", "--users", "2", "--client", "goose"],
        vec!["snapshot", "--dir", &snapshots],
    ];
    for extra in runs {
        let mut args = vec![extra[0], "--target", &gateway, "--domain", "acme", "--admin-name", "root"];
        args.extend(&extra[1..]);
        let out = command().args(&args).env("MFA_ADMIN_PASSWORD", PASSWORD).output().expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        assert!(!stdout.contains("404 (expected"), "{args:?}: the prefix was dropped: {stdout}");
    }
    assert!(harness_users(&server.url, "acme", "root", PASSWORD).is_empty(), "no user is left behind");
}
