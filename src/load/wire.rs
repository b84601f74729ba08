//! One HTTP/1.1 keep-alive connection per goose user for the measured steps, on the lean
//! exchange of [`http1`] (`httparse`, no task or channel of its own): no pool, no URL
//! re-parsing, no per-request tower stack. It is what
//! wrk does (one connection per virtual user, requests one after the other), so the two are
//! compared like for like. `http://` and `https://` targets, straight or through a proxy
//! ([`connect`]: the same TLS set-up and proxy choice as every client of the harness). It
//! follows no redirect (a 3xx is an answer), and it reads an
//! answer's body by its framing, never past `--max-body`.

pub mod connect;
pub mod http1;

use bytes::Bytes;
use connect::Connector;
use http::header::{CONTENT_LENGTH, HOST, USER_AGENT};
use http::{HeaderMap, HeaderValue, Request};
use http1::{Conn, Failure};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// The `User-Agent` of the load connection.
const USER_AGENT_VALUE: &str = concat!("mfa-harness/", env!("CARGO_PKG_VERSION"));

/// Why a request got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    Timeout,
    Connection,
    /// The answer (with this status) has a body longer than `--max-body`; the rest was not
    /// read and the connection was closed.
    TooLarge {
        status: u16,
    },
}

impl WireError {
    pub fn reason(self) -> &'static str {
        match self {
            WireError::Timeout => "no answer: timeout",
            WireError::Connection => "no answer: connection error",
            WireError::TooLarge { .. } => "the body exceeds --max-body",
        }
    }
}

/// Where a user's connection goes and how long it waits.
#[derive(Clone)]
pub struct Endpoint {
    connector: Arc<Connector>,
    /// The `Host` header.
    host: HeaderValue,
    timeout: Duration,
    /// The most bytes of an answer's body that are read.
    max_body: usize,
}

impl Endpoint {
    /// The endpoint of `base` (`http://` or `https://`), reached as `network` says.
    pub fn of(base: &url::Url, network: &crate::client::Network) -> Result<Endpoint, String> {
        let host = base.host_str().ok_or_else(|| format!("'{base}' has no host"))?;
        let authority = match base.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let host = HeaderValue::from_str(&authority).map_err(|_| format!("'{authority}' is not a Host header"))?;
        let connector = Arc::new(Connector::new(base, network)?);
        Ok(Endpoint { connector, host, timeout: network.timeout, max_body: network.max_body })
    }
}

/// A request as it goes on the connection: built for this one send, or encoded before.
#[derive(Clone, Copy)]
enum Outgoing<'a> {
    Request(&'a Request<Bytes>),
    /// Its bytes, and whether its method is idempotent.
    Encoded(&'a [u8], bool),
}

impl Outgoing<'_> {
    /// Whether it may be sent once more on a new connection.
    fn is_idempotent(self) -> bool {
        match self {
            Outgoing::Request(request) => request.method().is_idempotent(),
            Outgoing::Encoded(_, idempotent) => idempotent,
        }
    }
}

/// A goose user's connection; opened on first use and again after an error.
pub struct Wire {
    endpoint: Endpoint,
    conn: Option<Conn>,
    /// The connection's one timer: set to a request's deadline, and moved on only when it goes
    /// off before the deadline of the request then under way (a later one) — at most once per
    /// timeout, rather than made, or moved, for every request.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// goose wants session data to be `Clone`; a copy opens its own connection when first used.
impl Clone for Wire {
    fn clone(&self) -> Wire {
        Wire::new(self.endpoint.clone())
    }
}

impl Wire {
    pub fn new(endpoint: Endpoint) -> Wire {
        Wire { endpoint, conn: None, deadline: None }
    }

    async fn connect(&self) -> Result<Conn, WireError> {
        self.endpoint.connector.open().await.map(Conn::new).map_err(|_| WireError::Connection)
    }

    /// Sends one request (origin-form URI, headers but `Host` set) and reads its whole answer,
    /// within the endpoint's timeout. After any error the connection is dropped and the next
    /// request opens a new one.
    pub async fn send(&mut self, mut request: Request<Bytes>) -> Result<(u16, Bytes), WireError> {
        request.headers_mut().insert(HOST, self.endpoint.host.clone());
        request.headers_mut().insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        self.send_whole(request, std::time::Instant::now()).await
    }

