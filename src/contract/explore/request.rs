//! Turns an exploration action into the request a contract step sends, reusing the cases'
//! builder: the default request of the operation, then the action's variation.

use super::action::{Action, How, Op};
use super::model::Expect;
use crate::api::{Body, OpKind, Operation, ops};
use crate::contract::build::{self, CaseState, Codes, UNKNOWN_USER_ID};
use crate::contract::case::{Actor, CodeMode, Step};
use crate::contract::generate::{InputVariant, Mutation};
use serde_json::Value;
use std::collections::BTreeMap;

/// The other user of a walk.
pub fn other_of(user: Actor) -> Actor {
    if user == Actor::Other { Actor::Own } else { Actor::Other }
}

/// The contract operation an action calls.
pub fn op_kind(op: Op) -> Option<OpKind> {
    Some(match op {
        Op::Create => OpKind::Create,
        Op::Bind => OpKind::Bind,
        Op::Unbind => OpKind::Unbind,
        Op::Delete => OpKind::Delete,
        Op::Query => OpKind::Query,
        Op::List => OpKind::List,
        Op::Login => OpKind::Token,
        Op::ProtectVmfa | Op::ProtectEmail | Op::ProtectOff => OpKind::LoginProtectModify,
        Op::ProtectShow => OpKind::LoginProtectShow,
        Op::ProtectList => OpKind::LoginProtectList,
        Op::UserDelete => OpKind::UserDelete,
        Op::Tick => return None,
    })
}

/// The codes an action sends: bind a valid pair, a user's unbind and login a valid code, an
/// administrator's unbind six digits that are not verified (spec §5.7), unless the variation
/// says otherwise.
pub fn code_mode(action: &Action) -> Option<CodeMode> {
    match (action.op, &action.how) {
        (Op::Bind | Op::Unbind | Op::Login, How::Codes(mode)) => Some(*mode),
        (Op::Unbind, _) if action.who == Actor::Admin || action.who != action.on => Some(CodeMode::Arbitrary),
        (Op::Bind | Op::Unbind | Op::Login, _) => Some(CodeMode::Valid),
        _ => None,
    }
}

/// Whether the action sends codes made from the device's seed for steps around now, and so
/// may use those steps up: `Some(true)` for a pair (bind), `Some(false)` for one code.
pub fn uses_steps(action: &Action) -> Option<bool> {
    match code_mode(action)? {
        CodeMode::Wrong | CodeMode::Stale | CodeMode::Replay | CodeMode::Arbitrary | CodeMode::UsedStep => None,
        _ => Some(action.op == Op::Bind),
    }
}

/// How many steps ahead of now the latest code the action sends is.
pub fn steps_ahead(action: &Action) -> u32 {
    u32::from(matches!(code_mode(action), Some(CodeMode::NonConsecutive | CodeMode::UsedStep)))
}

/// The step a contract check judges the action's answer by.
pub fn step(action: &Action, expect: &Expect) -> Option<Step> {
    let op = op_kind(action.op)?;
    Some(Step {
        op,
        actor: action.who,
        subject: action.on,
        codes: code_mode(action),
        overrides: BTreeMap::new(),
        remove: Vec::new(),
        set_null: Vec::new(),
        raw_body: None,
        query: BTreeMap::new(),
        headers: BTreeMap::new(),
        expect: expect.statuses.clone(),
        prefer: Vec::new(),
        readings: expect.readings.clone(),
        schema: true,
        equals: BTreeMap::new(),
        absent: Vec::new(),
        contains: BTreeMap::new(),
        lists_subject: None,
        parallel: 1,
        expect_count: BTreeMap::new(),
        setup: false,
        severity: Some(expect.severity),
        wait_steps: 0,
        adopt_token: false,
        wait_token_expiry: false,
    })
}

/// A serial number no device has.
fn unknown_serial(state: &CaseState) -> String {
    format!("iam:unknown:mfa/{}-none", state.unique)
}

/// Sets a JSON pointer of the request body, if it has one.
fn set(op: &mut Operation, pointer: &str, value: Value) {
    if let Body::Json(body) = &mut op.body {
        build::set_pointer(body, pointer, value);
    }
}

