//! One walk: two fresh users, a sequence of actions (drawn as it goes, or given), each sent,
//! judged by the model and the contract checks, and after every change the state read back.
//! A walk ends at its first failing finding.

use super::action::{Action, How, Op};
use super::draw::{self, Allowance};
use super::judge;
use super::model::Model;
use super::request::{self, other_of};
use crate::client::Exchange;
use crate::contract::build::{CaseState, Codes};
use crate::contract::case::{Actor, CodeMode, Severity};
use crate::contract::checks::{StepContext, request_view, response_view};
use crate::contract::generate::InputVariant;
use crate::contract::report::Finding;
use crate::contract::runner::{EMBEDDED_STEP_MARGIN, STEP_MARGIN, remember};
use crate::rules;
use crate::schemas::Schemas;
use crate::target::Target;
use crate::totp;
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

/// Where a walk's actions come from.
pub enum Actions<'a> {
    /// Drawn from the axes as the walk goes, at most `steps` of them.
    Drawn { rng: Box<ChaCha8Rng>, steps: usize },
    /// Exactly these (a replay, or a candidate while shrinking).
    Given(&'a [Action]),
}

/// What one walk found.
#[derive(Debug, Clone, Default)]
pub struct Walked {
    /// The actions sent, in order (those not enabled in the state they met were left out).
    pub actions: Vec<Action>,
    /// The first failing finding, and the action (index into `actions`) it came from.
    pub failure: Option<(usize, Finding)>,
    /// Findings on open points (never failing).
    pub open: Vec<Finding>,
    pub readings: Vec<String>,
    pub requests: usize,
    /// Why the walk could not go on (no answer, no users).
    pub error: Option<String>,
    /// The walk stopped at the time bound.
    pub timed_out: bool,
}

/// What every walk of a run shares.
pub struct Explorer<'a> {
    pub target: &'a Target,
    pub schemas: &'a Schemas,
    pub variants: &'a [InputVariant],
    pub strict: bool,
    pub ticks: u32,
    pub deadline: Instant,
}

/// Runs one walk with its own two users, releasing them whatever happens.
pub async fn walk(explorer: &Explorer<'_>, actions: Actions<'_>) -> Walked {
    let target = explorer.target;
    let mut walked = Walked::default();
    if target.capacity().is_some_and(|c| c < 2) {
        walked.error = Some("a walk needs two users; the pool has fewer".into());
        return walked;
    }
    let identities = match target.acquire_many(2).await {
        Ok(identities) => identities,
        Err(e) => {
            walked.error = Some(format!("could not get two user identities: {e}"));
            return walked;
        }
    };
    let mut state = CaseState::new(target.admin.clone(), target.domain.clone());
    for (actor, identity) in [Actor::Own, Actor::Other].into_iter().zip(&identities) {
        state.users.insert(actor, identity.clone());
    }
    let mut run = Run { explorer, state, model: Model::new(), walked, ticks: explorer.ticks };
    run.go(actions).await;
    let Run { state, mut walked, .. } = run;
    crate::contract::runner::release(target, &state, identities, false).await;
    walked.readings.sort();
    walked.readings.dedup();
    walked
}

struct Run<'a, 'b> {
    explorer: &'a Explorer<'b>,
    state: CaseState,
    model: Model,
    walked: Walked,
    ticks: u32,
}

impl Run<'_, '_> {
    fn allowance(&self) -> Allowance {
        Allowance {
            passwords: self.state.users.values().all(|u| u.password.is_some() && u.name.is_some())
                && self.state.domain.is_some(),
            deletes_users: self.explorer.target.provisions(),
            ticks: self.ticks,
        }
    }