    /// The headers every request on this connection carries (`Host`, `User-Agent`), for a
    /// request head built once and sent again and again ([`Wire::send_whole`]).
    pub fn base_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(8);
        headers.insert(HOST, self.endpoint.host.clone());
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        headers
    }

    /// A request that already carries [`Wire::base_headers`] readied for this endpoint: a
    /// `Content-Length` for a body, and, through a proxy, the absolute-form URI and the
    /// proxy's credentials.
    fn ready(&self, request: &mut Request<Bytes>) {
        if request.method() != http::Method::GET && !request.headers().contains_key(CONTENT_LENGTH) {
            let length = HeaderValue::from(request.body().len());
            request.headers_mut().insert(CONTENT_LENGTH, length);
        }
        self.endpoint.connector.prepare(request);
    }

    /// The bytes of a request that already carries [`Wire::base_headers`], as
    /// [`Wire::send_whole`] would write them: for a request sent again and again
    /// ([`Wire::send_encoded`]).
    pub fn encode(&self, mut request: Request<Bytes>) -> Bytes {
        self.ready(&mut request);
        let mut out = Vec::new();
        http1::encode(&request, &mut out);
        Bytes::from(out)
    }

    /// [`Wire::send`] of a request that already carries [`Wire::base_headers`], started at
    /// `started` (the caller's reading of the clock: the timeout runs from it).
    pub async fn send_whole(
        &mut self,
        mut request: Request<Bytes>,
        started: std::time::Instant,
    ) -> Result<(u16, Bytes), WireError> {
        self.ready(&mut request);
        self.run(Outgoing::Request(&request), started).await
    }

    /// [`Wire::send_whole`] of a request [`Wire::encode`]d before; `idempotent` says whether
    /// its method is (whether it may be sent once more on a new connection).
    pub async fn send_encoded(
        &mut self,
        encoded: &[u8],
        idempotent: bool,
        started: std::time::Instant,
    ) -> Result<(u16, Bytes), WireError> {
        self.run(Outgoing::Encoded(encoded, idempotent), started).await
    }

    /// One request within the endpoint's timeout, from `started`.
    async fn run(&mut self, request: Outgoing<'_>, started: std::time::Instant) -> Result<(u16, Bytes), WireError> {
        let due = tokio::time::Instant::from_std(started) + self.endpoint.timeout;
        let mut deadline = self.deadline.take().unwrap_or_else(|| Box::pin(tokio::time::sleep_until(due)));
        if deadline.deadline() > due {
            deadline.as_mut().reset(due);
        }
        let answer = {
            let mut exchange = std::pin::pin!(self.exchange(request));
            std::future::poll_fn(|cx| {
                if let Poll::Ready(answer) = exchange.as_mut().poll(cx) {
                    return Poll::Ready(answer);
                }
                while deadline.as_mut().poll(cx).is_ready() {
                    if deadline.deadline() >= due {
                        return Poll::Ready(Err(WireError::Timeout));
                    }
                    // An earlier request's deadline: this one's is later.
                    deadline.as_mut().reset(due);
                }
                Poll::Pending
            })
            .await
        };
        self.deadline = Some(deadline);
        if answer.is_err() {
            self.close();
        }
        answer
    }

    /// Drops the connection; the next request opens a new one.
    fn close(&mut self) {
        self.conn = None;
    }

