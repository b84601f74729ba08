//! The contract case model, read from `scenarios/contract/*.toml` (embedded) and `--scenarios DIR`.

use crate::api::OpKind;
use crate::error::{Result, UsageError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `must`: every documentation version states it; `should`: what one consistent reading
/// implies but the pages do not state; `open`: versions disagree or the spec lists an open
/// point (§5), so every documented reading passes, also under `--strict` (DESIGN.md, Severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Must,
    Should,
    Open,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Must => "must",
            Severity::Should => "should",
            Severity::Open => "open",
        })
    }
}

impl Severity {
    /// Whether a finding of this severity fails a case (`should` only under `--strict`).
    pub fn fails(self, strict: bool) -> bool {
        match self {
            Severity::Must => true,
            Severity::Should => strict,
            Severity::Open => false,
        }
    }
}

/// Who sends a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Actor {
    /// The case's own throw-away user.
    #[serde(rename = "self")]
    Own,
    /// A second, unrelated non-admin user.
    Other,
    /// The account administrator.
    Admin,
    /// No `X-Auth-Token` at all.
    Anonymous,
    /// A token that was never issued.
    InvalidToken,
    /// The own user's token with one character changed.
    AlteredToken,
    /// The own user's token cut short.
    TruncatedToken,
    /// The own user's token with one character more.
    ExtendedToken,
}

impl Actor {
    /// Whether this actor is a user the case must acquire.
    pub fn is_user(self) -> bool {
        matches!(self, Actor::Own | Actor::Other)
    }

    /// The user whose identity this actor's token comes from (an altered token's is the own
    /// user's), or the actor itself.
    pub fn owner(self) -> Actor {
        match self {
            Actor::AlteredToken | Actor::TruncatedToken | Actor::ExtendedToken => Actor::Own,
            other => other,
        }
    }
}

/// How the TOTP codes of a bind, unbind or token step are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodeMode {
    /// Bind: codes of steps t−1 and t. Unbind/token: the code of the next unused step.
    Valid,
    /// Bind: the code of step t twice.
    SameCodeTwice,
    /// Bind: codes of steps t−1 and t+1 (both inside ±1, not consecutive).
    NonConsecutive,
    /// Codes of steps t−3 and t−2: outside any ±1 window.
    Stale,
    /// Codes that match no step near now.
    Wrong,
    /// Exactly the codes of the previous successful bind of this device.
    Replay,
    /// Bind: the codes of the last step any request of this device used (an unbind's, a
    /// login's) and the step after it.
    UsedStep,
    /// `000000`: for an administrator's unbind, whose code is not verified.
    Arbitrary,
    /// Bind: the valid pair in the wrong order (t, t−1).
    Reversed,
    /// The valid codes with a leading zero (seven digits, the same number).
    LeadingZero,
    /// The valid codes padded with spaces.
    Padded,
    /// The valid codes written in fullwidth digits (not ASCII).
    NonAsciiDigits,
}

/// One request of a case and what must come back.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub op: OpKind,
    /// Who sends it (default `self`).
    #[serde(default = "default_actor", rename = "as")]
    pub actor: Actor,
    /// Whose user id / device the request names (default `self`).
    #[serde(default = "default_actor")]
    pub subject: Actor,
    #[serde(default)]
    pub codes: Option<CodeMode>,
    /// JSON pointer → value, set in the default body; strings may use `{self.user_id}`,
    /// `{other.user_id}`, `{admin.user_id}`, `{self.serial}`, `{unique}`.
    #[serde(default, rename = "set")]
    pub overrides: BTreeMap<String, toml::Value>,
    /// JSON pointers removed from the default body.
    #[serde(default)]
    pub remove: Vec<String>,
    /// JSON pointers set to `null` (TOML has no null).
    #[serde(default)]
    pub set_null: Vec<String>,
    /// A raw body sent instead of the JSON one (malformed-input cases).
    #[serde(default)]
    pub raw_body: Option<String>,
    /// Query parameters replaced or added (delete).
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Extra request headers (templates allowed).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Accepted statuses, at the case's severity.
    pub expect: Vec<u16>,
    /// A narrower set the documentation prefers; missing it is a `should` finding.
    #[serde(default)]
    pub prefer: Vec<u16>,
    /// Where documentation versions (or the spec's open points) allow several statuses: status →
    /// the reading it is; the report records the one the target implements, and none fails.
    #[serde(default)]
    pub readings: BTreeMap<String, String>,
    /// Validate the body against the schema of the received status (default true).
    #[serde(default = "yes")]
    pub schema: bool,
    /// JSON pointer → expected value (templates allowed).
    #[serde(default)]
    pub equals: BTreeMap<String, String>,
    /// JSON pointers that must not exist in the body.
    #[serde(default)]
    pub absent: Vec<String>,
    /// JSON pointer → a string the array there must contain (e.g. `/token/methods` → `totp`).
    #[serde(default)]
    pub contains: BTreeMap<String, String>,
    /// List answers only: the subject's device must (true) or must not (false) be listed.
    #[serde(default)]
    pub lists_subject: Option<bool>,
    /// Send this many copies at once.
    #[serde(default = "one")]
    pub parallel: usize,
    /// Parallel steps: exact count of answers per status, e.g. `{ "204" = 1 }`.
    #[serde(default)]
    pub expect_count: BTreeMap<String, usize>,
    /// A precondition: when it fails the case is an error ("could not set up"), not a finding.
    #[serde(default)]
    pub setup: bool,
    /// Overrides the case's severity for this step.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Wait for this many fresh 30-s TOTP steps before sending (only in `slow` cases).
    #[serde(default)]
    pub wait_steps: u32,
    /// Token steps: the token issued replaces the subject's own for the steps after it.
    #[serde(default)]
    pub adopt_token: bool,
    /// Wait until the adopted token has expired before sending; the case is skipped when the
    /// target's tokens live longer than 10 s (24 h, as documented: `serve --token-ttl` shortens it).
    #[serde(default)]
    pub wait_token_expiry: bool,
}

