//! What a load run measures while it runs: per-step latency histograms (HDR, microseconds),
//! failures by reason, flows, and live counters for the progress line; and, per step and per
//! second, a time series (count, errors, p50/p90/p99 and the second's own histogram, encoded).
//! Memory stays bounded: each step keeps one live histogram for the current second, reduced to
//! its figures and its compressed encoding when the second ends, and at most [`MAX_SECONDS`]
//! seconds are kept (later ones only count in the totals). Seconds are wall-clock seconds: the
//! recorder's second 0 begins at a whole Unix second, so shards' series line up.

use super::answers::AnswerCounts;
pub use super::hdr::histogram;
use super::hdr::{Encoder, MAX_MICROS};
use super::step::Step;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Most distinct (step, reason) pairs kept; a target whose answers vary without end cannot
/// make the summary grow with the request count.
const MAX_REASONS: usize = 64;
/// Most seconds kept in the time series (24 h); a step's later seconds still count in its
/// totals and histogram, the summary says the series was cut (`time_series_truncated`).
pub const MAX_SECONDS: u64 = 86_400;
/// The reason counted once [`MAX_REASONS`] distinct ones were seen.
const OTHER_REASONS: &str = "other reasons (too many distinct ones to list)";

/// Collects measurements from every goose user; cheap to share.
pub struct Recorder {
    /// By `Step as usize`, in [`Step::ALL`] order.
    steps: [Mutex<StepData>; Step::ALL.len()],
    errors: Mutex<BTreeMap<(String, String), ErrorData>>,
    flows_completed: AtomicU64,
    flows_failed: AtomicU64,
    totp_window: AtomicU64,
    /// With a constant arrival rate: how often each user is meant to run a step, in
    /// microseconds. A slower answer back-fills the samples the schedule missed.
    expected_interval_us: Option<u64>,
    /// Answers by step, status and outcome, for the live metrics.
    pub answers: AnswerCounts,
    /// goose users that have started (their setup done).
    users_started: AtomicU64,
    /// What the steps' first and last measured answers are counted from.
    base: Instant,
    /// The Unix second `base` is the start of.
    base_unix: u64,
}

struct StepData {
    histogram: Histogram<u64>,
    count: u64,
    failures: u64,
    /// Nanoseconds after the recorder's base of the step's first request sent and of its last
    /// answer; kept here, under the step's lock, so that a request touches no counter shared
    /// by every step (each one a cache line the generator's threads would pass back and forth).
    first_ns: u64,
    last_ns: u64,
    /// The second (since the recorder started) `current` is about, and its measurements.
    second: u64,
    current: Histogram<u64>,
    current_count: u64,
    current_failures: u64,
    /// The seconds that ended, in order.
    series: Vec<Interval>,
    /// [`MAX_SECONDS`] (smaller in tests).
    max_seconds: u64,
    truncated: bool,
    encoder: Encoder,
}

impl StepData {
    fn new() -> StepData {
        StepData {
            histogram: histogram(),
            count: 0,
            failures: 0,
            first_ns: u64::MAX,
            last_ns: 0,
            second: 0,
            current: histogram(),
            current_count: 0,
            current_failures: 0,
            series: Vec::new(),
            max_seconds: MAX_SECONDS,
            truncated: false,
            encoder: Encoder::default(),
        }
    }

    /// The figures of the current second, if it measured anything.
    fn current_interval(&mut self) -> Option<Interval> {
        (self.current_count > 0).then(|| Interval {
            second: self.second,
            count: self.current_count,
            failures: self.current_failures,
            p50_us: self.current.value_at_quantile(0.50),
            p90_us: self.current.value_at_quantile(0.90),
            p99_us: self.current.value_at_quantile(0.99),
            histogram: self.encoder.encode(&self.current),
        })
    }

    /// Moves on to `second` (a request answered a little earlier but locked later stays in
    /// the current one).
    fn roll(&mut self, second: u64) {
        if second <= self.second {
            return;
        }
        if let Some(interval) = self.current_interval() {
            self.current.reset();
            if (self.series.len() as u64) < self.max_seconds {
                self.series.push(interval);
            } else {
                self.truncated = true;
            }
        }
        self.current_count = 0;
        self.current_failures = 0;
        self.second = second;
    }
}

/// One second of one step: requests answered in it, failures, latency percentiles (µs), and
/// its histogram ([`super::hdr`] V2 + DEFLATE bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    /// Seconds since the recorder started (the summary counts from the first request).
    pub second: u64,
    pub count: u64,
    pub failures: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub histogram: Vec<u8>,
}

