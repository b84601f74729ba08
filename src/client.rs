//! Sends [`Operation`]s over HTTP with reqwest and records each exchange, for the contract
//! runner, snapshots and provisioning.

use crate::api::{AUTH_HEADER, OpKind, Operation, SUBJECT_TOKEN_HEADER};
use http::Method;
use std::time::{Duration, Instant};

/// What [`Exchange::subject_token`] holds when the header is there but is not text.
pub const NOT_TEXT: &str = "\u{0}not text";

/// One request sent and the answer received.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub kind: OpKind,
    pub method: Method,
    /// Path and query as sent.
    pub path: String,
    pub token_sent: bool,
    pub request_body: Option<Vec<u8>>,
    pub status: u16,
    pub content_type: Option<String>,
    /// The `Content-Length` header as sent, if the answer had one.
    pub content_length: Option<String>,
    /// The `X-Subject-Token` header, if the answer carried one.
    pub subject_token: Option<String>,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

impl Exchange {
    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{method} {path} timed out after {timeout:?}; raise --timeout or check the target's health")]
    Timeout { method: Method, path: String, timeout: Duration },
    #[error("{method} {path} could not reach the target ({reason}); is it running and is the URL right?")]
    Connect { method: Method, path: String, reason: String },
    #[error("{method} {path} failed: {reason}")]
    Other { method: Method, path: String, reason: String },
}

/// An HTTP client bound to one base URL.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    base: String,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(base: &str, timeout: Duration) -> Result<HttpClient, TransportError> {
        let inner = reqwest::Client::builder().timeout(timeout).pool_max_idle_per_host(64).build().map_err(|e| {
            TransportError::Other { method: Method::GET, path: base.to_string(), reason: e.to_string() }
        })?;
        Ok(HttpClient { inner, base: base.trim_end_matches('/').to_string(), timeout })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Sends `op` and records the exchange; a status of any kind is an answer, not an error.
    pub async fn send(&self, op: &Operation) -> Result<Exchange, TransportError> {
        let path = op.path_and_query();
        let mut request = self.inner.request(op.method.clone(), format!("{}{}", self.base, path));
        if let Some(token) = &op.token {
            request = request.header(AUTH_HEADER, token);
        }
        for (name, value) in &op.headers {
            request = request.header(name, value);
        }
        let body = op.body_bytes();
        if let Some((content_type, bytes)) = &body {
            request = request.header(http::header::CONTENT_TYPE, content_type).body(bytes.clone());
        }
        let started = Instant::now();
        let classify = |e: reqwest::Error| {
            let (method, path) = (op.method.clone(), path.clone());
            if e.is_timeout() {
                TransportError::Timeout { method, path, timeout: self.timeout }
            } else if e.is_connect() {
                TransportError::Connect { method, path, reason: root_cause(&e) }
            } else {
                TransportError::Other { method, path, reason: root_cause(&e) }
            }
        };
        let response = request.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let content_type = header(http::header::CONTENT_TYPE.as_str());
        let content_length = header(http::header::CONTENT_LENGTH.as_str());
        // A token header that is not visible ASCII is kept as a marker, not taken for a missing one.
        let subject_token = response
            .headers()
            .get(SUBJECT_TOKEN_HEADER)
            .map(|v| v.to_str().map(str::to_string).unwrap_or_else(|_| NOT_TEXT.to_string()));
        let bytes = response.bytes().await.map_err(classify)?;
        Ok(Exchange {
            kind: op.kind,
            method: op.method.clone(),
            path,
            token_sent: op.token.is_some(),
            request_body: body.map(|(_, b)| b),
            status,
            content_type,
            content_length,
            subject_token,
            body: bytes.to_vec(),
            elapsed: started.elapsed(),
        })
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut source = error;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}
