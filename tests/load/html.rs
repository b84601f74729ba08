//! `load --report-file X.html`: our own summary as a self-contained page whose numbers are the
//! JSON summary's, with a data point per second in every chart.

use crate::common::process::run;
use crate::common::schema;
use scraper::{Html, Selector};
use serde_json::Value;

fn select(css: &str) -> Selector {
    Selector::parse(css).unwrap()
}

/// The text of the first `css` inside `element`.
fn cell(element: scraper::ElementRef<'_>, css: &str) -> String {
    element.select(&select(css)).next().unwrap_or_else(|| panic!("no {css}")).text().collect::<String>()
}

#[test]
fn html_report_shows_the_json_summary_per_step_and_per_second_offline() {
    let dir = tempfile::tempdir().unwrap();
    let (html_path, json_path) = (dir.path().join("r.html"), dir.path().join("r.json"));
    let out = run(&[
        "load",
        "--users",
        "4",
        "--run-time",
        "2s",
        "--fault",
        "query-missing-serial",
        "--threshold",
        "bind.p99<10s",
        "--threshold",
        "query.p50<1us",
        "--json",
        json_path.to_str().unwrap(),
        "--report-file",
        html_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    schema::assert_valid(schema::LOAD_SUMMARY, &summary);
    let html = std::fs::read_to_string(&html_path).unwrap();
    let page = Html::parse_document(&html);
    assert!(page.errors.is_empty(), "{:?}", page.errors);
    assert_eq!(page.select(&select("script, link, img, iframe, object, embed")).count(), 0, "no script, no asset");
    let loading: Vec<_> = page.select(&select("[src], [href]")).map(|e| format!("{:?}", e.value())).collect();
    assert!(loading.is_empty(), "elements load something: {loading:?}");
    assert!(
        !html.contains("http://www.") && !html.contains("https://") && !html.contains("url("),
        "no external reference"
    );
    assert!(cell(page.root_element(), "header h1").starts_with("FAILED"));

    // The latency table holds the summary's figures, as the text summary prints them.
    let steps = summary["steps"].as_array().unwrap();
    let rows: Vec<_> = page.select(&select("table.latency tr.step")).collect();
    assert_eq!(rows.len(), steps.len());
    for (row, step) in rows.iter().zip(steps) {
        let name = step["name"].as_str().unwrap();
        assert_eq!(row.value().attr("data-step"), Some(name));
        assert_eq!(cell(*row, "td.count"), step["count"].to_string(), "{name} count");
        assert_eq!(cell(*row, "td.failures"), step["failures"].to_string(), "{name} failures");
        let rps: f64 = cell(*row, "td.rps").parse().unwrap();
        assert!((rps - step["requests_per_second"].as_f64().unwrap()).abs() <= 0.05 + 1e-9, "{name} req/s");
        for stat in ["p50", "p90", "p95", "p99", "max", "mean"] {
            let shown: f64 = cell(*row, &format!("td.{stat}")).parse().unwrap();
            let value = step["latency"][format!("{stat}_ms")].as_f64().unwrap();
            assert!((shown - value).abs() <= 0.0005 + 1e-9, "{name} {stat}: shown {shown}, summary {value}");
        }
        // Each chart of the step has a point for every second with data.
        let seconds = step["series"].as_array().unwrap().len();
        assert!(seconds >= 2, "{name}: a 2-s run has at least two seconds: {seconds}");
        let total: u64 = step["series"].as_array().unwrap().iter().map(|p| p["count"].as_u64().unwrap()).sum();
        assert_eq!(total, step["count"].as_u64().unwrap(), "{name}: the series adds up to the total");
        let section = page.select(&select(&format!("section.step[data-step={name}]"))).next().unwrap();
        let lines: Vec<_> = section.select(&select("svg polyline")).collect();
        assert_eq!(lines.len(), 3, "{name}: p50, p99 and requests/s");
        for line in lines {
            let points = line.value().attr("points").unwrap().split_whitespace().count();
            assert!(points >= seconds, "{name}: {points} points for {seconds} seconds");
        }
    }

    // Errors by reason, with a line over time; thresholds with their verdicts.
    let errors = summary["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["step"] == "query" && !e["per_second"].as_array().unwrap().is_empty()));
    assert_eq!(page.select(&select("table.errors tbody tr")).count(), errors.len());
    let error_lines = page.select(&select("svg[aria-label='errors per second'] polyline")).count();
    assert_eq!(error_lines, errors.iter().filter(|e| !e["per_second"].as_array().unwrap().is_empty()).count());
    let verdicts: Vec<String> =
        page.select(&select("table.thresholds tbody tr")).map(|r| cell(r, "td:last-child")).collect();
    let expected: Vec<&str> = summary["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| if t["passed"].as_bool().unwrap() { "pass" } else { "fail" })
        .collect();
    assert_eq!(verdicts, expected);
    assert!(expected.contains(&"pass") && expected.contains(&"fail"));
}