    /// One request on the open connection, or on a new one. A request that a reused
    /// connection could not carry — the target had closed it while it was idle, so it took
    /// no byte of the request or gave no byte of an answer — goes once more on a new
    /// connection, if its method is idempotent (a POST that may have reached the target is
    /// not repeated).
    async fn exchange(&mut self, request: Outgoing<'_>) -> Result<(u16, Bytes), WireError> {
        for _attempt in 0..2 {
            let reused = self.conn.as_mut().is_some_and(Conn::is_usable);
            if !reused {
                // Boxed: opening a connection (TLS, proxy tunnel) is a large future, and it
                // would make every request's future as large, copied as a whole each time.
                self.conn = Some(Box::pin(self.connect()).await?);
            }
            let Some(conn) = self.conn.as_mut() else { return Err(WireError::Connection) };
            let max_body = self.endpoint.max_body;
            let answer = match request {
                Outgoing::Request(request) => conn.exchange(request, max_body).await,
                Outgoing::Encoded(bytes, _) => conn.exchange_encoded(bytes, max_body).await,
            };
            match answer {
                Ok(answer) => {
                    if !answer.reusable {
                        self.close();
                    }
                    return Ok((answer.status, answer.body));
                }
                Err(failure) => {
                    // The rest of the answer, if any, is still on the connection: it is closed.
                    self.close();
                    match failure {
                        Failure::Closed if reused && request.is_idempotent() => continue,
                        Failure::TooLarge { status } => return Err(WireError::TooLarge { status }),
                        _ => return Err(WireError::Connection),
                    }
                }
            }
        }
        Err(WireError::Connection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Network;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    fn endpoint(listener: &TcpListener, timeout: Duration) -> Endpoint {
        endpoint_of(listener, timeout, 1 << 20)
    }

    fn endpoint_of(listener: &TcpListener, timeout: Duration, max_body: usize) -> Endpoint {
        let base = url::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        Endpoint::of(&base, &Network { max_body, ..Network::with_timeout(timeout) }).unwrap()
    }

    fn get(path: &str) -> Request<Bytes> {
        Request::builder().uri(path).body(Bytes::new()).unwrap()
    }

    /// Reads one request head (these tests send no bodies) and returns it.
    async fn read_head(stream: &mut TcpStream) -> Option<String> {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.ok()? == 0 {
                return None;
            }
            head.push(byte[0]);
        }
        Some(String::from_utf8_lossy(&head).into_owned())
    }

    #[test]
    fn endpoints_of_http_and_https() {
        let network = Network { proxy: crate::client::ProxyChoice::None, ..Network::default() };
        let of = |u: &str| Endpoint::of(&url::Url::parse(u).unwrap(), &network).unwrap();
        let e = of("https://127.0.0.1:8443");
        assert_eq!((e.connector.address(), e.host.to_str().unwrap()), ("127.0.0.1:8443", "127.0.0.1:8443"));
        let e = of("http://127.0.0.1:8080/prefix");
        assert_eq!((e.connector.address(), e.host.to_str().unwrap()), ("127.0.0.1:8080", "127.0.0.1:8080"));
        let e = of("http://localhost");
        assert_eq!((e.connector.address(), e.host.to_str().unwrap()), ("localhost:80", "localhost"));
        let e = of("http://[::1]:9000");
        assert_eq!((e.connector.address(), e.host.to_str().unwrap()), ("[::1]:9000", "[::1]:9000"));
    }

    /// Every request after the first goes on the connection the first opened, with the Host
    /// header of the target.
    #[tokio::test]
    async fn requests_share_one_keep_alive_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut wire = Wire::new(endpoint(&listener, Duration::from_secs(5)));
        let expected_host = format!("host: {}", listener.local_addr().unwrap()).to_lowercase();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut heads = Vec::new();
            for i in 0..3 {
                heads.push(read_head(&mut stream).await.unwrap());
                let body = format!("answer {i}");
                let answer = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                stream.write_all(answer.as_bytes()).await.unwrap();
            }
            heads
        });
        for i in 0..3 {
            let (status, body) = wire.send(get(&format!("/v3/{i}"))).await.unwrap();
            assert_eq!((status, body.as_ref()), (200, format!("answer {i}").as_bytes()));
        }
        let heads = server.await.unwrap();
        for (i, head) in heads.iter().enumerate() {
            assert!(head.starts_with(&format!("GET /v3/{i} HTTP/1.1\r\n")), "{head}");
            assert!(head.to_lowercase().contains(&expected_host), "{head}");
            assert!(head.to_lowercase().contains("user-agent: mfa-harness/"), "{head}");
        }
    }

    /// A request encoded once goes byte for byte as the same request sent whole, every time,
    /// and once more on a new connection when the target had closed the idle one.
    #[tokio::test]
    async fn an_encoded_request_goes_as_the_whole_one_would() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut wire = Wire::new(endpoint(&listener, Duration::from_secs(5)));
        let server = tokio::spawn(async move {
            let mut heads = Vec::new();
            // Two requests on the first connection, which is then closed while idle; the
            // third comes on a second one.
            for requests in [2, 1] {
                let (mut stream, _) = listener.accept().await.unwrap();
                for _ in 0..requests {
                    heads.push(read_head(&mut stream).await.unwrap());
                    stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await.unwrap();
                }
            }
            heads
        });
        let request = || {
            let mut request = get("/v3/q?x=1");
            *request.headers_mut() = wire.base_headers();
            request.headers_mut().insert("x-auth-token", HeaderValue::from_static("t0ken"));
            request
        };
        let encoded = wire.encode(request());
        let (status, body) = wire.send_whole(request(), std::time::Instant::now()).await.unwrap();
        assert_eq!((status, body.as_ref()), (200, b"ok".as_slice()));
        for _ in 0..2 {
            let (status, body) = wire.send_encoded(&encoded, true, std::time::Instant::now()).await.unwrap();
            assert_eq!((status, body.as_ref()), (200, b"ok".as_slice()));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let heads = server.await.unwrap();
        assert_eq!(heads.len(), 3);
        assert_eq!(heads[0].as_bytes(), &encoded[..], "the encoding is what send_whole writes");
        assert!(heads.iter().all(|h| *h == heads[0]), "{heads:?}");
    }

    /// A target that closes a keep-alive connection between requests: the next request opens
    /// a new one instead of failing.
    #[tokio::test]
    async fn a_connection_the_target_closed_is_opened_again() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut wire = Wire::new(endpoint(&listener, Duration::from_secs(5)));
        let server = tokio::spawn(async move {
            for _ in 0..2 {
                let (mut stream, _) = listener.accept().await.unwrap();
                read_head(&mut stream).await.unwrap();
                stream.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await.unwrap();
                // No `Connection: close`: the client learns of it from the socket alone.
                drop(stream);
            }
        });
        assert_eq!(wire.send(get("/a")).await.unwrap().0, 204);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(wire.send(get("/b")).await.unwrap().0, 204);
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_target_that_never_answers_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut wire = Wire::new(endpoint(&listener, Duration::from_millis(200)));
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(2)).await;
            drop(stream);
        });
        let started = std::time::Instant::now();
        assert_eq!(wire.send(get("/slow")).await, Err(WireError::Timeout));
        assert!(started.elapsed() < Duration::from_secs(2));
        server.abort();
    }

    #[tokio::test]
    async fn a_target_that_hangs_up_or_is_not_there_is_a_connection_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut wire = Wire::new(endpoint(&listener, Duration::from_secs(5)));
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            read_head(&mut stream).await.unwrap();
            stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort").await.unwrap();
            listener
        });
        assert_eq!(wire.send(get("/cut")).await, Err(WireError::Connection), "a body cut short");
        drop(server.await.unwrap());
        assert_eq!(wire.send(get("/gone")).await, Err(WireError::Connection), "nothing listens any more");
    }

    /// An endless chunked body: reading stops at the limit, the connection is closed, and the
    /// next request opens a new one.
    #[tokio::test]
    async fn an_endless_body_stops_at_the_limit_and_closes_the_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut wire = Wire::new(endpoint_of(&listener, Duration::from_secs(5), 64 * 1024));
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            read_head(&mut stream).await.unwrap();
            stream.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").await.unwrap();
            let chunk = [b"2000\r\n".as_slice(), &[b'x'; 0x2000], b"\r\n"].concat();
            let mut sent = 0usize;
            while stream.write_all(&chunk).await.is_ok() {
                sent += 0x2000;
            }
            let (mut stream, _) = listener.accept().await.unwrap();
            read_head(&mut stream).await.unwrap();
            stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await.unwrap();
            sent
        });
        assert_eq!(wire.send(get("/endless")).await, Err(WireError::TooLarge { status: 200 }));
        let (status, body) = wire.send(get("/small")).await.unwrap();
        assert_eq!((status, body.as_ref()), (200, b"ok".as_slice()));
        let sent = tokio::time::timeout(Duration::from_secs(5), server).await.unwrap().unwrap();
        assert!(sent < 50_000_000, "the connection kept reading: {sent} bytes");
    }

    /// A body of several frames within the limit is joined whole.
    #[tokio::test]
    async fn a_chunked_body_within_the_limit_is_whole() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut wire = Wire::new(endpoint(&listener, Duration::from_secs(5)));
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            read_head(&mut stream).await.unwrap();
            let answer = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n";
            stream.write_all(answer.as_bytes()).await.unwrap();
            stream.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            stream.write_all(b"2\r\nde\r\n0\r\n\r\n").await.unwrap();
            stream
        });
        let (status, body) = wire.send(get("/chunks")).await.unwrap();
        assert_eq!((status, body.as_ref()), (200, b"abcde".as_slice()));
        drop(server.await.unwrap());
    }
}
