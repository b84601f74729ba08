//! `serve`'s plan: the reference implementation as a standalone process.

use crate::reference::ServerConfig;
use crate::reference::faults::{Fault, FaultSet};
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
}

impl std::fmt::Debug for ServePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServePlan")
            .field("listen", &self.listen)
            .field("domain", &self.domain)
            .field("admin_name", &self.admin_name)
            .field("admin_password", &self.admin_password.as_ref().map(|_| "[redacted]"))
            .field("faults", &self.faults)
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
        }
    }
}

/// The `--list-faults` text: one fault a line, name then description.
pub fn fault_list() -> String {
    let width = Fault::ALL.iter().map(|f| f.name().len()).max().unwrap_or(0);
    Fault::ALL.iter().map(|f| format!("{:width$}  {}\n", f.name(), f.description())).collect()
}
