//! Rules that contract, load and snapshot all apply, each kept once: when a TOTP code may be
//! sent, and that only create may return a device's seed.

use crate::totp::{self, Seed};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long is left of the current 30-s TOTP step.
pub fn left_in_step() -> Duration {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let step_ms = u128::from(totp::STEP_SECONDS * 1000);
    Duration::from_millis((step_ms - now.as_millis() % step_ms) as u64)
}

/// Sleeps into the next time step when less than `margin` is left of this one, so that codes
/// generated now are still in the target's window when it checks them.
pub async fn wait_for_step_margin(margin: Duration) {
    let left = left_in_step();
    if left < margin {
        tokio::time::sleep(left + Duration::from_millis(50)).await;
    }
}

/// Waits, a step at a time, until the bind pair of the current step reads only one way
/// ([`totp::pair_is_unambiguous`]; about one step in 100,000 does not), keeping `margin`.
pub async fn wait_for_unambiguous_pair(seed: &Seed, margin: Duration) {
    wait_for_step_margin(margin).await;
    while !totp::pair_is_unambiguous(seed, totp::step_at(totp::unix_now())) {
        tokio::time::sleep(left_in_step() + Duration::from_millis(50)).await;
        wait_for_step_margin(margin).await;
    }
}

/// A device's seed as create returned it and in canonical base32, to look for in every other
/// answer: only create may return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedForms {
    /// The distinct non-empty forms (one when create returned the canonical form).
    forms: Vec<String>,
}

impl SeedForms {
    pub fn of(returned: &str, seed: &Seed) -> SeedForms {
        let mut forms = vec![returned.to_string()];
        let canonical = seed.to_base32();
        if canonical != returned {
            forms.push(canonical);
        }
        forms.retain(|f| !f.is_empty());
        SeedForms { forms }
    }

    /// Whether `body` carries the seed in either form (every measured load answer is scanned,
    /// so the usual single form is scanned once).
    pub fn leaked_in(&self, body: &[u8]) -> bool {
        !body.is_empty() && self.forms.iter().any(|s| contains(body, s.as_bytes()))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_is_found_anywhere_in_a_body_in_either_form() {
        let seed = Seed::parse("gezdgnbvgy3tqojqgezdgnbvgy3tqojq").unwrap();
        let forms = SeedForms::of("gezdgnbvgy3tqojqgezdgnbvgy3tqojq", &seed);
        assert!(forms.leaked_in(br#"{"x":"gezdgnbvgy3tqojqgezdgnbvgy3tqojq"}"#), "as returned");
        assert!(forms.leaked_in(br#"{"x":"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"}"#), "canonical");
        assert!(!forms.leaked_in(br#"{"x":"GEZDGNBVGY3TQOJQ"}"#) && !forms.leaked_in(b""));
    }

    #[test]
    fn the_step_left_is_within_a_step() {
        let left = left_in_step();
        assert!(left > Duration::ZERO && left <= Duration::from_secs(totp::STEP_SECONDS));
    }
}