    async fn go(&mut self, actions: Actions<'_>) {
        let (mut rng, limit, given) = match actions {
            Actions::Drawn { rng, steps } => (Some(rng), steps, None),
            Actions::Given(list) => (None, list.len(), Some(list)),
        };
        for index in 0..limit {
            if Instant::now() >= self.explorer.deadline {
                self.walked.timed_out = true;
                return;
            }
            let allowance = self.allowance();
            let action = match (&mut rng, given) {
                (Some(rng), _) => match draw::next(rng, &self.model, &self.state, self.explorer.variants, &allowance) {
                    Some(action) => action,
                    None => return,
                },
                (None, Some(list)) => {
                    let action = list[index].clone();
                    if !draw::enabled(&self.model, &self.state, &action, &allowance) {
                        continue;
                    }
                    action
                }
                (None, None) => return,
            };
            self.walked.actions.push(action.clone());
            if !self.act(&action).await {
                return;
            }
        }
    }

    /// Sends one action and what follows it; `false` ends the walk.
    async fn act(&mut self, action: &Action) -> bool {
        let target = self.explorer.target;
        if action.op == Op::Tick {
            self.ticks = self.ticks.saturating_sub(1);
            tokio::time::sleep(rules::left_in_step() + Duration::from_millis(50)).await;
            self.model.tick += 1;
            return true;
        }
        let expect = self.model.expect(action, self.explorer.variants);
        let Some(step) = request::step(action, &expect) else { return true };
        let margin = if target.server.is_some() { EMBEDDED_STEP_MARGIN } else { STEP_MARGIN };
        // A bind of the other user's serial carries that device's codes.
        let coded =
            if action.how == How::ForeignSerial && action.op == Op::Bind { other_of(action.on) } else { action.on };
        let seed = self.state.devices.get(&coded).and_then(|d| d.seed.clone());
        let uses = request::uses_steps(action);
        match (&seed, uses) {
            (Some(seed), Some(true)) if step.codes == Some(CodeMode::Valid) => {
                rules::wait_for_unambiguous_pair(seed, margin).await
            }
            (Some(_), Some(_)) => rules::wait_for_step_margin(margin).await,
            _ if action.how == How::ForeignTotpUser => rules::wait_for_step_margin(margin).await,
            _ => {}
        }
        let now = totp::unix_now();
        let codes = step.codes.map(|m| self.state.codes(step.op, m, coded, now)).unwrap_or_default();
        let foreign_code = (action.how == How::ForeignTotpUser).then(|| {
            let other = other_of(action.on);
            self.state.codes(step.op, CodeMode::Valid, other, now).first
        });
        if action.op == Op::Create {
            self.state.unique = match (&action.how, &self.model.user(action.on).name) {
                (How::SameName, Some(name)) => name.clone(),
                _ => crate::ids::case_device_name(),
            };
        }
        crate::contract::runner::redact_derived_token(target, &self.state, action.who);
        let op = request::request(action, &step, &self.state, &codes, self.explorer.variants, foreign_code);
        if (uses.is_some() || step.codes == Some(CodeMode::UsedStep)) && seed.is_some() {
            self.model.user_mut(action.on).used = Some((self.model.tick, request::steps_ahead(action)));
        }
        if action.how == How::ForeignTotpUser || coded != action.on {
            self.model.user_mut(other_of(action.on)).used = Some((self.model.tick, 0));
        }
        let Some(exchange) = self.send(&op).await else { return false };
        let failed = self.judge(&action.to_string(), action, &step, &exchange);
        if failed {
            return false;
        }
        if (200..300).contains(&exchange.status) {
            remember(&mut self.state, target, &step, &codes, &exchange);
            self.model.succeeded(action, Some(self.state.unique.clone()));
        }
        judge::learn(&mut self.model, action, exchange.status);
        if action.op.mutates_device() {
            return self.read_back().await;
        }
        true
    }

