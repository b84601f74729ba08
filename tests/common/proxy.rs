//! A real HTTP forward proxy on 127.0.0.1:0, as the harness meets one in front of a target:
//! absolute-form requests (`GET http://host/path`) are forwarded on one upstream connection
//! per client connection, `CONNECT host:port` opens a tunnel (TLS goes through it untouched).
//! It records what it saw (request lines, `Proxy-Authorization` values) and runs until the
//! test process ends.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// What the proxy saw.
#[derive(Clone, Default)]
pub struct Seen {
    /// `GET http://127.0.0.1:1234/v3/auth/tokens`, `CONNECT 127.0.0.1:1234`, … in order.
    pub lines: Arc<Mutex<Vec<String>>>,
    /// Every `Proxy-Authorization` value received.
    pub auth: Arc<Mutex<Vec<String>>>,
}

impl Seen {
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    pub fn tunnels(&self) -> usize {
        self.lines().iter().filter(|l| l.starts_with("CONNECT ")).count()
    }

    /// Absolute-form requests forwarded.
    pub fn forwarded(&self) -> usize {
        self.lines().iter().filter(|l| !l.starts_with("CONNECT ")).count()
    }

    pub fn auth(&self) -> Vec<String> {
        self.auth.lock().unwrap().clone()
    }
}

/// A running proxy: its URL (`http://127.0.0.1:PORT`) and what it saw.
pub struct ForwardProxy {
    pub url: String,
    pub seen: Seen,
}

impl ForwardProxy {
    pub fn start() -> ForwardProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Seen::default();
        let recorder = seen.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = recorder.clone();
                thread::spawn(move || serve(client, &seen));
            }
        });
        ForwardProxy { url, seen }
    }

    /// The proxy URL with credentials, `http://user:password@127.0.0.1:PORT`.
    pub fn url_with(&self, user: &str, password: &str) -> String {
        self.url.replacen("http://", &format!("http://{user}:{password}@"), 1)
    }
}

/// A request or answer head: its lines, without the final empty one.
fn read_head(reader: &mut impl BufRead) -> Option<Vec<String>> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            return Some(lines);
        }
        lines.push(line);
    }
}

fn header<'a>(head: &'a [String], name: &str) -> Option<&'a str> {
    head.iter().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Copies a message body (by `Content-Length` or chunked) from `from` to `to`.
fn copy_body(head: &[String], from: &mut impl BufRead, to: &mut impl Write) -> Option<()> {
    if header(head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            from.read_line(&mut size).ok()?;
            to.write_all(size.as_bytes()).ok()?;
            let length = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0u8; length + 2];
            from.read_exact(&mut chunk).ok()?;
            to.write_all(&chunk).ok()?;
            if length == 0 {
                return Some(());
            }
        }
    }
    let length = header(head, "content-length").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    let mut body = vec![0u8; length];
    from.read_exact(&mut body).ok()?;
    to.write_all(&body).ok()
}

fn write_head(to: &mut impl Write, head: &[String]) -> Option<()> {
    to.write_all(format!("{}\r\n\r\n", head.join("\r\n")).as_bytes()).ok()
}

fn serve(client: TcpStream, seen: &Seen) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut writer = client;
    let mut upstream: Option<(BufReader<TcpStream>, TcpStream)> = None;
    while let Some(mut head) = read_head(&mut reader) {
        let mut parts = head[0].split(' ');
        let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
        seen.lines.lock().unwrap().push(format!("{method} {target}"));
        if let Some(auth) = header(&head, "proxy-authorization") {
            seen.auth.lock().unwrap().push(auth.to_string());
        }
        if method == "CONNECT" {
            let Ok(server) = TcpStream::connect(&target) else {
                let _ = writer.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
                return;
            };
            let _ = writer.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
            tunnel(reader, writer, server);
            return;
        }
        // Absolute-form only: a proxy is not an origin.
        let Some(rest) = target.strip_prefix("http://") else {
            let _ = writer.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
            return;
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        if upstream.is_none() {
            let Ok(server) = TcpStream::connect(authority) else {
                let _ = writer.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
                return;
            };
            upstream = Some((BufReader::new(server.try_clone().unwrap()), server));
        }
        let Some((up_reader, up_writer)) = upstream.as_mut() else { return };
        head[0] = format!("{method} {path} HTTP/1.1");
        head.retain(|l| !l.to_ascii_lowercase().starts_with("proxy-"));
        let forwarded = write_head(up_writer, &head).and_then(|()| copy_body(&head, &mut reader, up_writer));
        let Some(()) = forwarded else { return };
        let Some(answer) = read_head(up_reader) else { return };
        let answered = write_head(&mut writer, &answer).and_then(|()| copy_body(&answer, up_reader, &mut writer));
        if answered.is_none() {
            return;
        }
    }
}

/// Copies bytes both ways until either side closes.
fn tunnel(mut client_reader: BufReader<TcpStream>, mut client_writer: TcpStream, server: TcpStream) {
    let mut server_reader = server.try_clone().unwrap();
    let mut server_writer = server;
    // Bytes the client sent right after CONNECT are in the reader's buffer.
    let buffered = client_reader.buffer().to_vec();
    if server_writer.write_all(&buffered).is_err() {
        return;
    }
    client_reader.consume(buffered.len());
    let up = thread::spawn(move || {
        let _ = std::io::copy(&mut client_reader, &mut server_writer);
        let _ = server_writer.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut server_reader, &mut client_writer);
    let _ = client_writer.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}