fn default_actor() -> Actor {
    Actor::Own
}
fn yes() -> bool {
    true
}
fn one() -> usize {
    1
}

/// One contract case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub title: String,
    /// Documentation page ids of the spec (e.g. `iam_08_0017`).
    pub doc: Vec<String>,
    pub severity: Severity,
    /// Needs a password for the own user (token cases); skipped with pool identities without one.
    #[serde(default)]
    pub needs_password: bool,
    /// Deletes one of its users; skipped with pool identities, which must outlive the run.
    #[serde(default)]
    pub deletes_users: bool,
    /// Waits for fresh TOTP steps (up to 30 s each): run only with `check --slow`.
    #[serde(default)]
    pub slow: bool,
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
    /// Where the case was read from (set by the loader).
    #[serde(skip)]
    pub source: String,
    /// The 1-based line of the scenario file where the case is written (its `id = …`, or the
    /// matrix row it is generated from); 0 when unknown.
    #[serde(skip)]
    pub line: usize,
}

impl Case {
    /// The scenario file the case is written in, as a path from the repository's root for the
    /// embedded ones (`scenarios/contract/bind.toml`), as given for `--scenarios` files.
    pub fn file(&self) -> String {
        if self.source.contains(['/', '\\']) {
            self.source.clone()
        } else {
            format!("scenarios/contract/{}", self.source)
        }
    }
}

/// The 1-based line of `text` holding `key = "value"`, from line `from` on.
pub fn line_of(text: &str, key: &str, value: &str, from: usize) -> Option<usize> {
    let quoted = format!("\"{value}\"");
    text.lines().enumerate().skip(from.saturating_sub(1)).find_map(|(i, line)| {
        let (k, v) = line.split_once('=')?;
        let k = k.trim().trim_start_matches(['{', ',', ' ']);
        let k = k.rsplit([',', '{', ' ']).next().unwrap_or(k);
        (k == key && v.trim_start().starts_with(&quoted)).then_some(i + 1)
    })
}

impl Case {
    /// The users the case needs, in a stable order: those steps act as or on, those their
    /// templates name (`{other.user_id}`), and the own user behind an altered token.
    pub fn users(&self) -> Vec<Actor> {
        let named = |step: &Step, name: &str| {
            step.overrides.values().any(|v| v.as_str().is_some_and(|s| s.contains(&format!("{{{name}."))))
                || step.query.values().any(|v| v.contains(&format!("{{{name}.")))
        };
        let mut users: Vec<Actor> = self
            .steps
            .iter()
            .flat_map(|s| {
                let derived = [
                    Some(s.actor.owner()),
                    Some(s.subject.owner()),
                    named(s, "self").then_some(Actor::Own),
                    named(s, "other").then_some(Actor::Other),
                ];
                derived.into_iter().flatten()
            })
            .filter(|a| a.is_user())
            .collect();
        users.sort();
        users.dedup();
        users
    }

