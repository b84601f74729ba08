//! `load --shard K/N` and `--start-at TIME`: one process's deterministic share of a distributed
//! run (users, arrival rate, ramp, pool identities), and the moment every shard begins.
//!
//! K counts from 0, as Kubernetes' `JOB_COMPLETION_INDEX` does. A total is split as evenly as
//! possible, the first `total % N` shards taking one more (10 users over 4: 3, 3, 2, 2).

use crate::error::{Result, UsageError};
use serde::Serialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Shard `index` of `count` (0 ≤ index < count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Most shards a run may have: one user each at the most (`--users` is at most 100,000).
pub const MAX_SHARDS: u32 = crate::flags::MAX_USERS as u32;

/// A start time further ahead than this is taken for a mistake.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// How late a shard may begin before its summary says so.
pub const LATE_AFTER: Duration = Duration::from_secs(1);

fn flag(flag: &'static str, problem: String) -> crate::Error {
    UsageError::Flag { flag, problem }.into()
}

impl Shard {
    /// `K/N`, e.g. `0/4` … `3/4`.
    pub fn parse(text: &str) -> Result<Shard> {
        let usage = |why: &str| flag("--shard", format!("'{text}' {why}; write K/N, K from 0 to N-1, e.g. 0/4"));
        let (k, n) = text.trim().split_once('/').ok_or_else(|| usage("is not K/N"))?;
        let number = |s: &str| s.trim().parse::<u32>().map_err(|_| usage(&format!("has '{s}', not a whole number")));
        let (index, count) = (number(k)?, number(n)?);
        if count == 0 || count > MAX_SHARDS {
            return Err(usage(&format!("has N = {count}; N is from 1 to {MAX_SHARDS}")));
        }
        if index >= count {
            return Err(usage(&format!("has K = {index}, not below N = {count} (K counts from 0)")));
        }
        Ok(Shard { index, count })
    }

    /// Where this shard's share of `total` things begins, and how many it has.
    pub fn slice(self, total: usize) -> (usize, usize) {
        let (k, n) = (self.index as usize, self.count as usize);
        let (each, extra) = (total / n, total % n);
        (k * each + k.min(extra), each + usize::from(k < extra))
    }

    /// This shard's share of `total`.
    pub fn share(self, total: usize) -> usize {
        self.slice(total).1
    }

    /// This shard's share of a rate: `rate × its users / all users`.
    pub fn share_rate(self, rate: f64, users: usize) -> f64 {
        rate * self.share(users) as f64 / users.max(1) as f64
    }

    /// This shard's users out of `users`; a shard left with none is a usage error.
    pub fn users(self, users: usize) -> Result<usize> {
        let count = self.count as usize;
        match self.share(users) {
            0 => {
                let idle = if users + 1 == count {
                    format!("shard {users}")
                } else {
                    format!("shards {users} to {}", count - 1)
                };
                let problem = format!(
                    "{}/{count} has no users: --users {users} over {count} shards leaves {idle} without any; give \
                     --users {count} or more, or fewer shards",
                    self.index
                );
                Err(flag("--shard", problem))
            }
            n => Ok(n),
        }
    }

    /// The tag names of users and devices carry, so that shards never collide: `s<K>`.
    pub fn tag(self) -> String {
        format!("s{}", self.index)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "shard {}/{}", self.index, self.count)
    }
}

/// `--start-at`: RFC 3339 (`2025-06-01T12:00:00Z`, an offset such as `+02:00`, fractions of a
/// second) or Unix seconds (`1748779200`, as `date -d +30s +%s` prints).
pub fn parse_start_at(text: &str) -> Result<SystemTime> {
    let text = text.trim();
    let usage = |why: String| {
        flag(
            "--start-at",
            format!("'{text}' {why}; give RFC 3339 (2025-06-01T12:00:00Z) or Unix seconds (date -d +30s +%s)"),
        )
    };
    let at = if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let seconds: f64 = text.parse().map_err(|_| usage("is not a number of seconds".into()))?;
        UNIX_EPOCH + Duration::try_from_secs_f64(seconds).map_err(|_| usage("is out of range".into()))?
    } else {
        rfc3339(text).map_err(|why| usage(why.into()))?
    };
    if at.duration_since(SystemTime::now()).is_ok_and(|ahead| ahead > MAX_WAIT) {
        return Err(usage("is more than 24 hours ahead".into()));
    }
    Ok(at)
}

/// RFC 3339 with `Z` or a `±HH:MM` offset (humantime reads only UTC).
fn rfc3339(text: &str) -> std::result::Result<SystemTime, &'static str> {
    let bad = "is not an RFC 3339 time";
    let split = text.len().checked_sub(6).filter(|&at| text.is_char_boundary(at));
    let (utc, offset) = match split.map(|at| text.split_at(at)) {
        Some((time, zone)) if zone.starts_with(['+', '-']) && zone.as_bytes()[3] == b':' => {
            let number = |s: &str| s.parse::<u64>().map_err(|_| bad);
            let seconds = number(&zone[1..3])? * 3600 + number(&zone[4..6])? * 60;
            (format!("{time}Z"), if zone.starts_with('-') { -(seconds as i64) } else { seconds as i64 })
        }
        _ => (text.to_string(), 0),
    };
    let at = humantime::parse_rfc3339(&utc).map_err(|_| bad)?;
    let shift = Duration::from_secs(offset.unsigned_abs());
    // 10:00+02:00 is 08:00Z.
    let shifted = if offset >= 0 { at.checked_sub(shift) } else { at.checked_add(shift) };
    shifted.ok_or(bad)
}

