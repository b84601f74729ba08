//! The actions an exploration draws: who calls which operation on whose device, and how the
//! request differs from a correct one. Each has a text form, so a sequence can be printed as a
//! replay command and read back (`check --replay 'u0 create; u0 bind; admin unbind @u0'`).

use crate::contract::case::{Actor, CodeMode};
use crate::error::{Result, UsageError};
use std::fmt;

/// An operation of the exploration: the MFA endpoints, login protection, the MFA login, the
/// deletion of a user, and waiting for the next TOTP step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Bind,
    Unbind,
    Delete,
    Query,
    List,
    /// A password+TOTP token (spec §2.2).
    Login,
    /// Login protection on with virtual MFA (spec §1.7).
    ProtectVmfa,
    /// Login protection on with email.
    ProtectEmail,
    /// Login protection off.
    ProtectOff,
    ProtectShow,
    ProtectList,
    /// The administrator deletes the IAM user (spec §2.4).
    UserDelete,
    /// Wait for the next 30-s TOTP step, so that codes of a fresh step can be sent.
    Tick,
}

const OPS: [(Op, &str); 14] = [
    (Op::Create, "create"),
    (Op::Bind, "bind"),
    (Op::Unbind, "unbind"),
    (Op::Delete, "delete"),
    (Op::Query, "query"),
    (Op::List, "list"),
    (Op::Login, "login"),
    (Op::ProtectVmfa, "protect-vmfa"),
    (Op::ProtectEmail, "protect-email"),
    (Op::ProtectOff, "protect-off"),
    (Op::ProtectShow, "protect-show"),
    (Op::ProtectList, "protect-list"),
    (Op::UserDelete, "user-delete"),
    (Op::Tick, "tick"),
];

impl Op {
    pub fn name(self) -> &'static str {
        OPS.iter().find(|(o, _)| *o == self).map_or("?", |(_, n)| n)
    }

    /// Whether the operation changes a device, so the state is read back after it.
    pub fn mutates_device(self) -> bool {
        matches!(self, Op::Create | Op::Bind | Op::Unbind | Op::Delete | Op::UserDelete)
    }

    /// Whether the request names a subject user.
    pub fn has_subject(self) -> bool {
        !matches!(self, Op::List | Op::ProtectList | Op::Tick)
    }
}

/// How the request differs from the correct one for the state.
#[derive(Debug, Clone, PartialEq)]
pub enum How {
    Plain,
    /// TOTP codes made in this way (bind, unbind, login).
    Codes(CodeMode),
    /// An input class of the coverage matrix, by its name (`name:past-max`).
    Input(String),
    /// A serial number that no device has.
    UnknownSerial,
    /// The serial number of the other user's device, with the subject's user id.
    ForeignSerial,
    /// Create: the name of the subject's previous device.
    SameName,
    /// A body that is not JSON.
    Malformed,
    /// A non-admin caller adds `X-Role: admin`.
    RoleHeader,
    /// Login protection with a verification method that does not exist.
    UnknownMethod,
    /// Login: `totp.user.id` and the passcode of the other user's device.
    ForeignTotpUser,
    /// Create: for a user id nobody has.
    UnknownUser,
}

/// One action of a walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub who: Actor,
    pub op: Op,
    /// The user whose device the request names (`Own` = u0, `Other` = u1).
    pub on: Actor,
    pub how: How,
}

const WHO: [(Actor, &str); 8] = [
    (Actor::Own, "u0"),
    (Actor::Other, "u1"),
    (Actor::Admin, "admin"),
    (Actor::Anonymous, "anonymous"),
    (Actor::InvalidToken, "invalid-token"),
    (Actor::AlteredToken, "altered-token"),
    (Actor::TruncatedToken, "truncated-token"),
    (Actor::ExtendedToken, "extended-token"),
];

/// The text of an actor in replay commands.
pub fn who_name(actor: Actor) -> &'static str {
    WHO.iter().find(|(a, _)| *a == actor).map_or("?", |(_, n)| n)
}

pub fn code_mode_name(mode: CodeMode) -> String {
    serde_json::to_value(mode).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

impl Action {
    pub fn new(who: Actor, op: Op, on: Actor, how: How) -> Action {
        Action { who, op, on, how }
    }

    /// The subject a request names when the text does not say: the caller itself, or u0.
    pub fn default_subject(who: Actor) -> Actor {
        if who == Actor::Other { Actor::Other } else { Actor::Own }
    }
}

impl fmt::Display for How {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            How::Plain => Ok(()),
            How::Codes(mode) => write!(f, "codes={}", code_mode_name(*mode)),
            How::Input(name) => write!(f, "input={name}"),
            How::UnknownSerial => f.write_str("unknown-serial"),
            How::ForeignSerial => f.write_str("foreign-serial"),
            How::SameName => f.write_str("same-name"),
            How::Malformed => f.write_str("malformed"),
            How::RoleHeader => f.write_str("role-header"),
            How::UnknownMethod => f.write_str("unknown-method"),
            How::ForeignTotpUser => f.write_str("foreign-totp-user"),
            How::UnknownUser => f.write_str("unknown-user"),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.op == Op::Tick {
            return f.write_str("tick");
        }
        write!(f, "{} {}", who_name(self.who), self.op.name())?;
        if self.op.has_subject() && self.on != Action::default_subject(self.who) {
            write!(f, " @{}", who_name(self.on))?;
        }
        if self.how != How::Plain {
            write!(f, " {}", self.how)?;
        }
        Ok(())
    }
}

