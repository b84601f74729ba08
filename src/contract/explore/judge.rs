//! What the model says of an answer's body, beyond its status and schema: a query shows the
//! device create returned, a list shows every bound device and no deleted one, login
//! protection reads back as it was set, an MFA token says it is one. It also learns the
//! readings the target follows where the documentation allows several (§5.1, §5.16).

use super::action::{Action, How, Op};
use super::model::{Device, Model};
use crate::client::Exchange;
use crate::contract::build::CaseState;
use crate::contract::case::{Actor, Severity};
use serde_json::Value;

/// One judgement of an answer's content: severity, check kind, message.
pub type Verdict = (Severity, &'static str, String);

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// The serials a list shows for `user_id`.
fn listed(body: &Value, user_id: &str) -> Vec<String> {
    body.get("virtual_mfa_devices")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|d| d.get("user_id").and_then(Value::as_str) == Some(user_id))
                .filter_map(|d| d.get("serial_number").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Judges a 2xx answer's body against the model, and learns what the answer tells of the
/// readings this target follows.
pub fn judge(model: &mut Model, action: &Action, state: &CaseState, exchange: &Exchange) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let Some(body) = exchange.json() else { return verdicts };
    match action.op {
        Op::Query if exchange.status == 200 => query(model, action.on, state, &body, &mut verdicts),
        Op::List if exchange.status == 200 => {
            for user in [Actor::Own, Actor::Other] {
                list(model, user, state, &body, &mut verdicts);
            }
        }
        Op::ProtectVmfa | Op::ProtectEmail | Op::ProtectOff if exchange.status == 200 => {
            let expected = match action.op {
                Op::ProtectVmfa => (true, "vmfa"),
                Op::ProtectEmail => (true, "email"),
                _ => (false, "vmfa"),
            };
            if action.how == How::Plain {
                protect(&body, "/login_protect", &state.user_id(action.on), expected, &mut verdicts);
            }
        }
        Op::ProtectShow if exchange.status == 200 => {
            if let Some(expected) = model.user(action.on).protect {
                protect(&body, "/login_protect", &state.user_id(action.on), expected, &mut verdicts);
            }
        }
        Op::ProtectList if exchange.status == 200 => {
            for user in [Actor::Own, Actor::Other] {
                let Some((true, method)) = model.user(user).protect else { continue };
                if model.user(user).deleted {
                    continue;
                }
                let id = state.user_id(user);
                let item = body
                    .get("login_protects")
                    .and_then(Value::as_array)
                    .and_then(|items| items.iter().find(|i| i.get("user_id").and_then(Value::as_str) == Some(&id)));
                match item {
                    None => verdicts.push((
                        Severity::Must,
                        "listed",
                        format!("the login-protects list lacks user {id}, whose protection is on ({method})"),
                    )),
                    Some(item) => protect(item, "", &id, (true, method), &mut verdicts),
                }
            }
        }
        Op::Login if exchange.status == 201 => {
            let methods = body.pointer("/token/methods").and_then(Value::as_array);
            if methods.is_some_and(|m| !m.iter().any(|x| x.as_str() == Some("totp"))) {
                verdicts.push((
                    Severity::Should,
                    "token",
                    "a password+TOTP token whose token.methods lacks \"totp\" (spec §2.1: [\"password\",\"totp\"] for MFA)"
                        .into(),
                ));
            }
        }
        _ => {}
    }
    verdicts
}

/// Learns from a query's or a delete's status the reading this target follows.
pub fn learn(model: &mut Model, action: &Action, status: u16) {
    let device = model.user(action.on).device;
    match action.op {
        Op::Query if matches!(device, Device::Created | Device::Unbound) && matches!(status, 200 | 404) => {
            model.shows_unbound.get_or_insert(status == 200);
        }
        Op::Delete if action.who == action.on && action.how == How::Plain => {
            if (200..300).contains(&status) {
                model.user_deletes.get_or_insert(true);
            } else if status == 403 {
                model.user_deletes.get_or_insert(false);
            }
        }
        _ => {}
    }
}

fn query(model: &Model, user: Actor, state: &CaseState, body: &Value, verdicts: &mut Vec<Verdict>) {
    let shown = text(body, "/virtual_mfa_device/serial_number");
    let id = state.user_id(user);
    let known = state.devices.get(&user).and_then(|d| d.serial.clone());
    let model_user = model.user(user);
    if let Some(owner) = text(body, "/virtual_mfa_device/user_id")
        && owner != id
    {
        verdicts.push((Severity::Must, "state", format!("a query of user {id} shows a device of user {owner}")));
    }
    match (model_user.device, shown, known) {
        (Device::None, Some(shown), _) if model_user.gone.iter().any(|g| g == shown) => {
            verdicts.push((Severity::Must, "state", format!("a query shows the device {shown}, which was deleted")))
        }
        (device, Some(shown), Some(known)) if device.exists() && shown != known => verdicts.push((
            Severity::Must,
            "state",
            format!("a query shows the serial number {shown}; create returned {known}"),
        )),
        _ => {}
    }
}

fn list(model: &mut Model, user: Actor, state: &CaseState, body: &Value, verdicts: &mut Vec<Verdict>) {
    let id = state.user_id(user);
    let serials = listed(body, &id);
    let known = state.devices.get(&user).and_then(|d| d.serial.clone());
    let model_user = model.user(user).clone();
    if model_user.deleted {
        if !serials.is_empty() {
            let message = format!("the list still shows {} for user {id}, which was deleted", serials.join(", "));
            verdicts.push((Severity::Should, "listed", message));
        }
        return;
    }
    let has_known = known.as_ref().is_some_and(|k| serials.contains(k));
    match model_user.device {
        Device::Bound => {
            if let Some(known) = known.filter(|_| !has_known) {
                let message = format!("the list lacks the bound device {known} of user {id}");
                verdicts.push((Severity::Must, "listed", message));
            }
        }
        Device::Created | Device::Unbound => match model.shows_unbound {
            None => model.shows_unbound = Some(has_known),
            Some(shows) if shows != has_known => {
                let message = format!(
                    "the list {} the unbound device of user {id}, but query {} unbound devices",
                    if has_known { "shows" } else { "does not show" },
                    if shows { "shows" } else { "does not show" },
                );
                verdicts.push((Severity::Should, "listed", message));
            }
            _ => {}
        },
        Device::None => {
            if let Some(gone) = serials.iter().find(|s| model_user.gone.contains(s)) {
                let message = format!("the list still shows the deleted device {gone} of user {id}");
                verdicts.push((Severity::Must, "listed", message));
            } else if !serials.is_empty() {
                let message = format!("the list shows {} for user {id}, who has no device", serials.join(", "));
                verdicts.push((Severity::Must, "listed", message));
            }
        }
    }
}

fn protect(body: &Value, at: &str, id: &str, (enabled, method): (bool, &str), verdicts: &mut Vec<Verdict>) {
    let user = text(body, &format!("{at}/user_id"));
    let shown_enabled = body.pointer(&format!("{at}/enabled")).and_then(Value::as_bool);
    let shown_method = text(body, &format!("{at}/verification_method"));
    if user.is_some_and(|u| u != id) {
        let message = format!("login protection of user {id} is shown for user {}", user.unwrap_or_default());
        verdicts.push((Severity::Must, "equals", message));
    }
    if shown_enabled.is_some_and(|e| e != enabled) || (enabled && shown_method.is_some_and(|m| m != method)) {
        let message = format!(
            "login protection reads enabled={} verification_method={}; it was set to enabled={enabled} \
             verification_method={method}",
            shown_enabled.map_or("?".into(), |e| e.to_string()),
            shown_method.unwrap_or("?"),
        );
        verdicts.push((Severity::Must, "equals", message));
    }
}
