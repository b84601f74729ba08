//! RFC 6238 time-based one-time passwords as virtual MFA uses them (spec §4): HMAC-SHA1,
//! 30-second steps from the Unix epoch, 6 digits, base32 seeds.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Length of one time step in seconds [iam_01_0003].
pub const STEP_SECONDS: u64 = 30;
/// Digits in a code [iam_01_0003].
pub const DIGITS: u8 = 6;

/// A decoded seed. Its `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Seed(Vec<u8>);

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seed([redacted; {} bytes])", self.0.len())
    }
}

/// Why a seed string could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    #[error("the TOTP seed is empty; pass the base32_string_seed that create returned")]
    Empty,
    #[error("the TOTP seed has a character at position {position} that is not base32 (A–Z, 2–7, optional '=' padding)")]
    InvalidCharacter { position: usize },
    #[error("the TOTP seed has misplaced '=' padding; padding may only close the string")]
    BadPadding,
    #[error("the TOTP seed decodes to {bits} bits; at least 80 are needed (the API issues 160)")]
    TooShort { bits: usize },
}

impl Seed {
    /// Parses a base32 seed (RFC 4648 alphabet, any case, with or without `=` padding,
    /// spaces and dashes ignored).
    pub fn parse(text: &str) -> Result<Seed, SeedError> {
        let cleaned: String =
            text.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
        if cleaned.is_empty() {
            return Err(SeedError::Empty);
        }
        let body = cleaned.trim_end_matches('=');
        if body.contains('=') {
            return Err(SeedError::BadPadding);
        }
        if let Some((position, _)) = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .enumerate()
            .find(|(i, c)| *i < body.len() && !matches!(c.to_ascii_uppercase(), 'A'..='Z' | '2'..='7'))
        {
            return Err(SeedError::InvalidCharacter { position });
        }
        let bytes = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, body)
            .ok_or(SeedError::InvalidCharacter { position: 0 })?;
        if bytes.len() * 8 < 80 {
            return Err(SeedError::TooShort { bits: bytes.len() * 8 });
        }
        Ok(Seed(bytes))
    }

    /// A fresh random 160-bit seed.
    pub fn random() -> Seed {
        Seed(rand::random::<[u8; 20]>().to_vec())
    }

    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Seed {
        Seed(bytes)
    }

    /// The seed as unpadded base32 (160 bits → 32 characters).
    pub fn to_base32(&self) -> String {
        base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &self.0)
    }

    /// The code of time step `step` with `digits` digits.
    pub fn code_with_digits(&self, step: u64, digits: u8) -> String {
        totp_rs::Builder::new()
            .with_digits(digits)
            .with_step_duration(STEP_SECONDS)
            .with_secret(self.0.clone())
            .build_noncompliant()
            .generate(step.saturating_mul(STEP_SECONDS))
            .to_string()
    }

    /// The 6-digit code of time step `step`.
    pub fn code(&self, step: u64) -> String {
        self.code_with_digits(step, DIGITS)
    }

    /// The step whose code equals `code` among `steps`, compared in constant time per step.
    pub fn matching_step(&self, code: &str, steps: impl IntoIterator<Item = u64>) -> Option<u64> {
        if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        steps.into_iter().find(|s| constant_time_eq(self.code(*s).as_bytes(), code.as_bytes()))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Seconds since the Unix epoch now.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The time step that contains `unix_seconds`.
pub fn step_at(unix_seconds: u64) -> u64 {
    unix_seconds / STEP_SECONDS
}

/// Seconds left in the step that contains `unix_seconds`.
pub fn seconds_left_in_step(unix_seconds: u64) -> u64 {
    STEP_SECONDS - unix_seconds % STEP_SECONDS
}

/// The two consecutive codes that bind needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindPair {
    pub first: String,
    pub second: String,
    /// The step of `second`; `first` is the step before it.
    pub step: u64,
}

/// Codes for steps t−1 and t, where t is the step at `now`: both are inside a ±1 window and
/// neither is a future code, so every strict reading of the API accepts them.
pub fn bind_pair(seed: &Seed, now: u64) -> BindPair {
    let step = step_at(now);
    BindPair { first: seed.code(step.saturating_sub(1)), second: seed.code(step), step }
}

