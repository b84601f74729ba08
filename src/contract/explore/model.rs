//! The executable model of the spec (`../shared/spec/IAM-MFA-API.md`) that judges an
//! exploration. For every action in every state it says which statuses the contract allows, at
//! which severity a status outside them is a finding, and what a success changes. Where the
//! documentation allows several outcomes the model allows all of them and then follows the
//! branch the target chose (a nondeterministic model): it learns, for instance, whether this
//! target shows unbound devices, and holds it to that reading from then on.
//!
//! Rules combine as the documentation leaves them: no page says in which order an
//! implementation checks the caller, the state and the input, so when several reasons to refuse
//! apply, any of their statuses is allowed, and the strongest severity among them applies.

use super::action::{Action, How, Op};
use crate::contract::case::{Actor, CodeMode, Severity};
use crate::contract::generate::InputVariant;
use std::collections::BTreeMap;

/// A device as the model knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    None,
    Created,
    Bound,
    /// Bound once, then unbound.
    Unbound,
}

impl Device {
    pub fn exists(self) -> bool {
        self != Device::None
    }
}

/// One user of a walk.
#[derive(Debug, Clone)]
pub struct UserModel {
    pub device: Device,
    /// Login protection as last set: (enabled, method); `None`: never configured.
    pub protect: Option<(bool, &'static str)>,
    /// The last logical tick at which codes of this user's current device were sent, and how
    /// many steps ahead of that tick the latest code was. A code is only sent for a step after
    /// it: a strict verifier never accepts a step twice, and may count a refused attempt as a
    /// use. Steps are the device's (each device has its own seed): a new device starts fresh.
    pub used: Option<(u32, u32)>,
    pub deleted: bool,
    /// Serial numbers of devices deleted since (never listed again, unless recreated).
    pub gone: Vec<String>,
    /// The name of the current or last device.
    pub name: Option<String>,
}

/// What the model knows of the whole walk.
#[derive(Debug, Clone)]
pub struct Model {
    pub users: BTreeMap<Actor, UserModel>,
    /// Whether this target shows created-but-unbound devices in query and list (§5.16),
    /// learnt from its first answer about one.
    pub shows_unbound: Option<bool>,
    /// Whether a user may delete its own device (§5.1), learnt from the first answer.
    pub user_deletes: Option<bool>,
    /// Logical TOTP steps waited so far.
    pub tick: u32,
}

/// What the contract allows for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    pub statuses: Vec<u16>,
    /// Of a status outside `statuses`.
    pub severity: Severity,
    /// Status → the documented reading it is.
    pub readings: BTreeMap<String, String>,
}

