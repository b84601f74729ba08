//! Sends [`Operation`]s over HTTP with reqwest and records each exchange, for the contract
//! runner, snapshots and provisioning.
//!
//! The one reqwest setup of the harness ([`reqwest_builder`]): no redirect is ever followed
//! (the API documents none, and following one would send the token request's password, or a
//! token, wherever the target points), and no answer body is read past `--max-body`.

pub mod body;
pub mod network;
pub mod pace;
pub mod proxy;
pub mod retry;
pub mod sign;
pub mod tls;
pub mod trust;

pub use body::{append_bounded, parse_max_body, read_bounded};
pub use network::{DEFAULT_MAX_BODY, Network, ProxyChoice, TlsOptions};
pub use retry::Safety;
pub use trust::{PemFileError, TlsConfig};

use crate::api::{AUTH_HEADER, OpKind, Operation, SUBJECT_TOKEN_HEADER};
use http::Method;
use std::time::{Duration, Instant};

/// What [`Exchange::subject_token`] holds when the header is there but is not text.
pub const NOT_TEXT: &str = "\u{0}not text";

/// How much of a body cut at `--max-body` an [`Exchange`] keeps, for the report: a run keeps
/// every exchange, and a target that answers every request with an endless body must not make
/// it hold `--max-body` per request.
pub const CUT_BODY_KEPT: usize = 4096;

/// The reqwest setup every client of the harness starts from: redirects are never followed
/// (a 3xx is an answer like any other), and the network's timeout bounds each request, its
/// body included. TLS is the network's one set-up ([`TlsConfig`]), and the proxy is the one
/// [`proxy::proxy_for`] picks for `base` (a loopback target, such as the embedded server, is
/// never sent through a proxy of the environment, as curl does for `localhost`).
pub fn reqwest_builder(network: &Network, base: &str) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(network.timeout)
        .pool_max_idle_per_host(64)
        .user_agent(concat!("mfa-harness/", env!("CARGO_PKG_VERSION")))
        .no_proxy();
    // A file that cannot be used was refused (exit 2) when the plan was made; were it not,
    // reqwest's own set-up (the system's authorities, nothing accepted blindly) is kept.
    if let Ok(tls) = network.tls_config() {
        builder = builder.tls_backend_preconfigured((*tls.rustls()).clone());
    }
    let proxy = url::Url::parse(base).ok().and_then(|target| proxy::proxy_for(&target, &network.proxy));
    if let Some(proxy) = proxy.and_then(|p| reqwest::Proxy::all(p.url.as_str()).ok()) {
        builder = builder.proxy(proxy);
    }
    builder
}

/// Whether a URL names this machine: `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback(url: &str) -> bool {
    match url::Url::parse(url).ok().and_then(|u| u.host().map(|h| h.to_owned())) {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

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
    /// The `Location` header as sent (a redirect's target; never followed), if any.
    pub location: Option<String>,
    /// The `Retry-After` header as sent, if any.
    pub retry_after: Option<String>,
    /// The body; only its first [`CUT_BODY_KEPT`] bytes when it went on past `--max-body`.
    pub body: Vec<u8>,
    /// `Some(limit)` when the body went on past `--max-body` and was cut there.
    pub cut_at: Option<usize>,
    pub elapsed: Duration,
}

impl Exchange {
    /// The status with its reason phrase, e.g. `307 Temporary Redirect`.
    pub fn status_line(&self) -> String {
        match http::StatusCode::from_u16(self.status).ok().and_then(|s| s.canonical_reason()) {
            Some(reason) => format!("{} {reason}", self.status),
            None => self.status.to_string(),
        }
    }

    /// Whether the answer is a redirect (3xx), which the harness never follows.
    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.status)
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `Some(description)` when the answer says the target throttles ([`retry::throttled`]:
    /// 429, or IAM.0012), e.g. `429 Too Many Requests, IAM.0012`.
    pub fn throttled(&self) -> Option<String> {
        if self.status != 429
            && !self.body.windows(retry::THROTTLING_CODE.len()).any(|w| w == retry::THROTTLING_CODE.as_bytes())
        {
            return None;
        }
        let code = self.json().and_then(|v| v.get("error_code").and_then(|c| c.as_str().map(str::to_string)));
        retry::throttled(self.status, self.status_line(), code.as_deref())
    }

    /// The answer's `Retry-After`, as a wait from now.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after.as_deref().and_then(|v| retry::parse_retry_after(v, std::time::SystemTime::now()))
    }
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{method} {path} timed out after {timeout:?}; raise --timeout or check the target's health")]
    Timeout { method: Method, path: String, timeout: Duration },
    #[error("{method} {path} could not reach the target ({reason}); is it running and is the URL right?")]
    Connect { method: Method, path: String, reason: String },
    /// The connection closed (reset, or ended) before the answer was whole.
    #[error("{method} {path}: the connection was closed before the answer was complete ({reason})")]
    Dropped { method: Method, path: String, reason: String },
    #[error("{method} {path} failed: {reason}")]
    Other { method: Method, path: String, reason: String },
}

