//! Values of command-line flags read from text (durations, counts); clap calls these, and so
//! do the parsers of flows and thresholds where they read the same kinds of value.

use std::time::Duration;

/// Parses `10s`, `500ms`, `1m30s`.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("'{text}' is not a duration such as 10s or 500ms ({e})"))
}

/// A duration above zero (`--timeout 0s` would fail every request at once).
pub fn parse_timeout(text: &str) -> std::result::Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration.is_zero() {
        return Err("the timeout must be above 0, e.g. 10s or 500ms".into());
    }
    Ok(duration)
}

/// Most users one `load` runs: each is an IAM user created before the attack.
pub const MAX_USERS: usize = 100_000;

/// `--users`: 1 to [`MAX_USERS`].
pub fn parse_users(text: &str) -> std::result::Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_USERS).contains(&n) => Ok(n),
        _ => Err(format!("'{text}' is not a user count from 1 to {MAX_USERS}")),
    }
}
