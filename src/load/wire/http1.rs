//! One HTTP/1.1 exchange at a time on a keep-alive connection, written for the load test's
//! measured requests: the request is encoded into one buffer and written with one `write`,
//! the answer's head parsed by `httparse` (hyper's own parser) and its body read by its
//! framing — `Content-Length`, `chunked`, or until the peer closes — never past `--max-body`.
//! No task of its own, no channel, no per-request allocation but the buffer and the body:
//! with hyper's client connection, the same request cost ≈ 4× the user time
//! (docs/load.md, Benchmark).

use bytes::{Buf, Bytes, BytesMut};
use http::Request;
use std::pin::Pin;
use std::task::Context;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// A byte stream a connection runs on: TCP, TLS over TCP, or either through a proxy tunnel.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

/// The longest answer head read (status line and headers).
const MAX_HEAD: usize = 64 * 1024;
/// The most headers an answer may have.
const MAX_HEADERS: usize = 100;
/// The longest chunk-size line or trailer line of a chunked body.
const MAX_LINE: usize = 4096;
/// How much more the read buffer takes each time it is short.
const READ_CHUNK: usize = 8 * 1024;

/// Why an exchange got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The peer closed the connection before a byte of an answer came, or the request could
    /// not be written: a keep-alive connection the target closed while it was idle.
    Closed,
    /// The answer was cut short, or is not HTTP/1.1.
    Broken,
    /// The answer (with this status) has a body longer than the limit.
    TooLarge { status: u16 },
}

/// An answer: its status and whole body, and whether the connection can carry another request.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
    pub reusable: bool,
}

/// How an answer's body is delimited.
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

/// One connection.
pub struct Conn {
    io: Box<dyn Io>,
    /// Bytes read and not used yet.
    buf: BytesMut,
    /// The request being written.
    out: Vec<u8>,
}

impl Conn {
    pub fn new(io: Box<dyn Io>) -> Conn {
        Conn { io, buf: BytesMut::with_capacity(READ_CHUNK), out: Vec::with_capacity(512) }
    }

    /// Whether the connection is still open and quiet: an idle connection the peer closed,
    /// or one that has bytes nobody asked for, cannot carry a request.
    pub fn is_usable(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        let mut probe = [0u8; 1];
        let mut read = ReadBuf::new(&mut probe);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        Pin::new(&mut self.io).poll_read(&mut cx, &mut read).is_pending()
    }

    /// Sends `request` (origin-form or absolute-form URI, every header set, `Content-Length`
    /// for a body) and reads its answer, a body of at most `max_body` bytes.
    pub async fn exchange(&mut self, request: &Request<Bytes>, max_body: usize) -> Result<Answer, Failure> {
        let mut out = std::mem::take(&mut self.out);
        encode(request, &mut out);
        let answer = self.exchange_encoded(&out, max_body).await;
        self.out = out;
        answer
    }

    /// [`Conn::exchange`] of a request already encoded ([`encode`]): a request sent again and
    /// again is encoded once.
    pub async fn exchange_encoded(&mut self, request: &[u8], max_body: usize) -> Result<Answer, Failure> {
        if self.io.write_all(request).await.is_err() || self.io.flush().await.is_err() {
            return Err(Failure::Closed);
        }
        let mut first = true;
        loop {
            let (status, framing, close) = self.read_head(first).await?;
            first = false;
            // 1xx answers (100 Continue, 103 Early Hints) come before the final one.
            if (100..200).contains(&status) && status != 101 {
                continue;
            }
            if status == 101 {
                return Err(Failure::Broken);
            }
            let body = match framing {
                Framing::Empty => Bytes::new(),
                Framing::Length(length) => self.read_length(status, length, max_body).await?,
                Framing::Chunked => self.read_chunked(status, max_body).await?,
                Framing::UntilClose => self.read_until_close(status, max_body).await?,
            };
            let reusable = !close && !matches!(framing, Framing::UntilClose);
            return Ok(Answer { status, body, reusable });
        }
    }

    /// Reads more bytes into the buffer; `false` at the end of the stream.
    async fn fill(&mut self) -> Result<bool, Failure> {
        self.buf.reserve(READ_CHUNK);
        match self.io.read_buf(&mut self.buf).await {
            Ok(0) => Ok(false),
            Ok(_) => Ok(true),
            Err(_) => Err(Failure::Broken),
        }
    }

