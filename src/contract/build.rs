//! Builds the request of a step from the case's state: identities, devices, generated codes.

use super::case::{Actor, CodeMode, Step};
use crate::api::models::{BindMfaDevice, UnbindMfaDevice};
use crate::api::{Body, OpKind, Operation, ops};
use crate::target::Identity;
use crate::totp::{self, Seed};
use serde_json::{Value, json};
use std::collections::HashMap;

/// What the case knows about one subject's device.
#[derive(Debug, Clone, Default)]
pub struct DeviceState {
    pub serial: Option<String>,
    pub seed: Option<Seed>,
    /// The seed as create returned it, to look for in every other answer.
    pub seed_forms: Option<crate::rules::SeedForms>,
    /// The latest time step this harness used with the device.
    pub last_step: Option<u64>,
    /// The codes of the last successful bind, for replay cases.
    pub last_bind: Option<(String, String)>,
}

/// The state one case carries from step to step.
#[derive(Debug, Default)]
pub struct CaseState {
    pub users: HashMap<Actor, Identity>,
    pub admin: Option<Identity>,
    pub domain: Option<String>,
    pub devices: HashMap<Actor, DeviceState>,
    /// A device name unique to this case.
    pub unique: String,
    /// A syntactically plausible token that was never issued.
    pub bogus_token: String,
    /// When the token a step adopted was issued and expires (Unix seconds).
    pub adopted: Option<(u64, u64)>,
}

/// Codes a step will send, and the step a successful answer uses up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Codes {
    pub first: String,
    pub second: String,
    pub uses_step: Option<u64>,
}

/// A user id that no implementation has issued.
pub const UNKNOWN_USER_ID: &str = "0000000000000000000000000000dead";

impl CaseState {
    /// The state a case or a walk starts from: the administrator, the account, a device name
    /// and a never-issued token of its own.
    pub fn new(admin: Identity, domain: Option<String>) -> CaseState {
        CaseState {
            admin: Some(admin),
            domain,
            unique: crate::ids::case_device_name(),
            bogus_token: crate::ids::random_token(),
            ..CaseState::default()
        }
    }

    pub fn user_id(&self, actor: Actor) -> String {
        match actor {
            Actor::Own | Actor::Other => self.users.get(&actor).map(|i| i.user_id.clone()),
            Actor::Admin => self.admin.as_ref().map(|a| a.user_id.clone()),
            Actor::Anonymous | Actor::InvalidToken => None,
            Actor::AlteredToken | Actor::TruncatedToken | Actor::ExtendedToken => {
                self.users.get(&Actor::Own).map(|i| i.user_id.clone())
            }
        }
        .unwrap_or_else(|| UNKNOWN_USER_ID.to_string())
    }

    pub fn token(&self, actor: Actor) -> Option<String> {
        match actor {
            Actor::Own | Actor::Other => self.users.get(&actor).map(|i| i.token.expose().to_string()),
            Actor::Admin => self.admin.as_ref().map(|a| a.token.expose().to_string()),
            Actor::Anonymous => None,
            Actor::InvalidToken => Some(self.bogus_token.clone()),
            Actor::AlteredToken | Actor::TruncatedToken | Actor::ExtendedToken => {
                let own = self.users.get(&Actor::Own)?.token.expose().to_string();
                Some(alter(actor, &own))
            }
        }
    }

    pub fn serial(&self, subject: Actor) -> String {
        self.devices
            .get(&subject)
            .and_then(|d| d.serial.clone())
            .unwrap_or_else(|| format!("iam:unknown:mfa/{}", self.unique))
    }

    /// Expands `{self.user_id}`, `{other.user_id}`, `{admin.user_id}`, `{self.serial}`,
    /// `{other.serial}`, `{self.code}`, `{other.code}` (the code of the device's next unused
    /// step) and `{unique}`.
    pub fn expand(&self, template: &str) -> String {
        let mut out = template.to_string();
        for (name, actor) in [("self", Actor::Own), ("other", Actor::Other)] {
            if out.contains(&format!("{{{name}.code}}")) {
                let code = self.codes(OpKind::Token, CodeMode::Valid, actor, totp::unix_now()).first;
                out = out.replace(&format!("{{{name}.code}}"), &code);
            }
        }
        for (name, actor) in [("self", Actor::Own), ("other", Actor::Other), ("admin", Actor::Admin)] {
            if out.contains(&format!("{{{name}.user_id}}")) {
                out = out.replace(&format!("{{{name}.user_id}}"), &self.user_id(actor));
            }
            if out.contains(&format!("{{{name}.serial}}")) {
                out = out.replace(&format!("{{{name}.serial}}"), &self.serial(actor));
            }
        }
        out.replace("{unique}", &self.unique)
    }

