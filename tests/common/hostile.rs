//! Hostile targets on 127.0.0.1:0 for the hardening tests: one that redirects every request,
//! one that streams an endless body on every path, a proxy in front of a real target that
//! misbehaves on the MFA paths only (endless bodies, redirects, no answer), a gateway that
//! throttles or fails transiently (`throttling`: 429 with `Retry-After`, 503) and counts what it
//! saw, and a listener that must never be connected to.

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

/// A listener nothing should ever connect to: a connection would wait in its backlog, so
/// [`Elsewhere::was_connected`] sees it without anything accepting it before.
pub struct Elsewhere {
    listener: TcpListener,
}

impl Elsewhere {
    pub fn new() -> Elsewhere {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Elsewhere { listener }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.listener.local_addr().unwrap())
    }

    /// Whether anything connected, ever.
    pub fn was_connected(&self) -> bool {
        self.listener.accept().is_ok()
    }
}

/// Reads one request (head and `Content-Length` body); its request line, `None` at the end.
fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    head.lines().next().map(str::to_string)
}

/// Serves every connection of `listener` on its own thread with `answer`.
fn serve_each(listener: TcpListener, answer: fn(TcpStream, &str), arg: String) -> String {
    let url = format!("http://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let arg = arg.clone();
            thread::spawn(move || answer(stream, &arg));
        }
    });
    url
}

/// A server that answers every request `307 Temporary Redirect` to the same path under
/// `location` (keep-alive); returns its URL.
pub fn redirecting(location: &str) -> String {
    serve_each(TcpListener::bind("127.0.0.1:0").unwrap(), redirect, location.to_string())
}

fn redirect(mut stream: TcpStream, location: &str) {
    while let Some(line) = read_request(&mut stream) {
        let path = line.split(' ').nth(1).unwrap_or("/");
        let answer =
            format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}{path}\r\ncontent-length: 0\r\n\r\n");
        if stream.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// A server that answers every request `200 OK` with a chunked JSON body that never ends
/// (whitespace after an opening brace), as fast as the client reads; returns its URL.
pub fn endless() -> String {
    serve_each(TcpListener::bind("127.0.0.1:0").unwrap(), stream_forever, String::new())
}

fn stream_forever(mut stream: TcpStream, _: &str) {
    if read_request(&mut stream).is_none() {
        return;
    }
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n1\r\n{\r\n";
    let chunk = [b"10000\r\n".as_slice(), &[b' '; 0x10000], b"\r\n"].concat();
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    while stream.write_all(&chunk).is_ok() {}
}

/// What a [`proxy`] does on the MFA paths (`/v3.0/OS-MFA/…`).
#[derive(Clone, Debug)]
pub enum OnMfa {
    /// Answers with a body that never ends.
    Endless,
    /// Answers `307 Temporary Redirect` to the same path under this URL.
    Redirect(String),
    /// Never answers (the connection stays open).
    Hang,
    /// Flaky: of every five MFA calls, one answers 503 and one resets the connection halfway
    /// through its answer; the others pass through.
    Flaky,
}

/// A proxy in front of `upstream` (a real target): identity calls (tokens, users) pass
/// through, MFA calls get `on_mfa`. Returns its URL; it runs until the test process ends.
pub fn proxy(upstream: &str, on_mfa: OnMfa) -> String {
    forwarding(upstream, "", move |client, upstream, _path, request| {
        let on_mfa = on_mfa.clone();
        async move { answer(&client, &upstream, &on_mfa, request).await }
    })
}

/// A server on 127.0.0.1:0 in front of `upstream` whose every request `handle` answers, given
/// a forwarding client, the upstream URL and the request's path and query. Returns its URL
/// with `url_path` appended; it runs until the test process ends.
fn forwarding<F, A>(upstream: &str, url_path: &str, handle: F) -> String
where
    F: Fn(reqwest::Client, String, String, Request) -> A + Clone + Send + Sync + 'static,
    A: std::future::Future<Output = Response> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}{url_path}", listener.local_addr().unwrap());
    let upstream = upstream.trim_end_matches('/').to_string();
    serve_forwarding(listener, move |client| {
        axum::Router::new().fallback(move |request: Request| {
            let path = request.uri().path_and_query().map_or("/".to_string(), |p| p.to_string());
            handle.clone()(client.clone(), upstream.clone(), path, request)
        })
    });
    url
}

