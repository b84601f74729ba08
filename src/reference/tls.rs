//! `serve --tls-cert --tls-key [--client-ca]`: the reference server over HTTPS, axum served on
//! tokio-rustls. Handshakes run on their own tasks (a slow or failed one holds up no other
//! connection); the finished ones are handed to axum as its listener's connections.

use axum::serve::Listener;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;

/// The longest a client may take over its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the server's certificate and key are, and whose client certificates it requires.
#[derive(Debug, Clone)]
pub struct ServerTlsFiles {
    /// PEM certificate chain (`--tls-cert`).
    pub cert: PathBuf,
    /// PEM private key (`--tls-key`).
    pub key: PathBuf,
    /// PEM certificate authorities whose client certificates are required (`--client-ca`).
    pub client_ca: Option<PathBuf>,
}

/// A file of [`ServerTlsFiles`] that cannot be used: the flag, the file, the problem.
#[derive(Debug, thiserror::Error)]
#[error("{flag} {}: {problem}", path.display())]
pub struct ServerTlsError {
    pub flag: &'static str,
    pub path: PathBuf,
    pub problem: String,
}

fn read(flag: &'static str, path: &Path) -> Result<Vec<u8>, ServerTlsError> {
    std::fs::read(path).map_err(|e| ServerTlsError {
        flag,
        path: path.into(),
        problem: format!("could not be read ({e})"),
    })
}

fn certificates(flag: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, ServerTlsError> {
    let error = |problem: String| ServerTlsError { flag, path: path.into(), problem };
    let all = CertificateDer::pem_slice_iter(&read(flag, path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(format!("is not a PEM certificate file ({e})")))?;
    if all.is_empty() {
        return Err(error("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
    }
    Ok(all)
}

impl ServerTlsFiles {
    /// Reads the files and builds the server's TLS configuration (HTTP/1.1 by ALPN).
    pub fn config(&self) -> Result<Arc<ServerConfig>, ServerTlsError> {
        let provider = tokio_rustls::rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider()));
        let chain = certificates("--tls-cert", &self.cert)?;
        let key = PrivateKeyDer::from_pem_slice(&read("--tls-key", &self.key)?).map_err(|_| ServerTlsError {
            flag: "--tls-key",
            path: self.key.clone(),
            problem: "holds no PEM private key (-----BEGIN PRIVATE KEY-----)".into(),
        })?;
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ServerTlsError { flag: "--tls-cert", path: self.cert.clone(), problem: e.to_string() })?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(path) => {
                let mut roots = tokio_rustls::rustls::RootCertStore::empty();
                let error = |problem: String| ServerTlsError { flag: "--client-ca", path: path.clone(), problem };
                for certificate in certificates("--client-ca", path)? {
                    roots.add(certificate).map_err(|e| error(format!("cannot be a trust anchor ({e})")))?;
                }
                let verifier = tokio_rustls::rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| error(format!("cannot be used ({e})")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_single_cert(chain, key).map_err(|e| ServerTlsError {
            flag: "--tls-key",
            path: self.key.clone(),
            problem: format!("does not go with --tls-cert ({e})"),
        })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A listener whose connections have finished their TLS handshake.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
    acceptor: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> io::Result<TlsListener> {
        let addr = listener.local_addr()?;
        let (done, ready) = mpsc::channel(1024);
        let tls = TlsAcceptor::from(config);
        let acceptor = tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let (tls, done) = (tls.clone(), done.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            let _ = done.send((stream, peer)).await;
                        }
                        Ok(Err(e)) => tracing::info!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { ready, addr, acceptor })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accepting task is gone (aborted at shutdown): no more connections.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}