    /// Codes for `mode` at `now` for the subject's device (empty strings when it has no seed).
    pub fn codes(&self, op: OpKind, mode: CodeMode, subject: Actor, now: u64) -> Codes {
        let device = self.devices.get(&subject).cloned().unwrap_or_default();
        let Some(seed) = device.seed.as_ref() else {
            let fixed = if mode == CodeMode::Arbitrary { "000000" } else { "" };
            return Codes { first: fixed.into(), second: fixed.into(), uses_step: None };
        };
        let t = totp::step_at(now);
        let code = |s: u64| seed.code(s);
        match (op, mode) {
            (OpKind::Bind, CodeMode::Valid) => Codes { first: code(t - 1), second: code(t), uses_step: Some(t) },
            (_, CodeMode::Valid) => {
                let step = device.last_step.map_or(t, |l| (l + 1).max(t));
                Codes { first: code(step), second: code(step), uses_step: Some(step) }
            }
            (_, CodeMode::SameCodeTwice) => Codes { first: code(t), second: code(t), uses_step: None },
            (_, CodeMode::NonConsecutive) => Codes { first: code(t - 1), second: code(t + 1), uses_step: None },
            (_, CodeMode::Stale) => Codes { first: code(t - 3), second: code(t - 2), uses_step: None },
            (_, CodeMode::Wrong) => {
                let wrong = wrong_code(seed, t);
                Codes { first: wrong.clone(), second: wrong, uses_step: None }
            }
            (_, CodeMode::Replay) => {
                let (first, second) = device.last_bind.clone().unwrap_or_default();
                Codes { first, second, uses_step: None }
            }
            (_, CodeMode::Arbitrary) => Codes { first: "000000".into(), second: "000000".into(), uses_step: None },
            (_, CodeMode::UsedStep) => {
                let used = device.last_step.unwrap_or(t);
                Codes { first: code(used), second: code(used + 1), uses_step: None }
            }
            (_, CodeMode::Reversed) => Codes { first: code(t), second: code(t - 1), uses_step: None },
            (op, CodeMode::LeadingZero | CodeMode::Padded | CodeMode::NonAsciiDigits) => {
                let valid = self.codes(op, CodeMode::Valid, subject, now);
                let disguise = |c: &str| match mode {
                    CodeMode::LeadingZero => format!("0{c}"),
                    CodeMode::Padded => format!(" {c} "),
                    _ => c.chars().map(|d| char::from_u32(d as u32 - '0' as u32 + 0xFF10).unwrap_or(d)).collect(),
                };
                Codes { first: disguise(&valid.first), second: disguise(&valid.second), uses_step: None }
            }
        }
    }
}

/// A real token made invalid: one character changed in the middle, cut to half, or one
/// character longer.
fn alter(actor: Actor, token: &str) -> String {
    match actor {
        Actor::TruncatedToken => token.chars().take(token.chars().count() / 2).collect(),
        Actor::ExtendedToken => format!("{token}A"),
        _ => {
            let mut chars: Vec<char> = token.chars().collect();
            let middle = chars.len() / 2;
            if let Some(c) = chars.get_mut(middle) {
                *c = if *c == 'A' { 'B' } else { 'A' };
            }
            chars.into_iter().collect()
        }
    }
}

/// A 6-digit code equal to no code of steps t−5 … t+5.
fn wrong_code(seed: &Seed, t: u64) -> String {
    let near: Vec<String> = (t.saturating_sub(5)..=t + 5).map(|s| seed.code(s)).collect();
    let base: u32 = seed.code(t).parse().unwrap_or(0);
    (1..)
        .map(|k: u32| format!("{:06}", (base + k * 370_371) % 1_000_000))
        .find(|c| !near.contains(c))
        .unwrap_or_else(|| "000000".into())
}

/// The step's request, before overrides.
pub fn default_operation(step: &Step, state: &CaseState, codes: &Codes) -> Operation {
    let token = state.token(step.actor);
    let token = token.as_deref();
    let subject = state.user_id(step.subject);
    let serial = state.serial(step.subject);
    match step.op {
        OpKind::Create => ops::create_device(token, &subject, &state.unique),
        OpKind::Bind => ops::bind_device(
            token,
            &BindMfaDevice {
                user_id: subject,
                serial_number: serial,
                authentication_code_first: codes.first.clone(),
                authentication_code_second: codes.second.clone(),
            },
        ),
        OpKind::Unbind => ops::unbind_device(
            token,
            &UnbindMfaDevice { user_id: subject, authentication_code: codes.first.clone(), serial_number: serial },
        ),
        OpKind::Delete => ops::delete_device(token, &subject, &serial),
        OpKind::Query => ops::show_device(token, &subject),
        OpKind::List => ops::list_devices(token),
        OpKind::Token => {
            let identity = state.users.get(&step.subject);
            let name = identity.and_then(|i| i.name.clone()).unwrap_or_default();
            let password = identity.and_then(|i| i.password.as_ref()).map(|p| p.expose().to_string());
            let domain = state.domain.clone().unwrap_or_default();
            match step.codes {
                Some(_) => ops::token_by_password_and_totp(
                    &domain,
                    &name,
                    &password.unwrap_or_default(),
                    &subject,
                    &codes.first,
                ),
                None => ops::token_by_password(&domain, &name, &password.unwrap_or_default()),
            }
        }
        OpKind::UserCreate | OpKind::UserDelete | OpKind::UserList => match step.op {
            OpKind::UserDelete => ops::delete_user(token, &subject),
            OpKind::UserList => ops::list_users(token),
            _ => Operation::new(OpKind::UserCreate, None).with_token(token).with_json(json!({"user": {}})),
        },
        OpKind::LoginProtectShow => ops::show_login_protect(token, &subject),
        OpKind::LoginProtectList => ops::list_login_protects(token),
        OpKind::LoginProtectModify => ops::modify_login_protect(token, &subject, true, "vmfa"),
    }
}

