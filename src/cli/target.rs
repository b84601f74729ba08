//! `--target` and who we are there, shared by `check`, `load` and `snapshot`.

use super::network::NetworkArgs;
use crate::error::{Result, UsageError};
use crate::reference::faults::{Fault, FaultSet};
use crate::reference::readings::{Reading, ReadingSet};
use crate::target::{Admin, AdminCredentials, AdminKey, Secret, TargetSpec};
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
    /// An administrator token, instead of --admin-name and --admin-password (needs --domain).
    #[arg(long, env = "MFA_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Access key (AK): the administrator's requests are signed (SDK-HMAC-SHA256) with it and
    /// --secret-key instead of carrying a token (needs --domain).
    #[arg(long, env = "MFA_ACCESS_KEY")]
    pub access_key: Option<String>,
    /// Secret key (SK) of --access-key.
    #[arg(long, env = "MFA_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
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
        super::network::http_url("--target", &url, "http://127.0.0.1:8080", "an http or https URL")?;
        if let Some(file) = self.pool {
            return Ok(TargetSpec::Pool { url, file });
        }
        let password = match (self.admin_name, self.admin_password) {
            (Some(name), Some(password)) => Some((name, password)),
            _ => None,
        };
        let keys = match (self.access_key, self.secret_key) {
            (Some(access), Some(secret)) if !access.is_empty() && !secret.is_empty() => {
                Some(crate::sign::Keys::new(access, secret))
            }
            (None, None) => None,
            _ => {
                let problem = "--access-key and --secret-key (MFA_ACCESS_KEY, MFA_SECRET_KEY) go together".into();
                return Err(UsageError::Flag { flag: "--access-key", problem }.into());
            }
        };
        let token = self.admin_token.filter(|t| !t.is_empty()).map(|t| AdminKey::Token(Secret::new(t)));
        let given = [password.is_some(), token.is_some(), keys.is_some()].iter().filter(|g| **g).count();
        if given > 1 {
            let problem = "give one administrator credential: --admin-name and --admin-password, --admin-token, or \
                           --access-key and --secret-key (the environment's MFA_* count too)"
                .into();
            return Err(UsageError::Flag { flag: "--target", problem }.into());
        }
        let key = token.or(keys.map(AdminKey::Keys));
        match (self.domain, password, key) {
            (Some(domain), Some((name, password)), _) => Ok(TargetSpec::Remote {
                url,
                admin: Admin::Password(AdminCredentials { domain, name, password: Secret::new(password) }),
            }),
            (Some(domain), None, Some(key)) => Ok(TargetSpec::Remote { url, admin: Admin::Key { domain, key } }),
            (None, _, Some(_)) => Err(UsageError::Flag {
                flag: "--domain",
                problem: "is needed with --admin-token and --access-key: the account name, which the throw-away \
                          users' password tokens name"
                    .into(),
            }
            .into()),
            _ => Err(UsageError::Flag {
                flag: "--target",
                problem: "needs identities: --domain with --admin-name and --admin-password, --admin-token, or \
                          --access-key and --secret-key (or MFA_DOMAIN, MFA_ADMIN_NAME, MFA_ADMIN_PASSWORD, \
                          MFA_ADMIN_TOKEN, MFA_ACCESS_KEY, MFA_SECRET_KEY), or --pool FILE"
                    .into(),
            }
            .into()),
        }
    }
}
