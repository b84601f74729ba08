//! What one goose user does: claims an identity, runs a flow's steps as goose requests (so
//! goose measures them), checks every answer against the contract, and recycles its device.

use super::flows::{FlowScenario, Step};
use super::recorder::Recorder;
use crate::api::models::{BindMfaDevice, UnbindMfaDevice};
use crate::api::{AUTH_HEADER, OpKind, Operation, ops};
use crate::client::HttpClient;
use crate::schemas::Schemas;
use crate::target::Identity;
use crate::totp::{self, Seed};
use goose::prelude::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Shared by every goose user of a run.
pub struct LoadContext {
    pub identities: Mutex<Vec<Identity>>,
    pub admin_token: String,
    pub client: HttpClient,
    pub schemas: Schemas,
    pub recorder: Recorder,
    /// Start of every device name of this run, unique per run so that runs side by side
    /// against one target do not collide on serial numbers.
    pub device_prefix: String,
    /// Bind codes are sent only with at least this much of their 30-s step left.
    pub step_margin: Duration,
}

/// Per goose user.
#[derive(Clone)]
pub struct Session {
    user_id: String,
    token: String,
    /// Serial number, seed, and the seed as create returned it.
    device: Option<(String, Seed, String)>,
    flow_label: String,
}

fn expected_status(step: Step) -> u16 {
    match step {
        Step::Create => 201,
        Step::Bind | Step::Unbind | Step::Delete => 204,
        Step::Query | Step::List => 200,
    }
}

/// The request of a step, or `None` when the session has no device for it.
fn operation(step: Step, s: &Session, admin: &str, now: u64) -> Option<Operation> {
    let device = s.device.as_ref();
    Some(match step {
        Step::Create => ops::create_device(Some(&s.token), &s.user_id, &s.flow_label),
        Step::Bind => {
            let (serial, seed, _) = device?;
            let pair = totp::bind_pair(seed, now);
            ops::bind_device(
                Some(&s.token),
                &BindMfaDevice {
                    user_id: s.user_id.clone(),
                    serial_number: serial.clone(),
                    authentication_code_first: pair.first,
                    authentication_code_second: pair.second,
                },
            )
        }
        Step::Query => ops::show_device(Some(&s.token), &s.user_id),
        Step::Unbind => ops::unbind_device(
            Some(admin),
            &UnbindMfaDevice {
                user_id: s.user_id.clone(),
                authentication_code: "000000".into(),
                serial_number: device?.0.clone(),
            },
        ),
        Step::Delete => ops::delete_device(Some(admin), &s.user_id, &device?.0),
        Step::List => ops::list_devices(Some(admin)),
    })
}

/// What is wrong with an answer, if anything.
fn judge(ctx: &LoadContext, step: Step, kind: OpKind, s: &Session, status: u16, body: &[u8]) -> Option<String> {
    let expected = expected_status(step);
    if status != expected {
        let code = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("error_code").and_then(|c| c.as_str()).map(str::to_string))
            .unwrap_or_default();
        return Some(format!("status {status} (expected {expected}) {code}").trim_end().to_string());
    }
    if let Some(v) = ctx.schemas.validate_response(kind, status, body, false).first() {
        let message = crate::sanitize::truncate(&v.message, 160);
        return Some(format!("schema {}: {message} ({} at '{}')", v.schema, v.keyword, v.instance_pointer));
    }
    if step != Step::Create
        && let Some((_, _, seed)) = &s.device
        && !body.is_empty()
        && String::from_utf8_lossy(body).contains(seed.as_str())
    {
        return Some("the answer contains the device's TOTP seed; only create may return it".into());
    }
    if step == Step::Query {
        let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let device = &value["virtual_mfa_device"];
        if device["user_id"].as_str() != Some(s.user_id.as_str()) {
            return Some("query: user_id is not the user's".into());
        }
        if let Some((serial, _, _)) = &s.device
            && device["serial_number"].as_str() != Some(serial.as_str())
        {
            return Some("query: serial_number is not the one create returned".into());
        }
    }
    None
}

