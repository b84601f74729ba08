//! `--config FILE` against a separate `serve`, and the generated completions and man pages
//! read by the tools that read them (bash, man).

use crate::common::process::{output_within, run, serve};
use std::time::Duration;

const PASSWORD: &str = "Config-Pw-9";

/// A config file carries the target, the identities and check's flags; the command line
/// still wins (`--format text` over the file's `json`).
#[test]
fn a_config_file_replaces_the_flags_and_flags_win() {
    let server = serve().domain("acme").admin_name("root").admin_password(PASSWORD).start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mfa-harness.toml");
    let text = format!(
        "target = \"{}\"\ndomain = \"acme\"\nadmin-name = \"root\"\nadmin_password = \"{PASSWORD}\"\n\
         timeout = \"5s\"\n\n[check]\nformat = \"json\"\nonly = [\"create.success\", \"query.\"]\nexplore = 0\n\n\
         [load]\nusers = 3\n",
        server.url
    );
    std::fs::write(&file, text).unwrap();
    let config = file.to_str().unwrap();

    let out = run(&["check", "--config", config]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the file's format = json");
    let ids: Vec<&str> = report["cases"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"create.success") && ids.iter().any(|i| i.starts_with("query.")), "{ids:?}");
    assert!(ids.iter().all(|i| *i == "create.success" || i.starts_with("query.")), "the file's only: {ids:?}");

    let out = run(&["check", "--config", config, "--format", "text", "--only", "create.success"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("PASSED") && stdout.contains("1 passed"), "the command line's format and only: {stdout}");
}

#[test]
fn a_config_mistake_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[check]\nstirct = true\n").unwrap();
    let out = run(&["check", "--config", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("'stirct' (in [check]) is not a flag of mfa-harness check"), "{stderr}");
}

/// bash loads the completion script and completes a command and a flag with it.
#[test]
fn bash_completes_with_the_generated_script() {
    let out = run(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("mfa-harness.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    // The function `complete` registered, called as bash calls it: command, word, previous word.
    let probe = format!(
        "source {}; f=$(complete -p mfa-harness | sed -E 's/.*-F ([^ ]+).*/\\1/'); \
         COMP_WORDS=(mfa-harness che); COMP_CWORD=1; $f mfa-harness che mfa-harness; echo \"${{COMPREPLY[@]}}\"; \
         COMP_WORDS=(mfa-harness check --rate); COMP_CWORD=2; $f mfa-harness --rate check; echo \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let mut bash = std::process::Command::new("bash");
    bash.args(["-c", &probe]);
    let out = output_within(bash, Duration::from_secs(20));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first().copied(), Some("check"), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(lines.get(1).copied(), Some("--rate-limit"), "{stdout}");
}

/// One page per command, each naming its flags; `man` renders them when it is installed.
#[test]
fn the_man_pages_name_every_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let check = std::fs::read_to_string(dir.path().join("mfa-harness-check.1")).unwrap();
    for flag in ["\\-\\-target", "\\-\\-ca\\-cert", "\\-\\-rate\\-limit", "\\-\\-explore", "\\-\\-config"] {
        assert!(check.contains(flag), "{flag} missing from the check page");
    }
    assert!(dir.path().join("mfa-harness-load.1").exists() && dir.path().join("mfa-harness.1").exists());
    let page = run(&["man"]);
    assert!(String::from_utf8_lossy(&page.stdout).contains(".SH SUBCOMMANDS"));
    if std::process::Command::new("man").arg("--version").output().is_ok() {
        let mut man = command_man(&dir.path().join("mfa-harness-check.1"));
        man.env("MANWIDTH", "100");
        let rendered = output_within(man, Duration::from_secs(20));
        let text = String::from_utf8_lossy(&rendered.stdout);
        assert!(text.contains("mfa-harness-check") && text.contains("--rate-limit"), "{text}");
    }
}

fn command_man(page: &std::path::Path) -> std::process::Command {
    let mut man = std::process::Command::new("man");
    man.arg("-l").arg(page).env("MANPAGER", "cat").env("PAGER", "cat");
    man
}
