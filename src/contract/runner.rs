//! Runs contract cases against an open target, concurrently and reported in a stable order.

use super::build::{CaseState, DeviceState, apply_overrides, default_operation};
use super::case::{Actor, Case, CodeMode, Step};
use super::checks::{StepContext, request_view, response_view};
use super::report::{CaseResult, CaseStatus, Finding, status_from};
use super::verify;
use crate::api::OpKind;
use crate::api::models::CreateMfaDeviceResponse;
use crate::client::{Exchange, Safety};
use crate::rules::{self, SeedForms};
use crate::schemas::Schemas;
use crate::target::Target;
use crate::totp::{self, Seed};
use futures::StreamExt;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Codes are only sent with at least this much of their step left, so that no answer is
/// judged against a step that ended in flight.
pub(crate) const STEP_MARGIN: Duration = Duration::from_millis(2500);
/// The same against the embedded server, which shares our clock and answers in microseconds.
pub(crate) const EMBEDDED_STEP_MARGIN: Duration = Duration::from_millis(300);

/// A case's result and every exchange it made (for snapshots).
pub struct CaseRun {
    pub result: CaseResult,
    pub exchanges: Vec<(usize, Exchange)>,
}

/// Runs `cases` with at most `concurrency` at a time; results come back in the cases' order.
pub async fn run_cases(
    target: &Target,
    cases: &[Case],
    schemas: &Schemas,
    strict: bool,
    concurrency: usize,
    slow: bool,
) -> Vec<CaseRun> {
    let mut runs: Vec<(usize, CaseRun)> = futures::stream::iter(cases.iter().enumerate())
        .map(|(i, case)| async move {
            if case.slow && !slow {
                let reason = "waits for fresh TOTP steps (up to 30 s each): run with --slow".to_string();
                let result = outcome(case, CaseStatus::Skipped, Vec::new(), Some(reason), Instant::now(), 0);
                return (i, CaseRun { result, exchanges: Vec::new() });
            }
            (i, run_case(target, case, schemas, strict).await)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    runs.sort_by_key(|(i, _)| *i);
    runs.into_iter().map(|(_, run)| run).collect()
}

fn outcome(
    case: &Case,
    status: CaseStatus,
    findings: Vec<Finding>,
    reason: Option<String>,
    started: Instant,
    requests: usize,
) -> CaseResult {
    CaseResult {
        id: case.id.clone(),
        title: case.title.clone(),
        doc: case.doc.clone(),
        severity: case.severity,
        status,
        duration_ms: started.elapsed().as_millis() as u64,
        requests,
        findings,
        reason,
        readings: Vec::new(),
        file: Some(case.file()),
        line: (case.line > 0).then_some(case.line),
    }
}

/// Runs one case with its own users, releasing them whatever happens.
pub async fn run_case(target: &Target, case: &Case, schemas: &Schemas, strict: bool) -> CaseRun {
    let started = Instant::now();
    let mut state = CaseState::new(target.admin.clone(), target.domain.clone());
    let actors = case.users();
    let mut acquired = Vec::new();
    let mut failure = None;
    if target.capacity().is_some_and(|c| c < actors.len()) {
        failure = Some(format!("needs {} users; the pool has fewer", actors.len()));
    } else {
        match target.acquire_many(actors.len()).await {
            Ok(identities) => {
                for (actor, identity) in actors.iter().zip(&identities) {
                    state.users.insert(*actor, identity.clone());
                }
                acquired = identities;
            }
            Err(e) => failure = Some(format!("could not get a user identity: {e}")),
        }
    }
    let run = match failure {
        Some(reason) => CaseRun {
            result: outcome(case, CaseStatus::Error, Vec::new(), Some(reason), started, 0),
            exchanges: Vec::new(),
        },
        None if case.needs_password
            && state.users.get(&Actor::Own).is_none_or(|u| u.password.is_none() || u.name.is_none()) =>
        {
            let reason = "needs the user's name and password, which the pool file does not give".to_string();
            CaseRun {
                result: outcome(case, CaseStatus::Skipped, Vec::new(), Some(reason), started, 0),
                exchanges: Vec::new(),
            }
        }
        None if case.deletes_users && !target.provisions() => {
            let reason = "deletes its user, and a pool's identities must outlive the run".to_string();
            CaseRun {
                result: outcome(case, CaseStatus::Skipped, Vec::new(), Some(reason), started, 0),
                exchanges: Vec::new(),
            }
        }
        None => run_steps(target, case, schemas, strict, &mut state, started).await,
    };
    release(target, &state, acquired, reusable(case)).await;
    run
}

/// Whether a case leaves its users as they were made: it calls only the MFA endpoints (no
/// token, login protection or user call) and never creates a device. A device left over is
/// not always visible (query and list show bound devices only, and a faulty delete answers
/// 204 yet keeps it), so a user that may have had one is never handed to another case.
fn reusable(case: &Case) -> bool {
    !case.deletes_users
        && !case.needs_password
        && case.steps.iter().all(|s| is_mfa_operation(s.op) && s.op != OpKind::Create)
}

/// Gives back what a case or a walk held: a pool's devices reset (its identities outlive the
/// run), then every identity released (a provisioned one is deleted; one the case deleted
/// itself answers 404, which counts as deleted). `reusable`: the case changed nothing but
/// devices, so provisioned users have their devices deleted and are kept for the next case
/// (with their tokens) when clean ([`Target::recycle`]).
pub(crate) async fn release(
    target: &Target,
    state: &CaseState,
    identities: Vec<crate::target::Identity>,
    reusable: bool,
) {
    let recycle = reusable && target.provisions();
    if recycle || !target.provisions() {
        for (actor, device) in &state.devices {
            if let Some(serial) = &device.serial {
                if recycle {
                    target.clear_device(&state.user_id(*actor), serial).await;
                } else {
                    target.reset_device(&state.user_id(*actor), serial).await;
                }
            }
        }
    }
    if recycle {
        target.recycle(identities).await;
        return;
    }
    for identity in identities {
        target.release(identity).await;
    }
}

async fn run_steps(
    target: &Target,
    case: &Case,
    schemas: &Schemas,
    strict: bool,
    state: &mut CaseState,
    started: Instant,
) -> CaseRun {
    let mut findings = Vec::new();
    let mut readings = Vec::new();
    let mut exchanges: Vec<(usize, Exchange)> = Vec::new();
    let mut shown: HashMap<Actor, verify::Shown> = HashMap::new();
    let mut shows_unbound = None;
    for (index, step) in case.steps.iter().enumerate() {
        let number = index + 1;
        let verifying = verify::applies(step.op, step.subject, state);
        if verifying && !shown.contains_key(&step.subject) {
            match verify::read_back(target, state, step.subject).await {
                Ok(before) => {
                    shown.insert(step.subject, before);
                }
                Err(e) => {
                    let reason = format!("could not read the device state back before step {number}: {e}");
                    return error_run(case, findings, reason, started, exchanges);
                }
            }
        }
        for _ in 0..step.wait_steps {
            tokio::time::sleep(rules::left_in_step() + Duration::from_millis(50)).await;
        }
        if step.wait_token_expiry {
            match state.adopted {
                Some((issued, expires)) if expires.saturating_sub(issued) <= MAX_TOKEN_WAIT => {
                    let left = expires.saturating_sub(totp::unix_now()) + 1;
                    tokio::time::sleep(Duration::from_secs(left)).await;
                }
                Some((issued, expires)) => {
                    let reason = format!(
                        "waits for a token to expire only when tokens live {MAX_TOKEN_WAIT} s or less; this \
                         target's live {} s (serve --token-ttl 2s shortens the reference's)",
                        expires.saturating_sub(issued)
                    );
                    let mut run = error_run(case, findings, reason, started, exchanges);
                    run.result.status = CaseStatus::Skipped;
                    return run;
                }
                None => {
                    let reason = format!("step {number} waits for a token to expire, but no step adopted one");
                    return error_run(case, findings, reason, started, exchanges);
                }
            }
        }
        let mode = code_mode(step);
        if mode.is_some_and(|m| needs_seed(step.op, m)) {
            if state.devices.get(&step.subject).is_none_or(|d| d.seed.is_none()) {
                let reason = format!(
                    "step {number} ({}) needs the device's seed, but no create before it returned one",
                    step.op
                );
                return error_run(case, findings, reason, started, exchanges);
            }
            let seed = state.devices.get(&step.subject).and_then(|d| d.seed.clone());
            let margin = if target.server.is_some() { EMBEDDED_STEP_MARGIN } else { STEP_MARGIN };
            match seed {
                Some(seed) if step.op == OpKind::Bind && mode == Some(CodeMode::Valid) => {
                    rules::wait_for_unambiguous_pair(&seed, margin).await
                }
                _ => rules::wait_for_step_margin(margin).await,
            }
        }
        let codes = mode.map(|m| state.codes(step.op, m, step.subject, totp::unix_now())).unwrap_or_default();
        redact_derived_token(target, state, step.actor);
        let op = apply_overrides(default_operation(step, state, &codes), step, state);
        // A setup step's answer is not what the case measures: it is sent again, as the
        // harness's own requests are, while the target (or a gateway before it) says "not now"
        // — a 429 or 503, or for a query also a 502 or 504, which may have been taken but can
        // be asked again. The measured request is sent once, whatever comes back.
        let answers = if step.setup && step.parallel == 1 {
            let safety = if op.method == http::Method::GET { Safety::Idempotent } else { Safety::Once };
            vec![target.client.send_retrying(&op, safety).await.0]
        } else {
            futures::future::join_all((0..step.parallel).map(|_| target.client.send(&op))).await
        };
        let mut answered = Vec::new();
        for answer in answers {
            match answer {
                Ok(exchange) => answered.push(exchange),
                Err(e) => {
                    let reason = format!(
                        "step {number} ({}) got no answer: {}",
                        step.op,
                        target.redactor.redact(&e.to_string())
                    );
                    return error_run(case, findings, reason, started, exchanges);
                }
            }
        }
        // A seed in any answer (a faulty target may issue one where it should refuse) is a
        // secret before anything about the answer is reported.
        for exchange in &answered {
            if let Some(seed) = exchange.json().and_then(|v| {
                v.pointer("/virtual_mfa_device/base32_string_seed").and_then(|s| s.as_str().map(str::to_string))
            }) {
                target.redactor.add(&seed);
            }
        }
        // Throttling is the target's answer to the rate, not to the request: no verdict.
        if let Some(throttled) = answered.iter().find_map(Exchange::throttled) {
            let reason = format!(
                "step {number} ({}) was throttled by the target ({throttled}); {}",
                step.op,
                crate::client::retry::ADVICE
            );
            let mut run = error_run(case, findings, reason, started, exchanges);
            run.exchanges.extend(answered.into_iter().map(|e| (number, e)));
            return run;
        }
        let ctx = StepContext {
            step,
            number,
            severity: case.step_severity(step),
            state,
            redactor: &target.redactor,
            schemas,
            strict,
        };
        if step.setup {
            if let Some(bad) = answered.iter().find(|e| !(200..300).contains(&e.status)) {
                if !is_mfa_operation(step.op) && matches!(bad.status, 404 | 405 | 501) {
                    let reason = format!(
                        "the target does not implement {} (answered {}), which this case needs",
                        step.op, bad.status
                    );
                    let mut run = error_run(case, findings, reason, started, exchanges);
                    run.result.status = CaseStatus::Skipped;
                    return run;
                }
                let body = response_view(bad, &target.redactor).body;
                let reason = format!(
                    "setup step {number} ({} {}) answered {}: {body}",
                    bad.method,
                    request_view(bad, &target.redactor).path,
                    bad.status
                );
                let mut run = error_run(case, findings, reason, started, exchanges);
                run.exchanges.extend(answered.into_iter().map(|e| (number, e)));
                return run;
            }
            answered.iter().for_each(|e| findings.extend(ctx.universal(e)));
        } else {
            answered.iter().for_each(|e| findings.extend(ctx.check(e)));
            findings.extend(count_findings(&ctx, &answered));
            if let Some(reading) = answered.first().and_then(|e| ctx.reading(e)) {
                readings.push(reading);
            }
        }
        let success = answered.iter().find(|e| (200..300).contains(&e.status));
        if let Some(success) = success {
            remember(state, target, step, &codes, success);
            if step.adopt_token {
                adopt(state, target, step.subject, success);
            }
        }
        if verifying {
            let accepted = success.is_some();
            match verify::read_back(target, state, step.subject).await {
                Ok(after) => {
                    let change = verify::Change {
                        op: step.op,
                        number,
                        subject: step.subject,
                        accepted,
                        state,
                        redactor: &target.redactor,
                    };
                    if let Some(before) = shown.get(&step.subject) {
                        findings.extend(verify::judge(&change, before, &after, &mut shows_unbound));
                    }
                    shown.insert(step.subject, after);
                }
                Err(e) => {
                    let reason = format!("could not read the device state back after step {number}: {e}");
                    return error_run(case, findings, reason, started, exchanges);
                }
            }
        }
        exchanges.extend(answered.into_iter().map(|e| (number, e)));
    }
    let requests = exchanges.len();
    let status = status_from(&findings, strict);
    let mut result = outcome(case, status, findings, None, started, requests);
    result.readings = readings;
    CaseRun { result, exchanges }
}

fn error_run(
    case: &Case,
    findings: Vec<Finding>,
    reason: String,
    started: Instant,
    exchanges: Vec<(usize, Exchange)>,
) -> CaseRun {
    let requests = exchanges.len();
    CaseRun { result: outcome(case, CaseStatus::Error, findings, Some(reason), started, requests), exchanges }
}

/// A token made from a real one (one character changed, cut short, extended) is nearly that
/// token, and a never-issued one looks like one: a target that echoes them back must not get
/// them into a report.
pub(crate) fn redact_derived_token(target: &Target, state: &CaseState, actor: Actor) {
    if matches!(actor, Actor::AlteredToken | Actor::TruncatedToken | Actor::ExtendedToken | Actor::InvalidToken)
        && let Some(token) = state.token(actor)
    {
        target.redactor.add(&token);
    }
}

/// The longest token lifetime a case waits out (`wait_token_expiry`).
const MAX_TOKEN_WAIT: u64 = 10;

/// Takes the token a token step issued as the subject's own, with when it expires.
fn adopt(state: &mut CaseState, target: &Target, subject: Actor, exchange: &Exchange) {
    let Some(token) = exchange.subject_token.clone().filter(|t| t != crate::client::NOT_TEXT) else { return };
    target.redactor.add(&token);
    let time = |pointer: &str| {
        exchange.json().and_then(|v| v.pointer(pointer).and_then(|t| t.as_str().map(str::to_string))).and_then(|t| {
            humantime::parse_rfc3339_weak(&t).ok()?.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_secs())
        })
    };
    if let (Some(issued), Some(expires)) = (time("/token/issued_at"), time("/token/expires_at")) {
        state.adopted = Some((issued, expires));
    }
    if let Some(identity) = state.users.get_mut(&subject) {
        identity.token = crate::target::Secret::new(token);
    }
}

/// The six endpoints every implementation under test has; the identity calls may be missing.
fn is_mfa_operation(op: OpKind) -> bool {
    matches!(op, OpKind::Create | OpKind::Bind | OpKind::Unbind | OpKind::Delete | OpKind::Query | OpKind::List)
}

/// The code mode a step uses: its own, or bind's default of a valid pair.
fn code_mode(step: &Step) -> Option<CodeMode> {
    match (step.op, step.codes) {
        (_, Some(mode)) => Some(mode),
        (OpKind::Bind, None) if step.raw_body.is_none() => Some(CodeMode::Valid),
        (OpKind::Unbind, None) => Some(CodeMode::Arbitrary),
        _ => None,
    }
}

fn needs_seed(op: OpKind, mode: CodeMode) -> bool {
    matches!(op, OpKind::Bind | OpKind::Unbind | OpKind::Token)
        && !matches!(mode, CodeMode::Arbitrary | CodeMode::Replay)
}

/// Exact answer counts of a parallel step.
fn count_findings(ctx: &StepContext<'_>, answered: &[Exchange]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (status, expected) in &ctx.step.expect_count {
        let status: u16 = status.parse().unwrap_or(0);
        let got = answered.iter().filter(|e| e.status == status).count();
        if got != *expected {
            let mut statuses: Vec<String> = answered.iter().map(|e| e.status.to_string()).collect();
            statuses.sort();
            statuses.dedup_by(|a, b| a == b);
            let example = answered.iter().find(|e| e.status == status).or(answered.first());
            findings.push(Finding {
                severity: ctx.severity,
                step: ctx.number,
                operation: ctx.step.op.name().to_string(),
                check: "count".into(),
                message: format!(
                    "{} parallel requests: {got} answered {status}, the contract allows exactly {expected} (statuses seen: {})",
                    answered.len(),
                    statuses.join(", ")
                ),
                request: example.map(|e| request_view(e, ctx.redactor)),
                response: example.map(|e| response_view(e, ctx.redactor)),
                schema: None,
            });
        }
    }
    findings
}

