//! The one retry policy of the harness's own requests (tokens, provisioning, pool validation,
//! device resets, read-backs, cleanup), and what "throttled" means. The measured request of a
//! contract case is never retried: it is the thing under test.
//!
//! A request is retried when the target says "not now" (429, 502, 503, 504) or the connection
//! failed: refused (nothing was sent), or closed before the answer was whole — the latter only
//! for a request that may be sent twice ([`Safety::Idempotent`]). A timeout is never retried:
//! the target is slow rather than busy, and a request that timed out may have taken effect.
//! Waits double from [`Policy::first`] up to [`Policy::cap`], with jitter (a random point in
//! the upper half of each wait, so that concurrent callers do not retry in step); a
//! `Retry-After` (seconds or an HTTP date) is waited instead, up to [`Policy::retry_after_cap`].
//! At most [`Policy::attempts`] attempts, and no more waiting than [`Policy::budget`] in all.

use std::time::{Duration, SystemTime};

/// What the advice of every throttling message says.
pub const ADVICE: &str = "lower the request rate with --rate-limit N/s";

/// The documented error code of throttling (spec §4: 429 IAM.0012, "throttling threshold
/// reached").
pub const THROTTLING_CODE: &str = "IAM.0012";

/// Bounds of the retries of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The wait before the first retry (before jitter).
    pub first: Duration,
    /// The longest wait between two attempts (before jitter).
    pub cap: Duration,
    /// The most attempts, the first included.
    pub attempts: u32,
    /// The longest `Retry-After` waited; a longer one is cut to this.
    pub retry_after_cap: Duration,
    /// The most time spent waiting between attempts, in all.
    pub budget: Duration,
}

impl Policy {
    /// 100 ms doubling to 5 s, at most 6 attempts and 20 s of waiting; `Retry-After` up to 10 s.
    pub const DEFAULT: Policy = Policy {
        first: Duration::from_millis(100),
        cap: Duration::from_secs(5),
        attempts: 6,
        retry_after_cap: Duration::from_secs(10),
        budget: Duration::from_secs(20),
    };

    /// The wait before retry `retry` (1 for the first) without jitter: `first · 2^(retry-1)`,
    /// at most `cap`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        self.first.saturating_mul(1u32 << doublings).min(self.cap)
    }

    /// The wait before retry `retry`: `Retry-After` when the target gave one (capped), else a
    /// point `jitter` (0..1) of the way through the upper half of [`Policy::ceiling`].
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        match retry_after {
            Some(after) => after.min(self.retry_after_cap),
            None => {
                let ceiling = self.ceiling(retry);
                ceiling / 2 + (ceiling / 2).mul_f64(jitter.clamp(0.0, 1.0))
            }
        }
    }
}

/// The waits of one request's retries, under a [`Policy`].
#[derive(Debug, Clone)]
pub struct Schedule {
    policy: Policy,
    retries: u32,
    waited: Duration,
}

impl Schedule {
    pub fn new(policy: Policy) -> Schedule {
        Schedule { policy, retries: 0, waited: Duration::ZERO }
    }

    /// The wait before the next attempt, or `None` when the attempts or the budget are spent.
    pub fn next(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        if self.retries + 1 >= self.policy.attempts {
            return None;
        }
        let delay = self.policy.delay(self.retries + 1, retry_after, rand::random::<f64>());
        if self.waited + delay > self.policy.budget {
            return None;
        }
        self.retries += 1;
        self.waited += delay;
        Some(delay)
    }

    /// How many attempts were made so far (once the last one is answered).
    pub fn attempts(&self) -> u32 {
        self.retries + 1
    }
}

/// Whether a request may be sent again after an answer was lost on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// Sending it twice does what sending it once does (GET, PUT, DELETE, a token request).
    Idempotent,
    /// It may have taken effect when its answer was lost (a create): retried only when the
    /// target said it did not take it (429, 503) or the connection was refused.
    Once,
}

/// `Retry-After`, as delay-seconds or an HTTP date (RFC 9110 §10.2.3), from `now`; a date in
/// the past is 0.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether an answer with this status is worth another attempt.
pub fn retryable_status(status: u16, safety: Safety) -> bool {
    match safety {
        Safety::Idempotent => matches!(status, 429 | 502 | 503 | 504),
        Safety::Once => matches!(status, 429 | 503),
    }
}

/// How a request that got no answer failed, for [`retryable_failure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The connection was refused or could not be made: nothing was sent.
    Refused,
    /// The connection closed before the answer was whole: the request may have taken effect.
    Dropped,
    /// A timeout, or anything else.
    Other,
}

/// Whether a request that got no answer is worth another attempt.
pub fn retryable_failure(failure: Failure, safety: Safety) -> bool {
    match failure {
        Failure::Refused => true,
        Failure::Dropped => safety == Safety::Idempotent,
        Failure::Other => false,
    }
}