/// Applies a step's `remove`, `set`, `query` and `raw_body` to the default request.
pub fn apply_overrides(mut op: Operation, step: &Step, state: &CaseState) -> Operation {
    if let Body::Json(body) = &mut op.body {
        for pointer in &step.remove {
            remove_pointer(body, pointer);
        }
        for pointer in &step.set_null {
            set_pointer(body, pointer, Value::Null);
        }
        for (pointer, value) in &step.overrides {
            let mut value = serde_json::to_value(value).unwrap_or(Value::Null);
            if let Value::String(s) = &value {
                value = Value::String(state.expand(s));
            }
            set_pointer(body, pointer, value);
        }
    }
    for (name, value) in &step.headers {
        op.headers.push((name.clone(), state.expand(value)));
    }
    for (key, value) in &step.query {
        let value = state.expand(value);
        match op.query.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => op.query.push((key.clone(), value)),
        }
    }
    if let Some(raw) = &step.raw_body {
        op.body = Body::Raw { content_type: crate::api::JSON_CONTENT_TYPE.into(), bytes: raw.clone().into_bytes() };
    }
    op
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Sets `value` at a JSON pointer, creating objects on the way.
pub fn set_pointer(root: &mut Value, pointer: &str, value: Value) {
    let tokens: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
    let Some((last, parents)) = tokens.split_last() else {
        *root = value;
        return;
    };
    let mut node = root;
    for token in parents {
        if !node.is_object() {
            *node = json!({});
        }
        node = node.as_object_mut().expect("made an object").entry(token.clone()).or_insert_with(|| json!({}));
    }
    if !node.is_object() {
        *node = json!({});
    }
    node.as_object_mut().expect("made an object").insert(last.clone(), value);
}

/// Removes the member at a JSON pointer, if there is one.
pub fn remove_pointer(root: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else { return };
    if let Some(Value::Object(map)) = root.pointer_mut(parent) {
        map.remove(&unescape(last));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_set_and_remove_nested_members() {
        let mut v = json!({"a": {"b": 1}});
        set_pointer(&mut v, "/a/c", json!("x"));
        set_pointer(&mut v, "/d/e", json!(2));
        remove_pointer(&mut v, "/a/b");
        remove_pointer(&mut v, "/nope/x");
        assert_eq!(v, json!({"a": {"c": "x"}, "d": {"e": 2}}));
    }

    #[test]
    fn code_modes_follow_their_definitions() {
        let seed = Seed::parse("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        let mut state = CaseState::default();
        state.devices.insert(Actor::Own, DeviceState { seed: Some(seed.clone()), ..Default::default() });
        let now = 1_700_000_000;
        let t = totp::step_at(now);
        let valid = state.codes(OpKind::Bind, CodeMode::Valid, Actor::Own, now);
        assert_eq!((valid.first.as_str(), valid.second.as_str()), (seed.code(t - 1).as_str(), seed.code(t).as_str()));
        let stale = state.codes(OpKind::Bind, CodeMode::Stale, Actor::Own, now);
        assert_eq!(stale.second, seed.code(t - 2));
        let wrong = state.codes(OpKind::Bind, CodeMode::Wrong, Actor::Own, now);
        assert!((t - 5..=t + 5).all(|s| seed.code(s) != wrong.first));
        state.devices.get_mut(&Actor::Own).unwrap().last_step = Some(t);
        let unbind = state.codes(OpKind::Unbind, CodeMode::Valid, Actor::Own, now);
        assert_eq!((unbind.first, unbind.uses_step), (seed.code(t + 1), Some(t + 1)));
    }

    #[test]
    fn templates_expand_known_names() {
        let mut state = CaseState { unique: "dev1".into(), ..Default::default() };
        state.devices.insert(Actor::Own, DeviceState { serial: Some("iam:d:mfa/dev1".into()), ..Default::default() });
        assert_eq!(
            state.expand("{self.serial}|{unique}|{other.user_id}"),
            format!("iam:d:mfa/dev1|dev1|{UNKNOWN_USER_ID}")
        );
    }
}