impl TransportError {
    /// Whether another attempt is worth it ([`retry::retryable_failure`]).
    pub fn retryable(&self, safety: Safety) -> bool {
        let failure = match self {
            TransportError::Connect { .. } => retry::Failure::Refused,
            TransportError::Dropped { .. } => retry::Failure::Dropped,
            TransportError::Timeout { .. } | TransportError::Other { .. } => retry::Failure::Other,
        };
        retry::retryable_failure(failure, safety)
    }
}

/// An HTTP client bound to one base URL.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    base: String,
    timeout: Duration,
    max_body: usize,
    /// `--header`s, sent on every request.
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// `--rate-limit`: shared by every clone, so the whole run keeps to it.
    pace: Option<std::sync::Arc<pace::Pace>>,
    /// The retries of [`HttpClient::send_retrying`].
    retry: retry::Policy,
    /// Signs the requests whose token is [`sign::SIGNED`] (`--access-key`, `--secret-key`).
    keys: Option<std::sync::Arc<crate::sign::Keys>>,
}

impl HttpClient {
    /// A client with the default body limit ([`DEFAULT_MAX_BODY`]).
    pub fn new(base: &str, timeout: Duration) -> Result<HttpClient, TransportError> {
        HttpClient::with_max_body(base, timeout, DEFAULT_MAX_BODY)
    }

    /// A client that reads at most `max_body` bytes of each answer.
    pub fn with_max_body(base: &str, timeout: Duration, max_body: usize) -> Result<HttpClient, TransportError> {
        HttpClient::with_network(base, &Network { max_body, ..Network::with_timeout(timeout) })
    }

    /// A client that reaches `base` as `network` says.
    pub fn with_network(base: &str, network: &Network) -> Result<HttpClient, TransportError> {
        let inner = reqwest_builder(network, base).build().map_err(|e| TransportError::Other {
            method: Method::GET,
            path: base.to_string(),
            reason: e.to_string(),
        })?;
        Ok(HttpClient {
            inner,
            base: base.trim_end_matches('/').to_string(),
            timeout: network.timeout,
            max_body: network.max_body,
            headers: network.headers.clone(),
            pace: network.rate_limit.map(|rate| std::sync::Arc::new(pace::Pace::per_second(rate))),
            retry: retry::Policy::DEFAULT,
            keys: None,
        })
    }

    /// The retries of [`HttpClient::send_retrying`].
    pub fn retry_policy(&self) -> retry::Policy {
        self.retry
    }

    /// The same client with another retry policy (for tests that must not wait long).
    pub fn with_retry(mut self, policy: retry::Policy) -> HttpClient {
        self.retry = policy;
        self
    }

    /// Sends `op` as [`HttpClient::send`] does, and again while the answer is one the retry
    /// policy retries ([`retry`]): a throttling or gateway status, or a connection refused or
    /// (for `safety` [`Safety::Idempotent`]) dropped. Returns the last answer, or the last
    /// failure, and how many attempts were made. For the harness's own requests only, never
    /// for the measured request of a case.
    pub async fn send_retrying(&self, op: &Operation, safety: Safety) -> (Result<Exchange, TransportError>, u32) {
        self.retrying(op, |answer| match answer {
            Ok(e) => retry::retryable_status(e.status, safety).then(|| e.retry_after()),
            Err(e) => e.retryable(safety).then_some(None),
        })
        .await
    }

    /// Sends `op` again only while the target throttles it ([`retry::throttled`]), which says
    /// the request was not taken: for state read-backs and a load user's unmeasured steps,
    /// whose answers matter (a 503 there is the target's to answer for) but are not measured.
    pub async fn send_unless_throttled(&self, op: &Operation) -> (Result<Exchange, TransportError>, u32) {
        self.retrying(op, |answer| match answer {
            Ok(e) if e.throttled().is_some() => Some(e.retry_after()),
            _ => None,
        })
        .await
    }

