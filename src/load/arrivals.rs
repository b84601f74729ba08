//! `--rate-stages`: a ramping arrival rate (k6's ramping-arrival-rate executor). Each stage
//! ramps the rate of flow starts linearly from the stage before's (the first from 0) to its
//! target over its duration; a stage of 0s jumps to its target. The run's users are a pool:
//! flow n starts at `A⁻¹(n)`, where `A(t)` is the number of flows due by `t` (the integral of
//! the rate), whichever user is free then. A flow that finds no free user within
//! [`GRACE`] of its time is dropped and counted, as k6 counts `dropped_iterations`, so that
//! the schedule is kept and a short pool shows as such instead of as a slower target.
//!
//! goose paces only a constant rate (its throttle), so this schedule is ours: goose runs the
//! pool of users and each user takes its next start from [`Arrivals`].

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// How late a flow may start, all users having been busy at its time, before it is dropped.
pub const GRACE: Duration = Duration::from_millis(50);
/// The most flows per second a stage may ask for.
pub const MAX_RATE: f64 = 1_000_000.0;

/// Ramp the arrival rate linearly to `rate` flows per second over `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateStage {
    pub duration: Duration,
    pub rate: f64,
}

/// Reads `--rate-stages`: `DUR:RATE` comma-separated, e.g. `10s:50,1m:50,10s:0` (flows per
/// second). Durations are whole seconds, as `--stages`'s are.
pub fn parse(text: &str) -> Result<Vec<RateStage>, String> {
    let stages = text
        .split(',')
        .map(|part| {
            let part = part.trim();
            let (duration, rate) = part.split_once(':').ok_or_else(|| {
                format!("'{part}' is not a stage DUR:RATE, e.g. 30s:50 (ramp to 50 flows/s over 30 s)")
            })?;
            let duration = crate::flags::parse_duration(duration.trim())?;
            super::shape::whole_seconds(duration).map_err(|e| format!("stage '{part}': {e}"))?;
            let rate = rate.trim().parse::<f64>().ok().filter(|r| r.is_finite() && (0.0..=MAX_RATE).contains(r));
            let rate = rate.ok_or_else(|| {
                format!("stage '{part}': '{}' is not a rate of flows per second from 0 to {MAX_RATE}", rate_text(part))
            })?;
            Ok(RateStage { duration, rate })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if stages.iter().all(|s| s.duration.is_zero()) {
        return Err("every stage lasts 0s: the run would end before it starts".into());
    }
    if Schedule::new(stages.clone()).time_of(0).is_none() {
        return Err("the stages start no flow: give a target rate above 0 over a stage that lasts, e.g. 10s:5".into());
    }
    Ok(stages)
}

fn rate_text(part: &str) -> &str {
    part.split_once(':').map_or("", |(_, r)| r.trim())
}

/// The stages as given on the command line.
pub fn describe(stages: &[RateStage]) -> String {
    stages
        .iter()
        .map(|s| format!("{}:{}", humantime::format_duration(s.duration), s.rate))
        .collect::<Vec<_>>()
        .join(",")
}

/// When each flow is due.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Each stage as (start rate, end rate, seconds), after the stage before.
    pieces: Vec<(f64, f64, f64)>,
}

impl Schedule {
    pub fn new(stages: Vec<RateStage>) -> Schedule {
        let mut before = 0.0;
        let pieces = stages
            .iter()
            .map(|s| {
                let seconds = s.duration.as_secs_f64();
                // A stage of 0s jumps: the next one starts from its target.
                let from = if seconds == 0.0 { s.rate } else { before };
                before = s.rate;
                (from, s.rate, seconds)
            })
            .filter(|(_, _, seconds)| *seconds > 0.0)
            .collect();
        Schedule { pieces }
    }

    /// How long the schedule lasts.
    pub fn seconds(&self) -> f64 {
        self.pieces.iter().map(|p| p.2).sum()
    }

    /// `A(t)`: flows due in the first `t` seconds.
    pub fn due_by(&self, t: f64) -> f64 {
        let (mut due, mut left) = (0.0, t.max(0.0));
        for &(from, to, seconds) in &self.pieces {
            let x = left.min(seconds);
            due += from * x + (to - from) * x * x / (2.0 * seconds);
            left -= x;
            if left <= 0.0 {
                break;
            }
        }
        due
    }

    /// Flows due over the whole schedule.
    pub fn due(&self) -> f64 {
        self.due_by(self.seconds())
    }

    /// `A⁻¹(n)`: the second flow `n` (from 0) is due, or `None` when the schedule ends first.
    pub fn time_of(&self, n: u64) -> Option<f64> {
        let (mut left, mut start) = (n as f64, 0.0);
        for &(from, to, seconds) in &self.pieces {
            let area = (from + to) * seconds / 2.0;
            if left < area {
                // Solve from·x + k·x²/2 = left, k the ramp's slope, in the form that holds
                // for a rising, a falling and a flat rate alike.
                let k = (to - from) / seconds;
                let root = (from * from + 2.0 * k * left).max(0.0).sqrt();
                let x = if left == 0.0 { 0.0 } else { 2.0 * left / (from + root) };
                return Some(start + x.min(seconds));
            }
            left -= area;
            start += seconds;
        }
        None
    }
}

/// The next start a free user takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ticket {
    /// Start a flow at this instant (it may be now).
    At(Instant),
    /// The schedule is over.
    Done,
}