/// One rule that applies to a request.
#[derive(Debug, Clone)]
struct Rule {
    statuses: Vec<u16>,
    severity: Severity,
    readings: Vec<(u16, &'static str)>,
}

fn rule(statuses: &[u16], severity: Severity) -> Rule {
    Rule { statuses: statuses.to_vec(), severity, readings: Vec::new() }
}

fn open(statuses: &[u16], readings: &[(u16, &'static str)]) -> Rule {
    Rule { statuses: statuses.to_vec(), severity: Severity::Open, readings: readings.to_vec() }
}

impl Rule {
    fn refuses(&self) -> bool {
        !self.statuses.iter().any(|s| (200..300).contains(s))
    }
}

/// Combines the caller's, the state's and the input's rules: any reason to refuse makes a
/// refusal, with every refusal status any rule allows, at the strongest severity among the
/// refusing rules; with none, every status any rule allows, at the weakest severity (an open
/// point or a `should` input class keeps its own weight).
fn combine(rules: Vec<Rule>) -> Expect {
    let refusing: Vec<&Rule> = rules.iter().filter(|r| r.refuses()).collect();
    let mut statuses: Vec<u16> = rules.iter().flat_map(|r| r.statuses.iter().copied()).collect();
    let deciding: Vec<&Rule> = if refusing.is_empty() {
        rules.iter().collect()
    } else {
        statuses.retain(|s| !(200..300).contains(s));
        refusing
    };
    let severity = if deciding.iter().any(|r| r.refuses()) {
        deciding.iter().map(|r| r.severity).min()
    } else {
        deciding.iter().map(|r| r.severity).max()
    }
    .unwrap_or(Severity::Must);
    statuses.sort_unstable();
    statuses.dedup();
    let mut readings = BTreeMap::new();
    for r in &deciding {
        for (status, text) in &r.readings {
            if statuses.contains(status) {
                readings.insert(status.to_string(), text.to_string());
            }
        }
    }
    Expect { statuses, severity, readings }
}

/// Whether an actor presents no valid token at all.
pub fn unauthenticated(actor: Actor) -> bool {
    matches!(
        actor,
        Actor::Anonymous | Actor::InvalidToken | Actor::AlteredToken | Actor::TruncatedToken | Actor::ExtendedToken
    )
}

const FORBIDDEN: &[u16] = &[400, 403];
const CODE_REFUSED: &[u16] = &[400, 401, 403];
const READ_UNBOUND: &[(u16, &str)] =
    &[(200, "query and list show unbound devices (§5.16)"), (404, "query and list show bound devices only (§5.16)")];

impl Model {
    pub fn new() -> Model {
        let user =
            UserModel { device: Device::None, protect: None, used: None, deleted: false, gone: Vec::new(), name: None };
        let users = [(Actor::Own, user.clone()), (Actor::Other, user)].into_iter().collect();
        Model { users, shows_unbound: None, user_deletes: None, tick: 0 }
    }

    pub fn user(&self, actor: Actor) -> &UserModel {
        &self.users[&if actor == Actor::Other { Actor::Other } else { Actor::Own }]
    }

    pub fn user_mut(&mut self, actor: Actor) -> &mut UserModel {
        self.users.get_mut(&if actor == Actor::Other { Actor::Other } else { Actor::Own }).expect("two users")
    }

    /// Whether codes of a step after every one used for `user` can be sent now: `pair` for a
    /// bind's two consecutive codes.
    pub fn fresh(&self, user: Actor, pair: bool) -> bool {
        let need = if pair { 2 } else { 1 };
        self.user(user).used.is_none_or(|(tick, ahead)| self.tick >= tick + ahead + need)
    }

    /// What the contract allows for `action` now.
    pub fn expect(&self, action: &Action, variants: &[InputVariant]) -> Expect {
        let mut rules = Vec::new();
        if let Some(caller) = self.caller_rule(action) {
            rules.push(caller);
        }
        rules.push(self.state_rule(action));
        if let Some(variation) = self.variation_rule(action, variants) {
            rules.push(variation);
        }
        combine(rules)
    }

    fn caller_rule(&self, a: &Action) -> Option<Rule> {
        if unauthenticated(a.who) {
            // Every page documents 401 for authentication failures [iam_02_0006 IAM.0001, 0067].
            return Some(rule(&[401], Severity::Must));
        }
        if a.who.is_user() && self.user(a.who).deleted {
            // The token of a deleted user may stay valid up to 30 min (cn-2025) or end at once
            // (older pages): §5.11. Either way it never reaches another user's device.
            if a.on != a.who {
                return Some(rule(&[400, 401, 403, 404], Severity::Must));
            }
            return Some(open(
                &[200, 401, 403, 404],
                &[
                    (401, "a deleted user's token is invalid at once (older pages, §5.11)"),
                    (200, "a deleted user's token stays valid up to 30 min (cn-2025, §5.11)"),
                ],
            ));
        }
        let admin_only =
            matches!(a.op, Op::List | Op::ProtectList | Op::ProtectVmfa | Op::ProtectEmail | Op::ProtectOff);
        if a.who != Actor::Admin && admin_only {
            // List [iam_08_0012], the login-protects list [iam_08_0014], modify [iam_08_0021].
            return Some(rule(&[403], Severity::Must));
        }
        if a.who.is_user() && a.op.has_subject() && a.who != a.on {
            // Only the user itself (or an administrator) [iam_08_0013, 0016–0020].
            let statuses: &[u16] = match a.op {
                Op::Bind => &[400, 403, 404],
                Op::ProtectShow => &[403],
                _ => FORBIDDEN,
            };
            return Some(rule(statuses, Severity::Must));
        }
        if a.who == Actor::Admin && a.op == Op::Create {
            return Some(open(
                &[201, 400, 403],
                &[(201, "an administrator may create a user's device (not documented)")],
            ));
        }
        if a.who == Actor::Admin && a.op == Op::Bind {
            return Some(open(&[204, 400, 403, 404, 409], &[]));
        }
        None
    }

    fn state_rule(&self, a: &Action) -> Rule {
        let user = self.user(a.on);
        let device = user.device;
        let vmfa = user.protect == Some((true, "vmfa"));
        match a.op {
            Op::Create if device.exists() => Rule {
                statuses: vec![400, 409],
                severity: Severity::Should,
                readings: vec![(400, "Huawei's create page lists no 409 (§5.16)"), (409, "OTC documents 409 (§5.4)")],
            },
            Op::Create => rule(&[201], Severity::Must),
            Op::Bind => match device {
                Device::None => rule(&[400, 404], Severity::Must),
                Device::Bound => rule(&[400, 409], Severity::Must),
                Device::Created | Device::Unbound => rule(&[204], Severity::Must),
            },
            Op::Unbind => match device {
                Device::None => rule(&[400, 404], Severity::Must),
                Device::Created | Device::Unbound => rule(&[400, 404, 409], Severity::Should),
                // IAM.1062: refused while login protection uses virtual MFA [OTC:iam_02_0006].
                Device::Bound if vmfa => rule(&[400], Severity::Should),
                Device::Bound => rule(&[204], Severity::Must),
            },
            Op::Delete => {
                let base = match device {
                    Device::Created | Device::Unbound if !vmfa => rule(&[204], Severity::Must),
                    // Delete lists only 204/401/403/500 (§5.4): other states are open.
                    Device::None => open(&[204, 400, 403, 404, 409], &[]),
                    _ => open(&[204, 400, 403, 409], &[]),
                };
                if a.who != a.on {
                    return base;
                }
                match self.user_deletes {
                    Some(false) => rule(&[403], Severity::Should),
                    Some(true) => base,
                    None => {
                        let mut statuses = base.statuses.clone();
                        statuses.push(403);
                        Rule {
                            statuses,
                            severity: Severity::Open,
                            readings: vec![
                                (204, "eu-2025: a user deletes its own device (§5.1)"),
                                (403, "intl-2023: only an administrator deletes a device (§5.1)"),
                            ],
                        }
                    }
                }
            }
            Op::Query => self.shown_rule(a.on),
            Op::List | Op::ProtectList => rule(&[200], Severity::Must),
            Op::Login if user.deleted => open(&[201, 400, 401, 403, 404], &[]),
            Op::Login if vmfa && device == Device::Bound => rule(&[201], Severity::Should),
            // A password+TOTP token for a user without vmfa protection is not documented.
            Op::Login => open(&[201, 400, 401, 403], &[]),
            Op::ProtectVmfa if device != Device::Bound => open(&[200, 400], &[]),
            Op::ProtectVmfa | Op::ProtectEmail | Op::ProtectOff => rule(&[200], Severity::Must),
            Op::ProtectShow if user.protect.is_none() => open(
                &[200, 404],
                &[(404, "never configured: IAM.0004 (OTC:iam_08_0016)"), (200, "an unconfigured default is shown")],
            ),
            Op::ProtectShow => rule(&[200], Severity::Must),
            Op::UserDelete => rule(&[204], Severity::Must),
            Op::Tick => rule(&[], Severity::Open),
        }
    }

    /// What a query of `subject`'s device may answer.
    fn shown_rule(&self, subject: Actor) -> Rule {
        let user = self.user(subject);
        match user.device {
            _ if user.deleted => open(&[200, 401, 403, 404], &[]),
            Device::Bound => rule(&[200], Severity::Must),
            Device::None => open(&[404], &[(404, "IAM.0004 could not find (inferred, §1.5)")]),
            Device::Created | Device::Unbound => match self.shows_unbound {
                Some(true) => rule(&[200], Severity::Should),
                Some(false) => rule(&[404], Severity::Should),
                None => open(&[200, 404], READ_UNBOUND),
            },
        }
    }

    fn variation_rule(&self, a: &Action, variants: &[InputVariant]) -> Option<Rule> {
        let refused = |statuses: &[u16]| Some(rule(statuses, Severity::Must));
        match (&a.how, a.op) {
            (How::Plain, _) => None,
            (How::Codes(mode), Op::Bind | Op::Unbind | Op::Login) => match mode {
                CodeMode::Valid | CodeMode::Arbitrary => None,
                // A reused step: refusing it is what a strict verifier does (RFC 6238 §5.2),
                // which no page states.
                CodeMode::Replay | CodeMode::UsedStep => Some(rule(&[400, 401, 403, 409], Severity::Should)),
                // Codes of no step near now (scenarios/coverage.toml [totp]: must).
                CodeMode::Wrong | CodeMode::Stale => refused(CODE_REFUSED),
                // One code of a pair's modes is a valid code of step t or t−1 for unbind and
                // login, which send only the first.
                CodeMode::SameCodeTwice | CodeMode::Reversed if a.op != Op::Bind => None,
                CodeMode::NonConsecutive if a.op != Op::Bind => {
                    let ok = if a.op == Op::Login { 201 } else { 204 };
                    Some(open(&[ok, 400, 401, 403], &[]))
                }
                // Two consecutive codes, six ASCII digits: what one consistent reading implies.
                _ => Some(rule(CODE_REFUSED, Severity::Should)),
            },
            (How::Input(name), _) => {
                let v = variants.iter().find(|v| &v.name == name && op_of(v) == Some(a.op))?;
                Some(Rule { statuses: v.expect.clone(), severity: v.severity, readings: Vec::new() })
            }
            (How::UnknownSerial, Op::Delete) => open(&[204, 400, 403, 404, 409], &[]).into(),
            (How::UnknownSerial, _) => refused(&[400, 404]),
            (How::ForeignSerial, _) => refused(&[400, 403, 404]),
            // A name freed by a delete may be used again [iam_08_0020].
            (How::SameName, _) => None,
            (How::Malformed, _) => refused(&[400]),
            (How::RoleHeader, _) => None,
            (How::UnknownMethod, _) => refused(&[400]),
            (How::ForeignTotpUser, _) => Some(rule(CODE_REFUSED, Severity::Should)),
            (How::UnknownUser, _) => refused(&[400, 403, 404]),
            (How::Codes(_), _) => None,
        }
    }

    /// Carries a success (any 2xx) into the model.
    pub fn succeeded(&mut self, a: &Action, name: Option<String>) {
        let user = self.user_mut(a.on);
        match a.op {
            Op::Create if a.how != How::UnknownUser => {
                user.device = Device::Created;
                user.name = name;
                user.used = None;
            }
            Op::Bind => user.device = Device::Bound,
            Op::Unbind => user.device = Device::Unbound,
            Op::Delete if a.how != How::UnknownSerial => user.device = Device::None,
            Op::ProtectVmfa => user.protect = Some((true, "vmfa")),
            Op::ProtectEmail => user.protect = Some((true, "email")),
            Op::ProtectOff => user.protect = Some((false, "vmfa")),
            Op::UserDelete => {
                user.deleted = true;
                user.device = Device::None;
            }
            _ => {}
        }
    }
}

/// The exploration operation an input class belongs to.
pub fn op_of(variant: &InputVariant) -> Option<Op> {
    use crate::api::OpKind;
    Some(match variant.op {
        OpKind::Create => Op::Create,
        OpKind::Bind => Op::Bind,
        OpKind::Unbind => Op::Unbind,
        OpKind::Delete => Op::Delete,
        OpKind::Query => Op::Query,
        OpKind::List => Op::List,
        _ => return None,
    })
}

impl Default for Model {
    fn default() -> Model {
        Model::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(who: Actor, op: Op, on: Actor, how: How) -> Action {
        Action::new(who, op, on, how)
    }

    #[test]
    fn refusals_combine_their_statuses_at_the_strongest_severity() {
        let mut model = Model::new();
        model.user_mut(Actor::Own).device = Device::Created;
        // A second create (should refuse, 400 or 409) by a caller without a token (must, 401).
        let e = model.expect(&act(Actor::Anonymous, Op::Create, Actor::Own, How::Plain), &[]);
        assert_eq!((e.statuses, e.severity), (vec![400, 401, 409], Severity::Must));
        // Wrong codes for a bound device: both refusals allowed, must.
        model.user_mut(Actor::Own).device = Device::Bound;
        let e = model.expect(&act(Actor::Own, Op::Bind, Actor::Own, How::Codes(CodeMode::Wrong)), &[]);
        assert_eq!((e.statuses, e.severity), (vec![400, 401, 403, 409], Severity::Must));
    }

    #[test]
    fn open_points_allow_every_reading_until_the_target_picks_one() {
        let mut model = Model::new();
        model.user_mut(Actor::Own).device = Device::Created;
        let query = act(Actor::Own, Op::Query, Actor::Own, How::Plain);
        let e = model.expect(&query, &[]);
        assert_eq!((e.statuses.clone(), e.severity), (vec![200, 404], Severity::Open));
        assert_eq!(e.readings.len(), 2);
        model.shows_unbound = Some(false);
        assert_eq!(model.expect(&query, &[]).statuses, vec![404]);
        let delete = act(Actor::Own, Op::Delete, Actor::Own, How::Plain);
        assert_eq!(model.expect(&delete, &[]).statuses, vec![204, 403]);
        model.user_deletes = Some(false);
        assert_eq!(model.expect(&delete, &[]).statuses, vec![403]);
    }

    #[test]
    fn steps_are_fresh_only_after_the_ticks_a_strict_verifier_needs() {
        let mut model = Model::new();
        assert!(model.fresh(Actor::Own, true));
        model.user_mut(Actor::Own).used = Some((0, 0));
        assert!(!model.fresh(Actor::Own, false));
        model.tick = 1;
        assert!(model.fresh(Actor::Own, false) && !model.fresh(Actor::Own, true));
        model.tick = 2;
        assert!(model.fresh(Actor::Own, true) && model.fresh(Actor::Other, true));
    }
}