    /// The severity a step's checks are judged at.
    pub fn step_severity(&self, step: &Step) -> Severity {
        step.severity.unwrap_or(self.severity)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(rename = "case", default)]
    cases: Vec<Case>,
}

/// The cases of one scenario file, validated.
pub fn parse(name: &str, text: &str) -> Result<Vec<Case>> {
    let scenario = |item: String, problem: String| UsageError::Scenario {
        kind: "scenario file",
        file: name.to_string(),
        item: Some(item),
        problem,
    };
    let file: CaseFile = toml::from_str(text).map_err(|e| UsageError::Invalid {
        what: "scenario file",
        path: name.into(),
        source: crate::error::Detail(e.to_string()),
    })?;
    let mut cases = file.cases;
    for case in &mut cases {
        case.source = name.to_string();
        case.line = line_of(text, "id", &case.id, 1).unwrap_or(0);
        validate(case).map_err(|e| scenario(format!("case '{}'", case.id), e))?;
    }
    Ok(cases)
}

/// Checks what the file format cannot say.
pub fn validate(case: &Case) -> std::result::Result<(), String> {
    if case.id.is_empty() || case.steps.is_empty() {
        return Err("a case needs an id and at least one [[case.step]]".into());
    }
    for (i, step) in case.steps.iter().enumerate() {
        let n = i + 1;
        if step.expect.is_empty() {
            return Err(format!("step {n} has an empty expect list"));
        }
        if let Some(p) = step.prefer.iter().find(|p| !step.expect.contains(p)) {
            return Err(format!("step {n} prefers {p}, which its expect list does not accept"));
        }
        for key in step.readings.keys() {
            if !key.parse::<u16>().is_ok_and(|s| step.expect.contains(&s)) {
                return Err(format!("step {n}: reading '{key}' is not a status its expect list accepts"));
            }
        }
        if !step.readings.is_empty() && !step.prefer.is_empty() {
            return Err(format!("step {n}: readings and prefer exclude each other (an open point has no preference)"));
        }
        if step.wait_steps > 0 && !case.slow {
            return Err(format!("step {n} waits for TOTP steps, so the case must say slow = true"));
        }
        if step.parallel == 0 || step.parallel > 256 {
            return Err(format!("step {n}: parallel must be 1 to 256"));
        }
        for key in step.expect_count.keys() {
            if key.parse::<u16>().is_err() {
                return Err(format!("step {n}: expect_count key '{key}' is not a status code"));
            }
        }
        for pointer in step
            .overrides
            .keys()
            .chain(&step.remove)
            .chain(&step.set_null)
            .chain(step.equals.keys())
            .chain(&step.absent)
            .chain(step.contains.keys())
        {
            if !pointer.starts_with('/') {
                return Err(format!("step {n}: '{pointer}' is not a JSON pointer (it must start with '/')"));
            }
        }
    }
    Ok(())
}

/// Keeps the cases whose id matches `pattern`: `*` matches any run of characters; a pattern
/// without `*` matches the id itself and the ids it begins up to a `.` or `-` (`bind` selects
/// `bind.success`, not `unbind.success`; `bind.rejects` selects `bind.rejects-stale-codes`).
pub fn matches(pattern: &str, id: &str) -> bool {
    if !pattern.contains('*') {
        let Some(rest) = id.strip_prefix(pattern) else { return false };
        return rest.is_empty() || pattern.ends_with(['.', '-']) || rest.starts_with(['.', '-']);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = id;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else { return false };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_documented() {
        assert!(matches("bind.", "bind.success") && matches("bind", "bind.success"));
        assert!(!matches("bind", "unbind.success") && !matches("bin", "bind.success"));
        assert!(matches("bind.rejects", "bind.rejects-stale-codes") && matches("explore", "explore"));
        assert!(matches("bind.*", "bind.success") && !matches("bind.*", "unbind.success"));
        assert!(matches("*success", "query.success") && !matches("*success", "query.success.x"));
        assert!(matches("q*y.s*", "query.success"));
    }

    #[test]
    fn bad_case_files_are_usage_errors_naming_the_case() {
        let text = "[[case]]\nid='x'\ntitle='t'\ndoc=['d']\nseverity='must'\n[[case.step]]\nop='bind'\nexpect=[204]\nprefer=[409]\n";
        let err = parse("f.toml", text).unwrap_err().to_string();
        assert!(err.contains("case 'x'") && err.contains("prefers 409"), "{err}");
        let err = parse("f.toml", "[[case]]\nid='y'").unwrap_err().to_string();
        assert!(err.contains("f.toml"), "{err}");
    }
}