/// The flow starts of a run, shared by its users.
pub struct Arrivals {
    schedule: Schedule,
    /// With `--start-at`: the schedule begins a whole number of seconds after it, so shards
    /// that began together keep one schedule.
    align_to: Option<SystemTime>,
    begin: OnceLock<Instant>,
    next: AtomicU64,
    dropped: AtomicU64,
    done: AtomicBool,
}

impl Arrivals {
    pub fn new(schedule: Schedule, align_to: Option<SystemTime>) -> Arrivals {
        Arrivals {
            schedule,
            align_to,
            begin: OnceLock::new(),
            next: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            done: AtomicBool::new(false),
        }
    }

    /// When the schedule began (it begins with the first [`Arrivals::take`]).
    pub fn begin(&self) -> Instant {
        *self.begin.get_or_init(|| {
            let now = Instant::now();
            let Some(at) = self.align_to else { return now };
            let wall = SystemTime::now();
            let after = wall.duration_since(at).unwrap_or_default();
            let whole = Duration::from_secs(after.as_secs() + u64::from(after.subsec_nanos() > 0));
            now + (at + whole).duration_since(wall).unwrap_or_default()
        })
    }

    /// The next flow start for a user free at `now`. Starts more than [`GRACE`] in the past
    /// were due while every user was busy: they are dropped.
    pub fn take(&self, now: Instant) -> Ticket {
        let begin = self.begin();
        loop {
            let n = self.next.load(Ordering::Acquire);
            let Some(at) = self.schedule.time_of(n) else {
                self.done.store(true, Ordering::Release);
                return Ticket::Done;
            };
            let at = begin + Duration::from_secs_f64(at);
            if at + GRACE < now {
                // The first start not yet overdue.
                let late = now.saturating_duration_since(begin + GRACE).as_secs_f64();
                let first = (self.schedule.due_by(late).ceil() as u64).max(n + 1);
                if self.next.compare_exchange(n, first, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                    self.dropped.fetch_add(first - n, Ordering::Relaxed);
                }
                continue;
            }
            if self.next.compare_exchange(n, n + 1, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                return Ticket::At(at);
            }
        }
    }

    /// Flows dropped so far; the ones the schedule had left when the run stopped early are
    /// not among them.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Whether a user found the schedule over.
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// Flows the schedule holds in all.
    pub fn due(&self) -> u64 {
        let mut n = self.schedule.due().floor() as u64;
        // `due` is a float: the count is the first n with no time.
        while self.schedule.time_of(n).is_some() {
            n += 1;
        }
        while n > 0 && self.schedule.time_of(n - 1).is_none() {
            n -= 1;
        }
        n
    }
}

/// The longest a sleeping user waits before it looks whether the run is stopping.
const NAP: Duration = Duration::from_millis(100);
/// The longest the schedule waits for the pool's last users to be set up.
const SETUP_WAIT: Duration = Duration::from_secs(10);