/// Serves the router `app` makes (given a client that follows no redirect, to forward with)
/// on `listener`, on a thread of its own, until the test process ends.
fn serve_forwarding(listener: TcpListener, app: impl FnOnce(reqwest::Client) -> axum::Router + Send + 'static) {
    listener.set_nonblocking(true).unwrap();
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            axum::serve(listener, app(client)).await.unwrap();
        });
    });
}

async fn answer(client: &reqwest::Client, upstream: &str, on_mfa: &OnMfa, request: Request) -> Response {
    let path = request.uri().path_and_query().map_or("/".to_string(), |p| p.to_string());
    if path.starts_with("/v3.0/OS-MFA") {
        let response = Response::builder().header("content-type", "application/json");
        return match on_mfa {
            OnMfa::Endless => {
                let status = if request.method() == http::Method::POST { 201 } else { 200 };
                let chunk = bytes::Bytes::from(vec![b' '; 0x10000]);
                let body = futures::stream::repeat_with(move || Ok::<_, std::convert::Infallible>(chunk.clone()));
                response.status(status).body(Body::from_stream(body)).unwrap()
            }
            OnMfa::Redirect(to) => {
                response.status(307).header("location", format!("{to}{path}")).body(Body::empty()).unwrap()
            }
            OnMfa::Hang => std::future::pending().await,
            OnMfa::Flaky => {
                static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                match CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 5 {
                    1 => response
                        .status(503)
                        .body(Body::from(r#"{"error_msg":"Service unavailable.","error_code":"APIGW.0503"}"#))
                        .unwrap(),
                    3 => {
                        let broken = futures::stream::iter([
                            Ok(bytes::Bytes::from_static(b"{\"virtual_mfa")),
                            Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset")),
                        ]);
                        response.status(200).body(Body::from_stream(broken)).unwrap()
                    }
                    _ => forward(client, upstream, &path, request).await,
                }
            }
        };
    }
    forward(client, upstream, &path, request).await
}

/// A gateway that serves `upstream` under `prefix` (`/iam/v3.0/…` → `/v3.0/…`) and answers 404
/// to every path outside it, as an API gateway with a path prefix does. Returns its URL with
/// the prefix; it runs until the test process ends.
pub fn prefixed(upstream: &str, prefix: &'static str) -> String {
    forwarding(upstream, prefix, move |client, upstream, path, request| async move {
        match path.strip_prefix(prefix).filter(|rest| rest.starts_with('/')) {
            Some(rest) => forward(&client, &upstream, rest, request).await,
            None => Response::builder()
                .status(404)
                .header("content-type", "application/json")
                .body(Body::from(r#"{"error_msg":"no such route on this gateway","error_code":"APIGW.0101"}"#))
                .unwrap(),
        }
    })
}

/// A proxy in front of `upstream` that echoes every request's secrets back: each JSON object
/// answer gains `"echo": {"token": <X-Auth-Token>, "body": <the request body>}` — the tokens,
/// passwords and codes the harness sent. Returns its URL; it runs until the test process ends.
pub fn echoing(upstream: &str) -> String {
    forwarding(upstream, "", move |client, upstream, path, request| async move {
        let token = request.headers().get("x-auth-token").and_then(|v| v.to_str().ok()).map(str::to_string);
        let (parts, body) = request.into_parts();
        let sent = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
        let request = Request::from_parts(parts, Body::from(sent.clone()));
        let answer = forward(&client, &upstream, &path, request).await;
        let (mut parts, body) = answer.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
        let echoed = match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(mut map)) => {
                let echo = serde_json::json!({"token": token, "body": String::from_utf8_lossy(&sent)});
                map.insert("echo".into(), echo);
                parts.headers.remove(http::header::CONTENT_LENGTH);
                serde_json::Value::Object(map).to_string().into_bytes()
            }
            _ => bytes.to_vec(),
        };
        Response::from_parts(parts, Body::from(echoed))
    })
}

/// Sends `request` to `upstream` at `path` and returns its answer.
async fn forward(client: &reqwest::Client, upstream: &str, path: &str, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let mut forward = client.request(parts.method, format!("{upstream}{path}")).body(body);
    // Every header as it came, `Host` too: a request signed for this address stays valid.
    for (name, value) in &parts.headers {
        forward = forward.header(name, value);
    }
    let Ok(reply) = forward.send().await else {
        return Response::builder().status(502).body(Body::empty()).unwrap();
    };
    let mut response = Response::builder().status(reply.status().as_u16());
    for (name, value) in reply.headers() {
        if name != http::header::TRANSFER_ENCODING && name != http::header::CONTENT_LENGTH {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(reply.bytes().await.unwrap_or_default())).unwrap()
}

/// The peak resident set (`VmHWM`, in kB) of a running process, `None` once it is gone.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// What a [`throttling`] gateway refuses; every other request passes through.
#[derive(Clone, Debug)]
pub enum Throttle {
    /// Nothing: it only counts.
    Nothing,
    /// Every `n`th password-only token request (mostly the harness's own: the tokens of the
    /// admin and of provisioned users; also a case's setup steps that take a password token —
    /// its measured token requests carry a TOTP code) answers `status`: 429 with
    /// `Retry-After: 0` and IAM.0012, or 503.
    EveryNthToken { n: u64, status: u16 },
    /// Every request whose method is `method` and whose path starts with `path` answers 429
    /// IAM.0012 with `Retry-After: retry_after`.
    Always { method: &'static str, path: &'static str, retry_after: u64 },
    /// The first `n` requests whose method is `method` and whose path starts with `path`
    /// answer 503 (APIGW.0503, as a gateway does).
    First { method: &'static str, path: &'static str, n: u64 },
}

/// A [`throttling`] gateway: its URL, how many requests it saw and how many it refused.
pub struct Gateway {
    pub url: String,
    pub requests: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub refused: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Gateway {
    pub fn requests(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn refused(&self) -> u64 {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A gateway in front of `upstream` that throttles as `throttle` says and counts; it runs until
/// the test process ends.
pub fn throttling(upstream: &str, throttle: Throttle) -> Gateway {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    let (requests, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let tokens = Arc::new(AtomicU64::new(0));
    let creates = Arc::new(AtomicU64::new(0));
    let counters = (requests.clone(), refused.clone());
    let url = forwarding(upstream, "", move |client, upstream, path, request| {
        let (throttle, requests, refused) = (throttle.clone(), counters.0.clone(), counters.1.clone());
        let (tokens, creates) = (tokens.clone(), creates.clone());
        async move {
            requests.fetch_add(1, SeqCst);
            let (parts, body) = request.into_parts();
            let sent = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
            let method = parts.method.as_str().to_string();
            let refuse = match &throttle {
                Throttle::Nothing => None,
                Throttle::EveryNthToken { n, status } => {
                    let own = method == "POST"
                        && path.starts_with("/v3/auth/tokens")
                        && !String::from_utf8_lossy(&sent).contains("\"totp\"");
                    (own && (tokens.fetch_add(1, SeqCst) + 1) % n == 0).then_some((*status, 0))
                }
                Throttle::Always { method: m, path: p, retry_after } => {
                    (method == *m && path.starts_with(p)).then_some((429, *retry_after))
                }
                Throttle::First { method: m, path: p, n } => {
                    let hit = method == *m && path.starts_with(p);
                    (hit && creates.fetch_add(1, SeqCst) < *n).then_some((503, 0))
                }
            };
            if let Some((status, retry_after)) = refuse {
                refused.fetch_add(1, SeqCst);
                let body = if status == 429 {
                    r#"{"error_msg":"The throttling threshold has been reached.","error_code":"IAM.0012"}"#
                } else {
                    r#"{"error_msg":"Service unavailable.","error_code":"APIGW.0503"}"#
                };
                return Response::builder()
                    .status(status)
                    .header("content-type", "application/json")
                    .header("retry-after", retry_after.to_string())
                    .body(Body::from(body))
                    .unwrap();
            }
            forward(&client, &upstream, &path, Request::from_parts(parts, Body::from(sent))).await
        }
    });
    Gateway { url, requests, refused }
}

/// An API gateway in front of `upstream` that refuses (403) every request without the header
/// `name: value`, and passes the others through. Returns its URL; it runs until the test
/// process ends.
pub fn gateway_key(upstream: &str, name: &'static str, value: &'static str) -> String {
    forwarding(upstream, "", move |client, upstream, path, request| async move {
        if request.headers().get(name).is_some_and(|v| v == value) {
            return forward(&client, &upstream, &path, request).await;
        }
        Response::builder()
            .status(403)
            .header("content-type", "application/json")
            .body(Body::from(r#"{"error_msg":"the gateway key is missing or wrong","error_code":"APIGW.0302"}"#))
            .unwrap()
    })
}
