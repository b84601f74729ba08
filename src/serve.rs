//! `serve`'s plan: the reference implementation as a standalone process.

use crate::reference::ServerConfig;
use crate::reference::faults::{Fault, FaultSet};
use crate::reference::readings::{Reading, ReadingSet};
use crate::reference::state::Delays;
use crate::reference::tls::ServerTlsFiles;
use std::net::SocketAddr;

/// What `serve` runs with.
#[derive(Clone)]
pub struct ServePlan {
    pub listen: SocketAddr,
    pub domain: String,
    pub admin_name: String,
    /// Generated (and printed once) when not given.
    pub admin_password: Option<String>,
    pub faults: Vec<Fault>,
    pub list_faults: bool,
    pub readings: Vec<Reading>,
    pub list_readings: bool,
    /// Slowed answers to user creation and deletion (for tests of slow targets).
    pub delays: Delays,
    /// `--access-key AK:SK`: signed requests with these keys act as the administrator.
    pub access_keys: Vec<crate::sign::Keys>,
    /// HTTPS (`--tls-cert`, `--tls-key`, `--client-ca`); plain HTTP when `None`.
    pub tls: Option<ServerTlsFiles>,
}

impl std::fmt::Debug for ServePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServePlan")
            .field("listen", &self.listen)
            .field("domain", &self.domain)
            .field("admin_name", &self.admin_name)
            .field("admin_password", &self.admin_password.as_ref().map(|_| "[redacted]"))
            .field("faults", &self.faults)
            .field("readings", &self.readings)
            .field("delays", &self.delays)
            .field("access_keys", &self.access_keys)
            .field("tls", &self.tls)
            .finish()
    }
}

impl ServePlan {
    /// The server's configuration; a missing password is generated here.
    pub fn server_config(&self) -> ServerConfig {
        ServerConfig {
            domain: self.domain.clone(),
            admin_name: self.admin_name.clone(),
            admin_password: self.admin_password.clone().unwrap_or_else(crate::ids::generate_password),
            faults: FaultSet::new(&self.faults),
            readings: ReadingSet::new(&self.readings),
            delays: self.delays,
            access_keys: self.access_keys.clone(),
        }
    }
}

/// The `--list-faults` text: one fault a line, name then description.
pub fn fault_list() -> String {
    listing(Fault::ALL.iter().map(|f| (f.name(), f.description())))
}

/// The `--list-readings` text: one reading a line, name then description.
pub fn reading_list() -> String {
    listing(Reading::ALL.iter().map(|r| (r.name(), r.description())))
}

fn listing<'a>(items: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> String {
    let width = items.clone().map(|(name, _)| name.len()).max().unwrap_or(0);
    items.map(|(name, description)| format!("{name:width$}  {description}\n")).collect()
}