impl Arrivals {
    /// Waits for a user's next flow start: `true` to run a flow now, `false` when the schedule
    /// is over or `stopping()` says the run is being stopped. The schedule begins once every
    /// user of the pool is set up (`pool_ready()`; at most [`SETUP_WAIT`] after the first asks),
    /// so that the first starts do not find the pool still provisioning.
    pub async fn wait_turn(&self, pool_ready: impl Fn() -> bool, stopping: impl Fn() -> bool) -> bool {
        if self.begin.get().is_none() {
            let asked = Instant::now();
            while !pool_ready() && asked.elapsed() < SETUP_WAIT && self.begin.get().is_none() {
                if stopping() {
                    return false;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let Ticket::At(at) = self.take(Instant::now()) else { return false };
        loop {
            let now = Instant::now();
            if now >= at {
                return true;
            }
            if stopping() {
                return false;
            }
            tokio::time::sleep((at - now).min(NAP)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(text: &str) -> Schedule {
        Schedule::new(parse(text).unwrap())
    }

    #[test]
    fn a_constant_rate_starts_flows_evenly() {
        let s = stages("0s:10,2s:10");
        assert_eq!(s.seconds(), 2.0);
        assert!((s.due() - 20.0).abs() < 1e-9);
        for n in 0..20 {
            assert!((s.time_of(n).unwrap() - n as f64 / 10.0).abs() < 1e-9, "flow {n}");
        }
        assert_eq!(s.time_of(20), None, "the 21st is due when the schedule ends");
    }

    #[test]
    fn a_ramp_starts_flows_at_the_inverse_of_its_integral() {
        // 0 → 20 flows/s over 10 s: A(t) = t², 100 flows; flow n at √n.
        let s = stages("10s:20");
        assert!((s.due() - 100.0).abs() < 1e-9);
        for n in [0u64, 1, 4, 25, 50, 99] {
            assert!((s.time_of(n).unwrap() - (n as f64).sqrt()).abs() < 1e-9, "flow {n}");
        }
        // Then down to 0 over 10 s: 100 more, the last ones ever sparser.
        let s = stages("10s:20,10s:0");
        assert!((s.due() - 200.0).abs() < 1e-9);
        let t = s.time_of(150).unwrap();
        assert!((s.due_by(t) - 150.0).abs() < 1e-6, "A(A⁻¹(150)) = 150, got {}", s.due_by(t));
        assert!((t - (20.0 - 50f64.sqrt())).abs() < 1e-6, "{t}");
        let times: Vec<f64> = (0..200).map(|n| s.time_of(n).unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]), "starts are in order");
        assert!(times.iter().all(|t| *t <= 20.0));
    }

    #[test]
    fn a_stage_of_zero_rate_is_a_pause() {
        let s = stages("0s:5,2s:5,3s:0,0s:0,2s:0,0s:5,1s:5");
        // 10 flows over 2 s, a ramp down with 7.5 more over 3 s, 2 s of nothing, then 5 over 1 s.
        assert!((s.due() - 22.5).abs() < 1e-9);
        let t = s.time_of(18).unwrap();
        assert!((7.0..8.0).contains(&t), "flow 18 waits for the last stage: {t}");
    }

    #[test]
    fn bad_rate_stages_say_what_is_wrong() {
        for (text, says) in [
            ("30s", "not a stage DUR:RATE"),
            ("30s:fast", "not a rate of flows per second"),
            ("30s:-1", "not a rate"),
            ("1.5s:10", "give 1s or 2s"),
            ("0s:10", "every stage lasts 0s"),
            ("10s:0,5s:0", "start no flow"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
        assert_eq!(describe(&parse("30s:2.5, 1m:100").unwrap()), "30s:2.5,1m:100");
    }

    #[test]
    fn free_users_take_starts_in_order_and_overdue_ones_are_dropped() {
        let arrivals = Arrivals::new(stages("0s:100,1s:100"), None);
        assert_eq!(arrivals.due(), 100);
        let begin = arrivals.begin();
        let at = |n: u64| Ticket::At(begin + Duration::from_secs_f64(n as f64 / 100.0));
        assert_eq!(arrivals.take(begin), at(0));
        assert_eq!(arrivals.take(begin), at(1), "taken ahead of its time");
        // Nobody was free for 0.505 s: the starts due before 0.455 s are dropped.
        let later = begin + Duration::from_millis(505);
        assert_eq!(arrivals.take(later), at(46));
        assert_eq!(arrivals.dropped(), 44);
        assert!(!arrivals.is_done());
        for n in 47..100 {
            assert_eq!(arrivals.take(later), at(n));
        }
        assert_eq!(arrivals.take(later), Ticket::Done);
        assert!(arrivals.is_done());
        assert_eq!(arrivals.dropped(), 44, "the end of the schedule drops nothing");
    }

    #[tokio::test]
    async fn a_user_waits_for_its_start_or_for_a_stop() {
        let arrivals = Arrivals::new(stages("0s:20,1s:20"), None);
        let started = Instant::now();
        assert!(arrivals.wait_turn(|| true, || false).await, "flow 0 starts at once");
        assert!(arrivals.wait_turn(|| true, || false).await);
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(50), "flow 1 is due 50 ms after flow 0: {waited:?}");
        assert!(!arrivals.wait_turn(|| true, || true).await, "a stopping run starts no more flows");
        let mut ran = 0;
        while arrivals.wait_turn(|| true, || false).await {
            ran += 1;
        }
        assert!(arrivals.is_done());
        assert_eq!(ran + 3, 20, "the schedule holds 20 flows, one given up for the stop");
    }

    #[test]
    fn with_start_at_the_schedule_begins_on_a_whole_second_after_it() {
        let start_at = SystemTime::now() - Duration::from_millis(300);
        let arrivals = Arrivals::new(stages("2s:1"), Some(start_at));
        let wait = arrivals.begin().saturating_duration_since(Instant::now());
        assert!(wait > Duration::from_millis(500) && wait <= Duration::from_millis(700), "{wait:?}");
    }
}
