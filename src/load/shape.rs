//! The shape of a load run besides `--users` and `--run-time`: `--stages` (users ramped to a
//! target over a duration, stage after stage, as k6's ramping-vus executor does) and
//! `--iterations` (each user runs its flow N times, then stops). Both become goose's own
//! options: a test plan, or its iterations.

use std::time::Duration;

/// Ramp the users linearly to `users` over `duration` (0: at once), from the stage before's
/// count (the first starts at 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub duration: Duration,
    pub users: usize,
}

/// Reads `--stages`: `DUR:USERS` comma-separated, e.g. `30s:100,2m:100,30s:0`. Durations are
/// whole seconds (goose's test plan counts seconds).
pub fn parse_stages(text: &str, max_users: usize) -> Result<Vec<Stage>, String> {
    let stages = text
        .split(',')
        .map(|part| {
            let (duration, users) = part.trim().split_once(':').ok_or_else(|| {
                format!("'{}' is not a stage DUR:USERS, e.g. 30s:100 (ramp to 100 users over 30 s)", part.trim())
            })?;
            let duration = crate::flags::parse_duration(duration.trim())?;
            whole_seconds(duration).map_err(|e| format!("stage '{}': {e}", part.trim()))?;
            let users = users.trim().parse::<usize>().ok().filter(|u| *u <= max_users).ok_or_else(|| {
                format!("stage '{}': '{}' is not a user count from 0 to {max_users}", part.trim(), users.trim())
            })?;
            Ok(Stage { duration, users })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if stages.iter().all(|s| s.users == 0) {
        return Err("no stage has users: give at least one target above 0, e.g. 10s:8".into());
    }
    if stages.iter().all(|s| s.duration.is_zero()) {
        return Err("every stage lasts 0s: the run would end before it starts".into());
    }
    Ok(stages)
}

/// Refuses a duration goose would round: it counts whole seconds.
pub fn whole_seconds(duration: Duration) -> Result<u64, String> {
    if duration.subsec_nanos() != 0 {
        let (down, up) = (duration.as_secs(), duration.as_secs() + 1);
        return Err(format!("goose counts whole seconds; give {down}s or {up}s, not {duration:?}"));
    }
    Ok(duration.as_secs())
}

/// The most users running at once.
pub fn peak_users(stages: &[Stage]) -> usize {
    stages.iter().map(|s| s.users).max().unwrap_or(0)
}

/// How many users are started in all: every ramp up starts new ones (goose does not restart a
/// stopped user), so each needs its own identity.
pub fn users_started(stages: &[Stage]) -> usize {
    let mut before = 0;
    stages
        .iter()
        .map(|s| {
            let started = s.users.saturating_sub(before);
            before = s.users;
            started
        })
        .sum()
}

/// The stages as goose's `--test-plan`: `USERS,SECONDS;…`. The run ends with the last stage,
/// as k6's does: goose would keep a last stage's users running, so they are stopped at once.
pub fn goose_test_plan(stages: &[Stage]) -> String {
    let mut plan: Vec<String> = stages.iter().map(|s| format!("{},{}s", s.users, s.duration.as_secs())).collect();
    if stages.last().is_some_and(|s| s.users > 0) {
        plan.push("0,0s".into());
    }
    plan.join(";")
}

/// The stages as given on the command line.
pub fn describe(stages: &[Stage]) -> String {
    stages
        .iter()
        .map(|s| format!("{}:{}", humantime::format_duration(s.duration), s.users))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_read_ramp_targets_and_count_every_user_started() {
        let stages = parse_stages("30s:100, 2m:100,30s:0,10s:40", 1000).unwrap();
        assert_eq!(stages.len(), 4);
        assert_eq!(stages[1], Stage { duration: Duration::from_secs(120), users: 100 });
        assert_eq!(peak_users(&stages), 100);
        assert_eq!(users_started(&stages), 140, "100 at first, 40 more after the ramp down");
        assert_eq!(goose_test_plan(&stages), "100,30s;100,120s;0,30s;40,10s;0,0s", "the run ends with its stages");
        assert_eq!(goose_test_plan(&stages[..3]), "100,30s;100,120s;0,30s");
        assert_eq!(describe(&stages), "30s:100,2m:100,30s:0,10s:40");
    }

    #[test]
    fn bad_stages_say_what_is_wrong() {
        for (text, says) in [
            ("30s", "not a stage DUR:USERS"),
            ("30s:many", "not a user count"),
            ("30s:2000", "from 0 to 1000"),
            ("1.5s:10", "give 1s or 2s"),
            ("soon:10", "not a duration"),
            ("10s:0,5s:0", "no stage has users"),
            ("0s:10", "every stage lasts 0s"),
        ] {
            let error = parse_stages(text, 1000).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn sub_second_durations_are_refused_with_both_neighbours() {
        assert_eq!(whole_seconds(Duration::from_secs(3)), Ok(3));
        let error = whole_seconds(Duration::from_millis(1500)).unwrap_err();
        assert!(error.contains("1s or 2s"), "{error}");
    }
}
