//! What one goose user does: claims an identity, runs a flow's steps as goose requests (so
//! goose measures them), and recycles its device outside the measured steps.

use super::exchange::{self, expected_status, operation, remember};
use super::flows::{FlowScenario, Step};
use super::recorder::Recorder;
use super::wire::{Endpoint, Wire};
use crate::api::models::UnbindMfaDevice;
use crate::api::ops;
use crate::client::HttpClient;
use crate::schemas::Schemas;
use crate::target::Identity;
use crate::totp::{self, Seed};
use bytes::Bytes;
use goose::prelude::*;
use http::HeaderValue;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// Where each session opens its own connection; `None` sends through goose's client.
    pub endpoint: Option<Endpoint>,
}

/// The device a session created.
#[derive(Clone)]
pub struct Device {
    pub serial: String,
    pub seed: Seed,
    /// The seed as create returned it, to find it in other answers.
    pub seed_text: String,
}

/// A request that stays the same all session long (query, list), built once: its URL for
/// goose's client, its origin-form URI for the session's own connection.
#[derive(Clone)]
pub struct Prepared {
    pub url: url::Url,
    pub uri: http::Uri,
    pub token: HeaderValue,
}

/// Per goose user.
#[derive(Clone)]
pub struct Session {
    pub user_id: String,
    pub token: String,
    pub device: Option<Device>,
    pub device_name: String,
    query: Option<Prepared>,
    list: Option<Prepared>,
    /// The last answer that honoured the contract: its step, status and body.
    pub last_good: Option<(Step, u16, Bytes)>,
    /// The session's own connection for the measured steps (plain-HTTP targets).
    pub wire: Option<Wire>,
}

impl Session {
    pub fn prepared(&self, step: Step) -> Option<&Prepared> {
        match step {
            Step::Query => self.query.as_ref(),
            Step::List => self.list.as_ref(),
            _ => None,
        }
    }

    pub fn prepare(&mut self, step: Step, prepared: Prepared) {
        match step {
            Step::Query => self.query = Some(prepared),
            Step::List => self.list = Some(prepared),
            _ => {}
        }
    }

    /// Whether this answer is the same, byte for byte, as the last good answer of `step`.
    pub fn is_last_good(&self, step: Step, status: u16, body: &[u8]) -> bool {
        self.last_good.as_ref().is_some_and(|(s, st, b)| *s == step && *st == status && b.as_ref() == body)
    }
}

/// One unmeasured step over the harness's own client (setup and recycling). A bind refused
/// because its time step ended in flight is tried once more; a bind whose pair of codes would
/// read two ways ([`totp::pair_is_unambiguous`]) is not sent: the device is replaced by a new
/// one (a new seed) instead of waiting up to 30 s for the next step.
async fn unmeasured(ctx: &LoadContext, session: &mut Session, step: Step) -> bool {
    for _attempt in 0..3 {
        if step == Step::Bind {
            exchange::wait_for_step_margin(ctx.step_margin).await;
            let ambiguous = session
                .device
                .as_ref()
                .is_some_and(|d| !totp::pair_is_unambiguous(&d.seed, totp::step_at(totp::unix_now())));
            if ambiguous {
                reset(ctx, session).await;
                if send_unmeasured(ctx, session, Step::Create).await != Some(true) {
                    return false;
                }
                continue;
            }
        }
        match send_unmeasured(ctx, session, step).await {
            Some(done) => return done,
            None => ctx.recorder.totp_window(),
        }
    }
    ctx.recorder.unmeasured_error(step, "the TOTP step changed during three attempts in a row");
    false
}

/// Sends one unmeasured step: whether it did what it should, or `None` for a bind refused
/// because its time step ended in flight.
async fn send_unmeasured(ctx: &LoadContext, session: &mut Session, step: Step) -> Option<bool> {
    let now = totp::unix_now();
    let Some(op) = operation(step, session, &ctx.admin_token, now) else { return Some(false) };
    match ctx.client.send(&op).await {
        Ok(e) if e.status == expected_status(step) => {
            remember(session, step, &e.body);
            Some(true)
        }
        Ok(e) if step == Step::Bind && e.status == 400 && exchange::refused_for_totp(None, now) => None,
        Ok(e) => {
            let reason = format!("status {} (expected {})", e.status, expected_status(step));
            ctx.recorder.unmeasured_error(step, &reason);
            Some(false)
        }
        Err(_) => {
            ctx.recorder.unmeasured_error(step, "no answer");
            Some(false)
        }
    }
}

/// Takes the device back to nothing (admin unbind, delete), whatever state it is in.
async fn reset(ctx: &LoadContext, session: &mut Session) {
    if let Some(device) = session.device.take() {
        let admin = Some(ctx.admin_token.as_str());
        let unbind = UnbindMfaDevice {
            user_id: session.user_id.clone(),
            authentication_code: "000000".into(),
            serial_number: device.serial.clone(),
        };
        let _ = ctx.client.send(&ops::unbind_device(admin, &unbind)).await;
        let _ = ctx.client.send(&ops::delete_device(admin, &session.user_id, &device.serial)).await;
        session.last_good = None;
    }
}

/// The on-start transaction: claims an identity and runs the unmeasured setup steps.
pub fn on_start(ctx: Arc<LoadContext>, scenario: Arc<FlowScenario>) -> TransactionFunction {
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
                device_name: format!("{}-{}", ctx.device_prefix, user.weighted_users_index),
                query: None,
                list: None,
                last_good: None,
                wire: ctx.endpoint.clone().map(Wire::new),
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
pub fn iteration(ctx: Arc<LoadContext>, scenario: Arc<FlowScenario>) -> TransactionFunction {
    Arc::new(move |user| {
        let ctx = ctx.clone();
        let scenario = scenario.clone();
        Box::pin(async move {
            let mut ok = true;
            for step in &scenario.steps {
                if !exchange::measured(user, &ctx, *step).await? {
                    ok = false;
                    break;
                }
            }
            ctx.recorder.flow(ok);
            let session = user.get_session_data_unchecked_mut::<Session>();
            if !ok && !scenario.setup.contains(&Step::Create) {
                reset(&ctx, session).await;
            } else {
                for step in &scenario.recycle {
                    if !unmeasured(&ctx, session, *step).await {
                        reset(&ctx, session).await;
                        break;
                    }
                }
            }
            if let Some(pause) = scenario.think_time {
                tokio::time::sleep(pause).await;
            }
            Ok(())
        })
    })
}
