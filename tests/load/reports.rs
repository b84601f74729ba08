//! The reports (`--report-file`: our HTML, goose's JSON and Markdown), `--baseline-file`, and flows from `--scenarios DIR`.

use crate::common::process::run;
use std::process::Output;

fn load(args: &[&str]) -> Output {
    run(&[&["load", "--users", "2", "--run-time", "1s"][..], args].concat())
}

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn goose_reports_are_written_by_extension_and_a_baseline_is_compared() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let out = load(&["--flow", "lifecycle", "--report-file", &path("r.html"), "--report-file", &path("r.json")]);
    assert_exit(&out, 0);
    let html = std::fs::read_to_string(path("r.html")).unwrap();
    for step in ["create", "bind", "query", "unbind", "delete"] {
        assert!(html.contains(&format!("data-step=\"{step}\"")), "our HTML report has the {step} requests");
    }
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path("r.json")).unwrap()).unwrap();
    assert!(report.is_object());
    let out = load(&["--flow", "lifecycle", "--baseline-file", &path("r.json"), "--report-file", &path("r.md")]);
    assert_exit(&out, 0);
    assert!(std::fs::read_to_string(path("r.md")).unwrap().contains("bind"));
    let out = load(&["--baseline-file", &path("missing.json")]);
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--baseline-file"));
    let out = load(&["--report-file", &path("r.txt")]);
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains(".html (ours), .json or .md"));
}

#[test]
fn scenarios_dir_adds_flows_with_their_default_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("list.toml"),
        "name = \"list-only\"\nthresholds = [\"list.p99<1us\"]\n[[scenario]]\nname = \"list\"\nsteps = [\"list\"]\n",
    )
    .unwrap();
    let scenarios = dir.path().to_str().unwrap();
    let out = load(&["--scenarios", scenarios, "--flow", "list-only"]);
    assert_exit(&out, 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("list.p99<1us") && text.contains("VIOLATED"), "{text}");
    std::fs::write(
        dir.path().join("broken.toml"),
        "name = \"broken\"\nthresholds = [\"bind.p99<1s\"]\n[[scenario]]\nname = \"s\"\nsteps = [\"list\"]\n",
    )
    .unwrap();
    let out = load(&["--scenarios", scenarios, "--flow", "list-only"]);
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not measure 'bind'"));
}
