//! What a load run measures while it runs: per-step latency histograms (HDR, microseconds),
//! failures by reason, flows, and live counters for the progress line.

use super::step::Step;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Highest latency a histogram holds (60 s, in microseconds); longer ones count as 60 s.
const MAX_MICROS: u64 = 60_000_000;
/// Most distinct (step, reason) pairs kept; a target whose answers vary without end cannot
/// make the summary grow with the request count.
const MAX_REASONS: usize = 64;
/// The reason counted once [`MAX_REASONS`] distinct ones were seen.
const OTHER_REASONS: &str = "other reasons (too many distinct ones to list)";

/// Collects measurements from every goose user; cheap to share.
pub struct Recorder {
    /// By `Step as usize`, in [`Step::ALL`] order.
    steps: [Mutex<StepData>; Step::ALL.len()],
    errors: Mutex<BTreeMap<(String, String), u64>>,
    flows_completed: AtomicU64,
    flows_failed: AtomicU64,
    totp_window: AtomicU64,
    requests: AtomicU64,
    failed_requests: AtomicU64,
    /// With a constant arrival rate: how often each user is meant to run a step, in
    /// microseconds. A slower answer back-fills the samples the schedule missed.
    expected_interval_us: Option<u64>,
    /// Nanoseconds after `base` of the first and the last measured answer.
    base: Instant,
    first_ns: AtomicU64,
    last_ns: AtomicU64,
}

struct StepData {
    histogram: Histogram<u64>,
    count: u64,
    failures: u64,
}

/// An empty latency histogram (microseconds, 1 µs to 60 s, 3 significant digits).
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("static bounds are valid")
}

/// What the progress line shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub flows_completed: u64,
    pub flows_failed: u64,
    pub requests: u64,
    pub failed_requests: u64,
    pub totp_window: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new(None)
    }
}

impl Recorder {
    /// A recorder; `expected_interval` switches on coordinated-omission correction.
    pub fn new(expected_interval: Option<Duration>) -> Recorder {
        Recorder {
            steps: std::array::from_fn(|_| Mutex::new(StepData { histogram: histogram(), count: 0, failures: 0 })),
            errors: Mutex::new(BTreeMap::new()),
            flows_completed: AtomicU64::new(0),
            flows_failed: AtomicU64::new(0),
            totp_window: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            failed_requests: AtomicU64::new(0),
            expected_interval_us: expected_interval.map(|d| (d.as_micros() as u64).clamp(1, MAX_MICROS)),
            base: Instant::now(),
            first_ns: AtomicU64::new(u64::MAX),
            last_ns: AtomicU64::new(0),
        }
    }