    /// Sends `op` until `again` (given each answer) says no more, with `Some(Retry-After)`, or
    /// the retry policy is spent.
    async fn retrying(
        &self,
        op: &Operation,
        again: impl Fn(&Result<Exchange, TransportError>) -> Option<Option<Duration>>,
    ) -> (Result<Exchange, TransportError>, u32) {
        let mut schedule = retry::Schedule::new(self.retry);
        loop {
            let answer = self.send(op).await;
            let wait = again(&answer).and_then(|after| schedule.next(after));
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return (answer, schedule.attempts()),
            }
        }
    }

    /// The same client, signing with `keys` every request whose token is [`sign::SIGNED`].
    pub fn with_keys(mut self, keys: crate::sign::Keys) -> HttpClient {
        self.keys = Some(std::sync::Arc::new(keys));
        self
    }

    /// The keys requests whose token is [`sign::SIGNED`] are signed with, if any.
    pub fn keys(&self) -> Option<&crate::sign::Keys> {
        self.keys.as_deref()
    }

    /// The most bytes of an answer's body that are read.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Sends `op` and records the exchange; a status of any kind is an answer, not an error.
    pub async fn send(&self, op: &Operation) -> Result<Exchange, TransportError> {
        if let Some(pace) = &self.pace {
            pace.wait().await;
        }
        let path = op.path_and_query();
        let url = format!("{}{}", self.base, path);
        let mut request = self.inner.request(op.method.clone(), &url);
        let keys = self.keys.as_deref().filter(|_| sign::is_signed(op.token.as_deref()));
        if let Some(token) = op.token.as_ref().filter(|_| keys.is_none()) {
            request = request.header(AUTH_HEADER, token);
        }
        for (name, value) in &op.headers {
            request = request.header(name, value);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let body = op.body_bytes();
        if let Some((content_type, bytes)) = &body {
            request = request.header(http::header::CONTENT_TYPE, content_type).body(bytes.clone());
        }
        if let Some(keys) = keys {
            let (content_type, bytes) =
                body.as_ref().map_or((None, &[][..]), |(c, b)| (Some(c.as_str()), b.as_slice()));
            let signed = sign::headers(keys, &op.method, &url, content_type, bytes)
                .map_err(|reason| TransportError::Other { method: op.method.clone(), path: path.clone(), reason })?;
            for (name, value) in signed {
                request = request.header(name, value);
            }
        }
        let started = Instant::now();
        let classify = |e: reqwest::Error| {
            let (method, path) = (op.method.clone(), path.clone());
            if e.is_timeout() {
                TransportError::Timeout { method, path, timeout: self.timeout }
            } else if e.is_connect() {
                TransportError::Connect { method, path, reason: root_cause(&e) }
            } else if dropped(&e) {
                TransportError::Dropped { method, path, reason: root_cause(&e) }
            } else {
                TransportError::Other { method, path, reason: root_cause(&e) }
            }
        };
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let content_type = header(http::header::CONTENT_TYPE.as_str());
        let content_length = header(http::header::CONTENT_LENGTH.as_str());
        // A token header that is not visible ASCII is kept as a marker, not taken for a missing one.
        let subject_token = response
            .headers()
            .get(SUBJECT_TOKEN_HEADER)
            .map(|v| v.to_str().map(str::to_string).unwrap_or_else(|_| NOT_TEXT.to_string()));
        let location =
            response.headers().get(http::header::LOCATION).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let retry_after = header(http::header::RETRY_AFTER.as_str());
        let (mut answer, cut) = read_bounded(&mut response, self.max_body).await.map_err(classify)?;
        drop(response);
        if cut {
            answer.truncate(CUT_BODY_KEPT);
            answer.shrink_to_fit();
        }
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
            location,
            retry_after,
            body: answer,
            cut_at: cut.then_some(self.max_body),
            elapsed: started.elapsed(),
        })
    }
}

