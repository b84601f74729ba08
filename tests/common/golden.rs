//! Golden outputs: insta settings that store snapshots in `tests/snapshots/` and replace what
//! varies from run to run (ports, ids, serials, durations, load figures) by fixed
//! placeholders, keeping every column's width so the layout itself stays pinned.
//!
//! The filters that touch a table or a line match its whole shape; when that shape changes
//! they no longer match, the raw figures stay in the output and the snapshot fails, as it
//! should. Use as `golden::settings().bind(|| insta::assert_snapshot!("name", text))`;
//! re-record deliberately with `INSTA_UPDATE=always cargo test --test NAME golden::` and
//! review the diff.

use std::path::Path;

/// The insta settings of every golden test.
pub fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(true);
    settings.set_omit_expression(true);
    for (regex, replacement) in filters() {
        settings.add_filter(&regex, replacement);
    }
    settings
}

/// The filters, applied in this order.
fn filters() -> Vec<(String, String)> {
    let mut filters: Vec<(String, String)> = vec![
        // Everywhere: the port the server listened on.
        (r"127\.0\.0\.1:\d+".into(), "127.0.0.1:[port]".into()),
        // Serials: iam:<domain id>:mfa/<device name with a random suffix>.
        (r"iam:[0-9a-f]{32}:mfa/[A-Za-z0-9_.-]+".into(), "[serial]".into()),
        // User and domain ids.
        (r"\b[0-9a-f]{32}\b".into(), "[id]".into()),
        // check text: a case's duration, `{:>5} ms`, then two spaces and the title.
        (r"[ \d]{5} ms  ".into(), "[dur] ms  ".into()),
        // check text: the run's duration at the end of the summary line.
        (r"(?m) in \d+ ms$".into(), " in [dur] ms".into()),
        // JUnit: durations in seconds and, should one appear, a timestamp.
        (r#"time="[\d.]+""#.into(), r#"time="[s]""#.into()),
        (r#"timestamp="[^"]*""#.into(), r#"timestamp="[timestamp]""#.into()),
        // load text, first line: the measured run time.
        (r" · \d+\.\d s · target ".into(), " · [s] s · target ".into()),
        // load text, second line: flow and request counts and rates.
        (
            r"(?m)^flows: \d+ completed, \d+ failed, \d+\.\d/s · requests: \d+ \(\d+ failed\), \d+\.\d/s · totp-window retries: \d+$".into(),
            "flows: [n] completed, [n] failed, [n]/s · requests: [n] ([n] failed), [n]/s · totp-window retries: [n]".into(),
        ),
        // load text: with --rate, the interval each user was due at.
        (r"each step every \d+\.\d ms".into(), "each step every [ms] ms".into()),
        // load text: a step row, `{:8} {:>9} {:>7} {:>9.1}` and six `{:>9.3}` latencies.
        (
            r"(?m)^  (\S.{7}) [ \d]{9} [ \d]{7} [ \d.]{9} [ \d.]{9} [ \d.]{9} [ \d.]{9} [ \d.]{9} [ \d.]{9}$".into(),
            format!(
                "  $1 {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
                "[count]", "[fail]", "[req/s]", "[p50]", "[p90]", "[p95]", "[p99]", "[max]"
            ),
        ),
        // load text: a count of violations, `  {:6} × step: reason`.
        (r"(?m)^  [ \d]{6} × ".into(), format!("  {:>6} × ", "[n]")),
    ];
    // load text: a threshold's measured value, `measured {:>16}` of "<value> <unit>" (the
    // units have no regex metacharacter).
    for unit in ["ms", "%", "/s", "requests"] {
        filters.push((
            format!(r"measured [ \d.]{{{}}} {unit}  ", 16 - 1 - unit.len()),
            format!("measured {:>16}  ", format!("[value] {unit}")),
        ));
    }
    filters
}
