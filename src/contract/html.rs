//! The HTML report (`check --format html`): one self-contained file (inline CSS, no script, no
//! external asset), readable offline and in CI artifact viewers. The verdict first; then
//! failures, errors, warnings, passes and skips; each finding with its severity, check, doc
//! refs, the redacted request, the answer received, and the schema keyword and pointer; the
//! coverage matrix; the exploration. Filtering by severity and by endpoint is pure CSS (radio
//! buttons and `:checked ~` rules), so it works where scripts are blocked. Markup by `maud`
//! (compile-time templates that escape every value).

use super::report::{CaseResult, CaseStatus, Finding, Report};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::collections::BTreeSet;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{padding:18px 24px;color:#fff}header.passed{background:#1e7d3a}header.failed{background:#b3261e}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0}
main{padding:8px 24px 40px}h2{margin:22px 0 8px;font-size:17px}
.filters{padding:10px 24px;background:#fff;border-bottom:1px solid #d8dce1;display:flex;flex-wrap:wrap;gap:6px 14px}
.filters span{font-weight:600;margin-right:4px}.filters label{cursor:pointer;padding:1px 8px;border-radius:10px;border:1px solid #c4c9cf}
input.f{position:absolute;opacity:0;pointer-events:none}
details.case{background:#fff;border:1px solid #d8dce1;border-left:5px solid #8a939c;border-radius:4px;margin:6px 0;padding:6px 10px}
details.failed{border-left-color:#b3261e}details.error{border-left-color:#a05a00}details.warned{border-left-color:#c9a100}
details.passed{border-left-color:#1e7d3a}summary{cursor:pointer}summary code{font-weight:600}
.sev{display:inline-block;min-width:46px;text-align:center;font-size:12px;border-radius:8px;padding:0 6px;margin:0 6px;background:#e7e9ec}
.sev.must{background:#f4d2cf}.sev.should{background:#f6ebc0}.sev.open{background:#d6e4f5}
.finding{border-top:1px dashed #d8dce1;margin-top:6px;padding-top:6px}
pre{background:#f1f3f5;padding:6px 8px;overflow:auto;white-space:pre-wrap;word-break:break-all;margin:4px 0}
table{border-collapse:collapse;background:#fff;margin:6px 0}td,th{border:1px solid #d8dce1;padding:2px 8px;text-align:left;font-size:13px}
td.none{background:#f4d2cf}td.some{background:#dff0e2}.muted{color:#5f6b76}
"#;

fn status_name(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Passed => "passed",
        CaseStatus::Failed => "failed",
        CaseStatus::Warned => "warned",
        CaseStatus::Error => "error",
        CaseStatus::Skipped => "skipped",
    }
}

/// The endpoint a case is about: the first part of its id (`bind.success` → `bind`).
fn endpoint(case: &CaseResult) -> &str {
    case.id.split('.').next().unwrap_or("other")
}

/// The CSS class of a filter value: letters, digits and dashes only.
fn slug(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}

fn filter_rules(endpoints: &BTreeSet<String>) -> String {
    let mut css = String::new();
    for sev in ["must", "should", "open"] {
        css.push_str(&format!("#sev-{sev}:checked~main details.case:not(.sev-{sev}){{display:none}}"));
        css.push_str(&format!("#sev-{sev}:checked~.filters label[for=sev-{sev}]{{background:#1d232a;color:#fff}}"));
    }
    css.push_str("#sev-all:checked~.filters label[for=sev-all],#op-all:checked~.filters label[for=op-all]{background:#1d232a;color:#fff}");
    for op in endpoints {
        let op = slug(op);
        css.push_str(&format!("#op-{op}:checked~main details.case:not(.op-{op}){{display:none}}"));
        css.push_str(&format!("#op-{op}:checked~.filters label[for=op-{op}]{{background:#1d232a;color:#fff}}"));
    }
    css
}

fn finding(f: &Finding) -> Markup {
    html! {
        div.finding {
            span class={ "sev " (f.severity) } { (f.severity) }
            "step " (f.step) " · " code { (f.operation) } " · " strong { (f.check) } ": " (f.message)
            @if let Some(s) = &f.schema {
                div { "schema " code { (s.schema) } ", keyword " code { (s.keyword) } " at " code { (s.pointer) }
                    " (schema " code { (s.schema_pointer) } ")" }
            }
            @if let Some(r) = &f.request {
                div.muted { "sent (token " (r.token) ")" }
                pre { (r.method) " " (r.path) @if let Some(body) = &r.body { "\n" (body) } }
            }
            @if let Some(r) = &f.response {
                div.muted { "received " (r.status) @if let Some(ct) = &r.content_type { " · " (ct) }
                    @if let Some(l) = &r.location { " · Location: " (l) } }
                pre { (r.body) }
            }
        }
    }
}

fn case(case: &CaseResult) -> Markup {
    let status = status_name(case.status);
    let sevs: BTreeSet<String> = std::iter::once(case.severity.to_string())
        .chain(case.findings.iter().map(|f| f.severity.to_string()))
        .map(|s| format!("sev-{s}"))
        .collect();
    let class = format!("case {status} op-{} {}", slug(endpoint(case)), sevs.into_iter().collect::<Vec<_>>().join(" "));
    html! {
        details class=(class) open[matches!(case.status, CaseStatus::Failed | CaseStatus::Error)] id=(format!("case-{}", slug(&case.id))) {
            summary {
                code { (case.id) } span class={ "sev " (case.severity) } { (case.severity) }
                (case.title) span.muted { " · " (status) " · " (case.duration_ms) " ms · doc " (case.doc.join(", ")) }
            }
            @if let Some(reason) = &case.reason { p { strong { "Why: " } (reason) } }
            @for f in &case.findings { (finding(f)) }
            @for r in &case.readings { div.muted { "reading: " (r) } }
        }
    }
}

fn section(title: &str, cases: &[&CaseResult]) -> Markup {
    html! {
        @if !cases.is_empty() {
            h2 { (title) " (" (cases.len()) ")" }
            @for c in cases { (case(c)) }
        }
    }
}

fn coverage(report: &Report) -> Markup {
    let cov = &report.coverage;
    let axes: BTreeSet<&str> = cov.cells.iter().map(|c| c.cell.axis.as_str()).collect();
    html! {
        @if !cov.cells.is_empty() {
            h2 { "Coverage matrix" }
            p.muted { (cov.covered) " of " (cov.cells.len()) " cells covered; uncovered: " (cov.uncovered_must) " must, "
                (cov.uncovered_should) " should, " (cov.uncovered_open) " open" }
            @for axis in &axes {
                table {
                    tr { th { (axis) } th { "operation" } th { "severity" } th { "cases" } }
                    @for cell in cov.cells.iter().filter(|c| c.cell.axis == *axis) {
                        tr {
                            td { (cell.cell.value) } td { (cell.cell.op) } td { (cell.severity) }
                            td class=(if cell.cases.is_empty() { "none" } else { "some" }) {
                                @if cell.cases.is_empty() { "none" } @else { (cell.cases.len()) ": " (cell.cases.join(", ")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Writes the report as one HTML page.
pub fn render(report: &Report, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let s = &report.summary;
    let verdict = match report.outcome() {
        Ok(crate::error::Outcome::Passed) => "PASSED",
        Ok(crate::error::Outcome::Failed) => "FAILED",
        Err(_) => "INCOMPLETE",
    };
    let passed = verdict == "PASSED";
    let of = |status: CaseStatus| report.cases.iter().filter(|c| c.status == status).collect::<Vec<_>>();
    let endpoints: BTreeSet<String> = report.cases.iter().map(|c| endpoint(c).to_string()).collect();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "mfa-harness check: " (verdict) " · " (report.target) }
                style { (PreEscaped(STYLE)) (PreEscaped(filter_rules(&endpoints))) }
            }
            body {
                header class=(if passed { "passed" } else { "failed" }) {
                    h1 { (verdict) " — " (report.target) }
                    p { (s.passed) " passed, " (s.failed) " failed, " (s.warned) " warned, " (s.errors) " errors, "
                        (s.skipped) " skipped of " (s.total) " cases · " (s.must_findings) " must, " (s.should_findings)
                        " should and " (s.open_findings) " open findings · " (report.duration_ms) " ms"
                        @if report.strict { " · --strict" } " · " (report.tool) " " (report.version) }
                }
                input.f type="radio" name="sev" id="sev-all" checked;
                input.f type="radio" name="sev" id="sev-must";
                input.f type="radio" name="sev" id="sev-should";
                input.f type="radio" name="sev" id="sev-open";
                input.f type="radio" name="op" id="op-all" checked;
                @for op in &endpoints { input.f type="radio" name="op" id=(format!("op-{}", slug(op))); }
                nav.filters {
                    span { "Severity" }
                    label for="sev-all" { "all" } label for="sev-must" { "must" } label for="sev-should" { "should" } label for="sev-open" { "open" }
                    span { "Endpoint" }
                    label for="op-all" { "all" }
                    @for op in &endpoints { label for=(format!("op-{}", slug(op))) { (op) } }
                }
                main {
                    @if !report.cleanup_failures.is_empty() {
                        h2 { "Users left behind" }
                        ul { @for f in &report.cleanup_failures { li { (f) } } }
                    }
                    (section("Failures", &of(CaseStatus::Failed)))
                    (section("Errors", &of(CaseStatus::Error)))
                    (section("Warnings", &of(CaseStatus::Warned)))
                    (section("Passes", &of(CaseStatus::Passed)))
                    (section("Skipped", &of(CaseStatus::Skipped)))
                    @if let Some(e) = &report.exploration {
                        h2 { "Exploration" }
                        p { "seed " code { (e.seed) } " · " (e.walks) " walks, " (e.actions) " actions, " (e.requests)
                            " requests · " (e.budget) @if e.stopped_by_time { " · stopped by its time budget" } }
                    }
                    (coverage(report))
                }
            }
        }
    };
    out.write_all(page.into_string().as_bytes())
}
