//! The HTML load report (`load --report-file X.html`): our own summary as one self-contained
//! file (inline CSS and inline SVG, no script, no external asset), readable offline. The verdict
//! and the run's facts; per step a latency-percentile table (the numbers of the text and JSON
//! summaries), latency over time (p50 and p99 per second) and requests per second over time;
//! errors by reason over time; thresholds with pass or fail. Markup by `maud`; the charts are
//! hand-drawn SVG polylines, one point per second with data.

use super::summary::{LoadSummary, StepSummary};
use maud::{DOCTYPE, Markup, html};

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{padding:18px 24px;color:#fff}header.passed{background:#1e7d3a}header.failed{background:#b3261e}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0}
main{padding:8px 24px 40px}h2{margin:22px 0 8px;font-size:17px}h3{margin:14px 0 4px;font-size:15px}
table{border-collapse:collapse;background:#fff;margin:6px 0}td,th{border:1px solid #d8dce1;padding:2px 8px;text-align:right;font-size:13px}
td:first-child,th:first-child{text-align:left}.muted{color:#5f6b76}
td.ok{background:#dff0e2}td.bad{background:#f4d2cf}
figure{margin:0}section.step{background:#fff;border:1px solid #d8dce1;border-radius:4px;padding:6px 12px;margin:10px 0}
.charts{display:flex;flex-wrap:wrap;gap:10px}
svg.chart{background:#fff;border:1px solid #e2e5e9}svg text{font:11px system-ui,sans-serif;fill:#5f6b76}
.legend span{display:inline-block;margin-right:12px;font-size:12px}.legend i{display:inline-block;width:14px;height:3px;margin-right:4px;vertical-align:middle}
"#;

/// Colours of the lines, in order (p50, p99; or one per error reason).
const COLOURS: [&str; 8] = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7ea4", "#57606a"];

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// One line of a chart: its name and its (second, value) points.
struct Line {
    name: String,
    points: Vec<(u64, f64)>,
}

/// The SVG chart of `lines` over the run's seconds `0..=last`, values in `unit`.
fn chart(title: &str, unit: &str, last: u64, lines: &[Line]) -> Markup {
    let top = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let span = last.max(1) as f64;
    let x = |s: u64| LEFT + (WIDTH - LEFT - RIGHT) * s as f64 / span;
    let y = |v: f64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - v / top);
    let points = |line: &Line| {
        line.points.iter().map(|&(s, v)| format!("{:.1},{:.1}", x(s), y(v))).collect::<Vec<_>>().join(" ")
    };
    html! {
        figure {
            svg.chart width=(WIDTH) height=(HEIGHT) viewBox={ "0 0 " (WIDTH) " " (HEIGHT) }
                role="img" aria-label=(title) {
                title { (title) }
                @for i in 0..=4 {
                    @let v = top * f64::from(i) / 4.0;
                    line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(v)) y2=(y(v)) stroke="#eceef1" {}
                    text x=(LEFT - 4.0) y=(y(v) + 4.0) text-anchor="end" { (format_value(v)) }
                }
                line x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(HEIGHT - BOTTOM) stroke="#8a939c" {}
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM) stroke="#8a939c" {}
                text x=(LEFT) y=(HEIGHT - 10.0) { "0 s" }
                text x=(WIDTH - RIGHT) y=(HEIGHT - 10.0) text-anchor="end" { (last) " s" }
                text x=((WIDTH + LEFT) / 2.0) y=(HEIGHT - 10.0) text-anchor="middle" { "second of the run · " (unit) }
                @for (i, line) in lines.iter().enumerate() {
                    polyline class="series" data-name=(line.name) fill="none" stroke=(COLOURS[i % COLOURS.len()])
                        stroke-width="1.8" points=(points(line)) {}
                    @for &(s, v) in &line.points {
                        circle cx=(format!("{:.1}", x(s))) cy=(format!("{:.1}", y(v))) r="2" fill=(COLOURS[i % COLOURS.len()]) {}
                    }
                }
            }
            figcaption.legend {
                strong { (title) } " "
                @for (i, line) in lines.iter().enumerate() {
                    span { i style={ "background:" (COLOURS[i % COLOURS.len()]) } {} (line.name) }
                }
            }
        }
    }
}

fn format_value(v: f64) -> String {
    if v == 0.0 || v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// A step's table row: the figures of the text summary, formatted as it formats them.
fn step_row(step: &StepSummary) -> Markup {
    let l = &step.latency;
    html! {
        tr.step data-step=(step.name) {
            td { (step.name) }
            td.count { (step.count) }
            td.failures { (step.failures) }
            td.rps { (format!("{:.1}", step.requests_per_second)) }
            @for (class, value) in [("p50", l.p50_ms), ("p90", l.p90_ms), ("p95", l.p95_ms), ("p99", l.p99_ms), ("max", l.max_ms), ("mean", l.mean_ms)] {
                td class=(class) { (format!("{value:.3}")) }
            }
        }
    }
}

fn step_section(step: &StepSummary, last: u64) -> Markup {
    let ms = |us: u64| us as f64 / 1000.0;
    let latency = [
        Line { name: "p50".into(), points: step.series.iter().map(|p| (p.second, ms(p.p50_us))).collect() },
        Line { name: "p99".into(), points: step.series.iter().map(|p| (p.second, ms(p.p99_us))).collect() },
    ];
    let rate =
        [Line { name: "requests".into(), points: step.series.iter().map(|p| (p.second, p.count as f64)).collect() }];
    html! {
        section.step data-step=(step.name) {
            h3 { (step.name) }
            @if step.series_truncated { p.muted { "The run was longer than the series keeps (24 h): later seconds count in the totals only." } }
            div.charts {
                (chart(&format!("{} latency", step.name), "ms", last, &latency))
                (chart(&format!("{} requests/s", step.name), "requests per second", last, &rate))
            }
        }
    }
}

/// The whole report.
pub fn render(s: &LoadSummary) -> String {
    let verdict = if s.passed { "passed" } else { "failed" };
    let last = s.steps.iter().flat_map(|st| st.series.last().map(|p| p.second)).max().unwrap_or(0);
    let error_lines: Vec<Line> = s
        .errors
        .iter()
        .filter(|e| !e.per_second.is_empty())
        .map(|e| Line {
            name: format!("{}: {}", e.step, e.reason),
            points: e.per_second.iter().map(|p| (p.second, p.count as f64)).collect(),
        })
        .collect();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "mfa-harness load · " (s.flow) " · " (verdict.to_uppercase()) }
                style { (STYLE) }
            }
            body {
                header class=(verdict) {
                    h1 { (verdict.to_uppercase()) @if s.interrupted { " (interrupted: the run was cut short)" } }
                    p { "flow " (s.flow) " · " (s.users) " users · " (format!("{:.1}", s.duration_s)) " s · target " (s.target) " · client " (s.client) }
                }
                main {
                    p {
                        "flows: " (s.flows_completed) " completed, " (s.flows_failed) " failed, " (format!("{:.1}", s.flows_per_second)) "/s · requests: "
                        (s.requests) " (" (s.failed_requests) " failed), " (format!("{:.1}", s.requests_per_second)) "/s · totp-window retries: " (s.totp_window_retries)
                    }
                    @for line in super::summary::shard_lines(s) { p.muted { (line) } }
                    @if let Some(dropped) = s.dropped_flows {
                        p.muted { "Arrival rate stages: " (dropped) " flows dropped (no user free within 50 ms of their start)" @if dropped > 0 { "; give more --users" } "." }
                    }
                    @if let Some(interval) = s.co_expected_interval_ms {
                        p.muted { "Latencies corrected for coordinated omission: each user was due to run each step every " (format!("{interval:.1}")) " ms." }
                    }
                    h2 { "Latency by step (ms)" }
                    table.latency {
                        thead { tr { th { "step" } th { "count" } th { "failed" } th { "req/s" } th { "p50" } th { "p90" } th { "p95" } th { "p99" } th { "max" } th { "mean" } } }
                        tbody { @for step in &s.steps { (step_row(step)) } }
                    }
                    h2 { "Over time" }
                    p.muted { "One point per second in which the step had answers; each second's percentiles come from that second's own histogram." }
                    @for step in &s.steps { (step_section(step, last)) }
                    h2 { "Errors by reason" }
                    @if s.errors.is_empty() {
                        p { "No contract violation and no error." }
                    } @else {
                        table.errors {
                            thead { tr { th { "step" } th { "reason" } th { "count" } } }
                            tbody { @for e in &s.errors { tr { td { (e.step) } td { (e.reason) } td.count { (e.count) } } } }
                        }
                        @if !error_lines.is_empty() { (chart("errors per second", "errors per second", last, &error_lines)) }
                    }
                    h2 { "Thresholds" }
                    @if s.thresholds.is_empty() {
                        p.muted { "No threshold was set (--threshold, or the flow's own)." }
                    } @else {
                        table.thresholds {
                            thead { tr { th { "threshold" } th { "measured" } th { "verdict" } } }
                            tbody {
                                @for t in &s.thresholds {
                                    tr {
                                        td { code { (t.threshold) } }
                                        td.measured { (t.measured.map_or("no data".to_string(), |m| format!("{m:.3} {}", t.unit))) }
                                        td class=(if t.passed { "ok" } else { "bad" }) { (if t.passed { "pass" } else { "fail" }) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    markup.into_string()
}
