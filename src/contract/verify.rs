//! State verification after every change: after each create, bind, unbind and delete, accepted
//! or refused, the subject's device is read back (query as the user, query as the
//! administrator, list as the administrator). A refused request changed nothing, an accepted
//! one changed what it says, and query and list agree.
//!
//! Where the documentation leaves open whether a created but unbound device is shown (§5.16),
//! the first readback after a create tells which reading the target follows, and later
//! readbacks are held to it.

use super::build::CaseState;
use super::case::{Actor, Severity};
use super::checks::{request_view, response_view};
use super::report::Finding;
use crate::api::{OpKind, ops};
use crate::client::Exchange;
use crate::target::Target;
use serde_json::Value;

/// What the target shows of one subject's device.
#[derive(Debug, Clone)]
pub struct Shown {
    /// Query as the subject itself.
    by_user: Exchange,
    /// Query as the administrator.
    by_admin: Exchange,
    /// List as the administrator.
    list: Exchange,
}

/// What a query answer shows: `None` no device (not a 200); `Some(None)` a device whose serial
/// the answer does not give (its own checks judge that); `Some(Some(serial))`.
type Seen = Option<Option<String>>;

fn queried(exchange: &Exchange) -> Seen {
    if exchange.status != 200 {
        return None;
    }
    let body: Option<Value> = serde_json::from_slice(&exchange.body).ok();
    Some(
        body.as_ref()
            .and_then(|b| b.pointer("/virtual_mfa_device/serial_number"))
            .and_then(Value::as_str)
            .map(str::to_string),
    )
}

/// Whether two answers show the same thing (a serial missing from one is not a difference).
fn same(a: &Seen, b: &Seen) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Some(x)), Some(Some(y))) => x == y,
        (Some(_), Some(_)) => true,
        _ => false,
    }
}

/// The serials a list answer shows for `user_id`, or `None` when it is not a list.
fn listed(exchange: &Exchange, user_id: &str) -> Option<Vec<String>> {
    if exchange.status != 200 {
        return None;
    }
    let body: Value = serde_json::from_slice(&exchange.body).ok()?;
    let devices = body.get("virtual_mfa_devices")?.as_array()?;
    Some(
        devices
            .iter()
            .filter(|d| d.get("user_id").and_then(Value::as_str) == Some(user_id))
            .filter_map(|d| d.get("serial_number").and_then(Value::as_str).map(str::to_string))
            .collect(),
    )
}

impl Shown {
    /// What the user's query, the admin's query and the list show.
    fn serials(&self, user_id: &str) -> (Seen, Seen, Option<Vec<String>>) {
        (queried(&self.by_user), queried(&self.by_admin), listed(&self.list, user_id))
    }
}

/// Whether the state of `step`'s subject is read back around it.
pub fn applies(op: OpKind, subject: Actor, state: &CaseState) -> bool {
    matches!(op, OpKind::Create | OpKind::Bind | OpKind::Unbind | OpKind::Delete)
        && subject.is_user()
        && state.users.contains_key(&subject)
        && state.admin.is_some()
}

/// Reads the subject's device back (the three reads at once); `Err` says why a read got no
/// answer.
pub async fn read_back(target: &Target, state: &CaseState, subject: Actor) -> Result<Shown, String> {
    let user_id = state.user_id(subject);
    let (user_token, admin_token) = (state.token(subject), state.token(Actor::Admin));
    let by_user = ops::show_device(user_token.as_deref(), &user_id);
    let by_admin = ops::show_device(admin_token.as_deref(), &user_id);
    let list = ops::list_devices(admin_token.as_deref());
    // Read-backs are sent again while the target throttles them (it did not take them).
    let client = &target.client;
    let ((by_user, _), (by_admin, _), (list, _)) = futures::join!(
        client.send_unless_throttled(&by_user),
        client.send_unless_throttled(&by_admin),
        client.send_unless_throttled(&list)
    );
    let answer = |answer: Result<Exchange, crate::client::TransportError>| match answer {
        Err(e) => Err(target.redactor.redact(&e.to_string())),
        Ok(e) => match e.throttled() {
            Some(throttled) => Err(format!(
                "{} {} was throttled by the target ({throttled}) at every attempt; {}",
                e.method,
                crate::sanitize::for_terminal(&target.redactor.redact(&e.path)),
                crate::client::retry::ADVICE
            )),
            None => Ok(e),
        },
    };
    Ok(Shown { by_user: answer(by_user)?, by_admin: answer(by_admin)?, list: answer(list)? })
}

