//! The built binary's `check --explore`: the seed in every report, replays from the command
//! line (also against a separate `serve`, leaving no users behind), and bad action texts.

use crate::common::admin::user_names;
use crate::common::process::{run, serve};
use crate::common::schema::{CHECK_REPORT, assert_valid};

#[test]
fn the_seed_is_in_the_text_and_the_json_report_and_explore_0_turns_it_off() {
    let out = run(&["check", "--only", "explore", "--explore", "60", "--explore-waits", "0", "--seed", "5"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("PASS  explore") && stdout.contains("exploration: seed 5 ·"), "{stdout}");
    assert!(stdout.contains("of 1 cases"), "--only explore runs the exploration alone: {stdout}");
    let out = run(&[
        "check",
        "--only",
        "explore",
        "--explore",
        "60",
        "--explore-waits",
        "0",
        "--seed",
        "5",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_valid(CHECK_REPORT, &report);
    assert_eq!(report["exploration"]["seed"], 5);
    assert!(report["exploration"]["actions"].as_u64().unwrap() >= 40, "{}", report["exploration"]);
    // Plain check explores a little, with a seed of its own; --explore 0 does not.
    let plain = String::from_utf8_lossy(&run(&["check"]).stdout).to_string();
    assert!(plain.contains("exploration: seed ") && plain.contains("PASS  explore"), "{plain}");
    let off = String::from_utf8_lossy(&run(&["check", "--explore", "0"]).stdout).to_string();
    assert!(!off.contains("exploration:") && !off.contains("explore "), "{off}");
    // --only patterns that select no exploration leave it out.
    let bind = String::from_utf8_lossy(&run(&["check", "--only", "bind.success"]).stdout).to_string();
    assert!(bind.contains("of 1 cases") && !bind.contains("exploration:"), "{bind}");
}

#[test]
fn a_replay_from_the_command_line_fails_a_faulty_server_and_passes_the_correct_one() {
    let sequence = "u0 create; u0 bind; admin unbind; u0 bind codes=replay";
    let out = run(&["check", "--fault", "bind-accepts-replay", "--strict", "--only", "explore", "--replay", sequence]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("u0 bind codes=replay: answered 204"), "{stdout}");
    assert!(stdout.contains(&format!("--replay '{sequence}'")), "the finding prints its replay command: {stdout}");
    let server = serve().domain("acme").admin_name("root").admin_password("Explore-Pw-1").start();
    let args = [
        "check",
        "--target",
        &server.url,
        "--domain",
        "acme",
        "--admin-name",
        "root",
        "--admin-password",
        "Explore-Pw-1",
        "--strict",
        "--only",
        "explore",
        "--replay",
        sequence,
    ];
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(user_names(&server.url, "acme", "root", "Explore-Pw-1"), vec!["root".to_string()], "no user left");
}

#[test]
fn bad_explore_flags_exit_2_with_a_message() {
    for (args, says) in [
        (vec!["check", "--replay", "u0 fly"], "'fly' is none of"),
        (vec!["check", "--replay", "u0 bind codes=loud"], "no code mode 'loud'"),
        (vec!["check", "--explore", "many"], "many"),
        (vec!["check", "--explore", "5", "--replay", "u0 create"], "cannot be used with"),
        (vec!["check", "--explore-waits", "99"], "99"),
    ] {
        let out = run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(stderr.lines().filter(|l| !l.trim().is_empty()).count() <= 4, "{args:?}: short: {stderr}");
    }
}
