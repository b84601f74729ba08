//! How the harness reaches a target, for every command and every client: timeouts, the body
//! limit, extra headers, TLS, proxies and the request rate (`--timeout`, `--max-body`,
//! `--header`, `--ca-cert`/`--insecure`/`--client-cert`/`--client-key`, `--proxy`/`--no-proxy`,
//! `--rate-limit`). The plans of `check`, `load` and `snapshot` each carry one.

use std::path::PathBuf;
use std::time::Duration;

/// The default `--max-body`: 1 MiB, far above any answer of the API (small JSON documents).
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// Everything about the way to the target that is not who we are there.
#[derive(Debug, Clone)]
pub struct Network {
    /// Per request, its body included.
    pub timeout: Duration,
    /// The most bytes of an answer's body that are read.
    pub max_body: usize,
    /// Sent on every request (`--header 'Name: value'`), after the harness's own headers.
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    pub tls: TlsOptions,
    pub proxy: ProxyChoice,
    /// The most requests per second that `check` and `snapshot` send (`--rate-limit`).
    pub rate_limit: Option<f64>,
}

impl Default for Network {
    fn default() -> Network {
        Network {
            timeout: Duration::from_secs(10),
            max_body: DEFAULT_MAX_BODY,
            headers: Vec::new(),
            tls: TlsOptions::default(),
            proxy: ProxyChoice::Environment,
            rate_limit: None,
        }
    }
}

impl Network {
    /// The defaults with another timeout.
    pub fn with_timeout(timeout: Duration) -> Network {
        Network { timeout, ..Network::default() }
    }
}

/// How `https://` targets are trusted, and who we are to them.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM files of certificate authorities trusted besides the system's (`--ca-cert`).
    pub ca_certs: Vec<PathBuf>,
    /// Accept any certificate (`--insecure`): the run is told so, loudly.
    pub insecure: bool,
    /// PEM certificate chain and private key for mutual TLS (`--client-cert`, `--client-key`).
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

/// Which proxy requests go through. A loopback target is never proxied, whatever is chosen
/// here but an explicit `--proxy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyChoice {
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`, as curl reads them.
    Environment,
    /// `--no-proxy`: straight to the target.
    None,
    /// `--proxy URL`.
    Url(String),
}
