//! One step as a request: the [`Operation`] it sends, the status it expects, how its answer is
//! judged against the contract, and the measured send through goose.

use super::flows::Step;
use super::session::Prepared;
use super::session::{Device, LoadContext, Session};
use super::wire::WireError;
use crate::api::models::{BindMfaDevice, UnbindMfaDevice};
use crate::api::{AUTH_HEADER, Operation, ops};
use crate::totp;
use bytes::Bytes;
use goose::metrics::GooseRequestMetric;
use goose::prelude::*;
use http::header::HeaderName;
use http::{HeaderValue, Method, Request, Uri};
use http_body_util::Full;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// `X-Auth-Token`, as a header name built at compile time.
const AUTH_HEADER_NAME: HeaderName = HeaderName::from_static("x-auth-token");

/// The status a step answers when it honours the contract.
pub fn expected_status(step: Step) -> u16 {
    match step {
        Step::Create => 201,
        Step::Bind | Step::Unbind | Step::Delete => 204,
        Step::Query | Step::List => 200,
    }
}

/// The request of a step, or `None` when the session has no device for it. Bind carries the
/// codes of steps t−1 and t, where t is the step at `now`.
pub fn operation(step: Step, s: &Session, admin: &str, now: u64) -> Option<Operation> {
    let device = s.device.as_ref();
    Some(match step {
        Step::Create => ops::create_device(Some(&s.token), &s.user_id, &s.device_name),
        Step::Bind => {
            let device = device?;
            let pair = totp::bind_pair(&device.seed, now);
            ops::bind_device(
                Some(&s.token),
                &BindMfaDevice {
                    user_id: s.user_id.clone(),
                    serial_number: device.serial.clone(),
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
                serial_number: device?.serial.clone(),
            },
        ),
        Step::Delete => ops::delete_device(Some(admin), &s.user_id, &device?.serial),
        Step::List => ops::list_devices(Some(admin)),
    })
}

/// What is wrong with an answer, if anything.
pub fn judge(ctx: &LoadContext, step: Step, s: &Session, status: u16, body: &[u8]) -> Option<String> {
    let expected = expected_status(step);
    if status != expected {
        let code = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("error_code").and_then(|c| c.as_str()).map(|c| crate::sanitize::truncate(c, 40)))
            .unwrap_or_default();
        return Some(format!("status {status} (expected {expected}) {code}").trim_end().to_string());
    }
    if let Some(v) = ctx.schemas.validate_response(step.op_kind(), status, body, false).first() {
        let message = crate::sanitize::truncate(&v.message, 160);
        return Some(format!("schema {}: {message} ({} at '{}')", v.schema, v.keyword, v.instance_pointer));
    }
    if step != Step::Create
        && let Some(device) = &s.device
        && !body.is_empty()
        && String::from_utf8_lossy(body).contains(device.seed_text.as_str())
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

/// What the session learns from an answer that honoured the contract.
pub fn remember(s: &mut Session, step: Step, body: &[u8]) {
    match step {
        Step::Create => {
            let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let d = &v["virtual_mfa_device"];
            if let (Some(serial), Some(seed)) = (d["serial_number"].as_str(), d["base32_string_seed"].as_str()) {
                s.device = totp::Seed::parse(seed).ok().map(|parsed| Device {
                    serial: serial.to_string(),
                    seed: parsed,
                    seed_text: seed.to_string(),
                });
            }
            s.last_good = None;
        }
        Step::Delete => {
            s.device = None;
            s.last_good = None;
        }
        _ => {}
    }
}

/// Waits for the next time step when less than `margin` is left of this one, so that the
/// codes of steps t−1 and t are still in the target's window when it checks them.
pub async fn wait_for_step_margin(margin: Duration) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let step_ms = (totp::STEP_SECONDS * 1000) as u128;
    let left = Duration::from_millis((step_ms - now.as_millis() % step_ms) as u64);
    if left < margin {
        tokio::time::sleep(left + Duration::from_millis(20)).await;
    }
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

/// A header value that is never logged.
fn token_header(token: &str) -> Result<HeaderValue, Box<TransactionError>> {
    let mut value = HeaderValue::from_str(token)
        .map_err(|_| Box::new(TransactionError::Custom("a token is not a valid header value".into())))?;
    value.set_sensitive(true);
    Ok(value)
}

/// The parts of a step's request, whichever client sends it.
struct Parts {
    method: Method,
    path_and_query: String,
    token: HeaderValue,
    body: Option<(String, Vec<u8>)>,
}

/// The request of a step for the session's own connection.
fn wire_request(
    user: &mut GooseUser,
    ctx: &LoadContext,
    step: Step,
    now: u64,
) -> Result<Option<Request<Full<Bytes>>>, Box<TransactionError>> {
    let (method, uri, token, body) = match user.get_session_data_unchecked::<Session>().prepared(step) {
        Some(prepared) => (Method::GET, prepared.uri.clone(), prepared.token.clone(), None),
        None => {
            let Some(parts) = parts(user, ctx, step, now)? else { return Ok(None) };
            (parts.method, uri_of(step, &parts.path_and_query)?, parts.token, parts.body)
        }
    };
    let mut request = Request::new(Full::new(Bytes::new()));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    request.headers_mut().insert(AUTH_HEADER_NAME, token);
    if let Some((content_type, bytes)) = body {
        let content_type = HeaderValue::try_from(content_type)
            .map_err(|_| Box::new(TransactionError::Custom("a content type is not a valid header value".into())))?;
        request.headers_mut().insert(http::header::CONTENT_TYPE, content_type);
        request.headers_mut().insert(http::header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        *request.body_mut() = Full::new(Bytes::from(bytes));
    }
    Ok(Some(request))
}

/// The request builder of a step for goose's reqwest client (`https://` targets).
fn request_builder(
    user: &mut GooseUser,
    ctx: &LoadContext,
    step: Step,
    now: u64,
) -> Result<Option<reqwest::RequestBuilder>, Box<TransactionError>> {
    if let Some(prepared) = user.get_session_data_unchecked::<Session>().prepared(step) {
        let (url, token) = (prepared.url.clone(), prepared.token.clone());
        return Ok(Some(user.client.get(url).header(AUTH_HEADER, token)));
    }
    let Some(parts) = parts(user, ctx, step, now)? else { return Ok(None) };
    let url = url_of(user, &parts.path_and_query)?;
    let mut builder = user.client.request(parts.method, url).header(AUTH_HEADER, parts.token);
    if let Some((content_type, bytes)) = parts.body {
        builder = builder.header(http::header::CONTENT_TYPE, content_type).body(bytes);
    }
    Ok(Some(builder))
}

/// The parts of a step's request from its [`Operation`]. Query and list are the same all
/// session long: the first time, their URL, URI and token header are kept in the session.
fn parts(
    user: &mut GooseUser,
    ctx: &LoadContext,
    step: Step,
    now: u64,
) -> Result<Option<Parts>, Box<TransactionError>> {
    let session = user.get_session_data_unchecked::<Session>();
    let Some(op) = operation(step, session, &ctx.admin_token, now) else { return Ok(None) };
    let parts = Parts {
        token: token_header(op.token.as_deref().unwrap_or_default())?,
        path_and_query: op.path_and_query(),
        body: op.body_bytes(),
        method: op.method,
    };
    if matches!(step, Step::Query | Step::List) {
        let prepared = Prepared {
            url: url_of(user, &parts.path_and_query)?,
            uri: uri_of(step, &parts.path_and_query)?,
            token: parts.token.clone(),
        };
        user.get_session_data_unchecked_mut::<Session>().prepare(step, prepared);
    }
    Ok(Some(parts))
}

/// The absolute URL of a path on the target, for goose's client.
fn url_of(user: &GooseUser, path_and_query: &str) -> Result<url::Url, Box<TransactionError>> {
    user.base_url.join(path_and_query).map_err(|e| Box::new(TransactionError::from(e)))
}

/// The origin-form URI of a path, for the session's own connection.
fn uri_of(step: Step, path_and_query: &str) -> Result<Uri, Box<TransactionError>> {
    Uri::try_from(path_and_query)
        .map_err(|_| Box::new(TransactionError::Custom(format!("{}: not a valid request path", step.name()))))
}

/// How a measured request went, whichever client sent it.
enum Sent {
    /// Over the session's own connection: goose hears of it as a custom request.
    Wire { method: Method, answer: Result<(u16, Bytes), WireError> },
    /// Through goose's client, which already holds the request's metric.
    Goose { metric: Box<GooseRequestMetric>, answer: Result<(u16, Bytes), &'static str> },
}

async fn send(
    user: &mut GooseUser,
    ctx: &LoadContext,
    step: Step,
    now: u64,
) -> Result<Option<(Sent, Duration)>, Box<TransactionError>> {
    if user.get_session_data_unchecked::<Session>().wire.is_some() {
        let Some(request) = wire_request(user, ctx, step, now)? else { return Ok(None) };
        let method = request.method().clone();
        let session = user.get_session_data_unchecked_mut::<Session>();
        let Some(wire) = session.wire.as_mut() else { return Ok(None) };
        let started = Instant::now();
        let answer = wire.send(request).await;
        return Ok(Some((Sent::Wire { method, answer }, started.elapsed())));
    }
    let Some(builder) = request_builder(user, ctx, step, now)? else { return Ok(None) };
    let request = GooseRequest::builder().set_request_builder(builder).name(step.name()).build();
    let started = Instant::now();
    let answer = user.request(request).await?;
    let result = match answer.response {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(body) => Ok((status, body)),
                Err(e) => Err(if e.is_timeout() { "no answer: timeout" } else { "no answer: connection error" }),
            }
        }
        Err(e) => Err(if e.is_timeout() { "no answer: timeout" } else { "no answer: connection error" }),
    };
    Ok(Some((Sent::Goose { metric: Box::new(answer.request), answer: result }, started.elapsed())))
}

/// Tells goose how a measured request went (for its reports; nothing when its metrics are off).
async fn tell_goose(
    user: &mut GooseUser,
    step: Step,
    sent: Sent,
    elapsed: Duration,
    status: Option<u16>,
    failure: Option<&str>,
) -> Result<(), Box<TransactionError>> {
    match sent {
        Sent::Wire { method, .. } => {
            if !user.config.no_metrics {
                user.record_custom_request_duration(
                    method.as_str(),
                    step.name(),
                    elapsed,
                    failure.is_none(),
                    status,
                    failure,
                )
                .await?;
            }
        }
        Sent::Goose { mut metric, .. } => {
            // set_failure answers Err(RequestFailed) by design, to end a goose transaction; this
            // flow still has to recycle its device, so the failure is recorded and the flow goes on.
            let _ = match failure {
                Some(reason) => user.set_failure(reason, &mut metric, None, None),
                None => user.set_success(&mut metric),
            };
        }
    }
    Ok(())
}

async fn send_measured(user: &mut GooseUser, ctx: &LoadContext, step: Step) -> Result<bool, Box<TransactionError>> {
    if step == Step::Bind {
        wait_for_step_margin(ctx.step_margin).await;
    }
    let now = totp::unix_now();
    let Some((sent, elapsed)) = send(user, ctx, step, now).await? else { return Ok(false) };
    let answer = match &sent {
        Sent::Wire { answer, .. } => answer.as_ref().map_err(|e| e.reason()),
        Sent::Goose { answer, .. } => answer.as_ref().map_err(|e| *e),
    };
    let (status, body) = match answer {
        Ok((status, body)) => (*status, body.clone()),
        Err(reason) => {
            ctx.recorder.request(step, elapsed, Some(reason));
            tell_goose(user, step, sent, elapsed, None, Some(reason)).await?;
            return Ok(false);
        }
    };
    if step == Step::Bind
        && status == 400
        && refused_for_totp(user.get_session_data_unchecked::<Session>().device.as_ref().map(|d| &d.seed), now)
    {
        ctx.recorder.request(step, elapsed, None);
        ctx.recorder.totp_window();
        tell_goose(user, step, sent, elapsed, Some(status), None).await?;
        return Ok(false);
    }
    let session = user.get_session_data_unchecked::<Session>();
    // An answer byte for byte the same as the last good one of this step is judged the same;
    // a query-only flow gets the same answer again and again.
    let failure =
        if session.is_last_good(step, status, &body) { None } else { judge(ctx, step, session, status, &body) };
    ctx.recorder.request(step, elapsed, failure.as_deref());
    tell_goose(user, step, sent, elapsed, Some(status), failure.as_deref()).await?;
    if failure.is_some() {
        return Ok(false);
    }
    let session = user.get_session_data_unchecked_mut::<Session>();
    remember(session, step, &body);
    session.last_good = Some((step, status, body));
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