/// `Some(description)` when an answer says the target throttles: status 429, or the
/// documented throttling code IAM.0012 whatever the status. E.g. `429 Too Many Requests,
/// IAM.0012` (`status_line` is the status with its reason phrase).
pub fn throttled(status: u16, status_line: String, code: Option<&str>) -> Option<String> {
    if status != 429 && code != Some(THROTTLING_CODE) {
        return None;
    }
    Some(match code {
        Some(code) if code.len() <= 32 => crate::sanitize::for_terminal(&format!("{status_line}, {code}")),
        _ => status_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_100_ms_to_the_5_s_cap() {
        let p = Policy::DEFAULT;
        let ceilings: Vec<u64> = (1..=8).map(|r| p.ceiling(r).as_millis() as u64).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(p.ceiling(1000), p.cap, "no overflow far out");
    }

    #[test]
    fn jitter_stays_in_the_upper_half_of_each_wait() {
        let p = Policy::DEFAULT;
        assert_eq!(p.delay(3, None, 0.0), Duration::from_millis(200));
        assert_eq!(p.delay(3, None, 1.0), Duration::from_millis(400));
        assert_eq!(p.delay(3, None, 0.5), Duration::from_millis(300));
        assert_eq!(p.delay(3, None, 7.0), Duration::from_millis(400), "jitter is clamped");
    }

    #[test]
    fn retry_after_is_waited_instead_up_to_its_cap() {
        let p = Policy::DEFAULT;
        assert_eq!(p.delay(1, Some(Duration::ZERO), 0.9), Duration::ZERO);
        assert_eq!(p.delay(1, Some(Duration::from_secs(3)), 0.9), Duration::from_secs(3));
        assert_eq!(p.delay(1, Some(Duration::from_secs(3600)), 0.9), p.retry_after_cap);
    }

    #[test]
    fn a_schedule_is_bounded_by_attempts_and_budget() {
        let mut s = Schedule::new(Policy::DEFAULT);
        let waits: Vec<Duration> = std::iter::from_fn(|| s.next(None)).collect();
        assert_eq!(waits.len(), 5, "6 attempts: 5 waits");
        assert_eq!(s.attempts(), 6);
        for (i, wait) in waits.iter().enumerate() {
            let ceiling = Policy::DEFAULT.ceiling(i as u32 + 1);
            assert!(*wait >= ceiling / 2 && *wait <= ceiling, "{i}: {wait:?}");
        }
        // Retry-After of 9 s each time: the 20 s budget allows two waits.
        let mut s = Schedule::new(Policy::DEFAULT);
        let waits: Vec<Duration> = std::iter::from_fn(|| s.next(Some(Duration::from_secs(9)))).collect();
        assert_eq!(waits, [Duration::from_secs(9); 2]);
        let one = Policy { attempts: 1, ..Policy::DEFAULT };
        assert_eq!(Schedule::new(one).next(None), None, "one attempt: no retry");
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Wed, 02 Dec 2026 04:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 02 Dec 2026 04:00:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wed, 02 Dec 2026 03:59:00 GMT", now), Some(Duration::ZERO), "past: now");
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("1.5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn throttling_is_429_or_the_documented_code() {
        let line = |s: &str| s.to_string();
        assert_eq!(throttled(429, line("429 Too Many Requests"), None).as_deref(), Some("429 Too Many Requests"));
        assert_eq!(
            throttled(429, line("429 Too Many Requests"), Some("IAM.0012")).as_deref(),
            Some("429 Too Many Requests, IAM.0012")
        );
        assert_eq!(
            throttled(400, line("400 Bad Request"), Some("IAM.0012")).as_deref(),
            Some("400 Bad Request, IAM.0012")
        );
        assert_eq!(throttled(503, line("503 Service Unavailable"), Some("APIGW.0503")), None);
        assert!(retryable_failure(Failure::Refused, Safety::Once));
        assert!(
            retryable_failure(Failure::Dropped, Safety::Idempotent)
                && !retryable_failure(Failure::Dropped, Safety::Once)
        );
        assert!(!retryable_failure(Failure::Other, Safety::Idempotent), "timeouts are not retried");
    }

    #[test]
    fn which_statuses_are_retried() {
        for status in [429, 502, 503, 504] {
            assert!(retryable_status(status, Safety::Idempotent), "{status}");
        }
        assert!(retryable_status(429, Safety::Once) && retryable_status(503, Safety::Once));
        assert!(!retryable_status(502, Safety::Once) && !retryable_status(504, Safety::Once), "may have happened");
        for status in [200, 400, 401, 403, 404, 409, 500, 501] {
            assert!(!retryable_status(status, Safety::Idempotent), "{status}");
        }
    }
}