    /// The answer head: status, body framing, whether the peer closes after it.
    async fn read_head(&mut self, first: bool) -> Result<(u16, Framing, bool), Failure> {
        loop {
            if !self.buf.is_empty() {
                // Left uninitialised: httparse writes the headers it finds, and no more.
                let mut headers = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
                let mut response = httparse::Response::new(&mut []);
                match httparse::ParserConfig::default().parse_response_with_uninit_headers(
                    &mut response,
                    &self.buf,
                    &mut headers,
                ) {
                    Ok(httparse::Status::Complete(length)) => {
                        let head = judge_head(&response)?;
                        self.buf.advance(length);
                        return Ok(head);
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(_) => return Err(Failure::Broken),
                }
                if self.buf.len() > MAX_HEAD {
                    return Err(Failure::Broken);
                }
            }
            if !self.fill().await? {
                let nothing = first && self.buf.is_empty();
                return Err(if nothing { Failure::Closed } else { Failure::Broken });
            }
        }
    }

    async fn read_length(&mut self, status: u16, length: u64, max: usize) -> Result<Bytes, Failure> {
        if length > max as u64 {
            return Err(Failure::TooLarge { status });
        }
        let length = length as usize;
        while self.buf.len() < length {
            if !self.fill().await? {
                return Err(Failure::Broken);
            }
        }
        Ok(self.buf.split_to(length).freeze())
    }

    /// One line of a chunked body (chunk size, trailer), without its CRLF.
    async fn read_line(&mut self) -> Result<BytesMut, Failure> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf.split_to(end);
                self.buf.advance(2);
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE || !self.fill().await? {
                return Err(Failure::Broken);
            }
        }
    }

    async fn read_chunked(&mut self, status: u16, max: usize) -> Result<Bytes, Failure> {
        let mut body = BytesMut::new();
        loop {
            let line = self.read_line().await?;
            let size = line[..].split(|b| *b == b';').next().unwrap_or_default();
            let size = std::str::from_utf8(size).map_err(|_| Failure::Broken)?.trim();
            let size = u64::from_str_radix(size, 16).map_err(|_| Failure::Broken)?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line().await?.is_empty() {}
                return Ok(body.freeze());
            }
            if size > (max - body.len()) as u64 {
                return Err(Failure::TooLarge { status });
            }
            let size = size as usize;
            while self.buf.len() < size + 2 {
                if !self.fill().await? {
                    return Err(Failure::Broken);
                }
            }
            body.extend_from_slice(&self.buf[..size]);
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(Failure::Broken);
            }
            self.buf.advance(size + 2);
        }
    }

    async fn read_until_close(&mut self, status: u16, max: usize) -> Result<Bytes, Failure> {
        loop {
            if self.buf.len() > max {
                return Err(Failure::TooLarge { status });
            }
            if !self.fill().await? {
                return Ok(self.buf.split().freeze());
            }
        }
    }
}

/// Status, framing and closing of a parsed head (RFC 9112 §6.3).
fn judge_head(response: &httparse::Response) -> Result<(u16, Framing, bool), Failure> {
    let status = response.code.ok_or(Failure::Broken)?;
    let mut close = response.version == Some(0);
    // `Some(whether its last coding is chunked)` when the answer has a Transfer-Encoding.
    let (mut coding, mut length): (Option<bool>, Option<u64>) = (None, None);
    for header in response.headers.iter() {
        let value = || std::str::from_utf8(header.value).map(str::trim).map_err(|_| Failure::Broken);
        if header.name.eq_ignore_ascii_case("connection") {
            let value = value()?;
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    close = true;
                } else if token.eq_ignore_ascii_case("keep-alive") && response.version == Some(0) {
                    close = false;
                }
            }
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            // Only a last coding of `chunked` delimits the body; anything else runs to the close.
            coding = Some(value()?.rsplit(',').next().is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked")));
        } else if header.name.eq_ignore_ascii_case("content-length") {
            for each in value()?.split(',').map(str::trim) {
                let each = each.parse::<u64>().map_err(|_| Failure::Broken)?;
                if length.is_some_and(|l| l != each) {
                    return Err(Failure::Broken);
                }
                length = Some(each);
            }
        }
    }
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Empty
    } else if let Some(chunked) = coding {
        if chunked { Framing::Chunked } else { Framing::UntilClose }
    } else if let Some(length) = length {
        if length == 0 { Framing::Empty } else { Framing::Length(length) }
    } else {
        // A body that runs to the close: the connection carries nothing after it.
        Framing::UntilClose
    };
    Ok((status, framing, close))
}

