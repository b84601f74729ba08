//! Draws the next action of a walk from the coverage axes, weighted by what the model's state
//! makes interesting: mostly the correct next move of a device's life (so walks reach every
//! state), and otherwise one axis wrong at a time — the caller, the codes, an input class, the
//! serial number.

use super::action::{Action, How, Op};
use super::model::{Device, Model};
use super::request::{other_of, uses_steps};
use crate::contract::build::CaseState;
use crate::contract::case::{Actor, CodeMode};
use crate::contract::generate::InputVariant;
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

/// What a walk may do beyond the model's state.
#[derive(Debug, Clone, Copy)]
pub struct Allowance {
    /// Login actions need the users' passwords.
    pub passwords: bool,
    /// Deleting a user needs users the run created (a pool's must outlive it).
    pub deletes_users: bool,
    /// Waits for the next TOTP step still allowed in this walk.
    pub ticks: u32,
}

const WRONG_CALLERS: [Actor; 5] =
    [Actor::Anonymous, Actor::InvalidToken, Actor::AlteredToken, Actor::TruncatedToken, Actor::ExtendedToken];

const BAD_CODES: [CodeMode; 9] = [
    CodeMode::Wrong,
    CodeMode::Stale,
    CodeMode::SameCodeTwice,
    CodeMode::NonConsecutive,
    CodeMode::Reversed,
    CodeMode::LeadingZero,
    CodeMode::Padded,
    CodeMode::NonAsciiDigits,
    CodeMode::Replay,
];

/// Whether an action can be sent now: codes are only made for steps no earlier request used,
/// a replay needs codes to replay, a foreign serial needs the other user's device.
pub fn enabled(model: &Model, state: &CaseState, action: &Action, allowance: &Allowance) -> bool {
    let user = model.user(action.on);
    let seeded = |u: Actor| state.devices.get(&u).is_some_and(|d| d.seed.is_some());
    if action.op == Op::Tick {
        // Worth its wait only when some user's next codes need a fresh step.
        return allowance.ticks > 0
            && [Actor::Own, Actor::Other].iter().any(|u| !model.user(*u).deleted && !model.fresh(*u, true));
    }
    if model.user(action.who).deleted && action.who.is_user() && action.op != Op::Query {
        return false;
    }
    if user.deleted && action.op != Op::Query {
        return false;
    }
    if action.op == Op::Login && !allowance.passwords {
        return false;
    }
    if action.op == Op::UserDelete && !allowance.deletes_users {
        return false;
    }
    if let Some(pair) = uses_steps(action)
        && seeded(action.on)
        && !model.fresh(action.on, pair)
    {
        return false;
    }
    match &action.how {
        How::Codes(CodeMode::Replay) => state.devices.get(&action.on).is_some_and(|d| d.last_bind.is_some()),
        // A bind of the other user's serial sends that device's codes (else it fails on them).
        How::ForeignSerial if action.op == Op::Bind => {
            let other = other_of(action.on);
            seeded(other) && model.fresh(other, true) && !model.user(other).deleted
        }
        How::ForeignSerial => state.devices.get(&other_of(action.on)).is_some_and(|d| d.serial.is_some()),
        How::ForeignTotpUser => {
            let other = other_of(action.on);
            seeded(other) && model.fresh(other, false) && !model.user(other).deleted
        }
        How::SameName => user.name.is_some(),
        How::Codes(CodeMode::UsedStep) => {
            action.op == Op::Bind
                && user.device == Device::Unbound
                && state.devices.get(&action.on).is_some_and(|d| d.seed.is_some() && d.last_step.is_some())
        }
        _ => true,
    }
}

/// The next action for `model`, or `None` when nothing is enabled.
pub fn next(
    rng: &mut ChaCha8Rng,
    model: &Model,
    state: &CaseState,
    variants: &[InputVariant],
    allowance: &Allowance,
) -> Option<Action> {
    for _ in 0..64 {
        let action = if rng.random_bool(0.55) { progress(rng, model) } else { deviation(rng, model, variants) };
        if enabled(model, state, &action, allowance) {
            return Some(action);
        }
    }
    let tick = Action::new(Actor::Admin, Op::Tick, Actor::Own, How::Plain);
    enabled(model, state, &tick, allowance).then_some(tick)
}

