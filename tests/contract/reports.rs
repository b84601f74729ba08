//! The JSON report validates against its published schema; the JUnit report is well-formed
//! XML whose counts match the run, with contract failures and harness errors kept apart.

use crate::common::config::Check;
use crate::common::{render, schema};
use mfa_harness::contract::report::{CaseStatus, Report};
use mfa_harness::reference::faults::Fault;

async fn report_with(faults: &[Fault], only: &[&str]) -> Report {
    Check::embedded(faults).only(only).concurrency(4).report().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_report_with_findings_matches_its_schema() {
    let report = report_with(&[Fault::QueryMissingSerial, Fault::ListAllowsNonAdmin], &[]).await;
    assert!(report.summary.failed >= 2, "{:?}", report.summary);
    schema::assert_valid(schema::CHECK_REPORT, &render::check_json(&report));
    let query = report.cases.iter().find(|c| c.id == "query.success").unwrap();
    let finding = query.findings.iter().find(|f| f.check == "equals").expect("the missing serial is a finding");
    assert!(finding.message.contains("/virtual_mfa_device/serial_number"), "{}", finding.message);
    assert_eq!(finding.request.as_ref().unwrap().token, "[redacted]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_never_contain_a_token_or_seed() {
    let report = report_with(&[Fault::QueryLeaksSeed], &["query."]).await;
    let json = render::check_json(&report).to_string();
    let rendered = render::check_text(&report);
    for output in [&json, &rendered] {
        assert!(!output.contains("MII"), "a token reached the report");
        assert!(output.contains("[redacted]"), "the leaked seed is shown redacted");
    }
    let leak = report.cases.iter().flat_map(|c| &c.findings).find(|f| f.check == "seed-leak").expect("leak found");
    let body = &leak.response.as_ref().unwrap().body;
    assert!(body.contains("\"base32_string_seed\":\"[redacted]\""), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_counts_failures_and_errors_apart() {
    let report = report_with(&[Fault::CreateOmitsSeed], &["bind.success", "list.", "create.success"]).await;
    let errors = report.cases.iter().filter(|c| c.status == CaseStatus::Error).count();
    let failures = report.cases.iter().filter(|c| c.status == CaseStatus::Failed).count();
    assert!(errors >= 1, "bind.success cannot run without a seed: {:?}", report.summary);
    let xml = render::check_junit(&report);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).unwrap();
    let count = |attr: &str| suite.attribute(attr).unwrap().parse::<usize>().unwrap();
    assert_eq!(count("tests"), report.summary.total);
    assert_eq!(count("errors"), errors);
    assert_eq!(count("failures"), failures);
    let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), report.summary.total);
    let bind = cases.iter().find(|n| n.attribute("name") == Some("bind.success")).unwrap();
    assert!(bind.children().any(|c| c.has_tag_name("error")), "a setup failure is an <error>");
    // Each testcase names the scenario file and line it is written at: that line of the
    // repository's file holds its id (or, for a generated case, its matrix row).
    for case in &cases {
        let name = case.attribute("name").unwrap();
        let (Some(file), Some(line)) = (case.attribute("file"), case.attribute("line")) else {
            panic!("{name} has no file and line");
        };
        let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
        let row = text.lines().nth(line.parse::<usize>().unwrap() - 1).unwrap();
        let last = name.rsplit('.').next().unwrap();
        assert!(
            row.contains(&format!("\"{name}\"")) || row.contains(&format!("\"{last}\"")),
            "{name}: {file}:{line} is {row}"
        );
    }
}

/// The HTML page, read by an HTML5 parser (scraper): self-contained (no script, no link, no
/// external source), the verdict first, failures before warnings before passes, every finding
/// of every case with its check, severity and message, and a CSS filter per endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_report_is_self_contained_and_holds_every_finding() {
    let report = report_with(&[Fault::QueryMissingSerial, Fault::JsonContentTypeMissing], &["query.", "list."]).await;
    assert!(report.summary.failed >= 1 && report.summary.warned >= 1, "{:?}", report.summary);
    let html = render::check_html(&report);
    let page = scraper::Html::parse_document(&html);
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    assert!(page.errors.is_empty(), "{:?}", page.errors);
    assert_eq!(page.select(&select("script, link, img, iframe, object")).count(), 0, "no external asset");
    let loading: Vec<_> = page.select(&select("[src], [href]")).map(|e| format!("{:?}", e.value())).collect();
    assert!(loading.is_empty(), "elements load something: {loading:?}");
    let h1: String = page.select(&select("header h1")).next().unwrap().text().collect();
    assert!(h1.starts_with("FAILED"), "{h1}");
    let sections: Vec<String> = page.select(&select("main h2")).map(|h| h.text().collect()).collect();
    let at = |name: &str| {
        sections.iter().position(|s| s.starts_with(name)).unwrap_or_else(|| panic!("{name}: {sections:?}"))
    };
    assert!(at("Failures") < at("Warnings") && at("Warnings") < at("Coverage matrix"), "{sections:?}");
    let text: String = page.root_element().text().collect();
    for case in &report.cases {
        let selector = select(&format!("details#case-{}", case.id.replace(|c: char| !c.is_ascii_alphanumeric(), "-")));
        let shown = page.select(&selector).next().unwrap_or_else(|| panic!("{} missing", case.id));
        let findings: Vec<String> = shown.select(&select(".finding")).map(|f| f.text().collect()).collect();
        assert_eq!(findings.len(), case.findings.len(), "{}", case.id);
        for (shown, finding) in findings.iter().zip(&case.findings) {
            assert!(shown.contains(&finding.message) && shown.contains(&finding.check), "{shown}");
        }
    }
    assert!(text.contains("keyword") || report.cases.iter().all(|c| c.findings.iter().all(|f| f.schema.is_none())));
    for endpoint in ["query", "list"] {
        assert_eq!(page.select(&select(&format!("input#op-{endpoint}"))).count(), 1, "{endpoint} filter");
        assert!(html.contains(&format!("#op-{endpoint}:checked~main details.case:not(.op-{endpoint})")));
    }
}
