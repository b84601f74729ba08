//! `--pool FILE`: pre-made identities for targets where users cannot be created, each token
//! validated before the first case.

use super::identity::{Identity, Redactor, Secret, target_error, throttled};
use crate::api::ops;
use crate::client::HttpClient;
use crate::error::{Detail, Result, TargetError, UsageError};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolFile {
    #[serde(default)]
    domain: Option<String>,
    admin: PoolIdentity,
    #[serde(default)]
    users: Vec<PoolIdentity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolIdentity {
    user_id: String,
    token: Secret,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    password: Option<Secret>,
}

impl From<PoolIdentity> for Identity {
    fn from(p: PoolIdentity) -> Identity {
        Identity { user_id: p.user_id, name: p.name, password: p.password, token: p.token }
    }
}

/// A pool file's identities, every secret added to `redactor`.
pub struct Pool {
    pub domain: Option<String>,
    pub admin: Identity,
    pub users: Vec<Identity>,
}

/// Reads and checks a pool file.
pub fn read(file: &Path, redactor: &Redactor) -> Result<Pool> {
    let text = std::fs::read_to_string(file).map_err(|source| UsageError::Read {
        what: "the pool file",
        path: file.to_path_buf(),
        source,
    })?;
    let pool: PoolFile = toml::from_str(&text).map_err(|e| UsageError::Invalid {
        what: "the pool file",
        path: file.to_path_buf(),
        source: Detail(crate::sanitize::redact(&e.to_string(), &[])),
    })?;
    if pool.users.len() < 2 {
        let problem = format!(
            "the pool file {} lists {} users; at least 2 are needed ([[users]] user_id, token)",
            file.display(),
            pool.users.len()
        );
        return Err(UsageError::Pool { problem }.into());
    }
    redactor.add(pool.admin.token.expose());
    for user in &pool.users {
        redactor.add(user.token.expose());
        if let Some(p) = &user.password {
            redactor.add(p.expose());
        }
    }
    Ok(Pool {
        domain: pool.domain,
        admin: pool.admin.into(),
        users: pool.users.into_iter().map(Identity::from).collect(),
    })
}

/// Asks the target once with every identity's token (the administrator lists the devices,
/// each user queries its own); a 401 means the target rejects that token.
pub async fn validate(client: &HttpClient, pool: &Pool) -> Result<(), TargetError> {
    let admin = (&pool.admin, "the administrator".to_string(), ops::list_devices(Some(pool.admin.token.expose())));
    let users = pool.users.iter().map(|user| {
        let who = user.name.as_ref().map_or_else(|| "a user".to_string(), |name| format!("user '{name}'"));
        (user, who, ops::show_device(Some(user.token.expose()), &user.user_id))
    });
    let checks = std::iter::once(admin).chain(users).map(|(identity, who, op)| async move {
        let context = "could not validate the pool's tokens";
        let (answer, attempts) = client.send_retrying(&op, crate::client::Safety::Idempotent).await;
        let exchange = answer.map_err(|e| target_error(context, e))?;
        if let Some(throttled) = throttled(context, &exchange, attempts, &Redactor::default()) {
            return Err(throttled);
        }
        if exchange.status == 401 {
            return Err(TargetError::Rejected {
                who,
                user_id: crate::sanitize::for_terminal(&identity.user_id),
                method: exchange.method.to_string(),
                path: exchange.path.clone(),
            });
        }
        Ok(())
    });
    futures::future::join_all(checks).await.into_iter().collect()
}