    /// Records one measured request; `failure` is the contract violation, if any.
    pub fn request(&self, step: Step, elapsed: Duration, failure: Option<&str>) {
        let at = self.base.elapsed().as_nanos() as u64;
        self.first_ns.fetch_min(at.saturating_sub(elapsed.as_nanos() as u64), Ordering::Relaxed);
        self.last_ns.fetch_max(at, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        let micros = (elapsed.as_micros() as u64).clamp(1, MAX_MICROS);
        let mut data = self.steps[step as usize].lock().unwrap_or_else(|e| e.into_inner());
        match self.expected_interval_us {
            Some(interval) => {
                let _ = data.histogram.record_correct(micros, interval);
            }
            None => data.histogram.saturating_record(micros),
        }
        data.count += 1;
        if let Some(reason) = failure {
            data.failures += 1;
            drop(data);
            self.failed_requests.fetch_add(1, Ordering::Relaxed);
            self.count_error(step.name().to_string(), reason);
        }
    }

    fn count_error(&self, step: String, reason: &str) {
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        let mut key = (step, reason.to_string());
        if errors.len() >= MAX_REASONS && !errors.contains_key(&key) {
            key.1 = OTHER_REASONS.to_string();
        }
        *errors.entry(key).or_default() += 1;
    }

    /// An unmeasured setup or recycling step that failed.
    pub fn unmeasured_error(&self, step: Step, reason: &str) {
        self.count_error(format!("{} (unmeasured)", step.name()), reason);
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

    /// The counters so far, without taking any lock.
    pub fn progress(&self) -> Progress {
        Progress {
            flows_completed: self.flows_completed.load(Ordering::Relaxed),
            flows_failed: self.flows_failed.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            failed_requests: self.failed_requests.load(Ordering::Relaxed),
            totp_window: self.totp_window.load(Ordering::Relaxed),
        }
    }

    /// The measured span: from the first request sent to the last answer received.
    pub fn measured_span(&self) -> Duration {
        let first = self.first_ns.load(Ordering::Relaxed);
        let last = self.last_ns.load(Ordering::Relaxed);
        Duration::from_nanos(last.saturating_sub(first.min(last)))
    }
    /// Everything recorded so far.
    pub fn measured(&self) -> Measured {
        let steps = Step::ALL
            .iter()
            .zip(&self.steps)
            .filter_map(|(step, data)| {
                let data = data.lock().unwrap_or_else(|e| e.into_inner());
                (data.count > 0).then(|| StepMeasured {
                    step: *step,
                    histogram: data.histogram.clone(),
                    count: data.count,
                    failures: data.failures,
                })
            })
            .collect();
        let errors = self
            .errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|((step, reason), count)| (step.clone(), reason.clone(), *count))
            .collect();
        Measured {
            span: self.measured_span(),
            steps,
            errors,
            flows_completed: self.flows_completed(),
            flows_failed: self.flows_failed.load(Ordering::Relaxed),
            totp_window: self.totp_window.load(Ordering::Relaxed),
            expected_interval_us: self.expected_interval_us,
        }
    }
}

/// One step's measurements.
#[derive(Debug, Clone)]
pub struct StepMeasured {
    pub step: Step,
    pub histogram: Histogram<u64>,
    pub count: u64,
    pub failures: u64,
}

/// A copy of what a [`Recorder`] holds, for the summary.
#[derive(Debug, Clone)]
pub struct Measured {
    /// From the first request sent to the last answer received.
    pub span: Duration,
    /// The steps that were measured, in [`Step::ALL`] order.
    pub steps: Vec<StepMeasured>,
    /// (step, reason, count), sorted.
    pub errors: Vec<(String, String, u64)>,
    pub flows_completed: u64,
    pub flows_failed: u64,
    pub totp_window: u64,
    pub expected_interval_us: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_real_requests_even_when_latency_is_corrected() {
        let recorder = Recorder::new(Some(Duration::from_millis(10)));
        recorder.request(Step::Query, Duration::from_millis(1), None);
        recorder.request(Step::Query, Duration::from_millis(100), Some("status 500 (expected 200)"));
        let measured = recorder.measured();
        let query = &measured.steps[0];
        assert_eq!((query.step, query.count, query.failures), (Step::Query, 2, 1));
        assert!(query.histogram.value_at_quantile(0.5) > 10_000, "the stalled schedule is back-filled");
        assert_eq!(measured.expected_interval_us, Some(10_000));
        assert_eq!(measured.errors, vec![("query".into(), "status 500 (expected 200)".into(), 1)]);
        assert_eq!(recorder.progress().failed_requests, 1);
    }

    #[test]
    fn without_a_rate_latency_is_as_measured() {
        let recorder = Recorder::default();
        recorder.request(Step::Bind, Duration::from_millis(1), None);
        recorder.request(Step::Bind, Duration::from_millis(100), None);
        let measured = recorder.measured();
        assert!(measured.steps[0].histogram.value_at_quantile(0.5) < 2_000);
        assert_eq!(measured.expected_interval_us, None);
    }

    #[test]
    fn distinct_reasons_are_bounded() {
        let recorder = Recorder::default();
        for i in 0..(MAX_REASONS + 10) {
            recorder.request(Step::Query, Duration::from_millis(1), Some(&format!("value {i} is wrong")));
        }
        let errors = recorder.measured().errors;
        assert_eq!(errors.len(), MAX_REASONS + 1);
        let other = errors.iter().find(|e| e.1 == OTHER_REASONS).unwrap();
        assert_eq!(other.2, 10);
    }
}