/// Whether a request failed because its connection closed before the answer was whole (reset,
/// aborted, or ended early), as opposed to never being made or timing out.
fn dropped(error: &reqwest::Error) -> bool {
    if error.is_body() || error.is_decode() {
        return true;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(io.kind(), ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof) {
                return true;
            }
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>()
            && (hyper.is_incomplete_message() || hyper.is_closed() || hyper.is_canceled())
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// The innermost cause of `error`, in words (a TLS failure described, not `Debug`-printed).
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    if let Some(tls) = tls::describe(error) {
        return tls;
    }
    let mut source = error;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_are_recognised() {
        for url in ["http://127.0.0.1:8080", "http://127.9.9.9/iam", "http://localhost:1", "http://[::1]:80"] {
            assert!(is_loopback(url), "{url}");
        }
        for url in ["http://10.0.0.1", "https://iam.example.com", "not a url"] {
            assert!(!is_loopback(url), "{url}");
        }
    }
    use crate::api::ops;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A server that answers each connection's first request with `head`, then streams
    /// `chunk` in chunked encoding until the client goes away; returns the bytes it sent.
    async fn hostile(head: String, chunk: Option<&'static [u8]>) -> (String, tokio::task::JoinHandle<usize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await.unwrap();
            stream.write_all(head.as_bytes()).await.unwrap();
            let mut sent = 0;
            if let Some(chunk) = chunk {
                let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
                while stream.write_all(&framed).await.is_ok() {
                    sent += chunk.len();
                }
            }
            sent
        });
        (url, task)
    }

    #[test]
    fn max_body_takes_units_and_refuses_zero() {
        assert_eq!(parse_max_body("4096"), Ok(4096));
        assert_eq!(parse_max_body("512B"), Ok(512));
        assert_eq!(parse_max_body("64KiB"), Ok(65_536));
        assert_eq!(parse_max_body("1MiB"), Ok(DEFAULT_MAX_BODY));
        assert_eq!(parse_max_body("1mib"), Ok(DEFAULT_MAX_BODY));
        assert_eq!(parse_max_body("64kB"), Ok(64_000));
        assert_eq!(parse_max_body("1GiB"), Ok(1 << 30));
        assert!(parse_max_body("0").unwrap_err().contains("above 0"));
        assert!(parse_max_body("0KiB").unwrap_err().contains("above 0"));
        assert!(parse_max_body("2GiB").unwrap_err().contains("largest"));
        assert!(parse_max_body("1.5MiB").is_err());
        assert!(parse_max_body("ten").is_err());
        assert!(parse_max_body("").is_err());
    }

    /// A 307 is an answer: the client goes nowhere else, and the exchange keeps the Location.
    #[tokio::test]
    async fn a_redirect_is_an_answer_and_is_never_followed() {
        let elsewhere = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let location = format!("http://{}/v3/auth/tokens", elsewhere.local_addr().unwrap());
        let head = format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n");
        let (url, _server) = hostile(head, None).await;
        let client = HttpClient::new(&url, Duration::from_secs(5)).unwrap();
        let exchange = client.send(&ops::token_by_password("d", "a", "SECRETPW")).await.unwrap();
        assert_eq!((exchange.status, exchange.location.as_deref()), (307, Some(location.as_str())));
        assert!(exchange.is_redirect());
        assert_eq!(exchange.status_line(), "307 Temporary Redirect");
        let accepted = tokio::time::timeout(Duration::from_millis(300), elsewhere.accept()).await;
        assert!(accepted.is_err(), "the redirect's target was connected to");
    }

    /// An endless body: reading stops at the limit, the exchange says so, and the connection
    /// is closed (the server's writes fail soon after).
    #[tokio::test]
    async fn an_endless_body_is_cut_at_the_limit() {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        let (url, server) = hostile(head.to_string(), Some(&[b'x'; 8192])).await;
        let client = HttpClient::with_max_body(&url, Duration::from_secs(5), 100_000).unwrap();
        let exchange = client.send(&ops::list_devices(Some("t"))).await.unwrap();
        assert_eq!((exchange.status, exchange.cut_at, exchange.body.len()), (200, Some(100_000), CUT_BODY_KEPT));
        drop(client);
        let sent = tokio::time::timeout(Duration::from_secs(5), server).await.expect("the connection was closed");
        assert!(sent.unwrap() < 50_000_000, "the client kept reading");
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_whole() {
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
        let (url, _server) = hostile(head.to_string(), None).await;
        let client = HttpClient::with_max_body(&url, Duration::from_secs(5), 5).unwrap();
        let exchange = client.send(&ops::list_devices(Some("t"))).await.unwrap();
        assert_eq!((exchange.body.as_slice(), exchange.cut_at), (b"hello".as_slice(), None));
    }
}
