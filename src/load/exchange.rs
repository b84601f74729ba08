//! One measured step: waits for its turn (throttle, TOTP margin), sends it over the session's
//! transport, judges the answer against the contract and records it.

use super::answers::Outcome;
use super::state::{LoadContext, Session};
use super::step::Step;
use super::transport;
use crate::{rules, totp};
use goose::prelude::*;

/// The error class of a throttling answer (429, or the documented IAM.0012 whatever the
/// status): `throttled (429)`, `throttled (429 IAM.0012)`; counted apart from the other
/// unexpected statuses, since it is the target's answer to the rate.
pub fn throttled(status: u16, code: &str) -> Option<String> {
    let documented = code == crate::client::retry::THROTTLING_CODE;
    (status == 429 || documented).then(|| format!("throttled ({status} {code})").replace(" )", ")"))
}

/// What is wrong with an answer, if anything.
pub fn judge(ctx: &LoadContext, step: Step, s: &Session, status: u16, body: &[u8]) -> Option<String> {
    let expected = step.expected_status();
    if status != expected {
        let code = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("error_code").and_then(|c| c.as_str()).map(|c| crate::sanitize::truncate(c, 40)))
            .unwrap_or_default();
        if let Some(throttled) = throttled(status, &code) {
            return Some(throttled);
        }
        return Some(format!("status {status} (expected {expected}) {code}").trim_end().to_string());
    }
    if let Some(v) = ctx.schemas.validate_response(step.op_kind(), status, body, false).first() {
        let message = crate::sanitize::truncate(&v.message, 160);
        return Some(format!("schema {}: {message} ({} at '{}')", v.schema, v.keyword, v.instance_pointer));
    }
    if step != Step::Create
        && let Some(device) = &s.device
        && device.seed_forms.leaked_in(body)
    {
        return Some("the answer contains the device's TOTP seed; only create may return it".into());
    }
    if step == Step::Query {
        let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let shown = &value["virtual_mfa_device"];
        if shown["user_id"].as_str() != Some(s.user_id.as_str()) {
            return Some("query: user_id is not the user's".into());
        }
        if let Some(device) = &s.device
            && shown["serial_number"].as_str() != Some(device.serial.as_str())
        {
            return Some("query: serial_number is not the one create returned".into());
        }
    }
    None
}

/// Whether a bind refused with 400 is explained by TOTP rather than by the target: its time
/// step ended while it was in flight, or its pair of codes also reads as another pair of the
/// window ([`totp::pair_is_unambiguous`]; about one bind in 100,000), which a strict verifier
/// may refuse. Such a refusal is counted as a totp-window retry, not as a violation.
pub fn refused_for_totp(seed: Option<&totp::Seed>, sent_at: u64) -> bool {
    totp::step_at(totp::unix_now()) != totp::step_at(sent_at)
        || seed.is_some_and(|seed| !totp::pair_is_unambiguous(seed, totp::step_at(sent_at)))
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
pub async fn measured(user: &mut GooseUser, ctx: &LoadContext, step: Step) -> Result<bool, Box<TransactionError>> {
    let throttled = pass_throttle(user).await?;
    let result = send_measured(user, ctx, step).await;
    if throttled {
        user.is_throttled = true;
    }
    result
}

async fn send_measured(user: &mut GooseUser, ctx: &LoadContext, step: Step) -> Result<bool, Box<TransactionError>> {
    if step == Step::Bind {
        rules::wait_for_step_margin(ctx.step_margin).await;
    }
    // A prepared request (query, list) is the same whatever the time: no clock to read.
    let prepared = user.get_session_data_unchecked::<Session>().prepared(step).is_some();
    let now = if prepared { 0 } else { totp::unix_now() };
    let Some(sent) = transport::send(user, ctx, step, now).await? else { return Ok(false) };
    let (elapsed, ended) = (sent.elapsed, sent.ended);
    let (status, body) = match sent.answer() {
        Ok((status, body)) => (status, body.clone()),
        Err(transport::Unread::NoAnswer(reason)) => {
            ctx.recorder.request_ended(step, ended, elapsed, Some(reason));
            ctx.recorder.answers.count(step, None, Outcome::Violation);
            transport::tell_goose(user, step, sent, None, Some(reason)).await?;
            return Ok(false);
        }
        Err(transport::Unread::TooLarge { status }) => {
            let reason = format!("status {status}: the body exceeds {} bytes (--max-body)", ctx.max_body);
            ctx.recorder.request_ended(step, ended, elapsed, Some(&reason));
            ctx.recorder.answers.count(step, Some(status), Outcome::Violation);
            transport::tell_goose(user, step, sent, Some(status), Some(&reason)).await?;
            return Ok(false);
        }
    };
    if step == Step::Bind
        && status == 400
        && refused_for_totp(user.get_session_data_unchecked::<Session>().device.as_ref().map(|d| &d.seed), now)
    {
        ctx.recorder.request_ended(step, ended, elapsed, None);
        ctx.recorder.answers.count(step, Some(status), Outcome::TotpWindow);
        ctx.recorder.totp_window();
        transport::tell_goose(user, step, sent, Some(status), None).await?;
        return Ok(false);
    }
    let session = user.get_session_data_unchecked::<Session>();
    // An answer byte for byte the same as the last good one of this step is judged the same;
    // a query-only flow gets the same answer again and again.
    let same = session.is_last_good(step, status, &body);
    let failure = if same { None } else { judge(ctx, step, session, status, &body) };
    ctx.recorder.request_ended(step, ended, elapsed, failure.as_deref());
    ctx.recorder.answers.count(step, Some(status), if failure.is_some() { Outcome::Violation } else { Outcome::Ok });
    transport::tell_goose(user, step, sent, Some(status), failure.as_deref()).await?;
    if failure.is_some() {
        return Ok(false);
    }
    let session = user.get_session_data_unchecked_mut::<Session>();
    session.remember(step, &body);
    // Kept as a copy: the body shares the connection's read buffer, which the next answer is
    // then read into again rather than into a new one. The same answer again is not copied.
    if !same {
        session.last_good = Some((step, status, bytes::Bytes::copy_from_slice(&body)));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_bind_is_blamed_on_totp_only_for_a_step_change_or_an_ambiguous_pair() {
        let seed = totp::Seed::from_bytes(b"12345678901234567890".to_vec());
        // Steps 56188870 and 56188871 share a code (see totp's tests): an ambiguous pair, long ago.
        let ambiguous = 56_188_871 * totp::STEP_SECONDS;
        assert!(refused_for_totp(Some(&seed), ambiguous));
        // Sent in the previous step and answered in this one: the step ended in flight.
        assert!(refused_for_totp(None, totp::unix_now() - totp::STEP_SECONDS));
        // Sent now, with no seed to judge: only a step change would excuse it.
        let (mut sent_at, mut excused) = (totp::unix_now(), true);
        for _ in 0..3 {
            sent_at = totp::unix_now();
            excused = refused_for_totp(None, sent_at);
            if totp::step_at(totp::unix_now()) == totp::step_at(sent_at) {
                break;
            }
        }
        assert!(!excused, "a refusal in the same step with nothing ambiguous is the target's (sent at {sent_at})");
    }
}