/// Carries what a successful answer changed into the case's state.
pub(crate) fn remember(
    state: &mut CaseState,
    target: &Target,
    step: &Step,
    codes: &super::build::Codes,
    exchange: &Exchange,
) {
    match step.op {
        OpKind::Create => {
            let Ok(created) = serde_json::from_slice::<CreateMfaDeviceResponse>(&exchange.body) else {
                let serial = exchange.json().and_then(|v| {
                    v.pointer("/virtual_mfa_device/serial_number").and_then(|s| s.as_str().map(str::to_string))
                });
                state.devices.insert(step.subject, DeviceState { serial, ..DeviceState::default() });
                return;
            };
            let device = created.virtual_mfa_device;
            target.redactor.add(&device.base32_string_seed);
            let seed = Seed::parse(&device.base32_string_seed).ok();
            let seed_forms = seed.as_ref().map(|s| SeedForms::of(&device.base32_string_seed, s));
            state.devices.insert(
                step.subject,
                DeviceState { serial: Some(device.serial_number), seed, seed_forms, ..DeviceState::default() },
            );
        }
        OpKind::Bind | OpKind::Unbind | OpKind::Token => {
            if let Some(device) = state.devices.get_mut(&step.subject) {
                if let Some(s) = codes.uses_step {
                    device.last_step = Some(device.last_step.map_or(s, |l| l.max(s)));
                }
                if step.op == OpKind::Bind {
                    device.last_bind = Some((codes.first.clone(), codes.second.clone()));
                }
            }
        }
        _ => {}
    }
}
