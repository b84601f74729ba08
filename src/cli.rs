//! Command-line definitions (clap) and their conversion into plain configuration structs.

use crate::reference::faults::Fault;
use crate::serve::ServeConfig;
use crate::totp::Seed;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;

/// Contract, load and snapshot checks for the Huawei Cloud IAM virtual-MFA-device API.
#[derive(Debug, Parser)]
#[command(name = "mfa-harness", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the reference implementation as a standalone server.
    Serve(ServeArgs),
    /// Print TOTP codes for a seed: the current code and the pair that bind needs.
    Totp(TotpArgs),
}

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TotpOnly {
    /// Only the current code.
    Code,
    /// Only the bind pair, "FIRST SECOND".
    Bind,
}

#[derive(Debug, Args)]
pub struct TotpArgs {
    /// The base32 seed (base32_string_seed from create); also read from MFA_TOTP_SEED.
    #[arg(long, env = "MFA_TOTP_SEED", hide_env_values = true)]
    pub seed: String,
    /// Compute for this Unix time instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub at: Option<u64>,
    /// Print only one value, for scripts.
    #[arg(long, value_enum)]
    pub only: Option<TotpOnly>,
}

/// What `totp` computes.
#[derive(Debug)]
pub struct TotpConfig {
    pub seed: Seed,
    pub at: Option<u64>,
    pub only: Option<TotpOnly>,
}

impl ServeArgs {
    pub fn into_config(self) -> ServeConfig {
        ServeConfig {
            listen: self.listen,
            domain: self.domain,
            admin_name: self.admin_name,
            admin_password: self.admin_password,
            faults: self.faults,
            list_faults: self.list_faults,
        }
    }
}

impl TotpArgs {
    pub fn into_config(self) -> crate::Result<TotpConfig> {
        let seed = Seed::parse(&self.seed).map_err(|e| crate::Error::Usage(e.to_string()))?;
        Ok(TotpConfig { seed, at: self.at, only: self.only })
    }
}