/// What one mutating step was, for judging its readback.
pub struct Change<'a> {
    pub op: OpKind,
    pub number: usize,
    pub subject: Actor,
    pub accepted: bool,
    pub state: &'a CaseState,
    pub redactor: &'a crate::target::Redactor,
}

fn finding(change: &Change<'_>, severity: Severity, exchange: &Exchange, message: String) -> Finding {
    Finding {
        severity,
        step: change.number,
        operation: change.op.name().to_string(),
        check: "state".into(),
        message: crate::sanitize::for_terminal(&change.redactor.redact(&message)),
        request: Some(request_view(exchange, change.redactor)),
        response: Some(response_view(exchange, change.redactor)),
        schema: None,
    }
}

fn describe(seen: &Seen) -> String {
    match seen {
        None => "no device".to_string(),
        Some(None) => "a device".to_string(),
        Some(Some(serial)) => format!("the device {serial}"),
    }
}

/// Judges the readback after a change against the one before it. `shows_unbound` is the
/// reading the target follows for unbound devices, learnt from the first create.
pub fn judge(change: &Change<'_>, before: &Shown, after: &Shown, shows_unbound: &mut Option<bool>) -> Vec<Finding> {
    let user_id = change.state.user_id(change.subject);
    let (user, admin, list) = after.serials(&user_id);
    let mut findings = Vec::new();
    let what = change.op.name();
    let verb = if change.accepted { "an accepted" } else { "a refused" };
    // Query and list agree, whoever asks.
    if !same(&user, &admin) {
        let message = format!(
            "after {verb} {what}, query as the user shows {} but query as the administrator shows {}",
            describe(&user),
            describe(&admin)
        );
        findings.push(finding(change, Severity::Must, &after.by_admin, message));
    }
    if let Some(listed) = &list {
        let agrees = match &user {
            None => listed.is_empty(),
            Some(None) => !listed.is_empty(),
            Some(Some(serial)) => listed.contains(serial),
        };
        if !agrees {
            let message = format!(
                "after {verb} {what}, query shows {} but the list shows {} for the user",
                describe(&user),
                if listed.is_empty() { "no device".to_string() } else { listed.join(", ") }
            );
            findings.push(finding(change, Severity::Must, &after.list, message));
        }
    }
    if !change.accepted {
        let (was_user, was_admin, was_list) = before.serials(&user_id);
        let unchanged =
            same(&was_user, &user) && same(&was_admin, &admin) && was_list.map(sorted) == list.clone().map(sorted);
        if !unchanged {
            let message = format!(
                "a refused {what} changed the device state: query showed {} before and shows {} after",
                describe(&was_user),
                describe(&user)
            );
            findings.push(finding(change, Severity::Must, &after.by_user, message));
        }
        return findings;
    }
    let created = change.state.devices.get(&change.subject).and_then(|d| d.serial.clone());
    match change.op {
        OpKind::Create if shows_unbound.is_none() => *shows_unbound = Some(user.is_some()),
        OpKind::Bind => {
            let shown = match (&user, &created) {
                (None, _) => false,
                (Some(Some(shown)), Some(made)) => shown == made,
                _ => true,
            };
            if !shown {
                let message = format!(
                    "after an accepted bind, query as the user shows {} instead of the bound device {}",
                    describe(&user),
                    created.as_deref().unwrap_or("create returned")
                );
                findings.push(finding(change, Severity::Must, &after.by_user, message));
            }
        }
        OpKind::Unbind if *shows_unbound == Some(false) && user.is_some() => {
            let message = format!(
                "after an accepted unbind, query still shows {}, though this target shows no unbound device \
                 (none was shown after create)",
                describe(&user)
            );
            findings.push(finding(change, Severity::Should, &after.by_user, message));
        }
        OpKind::Delete => {
            if let Some(gone) = &created
                && (matches!(&user, Some(Some(shown)) if shown == gone)
                    || list.as_ref().is_some_and(|l| l.contains(gone)))
            {
                let message = format!("after an accepted delete, the device {gone} is still shown by query or list");
                findings.push(finding(change, Severity::Must, &after.by_user, message));
            }
        }
        _ => {}
    }
    findings
}

fn sorted(mut serials: Vec<String>) -> Vec<String> {
    serials.sort();
    serials
}
