//! `--target` and who we are there, shared by `check`, `load` and `snapshot`.

use super::network::NetworkArgs;
use crate::error::{Result, UsageError};
use crate::reference::faults::{Fault, FaultSet};
use crate::reference::readings::{Reading, ReadingSet};
use crate::target::{AdminCredentials, Secret, TargetSpec};
use clap::Args;
use std::path::PathBuf;

/// Where to test and as whom; shared by `check`, `load` and `snapshot`.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Base URL of the implementation (http or https); none: the embedded reference server.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// The same, without `--target`.
    #[arg(value_name = "URL", conflicts_with = "target")]
    pub url: Option<String>,
    /// Account (domain) name for the admin token.
    #[arg(long, env = "MFA_DOMAIN")]
    pub domain: Option<String>,
    /// Administrator user name; throw-away users are created with it and deleted at the end.
    #[arg(long, env = "MFA_ADMIN_NAME")]
    pub admin_name: Option<String>,
    /// Administrator password.
    #[arg(long, env = "MFA_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// TOML file of pre-made identities ([admin] user_id, token; [[users]] user_id, token).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["admin_name", "admin_password"])]
    pub pool: Option<PathBuf>,
    /// Switch on a fault of the embedded server (repeatable; only without --target).
    #[arg(long = "fault", value_name = "NAME", conflicts_with = "target")]
    pub faults: Vec<Fault>,
    /// Run the embedded server with an alternative documented reading (repeatable; only without
    /// --target); `mfa-harness serve --list-readings` lists them.
    #[arg(long = "reading", value_name = "NAME", conflicts_with = "target")]
    pub readings: Vec<Reading>,
    #[command(flatten)]
    pub network: NetworkArgs,
}

impl TargetArgs {
    pub fn into_spec(self) -> Result<TargetSpec> {
        let Some(url) = self.target.or(self.url) else {
            return Ok(TargetSpec::Embedded {
                faults: FaultSet::new(&self.faults),
                readings: ReadingSet::new(&self.readings),
            });
        };
        let parsed = url::Url::parse(&url).map_err(|e| UsageError::Flag {
            flag: "--target",
            problem: format!("'{url}' is not a URL ({e}); use e.g. http://127.0.0.1:8080"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(UsageError::Flag {
                flag: "--target",
                problem: format!("'{url}' must be an http or https URL"),
            }
            .into());
        }
        if let Some(file) = self.pool {
            return Ok(TargetSpec::Pool { url, file });
        }
        match (self.domain, self.admin_name, self.admin_password) {
            (Some(domain), Some(name), Some(password)) => Ok(TargetSpec::Remote {
                url,
                admin: AdminCredentials { domain, name, password: Secret::new(password) },
            }),
            _ => Err(UsageError::Flag {
                flag: "--target",
                problem: "needs identities: --domain, --admin-name and --admin-password (or MFA_DOMAIN, \
                          MFA_ADMIN_NAME, MFA_ADMIN_PASSWORD), or --pool FILE"
                    .into(),
            }
            .into()),
        }
    }
}
