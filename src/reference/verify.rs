//! TOTP verification of the reference server (spec §4): the window of accepted steps (±1),
//! how a sent code is read (exactly 6 ASCII digits), the steps a device already used (never
//! accepted again), and bind's two consecutive codes. The TOTP faults are branches here.

use super::faults::Fault;
use super::store::{Device, Store};
use crate::totp;
use std::borrow::Cow;

/// The first digit of each Unicode digit block the `non-ascii-digits-accepted` fault reads:
/// ASCII, Arabic-Indic, Extended Arabic-Indic, Devanagari, fullwidth.
const ZEROS: [char; 5] = ['0', '\u{0660}', '\u{06F0}', '\u{0966}', '\u{FF10}'];

fn ascii_digit(c: char) -> Option<char> {
    ZEROS.iter().find_map(|zero| {
        let offset = (c as u32).checked_sub(*zero as u32).filter(|o| *o < 10)?;
        char::from_digit(offset, 10)
    })
}

impl Store {
    /// The steps a code may come from at `now`: t−1, t, t+1 (t−3 … t+3 with
    /// `totp-window-3-steps`).
    pub(super) fn window(&self, now: u64) -> Vec<u64> {
        let t = totp::step_at(now);
        let reach = if self.faults.has(Fault::TotpWindow3Steps) { 3 } else { 1 };
        (t.saturating_sub(reach)..=t + reach).collect()
    }

    /// The steps of the window `device` has not used yet (all of them when `replay_ok`).
    fn fresh_steps(&self, device: &Device, now: u64, replay_ok: bool) -> Vec<u64> {
        self.window(now).into_iter().filter(|s| replay_ok || device.last_step.is_none_or(|l| *s > l)).collect()
    }

    /// A sent code as the verifier reads it: as it is, unless a code-reading fault is on.
    fn read_code<'a>(&self, code: &'a str) -> Cow<'a, str> {
        let mut code = Cow::Borrowed(code);
        if self.faults.has(Fault::CodesTrimmed) {
            code = Cow::Owned(code.trim().to_string());
        }
        if self.faults.has(Fault::NonAsciiDigitsAccepted)
            && let Some(ascii) = code.chars().map(ascii_digit).collect::<Option<String>>()
        {
            code = Cow::Owned(ascii);
        }
        if self.faults.has(Fault::CodesComparedAsNumbers)
            && code.bytes().all(|b| b.is_ascii_digit())
            && let Some(number) = code.parse::<u64>().ok().filter(|n| *n < 1_000_000)
        {
            code = Cow::Owned(format!("{number:06}"));
        }
        code
    }

    /// The fresh step of `device` whose code is `code` (any step of the window when `replay_ok`).
    pub(super) fn verify_code(&self, device: &Device, code: &str, now: u64, replay_ok: bool) -> Option<u64> {
        device.seed.matching_step(&self.read_code(code), self.fresh_steps(device, now, replay_ok))
    }

    /// Bind's two codes [iam_08_0017]: those of two consecutive fresh steps, in order. Returns
    /// the step of the second, which the bind then records as used.
    pub(super) fn verify_bind_pair(&self, device: &Device, first: &str, second: &str, now: u64) -> Option<u64> {
        let steps = self.fresh_steps(device, now, self.faults.has(Fault::BindAcceptsReplay));
        let (first, second) = (self.read_code(first), self.read_code(second));
        let is = |code: &str, step: u64| device.seed.matching_step(code, [step]).is_some();
        let reversed = self.faults.has(Fault::BindAcceptsReversedPair);
        // Any two consecutive fresh steps whose codes are the two sent, not the first step each
        // code happens to match: two steps may share a code (one in a million).
        let consecutive = steps.windows(2).filter(|pair| pair[0] + 1 == pair[1]).find(|pair| {
            is(&first, pair[0]) && is(&second, pair[1]) || reversed && is(&first, pair[1]) && is(&second, pair[0])
        });
        if let Some(pair) = consecutive {
            return Some(pair[1]);
        }
        let any = |code: &str| device.seed.matching_step(code, steps.iter().copied());
        if self.faults.has(Fault::BindChecksFirstCodeOnly) {
            return any(&first);
        }
        match (any(&first), any(&second)) {
            (Some(_), Some(b)) if self.faults.has(Fault::BindAcceptsNonConsecutive) => Some(b),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_digits_map_to_ascii() {
        assert_eq!(ascii_digit('7'), Some('7'));
        assert_eq!(ascii_digit('\u{FF13}'), Some('3'));
        assert_eq!(ascii_digit('\u{0669}'), Some('9'));
        assert_eq!(ascii_digit('a'), None);
        assert_eq!(ascii_digit('\u{FF1A}'), None);
    }
}