    async fn send(&mut self, op: &crate::api::Operation) -> Option<Exchange> {
        let target = self.explorer.target;
        self.walked.requests += 1;
        match target.client.send(op).await {
            Ok(exchange) if exchange.throttled().is_some() => {
                let throttled = exchange.throttled().unwrap_or_default();
                self.walked.error = Some(format!(
                    "request {} ({}) was throttled by the target ({throttled}); {}",
                    self.walked.requests,
                    op.kind.name(),
                    crate::client::retry::ADVICE
                ));
                None
            }
            Ok(exchange) => {
                if let Some(seed) = exchange.json().and_then(|v| {
                    v.pointer("/virtual_mfa_device/base32_string_seed").and_then(|s| s.as_str().map(str::to_string))
                }) {
                    target.redactor.add(&seed);
                }
                Some(exchange)
            }
            Err(e) => {
                self.walked.error = Some(format!(
                    "request {} ({}) got no answer: {}",
                    self.walked.requests,
                    op.kind.name(),
                    target.redactor.redact(&e.to_string())
                ));
                None
            }
        }
    }

    /// Judges one answer; `true` when a finding fails the walk.
    fn judge(&mut self, label: &str, action: &Action, step: &crate::contract::case::Step, exchange: &Exchange) -> bool {
        let target = self.explorer.target;
        let ctx = StepContext {
            step,
            number: self.walked.requests,
            severity: step.severity.unwrap_or(Severity::Must),
            state: &self.state,
            redactor: &target.redactor,
            schemas: self.explorer.schemas,
            strict: self.explorer.strict,
        };
        let allowed = step.expect.contains(&exchange.status);
        let mut findings = ctx.check(exchange);
        if let Some(reading) = ctx.reading(exchange) {
            self.walked.readings.push(reading.replacen(&format!("step {} ", ctx.number), "", 1));
        }
        if allowed {
            // The answer took a branch the contract allows: its body must be right.
            for f in findings.iter_mut().filter(|f| f.check == "schema") {
                f.severity = Severity::Must;
            }
            let verdicts = judge::judge(&mut self.model, action, &self.state, exchange);
            for (severity, check, message) in verdicts {
                findings.push(Finding {
                    severity,
                    step: self.walked.requests,
                    operation: step.op.name().to_string(),
                    check: check.to_string(),
                    message: crate::sanitize::for_terminal(&target.redactor.redact(&message)),
                    request: Some(request_view(exchange, &target.redactor)),
                    response: Some(response_view(exchange, &target.redactor)),
                    schema: None,
                });
            }
        }
        let index = self.walked.actions.len().saturating_sub(1);
        for mut finding in findings {
            finding.message = format!("{label}: {}", finding.message);
            if finding.severity == Severity::Open {
                self.walked.open.push(finding);
            } else if self.walked.failure.is_none() {
                self.walked.failure = Some((index, finding));
            }
        }
        self.walked.failure.is_some()
    }

    /// Reads every user's device back (query as the user and as the administrator, list as
    /// the administrator) and judges what is shown against the model; `false` ends the walk.
    async fn read_back(&mut self) -> bool {
        let last = self.walked.actions.last().map(Action::to_string).unwrap_or_default();
        let mut reads = Vec::new();
        for user in [Actor::Own, Actor::Other] {
            if self.model.user(user).deleted {
                continue;
            }
            reads.push(Action::new(user, Op::Query, user, How::Plain));
            reads.push(Action::new(Actor::Admin, Op::Query, user, How::Plain));
        }
        reads.push(Action::new(Actor::Admin, Op::List, Actor::Own, How::Plain));
        for read in reads {
            let expect = self.model.expect(&read, self.explorer.variants);
            let Some(step) = request::step(&read, &expect) else { continue };
            let op = request::request(&read, &step, &self.state, &Codes::default(), self.explorer.variants, None);
            let Some(exchange) = self.send(&op).await else { return false };
            if self.judge(&format!("after {last}, {read}"), &read, &step, &exchange) {
                return false;
            }
            judge::learn(&mut self.model, &read, exchange.status);
        }
        true
    }
}
