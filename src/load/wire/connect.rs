//! How a load connection reaches the target: straight or through the proxy that
//! [`crate::client::proxy::proxy_for`] picks (as every client of the harness does), then TLS
//! for `https://` targets with the run's one [`crate::client::TlsConfig`].
//!
//! - `http://` target, no proxy: TCP to the target.
//! - `http://` target through a proxy: TCP to the proxy, requests in absolute-form
//!   (`GET http://host:port/path`) with `Proxy-Authorization` when the proxy URL has credentials.
//! - `https://` target through a proxy: a `CONNECT host:port` tunnel, then TLS inside it.
//! - an `https://` proxy: TLS to the proxy first, whatever goes inside.

use super::http1::Io;
use crate::client::Network;
use crate::client::proxy::{ProxyRoute, proxy_for};
use base64::Engine;
use http::{HeaderValue, Request, Uri};
use rustls_pki_types::ServerName;
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The longest answer head a proxy may give to `CONNECT`.
const MAX_CONNECT_HEAD: usize = 16 * 1024;

/// TLS to one peer: the connector and the name its certificate must carry.
#[derive(Clone)]
struct Tls {
    connector: TlsConnector,
    name: ServerName<'static>,
}

/// Opens the connections of one target.
#[derive(Clone)]
pub struct Connector {
    /// `host:port` of the first hop: the target, or the proxy.
    address: String,
    /// TLS to an `https://` proxy itself.
    proxy_tls: Option<Tls>,
    /// `CONNECT` through the proxy first: the target's `host:port`.
    tunnel: Option<String>,
    /// TLS to the target.
    tls: Option<Tls>,
    /// A plain target through a proxy: requests go in absolute-form, to this origin.
    forward_origin: Option<String>,
    /// `Proxy-Authorization`, from the proxy URL's credentials (never logged).
    proxy_auth: Option<HeaderValue>,
}

/// `host:port` of a URL, IPv6 in brackets.
fn authority(url: &url::Url) -> Option<String> {
    let port = url.port_or_known_default()?;
    Some(match url.host()? {
        url::Host::Ipv6(ip) => format!("[{ip}]:{port}"),
        host => format!("{host}:{port}"),
    })
}

/// The name a peer's certificate must carry.
fn server_name(url: &url::Url) -> Option<ServerName<'static>> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(ServerName::IpAddress(std::net::IpAddr::V4(ip).into())),
        url::Host::Ipv6(ip) => Some(ServerName::IpAddress(std::net::IpAddr::V6(ip).into())),
        url::Host::Domain(name) => ServerName::try_from(name.to_string()).ok(),
    }
}

/// `Basic base64(user:password)`, percent-decoded as curl does.
fn basic_auth(proxy: &url::Url) -> Option<HeaderValue> {
    if proxy.username().is_empty() && proxy.password().is_none() {
        return None;
    }
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    let pair = format!("{}:{}", decode(proxy.username()), decode(proxy.password().unwrap_or("")));
    let mut value =
        HeaderValue::from_str(&format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))).ok()?;
    value.set_sensitive(true);
    Some(value)
}

impl Connector {
    /// The connector of `base` (`http://` or `https://`) as `network` says.
    pub fn new(base: &url::Url, network: &Network) -> Result<Connector, String> {
        let target = authority(base).ok_or_else(|| format!("'{base}' has no host and port"))?;
        let tls_to = |url: &url::Url| -> Result<Tls, String> {
            let config = network.tls_config().map_err(|e| e.to_string())?;
            let name = server_name(url).ok_or_else(|| format!("'{url}' has no host name TLS can check"))?;
            Ok(Tls { connector: TlsConnector::from(config.rustls()), name })
        };
        let tls = match base.scheme() {
            "https" => Some(tls_to(base)?),
            "http" => None,
            other => return Err(format!("the load connection speaks http and https, not {other}")),
        };
        let route: Option<ProxyRoute> = proxy_for(base, &network.proxy);
        Ok(match route {
            None => Connector {
                address: target,
                proxy_tls: None,
                tunnel: None,
                tls,
                forward_origin: None,
                proxy_auth: None,
            },
            Some(route) => {
                let proxy = route.url;
                let address = authority(&proxy).ok_or_else(|| format!("{} names no proxy host", route.source))?;
                let proxy_tls = if proxy.scheme() == "https" { Some(tls_to(&proxy)?) } else { None };
                let (tunnel, forward_origin) = match tls {
                    Some(_) => (Some(target), None),
                    None => (None, Some(format!("http://{target}"))),
                };
                Connector { address, proxy_tls, tunnel, tls, forward_origin, proxy_auth: basic_auth(&proxy) }
            }
        })
    }