/// The request's bytes: request line, headers, body.
pub fn encode(request: &Request<Bytes>, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(request.method().as_str().as_bytes());
    out.push(b' ');
    let uri = request.uri();
    match (uri.scheme(), uri.path_and_query()) {
        (Some(_), _) => out.extend_from_slice(uri.to_string().as_bytes()),
        (None, Some(path)) => out.extend_from_slice(path.as_str().as_bytes()),
        (None, None) => out.push(b'/'),
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in request.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(request.body());
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// The answer to one GET when the peer sends `answer` (and then closes, if `close`).
    async fn answer_to_get(answer: &[u8], close: bool, max_body: usize) -> (Result<Answer, Failure>, Vec<u8>) {
        let (client, mut server) = tokio::io::duplex(1 << 20);
        let mut conn = Conn::new(Box::new(client));
        server.write_all(answer).await.unwrap();
        if close {
            server.shutdown().await.unwrap();
        }
        let request = Request::builder().uri("/v3/x?y=1").header("host", "t:1").body(Bytes::new()).unwrap();
        let result = conn.exchange(&request, max_body).await;
        let mut sent = vec![0u8; 4096];
        let n = tokio::io::AsyncReadExt::read(&mut server, &mut sent).await.unwrap();
        sent.truncate(n);
        (result, sent)
    }

    async fn ok(answer: &[u8], close: bool) -> (u16, String, bool) {
        let (result, _) = answer_to_get(answer, close, 1 << 20).await;
        let a = result.unwrap_or_else(|e| panic!("{e:?} for {}", String::from_utf8_lossy(answer)));
        (a.status, String::from_utf8_lossy(&a.body).into_owned(), a.reusable)
    }

    #[tokio::test]
    async fn the_request_goes_as_one_http11_message() {
        let (_, sent) = answer_to_get(b"HTTP/1.1 204 No Content\r\n\r\n", false, 10).await;
        assert_eq!(String::from_utf8(sent).unwrap(), "GET /v3/x?y=1 HTTP/1.1\r\nhost: t:1\r\n\r\n");
        let mut out = Vec::new();
        let put = Request::put("http://t:1/a").header("content-length", "2").body(Bytes::from_static(b"{}")).unwrap();
        encode(&put, &mut out);
        assert_eq!(out, b"PUT http://t:1/a HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}", "absolute form through a proxy");
    }

    #[tokio::test]
    async fn bodies_are_read_by_their_framing() {
        let length = ok(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false).await;
        assert_eq!(length, (200, "hello".into(), true));
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n";
        assert_eq!(ok(chunked, false).await, (200, "abcde".into(), true), "chunk extensions and trailers");
        let both = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n";
        assert_eq!(ok(both, false).await, (200, "a".into(), true), "chunked wins over a length");
        assert_eq!(ok(b"HTTP/1.1 200 OK\r\n\r\nuntil close", true).await, (200, "until close".into(), false));
        assert!(!ok(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", false).await.2);
        assert!(!ok(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false).await.2, "HTTP/1.0 closes");
        let interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(ok(interim, false).await, (201, "{}".into(), true), "1xx answers come first");
        let no_body = b"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n";
        assert_eq!(ok(no_body, false).await, (204, String::new(), true), "a 204 has no body whatever it says");
        let latin1 = b"HTTP/1.1 200 OK\r\nServer: caf\xe9\r\nContent-Length: 1\r\n\r\nx";
        assert_eq!(ok(latin1, false).await.1, "x", "a header that is not UTF-8 and not about framing is fine");
    }

    #[tokio::test]
    async fn broken_cut_and_oversized_answers_are_failures() {
        let cases: [(&[u8], bool, Failure); 8] = [
            (b"", true, Failure::Closed),
            (b"HTTP/1.1 200 OK\r\nContent-Le", true, Failure::Broken),
            (b"garbage garbage\r\n\r\n", false, Failure::Broken),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true, Failure::Broken),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx", false, Failure::Broken),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, Failure::Broken),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", false, Failure::TooLarge { status: 200 }),
            (b"HTTP/1.1 500 E\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n", false, Failure::TooLarge { status: 500 }),
        ];
        for (answer, close, expected) in cases {
            let (result, _) = answer_to_get(answer, close, 10).await;
            assert_eq!(result.err(), Some(expected), "{}", String::from_utf8_lossy(answer));
        }
        let (result, _) = answer_to_get(b"HTTP/1.1 200 OK\r\n\r\n01234567890", true, 10).await;
        assert_eq!(result.err(), Some(Failure::TooLarge { status: 200 }), "a body until the close, over the limit");
        let long_head = [b"HTTP/1.1 200 OK\r\nX: ".as_slice(), &vec![b'a'; MAX_HEAD + 10]].concat();
        assert_eq!(answer_to_get(&long_head, false, 10).await.0.err(), Some(Failure::Broken), "an endless head");
    }

    #[tokio::test]
    async fn an_idle_connection_the_peer_closed_is_not_usable() {
        let (client, server) = tokio::io::duplex(1024);
        let mut conn = Conn::new(Box::new(client));
        assert!(conn.is_usable());
        drop(server);
        assert!(!conn.is_usable());
        let (client, mut server) = tokio::io::duplex(1024);
        let mut conn = Conn::new(Box::new(client));
        server.write_all(b"HTTP/1.1 200 OK\r\n").await.unwrap();
        assert!(!conn.is_usable(), "bytes nobody asked for");
    }
}