fn pick_user(rng: &mut ChaCha8Rng, model: &Model) -> Actor {
    let alive: Vec<Actor> = [Actor::Own, Actor::Other].into_iter().filter(|u| !model.user(*u).deleted).collect();
    alive.choose(rng).copied().unwrap_or(Actor::Own)
}

/// A correct next move for one user's device (or a read of it).
fn progress(rng: &mut ChaCha8Rng, model: &Model) -> Action {
    let u = pick_user(rng, model);
    let user = model.user(u);
    let vmfa = user.protect == Some((true, "vmfa"));
    let mut moves: Vec<(u32, Action)> = vec![
        (2, Action::new(u, Op::Query, u, How::Plain)),
        (1, Action::new(Actor::Admin, Op::Query, u, How::Plain)),
        (2, Action::new(Actor::Admin, Op::List, u, How::Plain)),
        (1, Action::new(Actor::Admin, Op::ProtectShow, u, How::Plain)),
        (1, Action::new(Actor::Admin, Op::ProtectList, u, How::Plain)),
        (1, Action::new(Actor::Admin, Op::Tick, u, How::Plain)),
    ];
    match user.device {
        Device::None => {
            moves.push((8, Action::new(u, Op::Create, u, How::Plain)));
            moves.push((2, Action::new(u, Op::Create, u, How::SameName)));
            moves.push((1, Action::new(Actor::Admin, Op::Create, u, How::Plain)));
        }
        Device::Created | Device::Unbound => {
            moves.push((8, Action::new(u, Op::Bind, u, How::Plain)));
            moves.push((2, Action::new(Actor::Admin, Op::Delete, u, How::Plain)));
            moves.push((1, Action::new(u, Op::Delete, u, How::Plain)));
            moves.push((1, Action::new(u, Op::Create, u, How::Plain)));
            moves.push((1, Action::new(Actor::Admin, Op::Unbind, u, How::Plain)));
        }
        Device::Bound => {
            moves.push((3, Action::new(Actor::Admin, Op::Unbind, u, How::Plain)));
            // A user's own unbind needs a fresh step: wait for one when the walk may.
            if model.fresh(u, false) {
                moves.push((4, Action::new(u, Op::Unbind, u, How::Plain)));
            } else {
                moves.push((3, Action::new(Actor::Admin, Op::Tick, u, How::Plain)));
            }
            moves.push((1, Action::new(Actor::Admin, Op::Delete, u, How::Plain)));
            if vmfa {
                moves.push((4, Action::new(u, Op::Login, u, How::Plain)));
                moves.push((2, Action::new(Actor::Admin, Op::ProtectOff, u, How::Plain)));
                moves.push((1, Action::new(Actor::Admin, Op::ProtectEmail, u, How::Plain)));
            } else {
                moves.push((3, Action::new(Actor::Admin, Op::ProtectVmfa, u, How::Plain)));
            }
        }
    }
    if rng.random_bool(0.3) {
        moves.push((1, Action::new(Actor::Admin, Op::UserDelete, u, How::Plain)));
    }
    weighted(rng, moves)
}

fn weighted(rng: &mut ChaCha8Rng, moves: Vec<(u32, Action)>) -> Action {
    let total: u32 = moves.iter().map(|(w, _)| w).sum();
    let mut at = rng.random_range(0..total.max(1));
    for (weight, action) in &moves {
        if at < *weight {
            return action.clone();
        }
        at -= weight;
    }
    moves[0].1.clone()
}

/// The operations that act on a device in `device`'s state (so a deviation in them is judged
/// against the state, not refused for the state alone).
fn fitting(device: Device, vmfa: bool) -> Vec<Op> {
    match device {
        Device::None => vec![Op::Create, Op::Query],
        Device::Created | Device::Unbound => vec![Op::Bind, Op::Delete, Op::Query, Op::Create],
        Device::Bound if vmfa => vec![Op::Unbind, Op::Query, Op::Login, Op::ProtectShow, Op::ProtectOff],
        Device::Bound => vec![Op::Unbind, Op::Query, Op::Delete, Op::ProtectShow, Op::ProtectVmfa],
    }
}

/// The operation that takes codes in `device`'s state.
fn coded(device: Device, vmfa: bool) -> Op {
    match device {
        Device::Bound if vmfa => Op::Login,
        Device::Bound => Op::Unbind,
        _ => Op::Bind,
    }
}