fn remember(s: &mut Session, step: Step, body: &[u8]) {
    match step {
        Step::Create => {
            let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let d = &v["virtual_mfa_device"];
            if let (Some(serial), Some(seed)) = (d["serial_number"].as_str(), d["base32_string_seed"].as_str()) {
                s.device = Seed::parse(seed).ok().map(|parsed| (serial.to_string(), parsed, seed.to_string()));
            }
        }
        Step::Delete => s.device = None,
        _ => {}
    }
}

/// Waits for the next time step when less than `margin` is left of this one, so that the
/// codes of steps t−1 and t are still in the target's window when it checks them.
async fn wait_for_step_margin(margin: Duration) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let step_ms = (totp::STEP_SECONDS * 1000) as u128;
    let left = Duration::from_millis((step_ms - now.as_millis() % step_ms) as u64);
    if left < margin {
        tokio::time::sleep(left + Duration::from_millis(20)).await;
    }
}

fn goose_method(op: &Operation) -> GooseMethod {
    match op.method.as_str() {
        "POST" => GooseMethod::Post,
        "PUT" => GooseMethod::Put,
        "DELETE" => GooseMethod::Delete,
        _ => GooseMethod::Get,
    }
}

/// Waits for goose's throttle (on with `--rate`) before the request is built, and lets the
/// request itself through unthrottled: bind codes are then generated at send time, and the
/// wait is the client's own pacing, not the target's latency. Returns whether a token was taken.
async fn pass_throttle(user: &mut GooseUser) -> Result<bool, Box<TransactionError>> {
    let Some(throttle) = user.throttle.clone().filter(|_| user.is_throttled) else { return Ok(false) };
    throttle.send_async(true).await.map_err(|e| Box::new(TransactionError::from(e)))?;
    user.is_throttled = false;
    Ok(true)
}

/// One measured step through goose. Returns whether it honoured the contract.
async fn measured(user: &mut GooseUser, ctx: &LoadContext, step: Step) -> Result<bool, Box<TransactionError>> {
    let throttled = pass_throttle(user).await?;
    let result = send_measured(user, ctx, step).await;
    if throttled {
        user.is_throttled = true;
    }
    result
}

async fn send_measured(user: &mut GooseUser, ctx: &LoadContext, step: Step) -> Result<bool, Box<TransactionError>> {
    if step == Step::Bind {
        wait_for_step_margin(ctx.step_margin).await;
    }
    let now = totp::unix_now();
    let Some(op) = operation(step, user.get_session_data_unchecked::<Session>(), &ctx.admin_token, now) else {
        return Ok(false);
    };
    let mut builder = user.get_request_builder(&goose_method(&op), &op.path_and_query())?;
    if let Some(token) = &op.token {
        builder = builder.header(AUTH_HEADER, token);
    }
    if let Some((content_type, bytes)) = op.body_bytes() {
        builder = builder.header("Content-Type", content_type).body(bytes);
    }
    let request = GooseRequest::builder().set_request_builder(builder).name(step.name()).build();
    let started = Instant::now();
    let mut answer = user.request(request).await?;
    let (status, body) = match answer.response {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
        }
        Err(e) => {
            let reason = format!("no answer: {}", if e.is_timeout() { "timeout" } else { "connection error" });
            ctx.recorder.request(step, started.elapsed(), Some(&reason));
            return Ok(false);
        }
    };
    let elapsed = started.elapsed();
    if step == Step::Bind && status == 400 && totp::step_at(totp::unix_now()) != totp::step_at(now) {
        ctx.recorder.request(step, elapsed, None);
        ctx.recorder.totp_window();
        let _ = user.set_success(&mut answer.request);
        return Ok(false);
    }
    let failure = judge(ctx, step, op.kind, user.get_session_data_unchecked::<Session>(), status, &body);
    ctx.recorder.request(step, elapsed, failure.as_deref());
    match failure {
        Some(reason) => {
            // set_failure answers Err(RequestFailed) by design, to end a goose transaction; this
            // flow still has to recycle its device, so the failure is recorded and the flow goes on.
            let _ = user.set_failure(&reason, &mut answer.request, None, None);
            Ok(false)
        }
        None => {
            if matches!(step, Step::Create | Step::Delete) {
                let mut session = user.get_session_data_unchecked::<Session>().clone();
                remember(&mut session, step, &body);
                user.set_session_data(session);
            }
            Ok(true)
        }
    }
}