fn bad(text: &str, problem: String) -> crate::Error {
    UsageError::Flag { flag: "--replay", problem: format!("'{text}': {problem}") }.into()
}

fn parse_how(text: &str, word: &str) -> Result<How> {
    if let Some(mode) = word.strip_prefix("codes=") {
        let mode: CodeMode = serde_json::from_value(serde_json::Value::String(mode.to_string()))
            .map_err(|_| bad(text, format!("no code mode '{mode}'")))?;
        return Ok(How::Codes(mode));
    }
    if let Some(name) = word.strip_prefix("input=") {
        return Ok(How::Input(name.to_string()));
    }
    Ok(match word {
        "unknown-serial" => How::UnknownSerial,
        "foreign-serial" => How::ForeignSerial,
        "same-name" => How::SameName,
        "malformed" => How::Malformed,
        "role-header" => How::RoleHeader,
        "unknown-method" => How::UnknownMethod,
        "foreign-totp-user" => How::ForeignTotpUser,
        "unknown-user" => How::UnknownUser,
        other => return Err(bad(text, format!("'{other}' is no variation"))),
    })
}

/// Reads one action: `WHO OP [@USER] [VARIATION]`, or `tick`.
pub fn parse_action(text: &str) -> Result<Action> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words == ["tick"] {
        return Ok(Action::new(Actor::Admin, Op::Tick, Actor::Own, How::Plain));
    }
    let [who, op, rest @ ..] = words.as_slice() else {
        return Err(bad(text, "an action is 'WHO OPERATION [@USER] [VARIATION]'".into()));
    };
    let who = WHO
        .iter()
        .find(|(_, n)| n == who)
        .map(|(a, _)| *a)
        .ok_or_else(|| bad(text, format!("'{who}' is none of {}", WHO.map(|(_, n)| n).join(", "))))?;
    let op = OPS
        .iter()
        .find(|(_, n)| n == op)
        .map(|(o, _)| *o)
        .ok_or_else(|| bad(text, format!("'{op}' is none of {}", OPS.map(|(_, n)| n).join(", "))))?;
    let mut on = Action::default_subject(who);
    let mut how = How::Plain;
    for word in rest {
        match word.strip_prefix('@') {
            Some("u0") => on = Actor::Own,
            Some("u1") => on = Actor::Other,
            Some(other) => return Err(bad(text, format!("'@{other}' is neither @u0 nor @u1"))),
            None if how == How::Plain => how = parse_how(text, word)?,
            None => return Err(bad(text, "at most one variation".into())),
        }
    }
    Ok(Action::new(who, op, on, how))
}

/// Reads a sequence written as [`actions_text`] writes it (actions separated by `;`).
pub fn parse_actions(text: &str) -> Result<Vec<Action>> {
    let actions: Vec<Action> =
        text.split(';').map(str::trim).filter(|s| !s.is_empty()).map(parse_action).collect::<Result<_>>()?;
    if actions.is_empty() {
        return Err(bad(text, "no action".into()));
    }
    Ok(actions)
}

/// The text of a sequence, as `--replay` reads it.
pub fn actions_text(actions: &[Action]) -> String {
    actions.iter().map(Action::to_string).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_their_text() {
        let actions = vec![
            Action::new(Actor::Own, Op::Create, Actor::Own, How::Plain),
            Action::new(Actor::Own, Op::Bind, Actor::Own, How::Codes(CodeMode::NonAsciiDigits)),
            Action::new(Actor::Admin, Op::Unbind, Actor::Other, How::Plain),
            Action::new(Actor::Other, Op::Query, Actor::Own, How::Plain),
            Action::new(Actor::Own, Op::Create, Actor::Own, How::Input("name:past-max".into())),
            Action::new(Actor::Admin, Op::Tick, Actor::Own, How::Plain),
            Action::new(Actor::AlteredToken, Op::Delete, Actor::Own, How::ForeignSerial),
        ];
        let text = actions_text(&actions);
        assert_eq!(
            text,
            "u0 create; u0 bind codes=non-ascii-digits; admin unbind @u1; u1 query @u0; \
             u0 create input=name:past-max; tick; altered-token delete foreign-serial"
        );
        assert_eq!(parse_actions(&text).unwrap(), actions);
    }

    #[test]
    fn bad_actions_name_what_is_wrong() {
        for (text, says) in [
            ("u0", "WHO OPERATION"),
            ("root create", "'root' is none of"),
            ("u0 fly", "'fly' is none of"),
            ("u0 bind codes=loud", "no code mode 'loud'"),
            ("u0 bind @u7", "'@u7'"),
            ("u0 bind malformed same-name", "at most one"),
            (" ; ", "no action"),
        ] {
            let err = parse_actions(text).unwrap_err().to_string();
            assert!(err.contains(says) && err.contains("--replay"), "{text}: {err}");
        }
    }
}