/// The state an input class's template assumes (scenarios/contract/matrix.toml).
fn template_fits(op: Op, device: Device) -> bool {
    match op {
        Op::Create => device == Device::None,
        Op::Bind | Op::Delete => matches!(device, Device::Created | Device::Unbound),
        _ => device == Device::Bound,
    }
}

/// One axis wrong at a time, on an operation that fits the device's state.
fn deviation(rng: &mut ChaCha8Rng, model: &Model, variants: &[InputVariant]) -> Action {
    let u = pick_user(rng, model);
    let user = model.user(u);
    let vmfa = user.protect == Some((true, "vmfa"));
    let ops = fitting(user.device, vmfa);
    let op = *ops.choose(rng).expect("ops");
    match rng.random_range(0..10) {
        // A caller with no valid token.
        0 => Action::new(*WRONG_CALLERS.choose(rng).expect("callers"), op, u, How::Plain),
        // The other user acts on this user's device.
        1 => Action::new(other_of(u), op, u, How::Plain),
        // A user calls an administrator's operation.
        2 => {
            let op = *[Op::List, Op::ProtectList, Op::ProtectVmfa, Op::ProtectEmail].choose(rng).expect("ops");
            let how = if op == Op::List && rng.random_bool(0.5) { How::RoleHeader } else { How::Plain };
            let who = if rng.random_bool(0.7) { u } else { other_of(u) };
            Action::new(who, op, u, how)
        }
        // Codes that are not the device's current, consecutive ones.
        3 | 4 if user.device == Device::Unbound && rng.random_bool(0.4) => {
            Action::new(u, Op::Bind, u, How::Codes(CodeMode::UsedStep))
        }
        3 | 4 => {
            let op = coded(user.device, vmfa);
            let modes: Vec<CodeMode> = BAD_CODES
                .into_iter()
                .filter(|m| {
                    op == Op::Bind
                        || !matches!(m, CodeMode::SameCodeTwice | CodeMode::Reversed | CodeMode::NonConsecutive)
                })
                .collect();
            Action::new(u, op, u, How::Codes(*modes.choose(rng).expect("modes")))
        }
        // An input class of a field, in the state its template assumes, for u0.
        5 | 6 => {
            let device = model.user(Actor::Own).device;
            let fit: Vec<&InputVariant> = variants
                .iter()
                .filter(|v| super::model::op_of(v).is_some_and(|op| template_fits(op, device)))
                .collect();
            let Some(v) = fit.choose(rng) else { return Action::new(u, Op::Query, u, How::Plain) };
            let op = super::model::op_of(v).unwrap_or(Op::Query);
            let who = v.actor.unwrap_or(match op {
                Op::Unbind | Op::Delete | Op::List => Actor::Admin,
                _ => Actor::Own,
            });
            Action::new(who, op, Actor::Own, How::Input(v.name.clone()))
        }
        // The serial number of no device, or of the other user's.
        7 => {
            let op = match user.device {
                Device::Bound => Op::Unbind,
                Device::None => Op::Delete,
                _ => *[Op::Bind, Op::Delete].choose(rng).expect("ops"),
            };
            let who = if op == Op::Bind || rng.random_bool(0.5) { u } else { Actor::Admin };
            let how = if rng.random_bool(0.5) { How::UnknownSerial } else { How::ForeignSerial };
            Action::new(who, op, u, how)
        }
        // A body that is not JSON, a method that does not exist, a user nobody has.
        8 => match rng.random_range(0..4) {
            0 => Action::new(u, *[Op::Create, Op::Bind].choose(rng).expect("ops"), u, How::Malformed),
            1 => Action::new(Actor::Admin, Op::ProtectVmfa, u, How::UnknownMethod),
            2 => Action::new(Actor::Admin, Op::Create, u, How::UnknownUser),
            _ => Action::new(Actor::Admin, Op::Unbind, u, How::Malformed),
        },
        // One user's login with the other user's TOTP identity, or a replayed code.
        _ if vmfa && user.device == Device::Bound => {
            let how = if rng.random_bool(0.5) { How::ForeignTotpUser } else { How::Codes(CodeMode::Replay) };
            Action::new(u, Op::Login, u, how)
        }
        _ if user.device == Device::Unbound && rng.random_bool(0.5) => {
            Action::new(u, Op::Bind, u, How::Codes(CodeMode::UsedStep))
        }
        _ => Action::new(u, Op::Bind, u, How::Codes(CodeMode::Replay)),
    }
}
