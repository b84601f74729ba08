//! How the harness reaches a target, for every command and every client: timeouts, the body
//! limit, extra headers, TLS, proxies and the request rate (`--timeout`, `--max-body`,
//! `--header`, `--ca-cert`/`--insecure`/`--client-cert`/`--client-key`, `--proxy`/`--no-proxy`,
//! `--rate-limit`). The plans of `check`, `load` and `snapshot` each carry one.

use super::trust::{PemFileError, TlsConfig};
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
    /// The rustls set-up built from `tls` by [`Network::load_tls`] (once per run, shared by
    /// every client); `None`: built when first needed.
    pub tls_config: Option<TlsConfig>,
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
            tls_config: None,
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

    /// Reads `--ca-cert`, `--client-cert` and `--client-key` and builds the TLS set-up every
    /// client shares; a file that cannot be used is named with its flag.
    pub fn load_tls(&mut self) -> Result<(), PemFileError> {
        self.tls_config = Some(self.tls.config()?);
        Ok(())
    }

    /// The TLS set-up, built now when [`Network::load_tls`] was not called.
    pub fn tls_config(&self) -> Result<TlsConfig, PemFileError> {
        match &self.tls_config {
            Some(config) => Ok(config.clone()),
            None => self.tls.config(),
        }
    }

    /// What the run must be warned of, for the app layer to print: `--insecure`.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.tls.insecure {
            warnings.push(
                "WARNING: --insecure: TLS certificates are NOT verified; anyone between the harness and the \
                 target can read and change every request, passwords and tokens included"
                    .to_string(),
            );
        }
        warnings
    }
}

impl TlsOptions {
    /// The configuration of these options; the defaults' is built once per process (it reads
    /// the system's certificate authorities), whoever asks.
    fn config(&self) -> Result<TlsConfig, PemFileError> {
        static DEFAULTS: std::sync::OnceLock<TlsConfig> = std::sync::OnceLock::new();
        let defaults = self.ca_certs.is_empty() && !self.insecure && self.client_cert.is_none();
        if defaults {
            if let Some(config) = DEFAULTS.get() {
                return Ok(config.clone());
            }
            let config = TlsConfig::load(&[], false, None)?;
            return Ok(DEFAULTS.get_or_init(|| config).clone());
        }
        let identity = match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => Some((cert.as_path(), key.as_path())),
            _ => None,
        };
        TlsConfig::load(&self.ca_certs, self.insecure, identity)
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
