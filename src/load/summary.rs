//! What a load run measured: per-step latency histograms (HDR, microseconds), failures by
//! reason, flows; the summary model and its text rendering.

use super::flows::Step;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Collects measurements from every goose user; cheap to share.
pub struct Recorder {
    steps: BTreeMap<Step, Mutex<StepData>>,
    errors: Mutex<BTreeMap<(String, String), u64>>,
    flows_completed: AtomicU64,
    flows_failed: AtomicU64,
    totp_window: AtomicU64,
    /// Nanoseconds after `base` of the first and the last measured answer.
    base: Instant,
    first_ns: AtomicU64,
    last_ns: AtomicU64,
}

struct StepData {
    histogram: Histogram<u64>,
    failures: u64,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("static bounds are valid")
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            steps: Step::ALL
                .iter()
                .map(|s| (*s, Mutex::new(StepData { histogram: histogram(), failures: 0 })))
                .collect(),
            errors: Mutex::new(BTreeMap::new()),
            flows_completed: AtomicU64::new(0),
            flows_failed: AtomicU64::new(0),
            totp_window: AtomicU64::new(0),
            base: Instant::now(),
            first_ns: AtomicU64::new(u64::MAX),
            last_ns: AtomicU64::new(0),
        }
    }
}

impl Recorder {
    /// Records one measured request; `failure` is the contract violation, if any.
    pub fn request(&self, step: Step, elapsed: Duration, failure: Option<&str>) {
        let at = self.base.elapsed().as_nanos() as u64;
        self.first_ns.fetch_min(at.saturating_sub(elapsed.as_nanos() as u64), Ordering::Relaxed);
        self.last_ns.fetch_max(at, Ordering::Relaxed);
        let mut data = self.steps[&step].lock().unwrap_or_else(|e| e.into_inner());
        data.histogram.saturating_record((elapsed.as_micros() as u64).max(1));
        if let Some(reason) = failure {
            data.failures += 1;
            drop(data);
            *self
                .errors
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry((step.name().into(), reason.into()))
                .or_default() += 1;
        }
    }

    /// An unmeasured setup or recycling step that failed.
    pub fn unmeasured_error(&self, step: Step, reason: &str) {
        let key = (format!("{} (unmeasured)", step.name()), reason.to_string());
        *self.errors.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_default() += 1;
    }

    /// A bind refused because the time step changed while it was in flight: not the target's fault.
    pub fn totp_window(&self) {
        self.totp_window.fetch_add(1, Ordering::Relaxed);
    }

    pub fn flow(&self, ok: bool) {
        if ok { &self.flows_completed } else { &self.flows_failed }.fetch_add(1, Ordering::Relaxed);
    }

    pub fn flows_completed(&self) -> u64 {
        self.flows_completed.load(Ordering::Relaxed)
    }

    /// The measured span: from the first request sent to the last answer received.
    pub fn measured_span(&self) -> Duration {
        let first = self.first_ns.load(Ordering::Relaxed);
        let last = self.last_ns.load(Ordering::Relaxed);
        Duration::from_nanos(last.saturating_sub(first.min(last)))
    }

    /// The summary of everything recorded, rates over the measured span.
    pub fn summarize(&self, flow: &str, target: &str, users: usize) -> LoadSummary {
        let elapsed = self.measured_span();
        let seconds = elapsed.as_secs_f64().max(1e-3);
        let mut all = histogram();
        let mut steps = Vec::new();
        for (step, data) in &self.steps {
            let data = data.lock().unwrap_or_else(|e| e.into_inner());
            if data.histogram.is_empty() {
                continue;
            }
            all.add(&data.histogram).ok();
            let count = data.histogram.len();
            steps.push(StepSummary {
                name: step.name().into(),
                count,
                failures: data.failures,
                requests_per_second: count as f64 / seconds,
                latency: Latency::of(&data.histogram),
            });
        }
        let requests: u64 = steps.iter().map(|s| s.count).sum();
        let failed_requests: u64 = steps.iter().map(|s| s.failures).sum();
        let errors = self
            .errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|((step, reason), count)| ErrorCount { step: step.clone(), reason: reason.clone(), count: *count })
            .collect();
        let completed = self.flows_completed();
        LoadSummary {
            tool: "mfa-harness".into(),
            flow: flow.into(),
            target: target.into(),
            users,
            duration_s: elapsed.as_secs_f64(),
            flows_completed: completed,
            flows_failed: self.flows_failed.load(Ordering::Relaxed),
            flows_per_second: completed as f64 / seconds,
            requests,
            failed_requests,
            requests_per_second: requests as f64 / seconds,
            totp_window_retries: self.totp_window.load(Ordering::Relaxed),
            all: Latency::of(&all),
            steps,
            errors,
            thresholds: Vec::new(),
            passed: true,
        }
    }
}

/// Latency figures in milliseconds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Latency {
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepSummary {
    pub name: String,
    pub count: u64,
    pub failures: u64,
    pub requests_per_second: f64,
    pub latency: Latency,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorCount {
    pub step: String,
    pub reason: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ThresholdResult {
    pub threshold: String,
    pub measured: Option<f64>,
    pub passed: bool,
}

/// The whole run, as printed and as JSON (`schemas/reports/load-summary.schema.json`).
#[derive(Debug, Clone, Serialize)]
pub struct LoadSummary {
    pub tool: String,
    pub flow: String,
    pub target: String,
    pub users: usize,
    pub duration_s: f64,
    pub flows_completed: u64,
    pub flows_failed: u64,
    pub flows_per_second: f64,
    pub requests: u64,
    pub failed_requests: u64,
    pub requests_per_second: f64,
    /// Binds refused because the 30-s step ended while they were in flight; retried, not failures.
    pub totp_window_retries: u64,
    pub all: Latency,
    pub steps: Vec<StepSummary>,
    pub errors: Vec<ErrorCount>,
    pub thresholds: Vec<ThresholdResult>,
    pub passed: bool,
}

/// The text summary.
pub fn render(s: &LoadSummary) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "mfa-harness load · flow {} · {} users · {:.1} s · target {}",
        s.flow, s.users, s.duration_s, s.target
    );
    let _ = writeln!(
        out,
        "flows: {} completed, {} failed, {:.1}/s · requests: {} ({} failed), {:.1}/s · totp-window retries: {}",
        s.flows_completed,
        s.flows_failed,
        s.flows_per_second,
        s.requests,
        s.failed_requests,
        s.requests_per_second,
        s.totp_window_retries
    );
    let _ = writeln!(
        out,
        "  {:8} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "step", "count", "failed", "req/s", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms"
    );
    for step in &s.steps {
        let l = &step.latency;
        let _ = writeln!(
            out,
            "  {:8} {:>9} {:>7} {:>9.1} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            step.name,
            step.count,
            step.failures,
            step.requests_per_second,
            l.p50_ms,
            l.p90_ms,
            l.p95_ms,
            l.p99_ms,
            l.max_ms
        );
    }
    if !s.errors.is_empty() {
        let _ = writeln!(out, "contract violations and errors:");
        for e in &s.errors {
            let _ = writeln!(out, "  {:6} × {}: {}", e.count, e.step, e.reason);
        }
    }
    for t in &s.thresholds {
        let measured = t.measured.map_or("no data".to_string(), |m| format!("{m:.3}"));
        let _ = writeln!(
            out,
            "threshold {:24} measured {:>12}  {}",
            t.threshold,
            measured,
            if t.passed { "ok" } else { "VIOLATED" }
        );
    }
    let _ = writeln!(out, "{}", if s.passed { "PASSED" } else { "FAILED" });
    out
}
