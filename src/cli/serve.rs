//! `mfa-harness serve`: the reference implementation's flags and their plan.

use super::sign;
use crate::error::Result;
use crate::flags::{parse_duration, parse_timeout};
use crate::reference::faults::Fault;
use crate::reference::readings::Reading;
use crate::reference::state::Delays;
use crate::serve::ServePlan;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port. The bound URL is the first line on stdout.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Account (domain) name that tokens are requested for.
    #[arg(long, env = "MFA_DOMAIN", default_value = "mfa-harness")]
    pub domain: String,
    /// Name of the account administrator.
    #[arg(long, env = "MFA_ADMIN_NAME", default_value = "admin")]
    pub admin_name: String,
    /// Administrator password; generated and printed once to stderr when not given.
    #[arg(long, env = "MFA_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Switch on a deliberate deviation from the contract (repeatable); see --list-faults.
    #[arg(long = "fault", value_name = "NAME")]
    pub faults: Vec<Fault>,
    /// List the faults with one line each and exit.
    #[arg(long)]
    pub list_faults: bool,
    /// Pick an alternative reading of an open point of the documentation (repeatable); see
    /// --list-readings.
    #[arg(long = "reading", value_name = "NAME")]
    pub readings: Vec<Reading>,
    /// List the alternative readings with one line each and exit.
    #[arg(long)]
    pub list_readings: bool,
    /// Answer each user creation this much later (the user exists at once), e.g. 200ms.
    #[arg(long, value_name = "DUR", default_value = "0s", value_parser = parse_duration)]
    pub delay_user_create: Duration,
    /// Delete each user this much later, then answer, e.g. 200ms.
    #[arg(long, value_name = "DUR", default_value = "0s", value_parser = parse_duration)]
    pub delay_user_delete: Duration,
    /// Users' tokens (not the administrator's) expire after this, not 24 h, e.g. 2s.
    #[arg(long, value_name = "DUR", value_parser = parse_timeout)]
    pub token_ttl: Option<Duration>,
    /// Accept requests signed (SDK-HMAC-SHA256) with this access key and secret key as the
    /// administrator's (repeatable); also MFA_SERVE_ACCESS_KEYS, comma-separated.
    #[arg(
        long = "access-key",
        value_name = "AK:SK",
        env = "MFA_SERVE_ACCESS_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub access_keys: Vec<String>,
    /// Serve HTTPS with this PEM certificate (chain); needs --tls-key. The first stdout line
    /// is then the https:// URL.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates issued by the authorities in this PEM file (mutual TLS);
    /// needs --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
}

impl ServeArgs {
    pub fn into_plan(self) -> Result<ServePlan> {
        let access_keys = self.access_keys.iter().map(|pair| sign::parse_key_pair(pair)).collect::<Result<_>>()?;
        Ok(ServePlan {
            listen: self.listen,
            domain: self.domain,
            admin_name: self.admin_name,
            admin_password: self.admin_password,
            faults: self.faults,
            list_faults: self.list_faults,
            readings: self.readings,
            list_readings: self.list_readings,
            delays: Delays {
                user_create: self.delay_user_create,
                user_delete: self.delay_user_delete,
                token_ttl: self.token_ttl,
            },
            access_keys,
            tls: match (self.tls_cert, self.tls_key) {
                (Some(cert), Some(key)) => {
                    Some(crate::reference::tls::ServerTlsFiles { cert, key, client_ca: self.client_ca })
                }
                _ => None,
            },
        })
    }
}