/// Whether the bind pair ending at step `t` reads only one way: its two codes differ from
/// each other and from the code of every step t−3 … t+2. A verifier that takes the first step
/// a code matches, or refuses the same code twice, or runs a step ahead or behind, then still
/// sees steps t−1 and t. About one step in 100,000 fails this; the caller waits for the next.
pub fn pair_is_unambiguous(seed: &Seed, t: u64) -> bool {
    let (first, second) = (seed.code(t.saturating_sub(1)), seed.code(t));
    first != second
        && (t.saturating_sub(3)..=t + 2)
            .filter(|s| *s + 1 != t && *s != t)
            .map(|s| seed.code(s))
            .all(|c| c != first && c != second)
}

/// The window of steps a verifier accepts around `now`: t−1, t, t+1.
pub fn window(now: u64) -> [u64; 3] {
    let t = step_at(now);
    [t.saturating_sub(1), t, t + 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_seed() -> Seed {
        Seed::from_bytes(b"12345678901234567890".to_vec())
    }

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        let vectors = [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (time, expected) in vectors {
            assert_eq!(rfc_seed().code_with_digits(step_at(time), 8), expected, "T={time}");
        }
    }

    #[test]
    fn six_digit_code_is_the_rfc_value_truncated() {
        assert_eq!(rfc_seed().code(step_at(59)), "287082");
    }

    #[test]
    fn parses_base32_with_and_without_padding_and_case() {
        let b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let a = Seed::parse(b32).unwrap();
        assert_eq!(a, rfc_seed());
        assert_eq!(Seed::parse(&b32.to_lowercase()).unwrap(), a);
        assert_eq!(Seed::parse("GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ").unwrap(), a);
        let padded = Seed::parse("GEZDGNBVGY3TQOJQGE======").unwrap();
        assert_eq!(padded.0, b"1234567890123".to_vec()[..padded.0.len()].to_vec());
        assert_eq!(a.to_base32(), b32);
    }

    #[test]
    fn rejects_bad_seeds_with_the_position() {
        assert_eq!(Seed::parse(""), Err(SeedError::Empty));
        assert_eq!(Seed::parse("GEZDGNBVGY3TQOJ1"), Err(SeedError::InvalidCharacter { position: 15 }));
        assert_eq!(Seed::parse("GEZD=GNBVGY3TQOJQ"), Err(SeedError::BadPadding));
        assert_eq!(Seed::parse("GEZDGNBV"), Err(SeedError::TooShort { bits: 40 }));
    }

    #[test]
    fn bind_pair_is_two_consecutive_codes_ending_now() {
        let seed = rfc_seed();
        let pair = bind_pair(&seed, 1_111_111_111);
        assert_eq!(pair.step, 37_037_037);
        assert_eq!(pair.second, seed.code(37_037_037));
        assert_eq!(pair.first, seed.code(37_037_036));
        assert_ne!(pair.first, pair.second);
    }

    /// Fixtures found by a search with the RFC key; the asserts check that they collide.
    #[test]
    fn pairs_that_share_a_code_with_a_near_step_are_ambiguous() {
        let seed = rfc_seed();
        assert_eq!(seed.code(56_188_870), seed.code(56_188_871));
        assert!(!pair_is_unambiguous(&seed, 56_188_871), "t−1 and t share a code");
        assert!(!pair_is_unambiguous(&seed, 56_188_870), "t and t+1 share a code");
        assert!(!pair_is_unambiguous(&seed, 56_188_872), "t−2 and t−1 share a code");
        assert_eq!(seed.code(56_295_193), seed.code(56_295_195));
        assert!(!pair_is_unambiguous(&seed, 56_295_195), "t−2 and t share a code");
        assert!(!pair_is_unambiguous(&seed, 56_295_194), "t−1 and t+1 share a code");
        assert!(pair_is_unambiguous(&seed, 56_295_199));
        let clean = (56_000_000..56_000_100).filter(|t| pair_is_unambiguous(&seed, *t)).count();
        assert_eq!(clean, 100, "an ordinary step is unambiguous");
    }

    #[test]
    fn matching_step_finds_only_codes_in_the_window() {
        let seed = rfc_seed();
        let now = 1_700_000_000;
        let [a, b, c] = window(now);
        assert_eq!(seed.matching_step(&seed.code(a), window(now)), Some(a));
        assert_eq!(seed.matching_step(&seed.code(c), window(now)), Some(c));
        assert_eq!(seed.matching_step(&seed.code(b), [b]), Some(b));
        assert_eq!(seed.matching_step(&seed.code(a - 5), window(now)), None);
        assert_eq!(seed.matching_step("12345", window(now)), None);
        assert_eq!(seed.matching_step("abcdef", window(now)), None);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let seed = rfc_seed();
        let shown = format!("{seed:?}");
        assert!(!shown.contains("GEZD") && !shown.contains("1234"), "{shown}");
    }
}