/// A (step, reason)'s count, and per second (sparse, in order) when it happened.
#[derive(Debug, Clone, Default)]
struct ErrorData {
    count: u64,
    per_second: Vec<(u64, u64)>,
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

impl AsRef<Recorder> for Recorder {
    fn as_ref(&self) -> &Recorder {
        self
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new(None)
    }
}

impl Recorder {
    /// A recorder; `expected_interval` switches on coordinated-omission correction.
    pub fn new(expected_interval: Option<Duration>) -> Recorder {
        let (now, wall) = (Instant::now(), SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default());
        let into_second = Duration::from_nanos(u64::from(wall.subsec_nanos()));
        Recorder {
            steps: std::array::from_fn(|_| Mutex::new(StepData::new())),
            errors: Mutex::new(BTreeMap::new()),
            flows_completed: AtomicU64::new(0),
            flows_failed: AtomicU64::new(0),
            totp_window: AtomicU64::new(0),
            expected_interval_us: expected_interval.map(|d| (d.as_micros() as u64).clamp(1, MAX_MICROS)),
            answers: AnswerCounts::new(),
            users_started: AtomicU64::new(0),
            base: now.checked_sub(into_second).unwrap_or(now),
            base_unix: wall.as_secs(),
        }
    }

    /// Records one measured request answered now; `failure` is the contract violation, if any.
    pub fn request(&self, step: Step, elapsed: Duration, failure: Option<&str>) {
        self.request_ended(step, Instant::now(), elapsed, failure);
    }

    /// Records one measured request whose answer ended at `ended` (the instant its duration
    /// was taken at: no second reading of the clock).
    pub fn request_ended(&self, step: Step, ended: Instant, elapsed: Duration, failure: Option<&str>) {
        let at = ended.saturating_duration_since(self.base).as_nanos() as u64;
        let micros = (elapsed.as_micros() as u64).clamp(1, MAX_MICROS);
        let second = at / 1_000_000_000;
        let mut data = self.steps[step as usize].lock().unwrap_or_else(|e| e.into_inner());
        data.first_ns = data.first_ns.min(at.saturating_sub(elapsed.as_nanos() as u64));
        data.last_ns = data.last_ns.max(at);
        data.roll(second);
        match self.expected_interval_us {
            Some(interval) => {
                let _ = data.histogram.record_correct(micros, interval);
                let _ = data.current.record_correct(micros, interval);
            }
            None => {
                data.histogram.saturating_record(micros);
                data.current.saturating_record(micros);
            }
        }
        data.count += 1;
        data.current_count += 1;
        if let Some(reason) = failure {
            data.failures += 1;
            data.current_failures += 1;
            drop(data);
            self.count_error(step.name().to_string(), reason);
        }
    }

    fn count_error(&self, step: String, reason: &str) {
        let second = self.base.elapsed().as_secs();
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        let mut key = (step, reason.to_string());
        if errors.len() >= MAX_REASONS && !errors.contains_key(&key) {
            key.1 = OTHER_REASONS.to_string();
        }
        let entry = errors.entry(key).or_default();
        entry.count += 1;
        let full = entry.per_second.len() as u64 >= MAX_SECONDS;
        match entry.per_second.last_mut() {
            Some((s, n)) if *s >= second => *n += 1,
            _ if full => {}
            _ => entry.per_second.push((second, 1)),
        }
    }

    /// A goose user finished its setup and runs the flow.
    pub fn user_started(&self) {
        self.users_started.fetch_add(1, Ordering::Relaxed);
    }

    pub fn users_started(&self) -> u64 {
        self.users_started.load(Ordering::Relaxed)
    }

    /// Per measured step: its count, failures and a copy of its whole-run histogram, taken
    /// one step at a time (for a scrape).
    pub fn step_totals(&self) -> Vec<(Step, u64, u64, Histogram<u64>)> {
        Step::ALL
            .iter()
            .zip(&self.steps)
            .filter_map(|(step, data)| {
                let data = data.lock().unwrap_or_else(|e| e.into_inner());
                (data.count > 0).then(|| (*step, data.count, data.failures, data.histogram.clone()))
            })
            .collect()
    }

