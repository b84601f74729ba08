//! Measured answers counted by step, HTTP status and outcome, lock-free, for the live metrics
//! ([`super::metrics`]).

use super::step::Step;
use std::sync::atomic::{AtomicU64, Ordering};

/// Status slots per step: no answer, 100–599, any other status.
const STATUS_SLOTS: usize = 502;

/// How a measured answer was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It honoured the contract.
    Ok,
    /// It broke the contract (or never came).
    Violation,
    /// A bind refused because its TOTP step ended in flight: retried, not the target's fault.
    TotpWindow,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Ok, Outcome::Violation, Outcome::TotpWindow];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Violation => "violation",
            Outcome::TotpWindow => "totp_window",
        }
    }
}

/// One counter per (step, status slot, outcome).
pub struct AnswerCounts {
    counts: Box<[AtomicU64]>,
}

impl Default for AnswerCounts {
    fn default() -> Self {
        AnswerCounts::new()
    }
}

impl AnswerCounts {
    pub fn new() -> AnswerCounts {
        AnswerCounts {
            counts: (0..Step::ALL.len() * STATUS_SLOTS * Outcome::ALL.len()).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Counts a measured answer by its status (`None`: no answer) and outcome, without a lock.
    pub fn count(&self, step: Step, status: Option<u16>, outcome: Outcome) {
        let slot = match status {
            None => 0,
            Some(s @ 100..=599) => usize::from(s) - 99,
            Some(_) => STATUS_SLOTS - 1,
        };
        let index = (step as usize * STATUS_SLOTS + slot) * Outcome::ALL.len() + outcome as usize;
        self.counts[index].fetch_add(1, Ordering::Relaxed);
    }

    /// Every non-zero (step, status, outcome) count so far; status `None` for no answer, 0 for
    /// a status outside 100–599.
    pub fn all(&self) -> Vec<(Step, Option<u16>, Outcome, u64)> {
        let mut out = Vec::new();
        for (index, count) in self.counts.iter().enumerate() {
            let count = count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let (rest, outcome) = (index / Outcome::ALL.len(), Outcome::ALL[index % Outcome::ALL.len()]);
            let (step, slot) = (Step::ALL[rest / STATUS_SLOTS], rest % STATUS_SLOTS);
            let status = match slot {
                0 => None,
                s if s == STATUS_SLOTS - 1 => Some(0),
                s => Some(s as u16 + 99),
            };
            out.push((step, status, outcome, count));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_answer_is_counted_in_its_own_slot() {
        let counts = AnswerCounts::new();
        counts.count(Step::Create, Some(201), Outcome::Ok);
        counts.count(Step::Create, Some(201), Outcome::Ok);
        counts.count(Step::Bind, Some(100), Outcome::Violation);
        counts.count(Step::Bind, Some(599), Outcome::TotpWindow);
        counts.count(Step::List, Some(600), Outcome::Violation);
        counts.count(Step::List, Some(42), Outcome::Violation);
        counts.count(Step::Query, None, Outcome::Violation);
        let mut all = counts.all();
        all.sort_by_key(|(step, status, outcome, _)| (*step, *status, *outcome as usize));
        assert_eq!(
            all,
            vec![
                (Step::Create, Some(201), Outcome::Ok, 2),
                (Step::Bind, Some(100), Outcome::Violation, 1),
                (Step::Bind, Some(599), Outcome::TotpWindow, 1),
                (Step::Query, None, Outcome::Violation, 1),
                (Step::List, Some(0), Outcome::Violation, 2),
            ]
        );
    }
}
