//! What one goose user does: claims an identity, runs a flow's steps as goose requests (so
//! goose measures them), and recycles its device outside the measured steps.

use super::exchange;
use super::flows::FlowScenario;
use super::state::{BATCH_FLOWS, BATCH_TIME, LoadContext, Session};
use super::step::Step;
use crate::{rules, totp};
use goose::prelude::*;
use std::sync::Arc;

/// One unmeasured step over the harness's own client (setup and recycling). A bind refused
/// because its time step ended in flight is tried once more; a bind whose pair of codes would
/// read two ways ([`totp::pair_is_unambiguous`]) is not sent: the device is replaced by a new
/// one (a new seed) instead of waiting up to 30 s for the next step.
async fn unmeasured(ctx: &LoadContext, session: &mut Session, step: Step) -> bool {
    for _attempt in 0..3 {
        if step == Step::Bind {
            rules::wait_for_step_margin(ctx.step_margin).await;
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
    let Some(op) = session.operation(step, &ctx.admin_token, now) else { return Some(false) };
    // Unmeasured: sent again while the target throttles it.
    match ctx.client.send_unless_throttled(&op).await.0 {
        Ok(e) if e.cut_at.is_some() => {
            let reason = format!("status {}: the body exceeds {} bytes (--max-body)", e.status, ctx.max_body);
            ctx.recorder.unmeasured_error(step, &reason);
            Some(false)
        }
        Ok(e) if e.status == step.expected_status() => {
            session.remember(step, &e.body);
            Some(true)
        }
        Ok(e) if step == Step::Bind && e.status == 400 && exchange::refused_for_totp(None, now) => None,
        Ok(e) => {
            let code = e.json().and_then(|v| v.get("error_code").and_then(|c| c.as_str().map(str::to_string)));
            let code = crate::sanitize::truncate(&code.unwrap_or_default(), 40);
            let reason = exchange::throttled(e.status, &code)
                .unwrap_or_else(|| format!("status {} (expected {})", e.status, step.expected_status()));
            ctx.recorder.unmeasured_error(step, &reason);
            Some(false)
        }
        Err(_) => {
            ctx.recorder.unmeasured_error(step, "no answer");
            Some(false)
        }
    }
}

/// Takes the device back to nothing ([`crate::target::reset_device`]), whatever state it is in.
async fn reset(ctx: &LoadContext, session: &mut Session) {
    if let Some(device) = session.device.take() {
        crate::target::reset_device(&ctx.client, &ctx.admin_token, &session.user_id, &device.serial, true).await;
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
            let device_name = format!("{}-{}", ctx.device_prefix, user.weighted_users_index);
            let mut session = Session::new(&identity, device_name, ctx.endpoint.clone());
            // goose's own client follows redirects and cannot be told otherwise: ours replaces it.
            user.client = ctx.goose_client.clone();
            for step in &scenario.setup {
                if !unmeasured(&ctx, &mut session, *step).await {
                    break;
                }
            }
            user.set_session_data(session);
            ctx.recorder.user_started();
            Ok(())
        })
    })
}

/// One flow: the scenario's measured steps, then its recycling.
async fn flow(user: &mut GooseUser, ctx: &LoadContext, scenario: &FlowScenario) -> Result<(), Box<TransactionError>> {
    let mut ok = true;
    for step in &scenario.steps {
        if !exchange::measured(user, ctx, *step).await? {
            ok = false;
            break;
        }
    }
    ctx.recorder.flow(ok);
    let session = user.get_session_data_unchecked_mut::<Session>();
    // Boxed: the harness's own client makes large futures, which would make every
    // iteration's future as large (goose boxes it, copying it whole, every time).
    if !ok && !scenario.setup.contains(&Step::Create) {
        Box::pin(reset(ctx, session)).await;
    } else {
        for step in &scenario.recycle {
            if !Box::pin(unmeasured(ctx, session, *step)).await {
                Box::pin(reset(ctx, session)).await;
                break;
            }
        }
    }
    Ok(())
}

/// One goose iteration: a flow ([`flow`]), or several in a row when nothing of goose's is
/// needed between them ([`LoadContext::batch`]).
pub fn iteration(ctx: Arc<LoadContext>, scenario: Arc<FlowScenario>) -> TransactionFunction {
    Arc::new(move |user| {
        let ctx = ctx.clone();
        let scenario = scenario.clone();
        Box::pin(async move {
            if let Some((arrivals, pool)) = &ctx.arrivals {
                let ready = || ctx.recorder.users_started() >= *pool;
                let stopping = || goose::is_killswitch_triggered() && !arrivals.is_done();
                if !arrivals.wait_turn(ready, stopping).await {
                    if arrivals.is_done() {
                        // The schedule is over: goose stops once the flows under way are done.
                        goose::trigger_killswitch("the arrival rate stages are over");
                    }
                    // goose calls again at once: a pause keeps an idle user from spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    return Ok(());
                }
            }
            // Several flows in a row when goose has nothing to do between them (see
            // `LoadContext::batch`); a stop signal ends the row at once.
            let batch = ctx.batch && scenario.think_time.is_none();
            let until = batch.then(|| std::time::Instant::now() + BATCH_TIME);
            for _ in 0..if batch { BATCH_FLOWS } else { 1 } {
                flow(user, &ctx, &scenario).await?;
                if until.is_none_or(|until| std::time::Instant::now() >= until) || goose::is_killswitch_triggered() {
                    break;
                }
            }
            if let Some(pause) = scenario.think_time {
                tokio::time::sleep(pause).await;
            }
            Ok(())
        })
    })
}
