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
}
