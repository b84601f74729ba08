//! The two transports of measured requests behind one interface: the session's own
//! keep-alive connection ([`super::wire`]) and goose's reqwest client. Each builds the step's
//! request from its [`crate::api::Operation`], sends it, and tells goose how it went. Neither
//! follows a redirect, and neither reads a body past `--max-body`.

use super::state::{LoadContext, Prepared, Session};
use super::step::Step;
use super::wire::WireError;
use crate::api::AUTH_HEADER;
use bytes::Bytes;
use goose::metrics::GooseRequestMetric;
use goose::prelude::*;
use http::header::HeaderName;
use http::{HeaderValue, Method, Request, Uri};
use std::time::{Duration, Instant};

/// `X-Auth-Token`, as a header name built at compile time.
const AUTH_HEADER_NAME: HeaderName = HeaderName::from_static("x-auth-token");

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
    /// The `X-Auth-Token`, or the headers that sign the request (the administrator's, with
    /// `--access-key`).
    auth: Vec<(HeaderName, HeaderValue)>,
    body: Option<(String, Vec<u8>)>,
}

/// The request of a step for the session's own connection, with every header it carries
/// ([`super::wire::Wire::base_headers`] first).
fn wire_request(
    user: &mut GooseUser,
    ctx: &LoadContext,
    step: Step,
    now: u64,
) -> Result<Option<Request<Bytes>>, Box<TransactionError>> {
    let mut request = Request::new(Bytes::new());
    let Some(parts) = parts(user, ctx, step, now)? else { return Ok(None) };
    *request.method_mut() = parts.method;
    *request.uri_mut() = uri_of(user, step, &parts.path_and_query)?;
    *request.headers_mut() = head(user, ctx, parts.auth);
    if let Some((content_type, bytes)) = parts.body {
        let content_type = HeaderValue::try_from(content_type)
            .map_err(|_| Box::new(TransactionError::Custom("a content type is not a valid header value".into())))?;
        request.headers_mut().insert(http::header::CONTENT_TYPE, content_type);
        request.headers_mut().insert(http::header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        *request.body_mut() = Bytes::from(bytes);
    }
    Ok(Some(request))
}

/// The headers of a request on the session's own connection: the connection's own, the
/// run's `--header`s, then the request's authentication.
fn head(user: &GooseUser, ctx: &LoadContext, auth: Vec<(HeaderName, HeaderValue)>) -> http::HeaderMap {
    let session = user.get_session_data_unchecked::<Session>();
    let mut headers = session.wire.as_ref().map(|w| w.base_headers()).unwrap_or_default();
    for (name, value) in ctx.headers.iter().cloned().chain(auth) {
        headers.append(name, value);
    }
    headers
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
    let mut builder = user.client.request(parts.method, url);
    for (name, value) in parts.auth {
        builder = builder.header(name, value);
    }
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
    let Some(op) = session.operation(step, &ctx.admin_token, now) else { return Ok(None) };
    let (path_and_query, body) = (op.path_and_query(), op.body_bytes());
    let auth = match ctx.keys.as_ref().filter(|_| crate::client::sign::is_signed(op.token.as_deref())) {
        Some(keys) => {
            let url = url_of(user, &path_and_query)?;
            let (content_type, bytes) =
                body.as_ref().map_or((None, &[][..]), |(c, b)| (Some(c.as_str()), b.as_slice()));
            crate::client::sign::headers(keys, &op.method, url.as_str(), content_type, bytes)
                .map_err(|e| Box::new(TransactionError::Custom(format!("could not sign the request: {e}"))))?
        }
        None => vec![(AUTH_HEADER_NAME, token_header(op.token.as_deref().unwrap_or_default())?)],
    };
    let parts = Parts { auth, path_and_query, body, method: op.method };
    // A signed request carries its date: it is signed anew every time.
    if let (true, [(name, token)]) = (matches!(step, Step::Query | Step::List), parts.auth.as_slice())
        && *name == AUTH_HEADER_NAME
    {
        let encoded = match &user.get_session_data_unchecked::<Session>().wire {
            Some(wire) => {
                let mut request = Request::new(Bytes::new());
                *request.method_mut() = parts.method.clone();
                *request.uri_mut() = uri_of(user, step, &parts.path_and_query)?;
                *request.headers_mut() = head(user, ctx, parts.auth.clone());
                Some(wire.encode(request))
            }
            None => None,
        };
        let prepared = Prepared {
            url: url_of(user, &parts.path_and_query)?,
            token: token.clone(),
            method: parts.method.clone(),
            encoded,
        };
        user.get_session_data_unchecked_mut::<Session>().prepare(step, prepared);
    }
    Ok(Some(parts))
}

/// The absolute URL of a path on the target, for goose's client: the base URL's own path (a
/// gateway's prefix such as `/iam`) stays in front of it.
fn url_of(user: &GooseUser, path_and_query: &str) -> Result<url::Url, Box<TransactionError>> {
    let base = user.base_url.as_str().trim_end_matches('/');
    url::Url::parse(&format!("{base}{path_and_query}")).map_err(|e| Box::new(TransactionError::from(e)))
}

/// The origin-form URI of a path, for the session's own connection, behind the base URL's
/// path prefix.
fn uri_of(user: &GooseUser, step: Step, path_and_query: &str) -> Result<Uri, Box<TransactionError>> {
    let prefix = user.base_url.path().trim_end_matches('/');
    Uri::try_from(format!("{prefix}{path_and_query}"))
        .map_err(|_| Box::new(TransactionError::Custom(format!("{}: not a valid request path", step.name()))))
}

/// How a measured request went, whichever transport sent it.
pub struct Sent {
    via: Via,
    /// From the request's first byte to the answer's last.
    pub elapsed: Duration,
    /// When the answer's last byte came (the clock read once for both).
    pub ended: Instant,
}

enum Via {
    /// Over the session's own connection: goose hears of it as a custom request.
    Wire { method: Method, answer: Result<(u16, Bytes), WireError> },
    /// Through goose's client, which already holds the request's metric.
    Goose { metric: Box<GooseRequestMetric>, answer: Result<(u16, Bytes), Unread> },
}

/// Why a measured request has no body to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unread {
    /// No answer at all.
    NoAnswer(&'static str),
    /// An answer with this status whose body goes on past `--max-body`.
    TooLarge { status: u16 },
}

impl Sent {
    /// The status and body, or why there is none.
    pub fn answer(&self) -> Result<(u16, &Bytes), Unread> {
        match &self.via {
            Via::Wire { answer, .. } => answer.as_ref().map(|(s, b)| (*s, b)).map_err(|e| match e {
                WireError::TooLarge { status } => Unread::TooLarge { status: *status },
                other => Unread::NoAnswer(other.reason()),
            }),
            Via::Goose { answer, .. } => answer.as_ref().map(|(s, b)| (*s, b)).map_err(|e| *e),
        }
    }
}

/// Sends a step's request over the session's own connection when it has one, else through
/// goose's client; `None` when the session has no device for the step.
pub async fn send(
    user: &mut GooseUser,
    ctx: &LoadContext,
    step: Step,
    now: u64,
) -> Result<Option<Sent>, Box<TransactionError>> {
    let session = user.get_session_data_unchecked_mut::<Session>();
    if let Some((wire, prepared, encoded)) = session.wire_and_encoded(step) {
        let method = prepared.method.clone();
        let started = Instant::now();
        let answer = wire.send_encoded(encoded, method.is_idempotent(), started).await;
        let ended = Instant::now();
        return Ok(Some(Sent { via: Via::Wire { method, answer }, elapsed: ended - started, ended }));
    }
    if session.wire.is_some() {
        let Some(request) = wire_request(user, ctx, step, now)? else { return Ok(None) };
        let method = request.method().clone();
        let session = user.get_session_data_unchecked_mut::<Session>();
        let Some(wire) = session.wire.as_mut() else { return Ok(None) };
        let started = Instant::now();
        let answer = wire.send_whole(request, started).await;
        let ended = Instant::now();
        return Ok(Some(Sent { via: Via::Wire { method, answer }, elapsed: ended - started, ended }));
    }
    // Boxed: reqwest's futures are large; the connection's path stays small.
    Box::pin(send_through_goose(user, ctx, step, now)).await
}

/// [`send`] through goose's client.
async fn send_through_goose(
    user: &mut GooseUser,
    ctx: &LoadContext,
    step: Step,
    now: u64,
) -> Result<Option<Sent>, Box<TransactionError>> {
    let Some(builder) = request_builder(user, ctx, step, now)? else { return Ok(None) };
    let request = GooseRequest::builder().set_request_builder(builder).name(step.name()).build();
    let started = Instant::now();
    let answer = user.request(request).await?;
    let no_answer = |e: reqwest::Error| {
        Unread::NoAnswer(if e.is_timeout() { "no answer: timeout" } else { "no answer: connection error" })
    };
    let result = match answer.response {
        Ok(mut response) => {
            let status = response.status().as_u16();
            match crate::client::read_bounded(&mut response, ctx.max_body).await {
                Ok((body, false)) => Ok((status, Bytes::from(body))),
                Ok((_, true)) => Err(Unread::TooLarge { status }),
                Err(e) => Err(no_answer(e)),
            }
        }
        Err(e) => Err(no_answer(e)),
    };
    let via = Via::Goose { metric: Box::new(answer.request), answer: result };
    let ended = Instant::now();
    Ok(Some(Sent { via, elapsed: ended - started, ended }))
}

/// Tells goose how a measured request went (for its reports; nothing when its metrics are off).
pub async fn tell_goose(
    user: &mut GooseUser,
    step: Step,
    sent: Sent,
    status: Option<u16>,
    failure: Option<&str>,
) -> Result<(), Box<TransactionError>> {
    let elapsed = sent.elapsed;
    match sent.via {
        Via::Wire { method, .. } => {
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
        Via::Goose { mut metric, .. } => {
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