/// What a shard's summary says about it (`shard` in the JSON summary).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ShardFacts {
    pub index: u32,
    pub count: u32,
    /// `--users` of the whole run (this shard ran its share, `users`).
    pub total_users: usize,
    /// `--start-at`, RFC 3339 (UTC, milliseconds); `null` without it.
    pub start_at: Option<String>,
    /// How long after `start_at` the shard began (0 when it waited for it); `null` without it.
    pub late_by_s: Option<f64>,
}

impl ShardFacts {
    /// Whether the shard began more than [`LATE_AFTER`] after `--start-at`.
    pub fn late(&self) -> Option<f64> {
        self.late_by_s.filter(|&late| late > LATE_AFTER.as_secs_f64())
    }
}

/// What a merged summary says about the shards it joins (`merged` in the JSON summary).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MergedFacts {
    /// N, the number of shards the run was split into.
    pub count: u32,
    /// The shards merged, by index.
    pub shards: Vec<ShardFacts>,
    /// The indexes of 0..N that no file was given for.
    pub missing: Vec<u32>,
}

/// A time as RFC 3339 in UTC with milliseconds.
pub fn rfc3339_millis(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_as_even_as_possible_and_add_up() {
        let shares = |total, count| (0..count).map(|index| Shard { index, count }.share(total)).collect::<Vec<_>>();
        assert_eq!(shares(10, 4), [3, 3, 2, 2]);
        assert_eq!(shares(8, 4), [2, 2, 2, 2]);
        assert_eq!(shares(3, 4), [1, 1, 1, 0]);
        assert_eq!(shares(7, 1), [7]);
        for (total, count) in [(10, 4), (100_000, 7), (5, 5), (13, 3)] {
            let slices: Vec<_> = (0..count).map(|index| Shard { index, count }.slice(total)).collect();
            assert_eq!(slices.iter().map(|s| s.1).sum::<usize>(), total);
            for pair in slices.windows(2) {
                assert_eq!(pair[0].0 + pair[0].1, pair[1].0, "slices are contiguous: {slices:?}");
            }
        }
        let rates: Vec<f64> = (0..4).map(|index| Shard { index, count: 4 }.share_rate(100.0, 10)).collect();
        assert_eq!(rates, [30.0, 30.0, 20.0, 20.0]);
    }

    #[test]
    fn a_shard_without_users_is_refused() {
        assert_eq!(Shard { index: 2, count: 4 }.users(3).unwrap(), 1);
        let err = Shard { index: 3, count: 4 }.users(3).unwrap_err().to_string();
        assert!(err.starts_with("--shard 3/4 has no users: --users 3 over 4 shards leaves shard 3 without"), "{err}");
        let err = Shard { index: 1, count: 4 }.users(1).unwrap_err().to_string();
        assert!(err.contains("leaves shards 1 to 3 without any"), "{err}");
        assert!(err.contains("--users 4 or more"), "{err}");
    }

    #[test]
    fn shards_parse_from_0_to_n_minus_1() {
        assert_eq!(Shard::parse("0/4").unwrap(), Shard { index: 0, count: 4 });
        assert_eq!(Shard::parse("3/4").unwrap(), Shard { index: 3, count: 4 });
        assert_eq!(Shard::parse(" 0 / 1 ").unwrap(), Shard { index: 0, count: 1 });
        for (text, why) in [
            ("4/4", "K = 4, not below N = 4"),
            ("0/0", "N = 0"),
            ("1", "is not K/N"),
            ("a/4", "'a', not a whole number"),
            ("-1/4", "'-1', not a whole number"),
            ("1/4/5", "'4/5', not a whole number"),
            ("0/100001", "N is from 1 to 100000"),
        ] {
            let err = Shard::parse(text).unwrap_err();
            assert!(matches!(err, crate::Error::Usage(_)), "{text}");
            let err = err.to_string();
            assert!(err.contains(why) && err.starts_with("--shard '"), "{text}: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
        assert_eq!(Shard { index: 2, count: 4 }.tag(), "s2");
        assert_eq!(Shard { index: 2, count: 4 }.to_string(), "shard 2/4");
    }

    #[test]
    fn start_times_are_rfc3339_or_unix_seconds() {
        let unix = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(parse_start_at("1748779200").unwrap(), unix(1_748_779_200));
        assert_eq!(parse_start_at("1748779200.5").unwrap(), unix(1_748_779_200) + Duration::from_millis(500));
        assert_eq!(parse_start_at("2025-06-01T12:00:00Z").unwrap(), unix(1_748_779_200));
        assert_eq!(parse_start_at("2025-06-01T14:00:00+02:00").unwrap(), unix(1_748_779_200));
        assert_eq!(parse_start_at("2025-06-01T10:30:00-01:30").unwrap(), unix(1_748_779_200));
        assert_eq!(
            parse_start_at("2025-06-01T12:00:00.250Z").unwrap(),
            unix(1_748_779_200) + Duration::from_millis(250)
        );
        for text in ["soon", "", "2025-06-01", "2025-06-01T12:00:00+2:00", "1.2.3", "12:00"] {
            let err = parse_start_at(text).unwrap_err().to_string();
            assert!(err.starts_with("--start-at '") && err.contains("RFC 3339"), "{text}: {err}");
        }
        let far = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 2 * 86_400;
        let err = parse_start_at(&far.to_string()).unwrap_err().to_string();
        assert!(err.contains("more than 24 hours ahead"), "{err}");
        assert_eq!(rfc3339_millis(unix(1_748_779_200)), "2025-06-01T12:00:00.000Z");
    }
}