    /// `host:port` of the first hop (the target, or the proxy).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Readies a request for this route: through a proxy to a plain target, its URI becomes
    /// absolute and it carries the proxy's credentials.
    pub fn prepare(&self, request: &mut Request<bytes::Bytes>) {
        let Some(origin) = &self.forward_origin else { return };
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        if let Ok(uri) = Uri::try_from(format!("{origin}{path}")) {
            *request.uri_mut() = uri;
        }
        if let Some(auth) = &self.proxy_auth {
            request.headers_mut().insert(http::header::PROXY_AUTHORIZATION, auth.clone());
        }
    }

    /// Opens a new connection: the stream its requests go on.
    pub async fn open(&self) -> io::Result<Box<dyn Io>> {
        let stream = TcpStream::connect(&self.address).await?;
        let _ = stream.set_nodelay(true);
        match &self.proxy_tls {
            None => self.through(stream).await,
            Some(tls) => self.through(tls.connector.connect(tls.name.clone(), stream).await?).await,
        }
    }

    /// After the first hop: the tunnel, if any, then TLS to the target, if any.
    async fn through<S>(&self, mut stream: S) -> io::Result<Box<dyn Io>>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static,
    {
        if let Some(target) = &self.tunnel {
            tunnel(&mut stream, target, self.proxy_auth.as_ref()).await?;
        }
        match &self.tls {
            None => Ok(Box::new(stream)),
            Some(tls) => Ok(Box::new(tls.connector.connect(tls.name.clone(), stream).await?)),
        }
    }
}

/// Asks the proxy for a tunnel to `target` and reads its answer head; a 2xx opens it.
async fn tunnel<S>(stream: &mut S, target: &str, auth: Option<&HeaderValue>) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n").into_bytes();
    if let Some(auth) = auth {
        head.extend_from_slice(b"Proxy-Authorization: ");
        head.extend_from_slice(auth.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    stream.write_all(&head).await?;
    stream.flush().await?;
    // Byte by byte: nothing past the head may be read, it is the tunnel's.
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= MAX_CONNECT_HEAD || stream.read(&mut byte).await? == 0 {
            return Err(io::Error::other("the proxy closed the connection or sent no answer to CONNECT"));
        }
        answer.push(byte[0]);
    }
    let status = answer.split(|b| *b == b' ').nth(1).and_then(|s| std::str::from_utf8(s).ok());
    match status.and_then(|s| s.parse::<u16>().ok()) {
        Some(200..=299) => Ok(()),
        Some(status) => Err(io::Error::other(format!("the proxy refused the tunnel (HTTP {status})"))),
        None => Err(io::Error::other("the proxy's answer to CONNECT is not HTTP")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ProxyChoice;

    fn connector(target: &str, proxy: ProxyChoice) -> Connector {
        let network = Network { proxy, ..Network::default() };
        Connector::new(&url::Url::parse(target).unwrap(), &network).unwrap()
    }

    #[test]
    fn routes_follow_the_target_and_the_proxy() {
        let direct = connector("http://[::1]:9000/iam", ProxyChoice::Environment);
        assert_eq!((direct.address(), direct.tunnel.is_none(), direct.tls.is_none()), ("[::1]:9000", true, true));
        let tls = connector("https://localhost", ProxyChoice::None);
        assert_eq!((tls.address(), tls.tls.is_some()), ("localhost:443", true));
        let proxy = ProxyChoice::Url("http://user:p%40ss@127.0.0.1:3128".into());
        let tunnel = connector("https://iam.example:8443", proxy.clone());
        assert_eq!((tunnel.address(), tunnel.tunnel.as_deref()), ("127.0.0.1:3128", Some("iam.example:8443")));
        let forward = connector("http://iam.example/prefix", proxy);
        assert_eq!(forward.forward_origin.as_deref(), Some("http://iam.example:80"));
        let mut request = Request::builder().uri("/prefix/v3/x?y=1").body(bytes::Bytes::new()).unwrap();
        forward.prepare(&mut request);
        assert_eq!(request.uri().to_string(), "http://iam.example:80/prefix/v3/x?y=1");
        let auth = request.headers().get(http::header::PROXY_AUTHORIZATION).unwrap();
        let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("user:p@ss"));
        assert_eq!(auth.to_str().unwrap(), expected);
        assert!(auth.is_sensitive());
    }

    #[test]
    fn other_schemes_are_refused() {
        let network = Network::default();
        assert!(Connector::new(&url::Url::parse("ftp://x").unwrap(), &network).is_err());
    }
}