/// One unmeasured step over the harness's own client (setup and recycling). A bind refused
/// because its time step ended in flight is tried once more.
async fn unmeasured(ctx: &LoadContext, session: &mut Session, step: Step) -> bool {
    for _attempt in 0..2 {
        if step == Step::Bind {
            wait_for_step_margin(ctx.step_margin).await;
        }
        let now = totp::unix_now();
        let Some(op) = operation(step, session, &ctx.admin_token, now) else { return false };
        match ctx.client.send(&op).await {
            Ok(e) if e.status == expected_status(step) => {
                remember(session, step, &e.body);
                return true;
            }
            Ok(e) if step == Step::Bind && e.status == 400 && totp::step_at(totp::unix_now()) != totp::step_at(now) => {
                ctx.recorder.totp_window();
            }
            Ok(e) => {
                let reason = format!("status {} (expected {})", e.status, expected_status(step));
                ctx.recorder.unmeasured_error(step, &reason);
                return false;
            }
            Err(_) => {
                ctx.recorder.unmeasured_error(step, "no answer");
                return false;
            }
        }
    }
    ctx.recorder.unmeasured_error(step, "the TOTP step changed during two attempts in a row");
    false
}

/// Takes the device back to nothing (admin unbind, delete), whatever state it is in.
async fn reset(ctx: &LoadContext, session: &mut Session) {
    if let Some((serial, _, _)) = session.device.clone() {
        let admin = Some(ctx.admin_token.as_str());
        let unbind = UnbindMfaDevice {
            user_id: session.user_id.clone(),
            authentication_code: "000000".into(),
            serial_number: serial.clone(),
        };
        let _ = ctx.client.send(&ops::unbind_device(admin, &unbind)).await;
        let _ = ctx.client.send(&ops::delete_device(admin, &session.user_id, &serial)).await;
        session.device = None;
    }
}

/// The on-start transaction: claims an identity and runs the unmeasured setup steps.
pub fn on_start(ctx: Arc<LoadContext>, scenario: FlowScenario) -> TransactionFunction {
    Arc::new(move |user| {
        let ctx = ctx.clone();
        let scenario = scenario.clone();
        Box::pin(async move {
            let identity = ctx.identities.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some(identity) = identity else {
                return Err(Box::new(TransactionError::Custom("no identity left for this goose user".into())));
            };
            let mut session = Session {
                user_id: identity.user_id.clone(),
                token: identity.token.expose().to_string(),
                device: None,
                flow_label: format!("{}-{}", ctx.device_prefix, user.weighted_users_index),
            };
            for step in &scenario.setup {
                if !unmeasured(&ctx, &mut session, *step).await {
                    break;
                }
            }
            user.set_session_data(session);
            Ok(())
        })
    })
}

/// One iteration of a scenario's measured steps, then its recycling.
pub fn iteration(ctx: Arc<LoadContext>, scenario: FlowScenario) -> TransactionFunction {
    let scenario = Arc::new(scenario);
    Arc::new(move |user| {
        let ctx = ctx.clone();
        let scenario = scenario.clone();
        Box::pin(async move {
            let mut ok = true;
            for step in &scenario.steps {
                if !measured(user, &ctx, *step).await? {
                    ok = false;
                    break;
                }
            }
            ctx.recorder.flow(ok);
            let mut session = user.get_session_data_unchecked::<Session>().clone();
            if !ok && !scenario.setup.contains(&Step::Create) {
                reset(&ctx, &mut session).await;
            } else {
                for step in &scenario.recycle {
                    if !unmeasured(&ctx, &mut session, *step).await {
                        reset(&ctx, &mut session).await;
                        break;
                    }
                }
            }
            user.set_session_data(session);
            if let Some(pause) = scenario.think_time {
                tokio::time::sleep(pause).await;
            }
            Ok(())
        })
    })
}