    /// Failures by (step, reason) so far.
    pub fn error_counts(&self) -> Vec<(String, String, u64)> {
        let errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        errors.iter().map(|((step, reason), data)| (step.clone(), reason.clone(), data.count)).collect()
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

    /// The counters so far (each step's lock taken briefly, one after the other).
    pub fn progress(&self) -> Progress {
        let (requests, failed_requests) = self.steps.iter().fold((0, 0), |(n, f), data| {
            let data = data.lock().unwrap_or_else(|e| e.into_inner());
            (n + data.count, f + data.failures)
        });
        Progress {
            flows_completed: self.flows_completed.load(Ordering::Relaxed),
            flows_failed: self.flows_failed.load(Ordering::Relaxed),
            requests,
            failed_requests,
            totp_window: self.totp_window.load(Ordering::Relaxed),
        }
    }

    /// Nanoseconds after `base` of the first request sent and the last answer received, over
    /// every step (`u64::MAX` and 0 before any).
    fn first_and_last_ns(&self) -> (u64, u64) {
        self.steps.iter().fold((u64::MAX, 0), |(first, last), data| {
            let data = data.lock().unwrap_or_else(|e| e.into_inner());
            (first.min(data.first_ns), last.max(data.last_ns))
        })
    }

    /// The measured span: from the first request sent to the last answer received.
    pub fn measured_span(&self) -> Duration {
        let (first, last) = self.first_and_last_ns();
        Duration::from_nanos(last.saturating_sub(first.min(last)))
    }
    /// Everything recorded so far.
    pub fn measured(&self) -> Measured {
        // The series count from the second of the first request sent.
        let (first_ns, last_ns) = self.first_and_last_ns();
        let first_ns = first_ns.min(last_ns);
        let first_second = first_ns / 1_000_000_000;
        let base = UNIX_EPOCH + Duration::from_secs(self.base_unix);
        let steps = Step::ALL
            .iter()
            .zip(&self.steps)
            .filter_map(|(step, data)| {
                let mut data = data.lock().unwrap_or_else(|e| e.into_inner());
                let room = (data.series.len() as u64) < data.max_seconds;
                let current = data.current_interval().filter(|_| room);
                let series = data
                    .series
                    .iter()
                    .cloned()
                    .chain(current)
                    .map(|i| Interval { second: i.second.saturating_sub(first_second), ..i })
                    .collect();
                (data.count > 0).then(|| StepMeasured {
                    step: *step,
                    histogram: data.histogram.clone(),
                    count: data.count,
                    failures: data.failures,
                    series,
                    series_truncated: data.truncated
                        || (data.current_count > 0 && data.series.len() as u64 >= data.max_seconds),
                })
            })
            .collect();
        let errors = self
            .errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|((step, reason), data)| MeasuredError {
                step: step.clone(),
                reason: reason.clone(),
                count: data.count,
                per_second: data.per_second.iter().map(|(s, n)| (s.saturating_sub(first_second), *n)).collect(),
            })
            .collect();
        Measured {
            span: self.measured_span(),
            started_at: base + Duration::from_nanos(first_ns),
            ended_at: base + Duration::from_nanos(last_ns),
            series_start_unix: self.base_unix + first_second,
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
    /// Per second with answers, in order (seconds since the first request sent).
    pub series: Vec<Interval>,
    /// More than [`MAX_SECONDS`] seconds: the later ones are left out of `series`.
    pub series_truncated: bool,
}

/// Failures of one step for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasuredError {
    pub step: String,
    pub reason: String,
    pub count: u64,
    /// (second since the first request sent, count), seconds in order, only those with failures.
    pub per_second: Vec<(u64, u64)>,
}

/// A copy of what a [`Recorder`] holds, for the summary.
#[derive(Debug, Clone)]
pub struct Measured {
    /// From the first request sent to the last answer received.
    pub span: Duration,
    /// When the first request was sent, and the last answer received (wall clock).
    pub started_at: SystemTime,
    pub ended_at: SystemTime,
    /// The Unix second that is second 0 of every series (the second of the first request).
    pub series_start_unix: u64,
    /// The steps that were measured, in [`Step::ALL`] order.
    pub steps: Vec<StepMeasured>,
    /// By (step, reason), sorted.
    pub errors: Vec<MeasuredError>,
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
        let e = &measured.errors[0];
        assert_eq!((e.step.as_str(), e.reason.as_str(), e.count), ("query", "status 500 (expected 200)", 1));
        assert_eq!(e.per_second, vec![(0, 1)]);
        assert_eq!(query.series.len(), 1, "{:?}", query.series);
        assert_eq!((query.series[0].second, query.series[0].count, query.series[0].failures), (0, 2, 1));
        assert_eq!(recorder.progress().failed_requests, 1);
    }

    #[test]
    fn seconds_are_wall_clock_seconds_and_each_keeps_its_histogram() {
        let recorder = Recorder::default();
        recorder.request(Step::Query, Duration::from_millis(2), None);
        let measured = recorder.measured();
        let started = measured.started_at.duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(measured.series_start_unix, started, "second 0 is the Unix second of the first request");
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!(now - started <= 1 && measured.ended_at >= measured.started_at);
        let second = super::super::hdr::decode(&measured.steps[0].series[0].histogram).unwrap();
        assert_eq!((second.len(), second.max() / 1000), (1, 2));
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
        let other = errors.iter().find(|e| e.reason == OTHER_REASONS).unwrap();
        assert_eq!(other.count, 10);
    }

    #[test]
    fn each_second_has_its_own_figures_and_the_series_is_bounded() {
        let mut data = StepData::new();
        for (second, micros) in [(0, 1_000), (0, 3_000), (2, 50_000)] {
            data.roll(second);
            data.current.saturating_record(micros);
            data.current_count += 1;
        }
        let current = data.current_interval();
        let series: Vec<_> = data.series.iter().cloned().chain(current).collect();
        assert_eq!(series.len(), 2, "a second without answers has no point");
        assert_eq!((series[0].second, series[0].count), (0, 2));
        assert!(series[0].p99_us < 3_100 && series[0].p50_us < 1_100, "{:?}", series[0]);
        assert_eq!((series[1].second, series[1].count), (2, 1));
        assert!(series[1].p50_us > 49_000);
        data.max_seconds = 5;
        for second in 3..15 {
            data.roll(second);
            data.current.saturating_record(10);
            data.current_count += 1;
        }
        assert_eq!(data.series.len(), 5);
        assert_eq!(data.series[4].second, 5, "the first seconds are kept, later ones dropped");
        assert!(data.truncated);
    }
}