/// The request of `action` in `state`, with the codes already made.
pub fn request(
    action: &Action,
    step: &Step,
    state: &CaseState,
    codes: &Codes,
    variants: &[InputVariant],
    foreign_code: Option<String>,
) -> Operation {
    let who = state.token(action.who);
    let token = who.as_deref();
    let subject = state.user_id(action.on);
    let foreign = other_of(action.on);
    let mut op = match action.op {
        Op::ProtectVmfa => ops::modify_login_protect(token, &subject, true, "vmfa"),
        Op::ProtectEmail => ops::modify_login_protect(token, &subject, true, "email"),
        Op::ProtectOff => ops::modify_login_protect(token, &subject, false, "vmfa"),
        _ => build::default_operation(step, state, codes),
    };
    match (&action.how, action.op) {
        (How::UnknownSerial, Op::Delete) => replace_query(&mut op, "serial_number", unknown_serial(state)),
        (How::ForeignSerial, Op::Delete) => replace_query(&mut op, "serial_number", state.serial(foreign)),
        (How::UnknownSerial, _) => set(&mut op, "/serial_number", Value::String(unknown_serial(state))),
        (How::ForeignSerial, _) => set(&mut op, "/serial_number", Value::String(state.serial(foreign))),
        (How::UnknownUser, _) => {
            set(&mut op, "/virtual_mfa_device/user_id", Value::String(UNKNOWN_USER_ID.into()));
        }
        (How::Malformed, _) => {
            op.body = Body::Raw {
                content_type: crate::api::JSON_CONTENT_TYPE.into(),
                bytes: b"{\"virtual_mfa_device\": {\"name\": ".to_vec(),
            };
        }
        (How::RoleHeader, _) => op.headers.push(("X-Role".into(), "admin".into())),
        (How::UnknownMethod, _) => set(&mut op, "/login_protect/verification_method", Value::String("fax".into())),
        (How::ForeignTotpUser, _) => {
            set(&mut op, "/auth/identity/totp/user/id", Value::String(state.user_id(foreign)));
            set(&mut op, "/auth/identity/totp/user/passcode", Value::String(foreign_code.unwrap_or_default()));
        }
        (How::Input(name), _) => {
            if let Some(v) = variants.iter().find(|v| &v.name == name && Some(v.op) == op_kind(action.op)) {
                mutate(&mut op, v, state);
            }
        }
        _ => {}
    }
    op
}

fn replace_query(op: &mut Operation, key: &str, value: String) {
    match op.query.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value,
        None => op.query.push((key.to_string(), value)),
    }
}

/// Applies an input class to the request body (templates as the matrix writes them).
fn mutate(op: &mut Operation, variant: &InputVariant, state: &CaseState) {
    let Body::Json(body) = &mut op.body else { return };
    match &variant.mutation {
        Mutation::Remove => build::remove_pointer(body, &variant.field),
        Mutation::Null => build::set_pointer(body, &variant.field, Value::Null),
        Mutation::Set(value) => {
            let mut value = serde_json::to_value(value).unwrap_or(Value::Null);
            if let Value::String(s) = &value {
                value = Value::String(state.expand(s));
            }
            build::set_pointer(body, &variant.field, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_modes_follow_the_caller() {
        let admin = Action::new(Actor::Admin, Op::Unbind, Actor::Own, How::Plain);
        assert_eq!(code_mode(&admin), Some(CodeMode::Arbitrary));
        assert_eq!(uses_steps(&admin), None);
        let own = Action::new(Actor::Own, Op::Unbind, Actor::Own, How::Plain);
        assert_eq!((code_mode(&own), uses_steps(&own)), (Some(CodeMode::Valid), Some(false)));
        let bind = Action::new(Actor::Own, Op::Bind, Actor::Own, How::Codes(CodeMode::NonConsecutive));
        assert_eq!((uses_steps(&bind), steps_ahead(&bind)), (Some(true), 1));
        let query = Action::new(Actor::Own, Op::Query, Actor::Own, How::Plain);
        assert_eq!(code_mode(&query), None);
    }
}
