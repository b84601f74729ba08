//! Where the target is and who we are there: the embedded reference server or a remote URL,
//! identities provisioned through the admin API (always deleted again) or read from a pool file.

pub mod admin;
pub mod identity;
pub mod pool;
pub mod provision;

use crate::client::{HttpClient, Network};
use crate::error::{Cleanup, InternalError, ProvisionError, Result};
use crate::load::shard::Shard;
use crate::reference::RunningServer;
use crate::reference::faults::FaultSet;
use crate::reference::readings::ReadingSet;
use crate::signals::Interrupts;
pub use admin::AdminKey;
pub use identity::{AdminCredentials, Identity, Redactor, Secret, display_url, password_token};
use provision::Provisioner;
use std::path::{Path, PathBuf};

/// What to test and how to get identities there.
#[derive(Clone, Debug)]
pub enum TargetSpec {
    /// Start the reference server in-process on 127.0.0.1:0, with faults and alternative readings.
    Embedded { faults: FaultSet, readings: ReadingSet },
    /// A remote implementation, with admin credentials to create throw-away users.
    Remote { url: String, admin: Admin },
    /// A remote implementation with pre-made identities.
    Pool { url: String, file: PathBuf },
}

/// How the administrator is known at a remote target.
#[derive(Clone, Debug)]
pub enum Admin {
    /// `--domain`, `--admin-name`, `--admin-password`: a password token is obtained.
    Password(AdminCredentials),
    /// `--admin-token`, or `--access-key` and `--secret-key`, with `--domain` (the account name
    /// the throw-away users' password tokens name).
    Key { domain: String, key: AdminKey },
}

enum Source {
    Provision(Box<Provisioner>),
    Pool { free: tokio::sync::Mutex<Vec<Identity>>, available: tokio::sync::Semaphore, size: usize },
}

/// An open target: a client, the admin identity, and a source of user identities.
pub struct Target {
    pub client: HttpClient,
    pub admin: Identity,
    /// The account name, when known (needed for password tokens).
    pub domain: Option<String>,
    pub redactor: Redactor,
    /// The embedded server, when there is one.
    pub server: Option<RunningServer>,
    pub label: String,
    source: Source,
}

impl Target {
    /// Opens the target: starts the embedded server or checks the remote one, and obtains the
    /// admin identity (a pool's tokens are each validated).
    /// `network` says how every request gets there (timeout, body limit, TLS, proxy…).
    pub async fn open(spec: &TargetSpec, network: &Network) -> Result<Target> {
        Target::open_shard(spec, network, None).await
    }

    /// [`Target::open`] for one shard of a distributed load run: the users it creates carry
    /// the shard in their names (`mfa-harness-<run>-s<K>-<n>`), and of a pool it takes only
    /// its own deterministic slice (validating just those tokens).
    pub async fn open_shard(spec: &TargetSpec, network: &Network, shard: Option<Shard>) -> Result<Target> {
        let mut target = Target::open_spec(spec, network, shard).await?;
        if let (Some(shard), Source::Provision(provisioner)) = (shard, &mut target.source) {
            provisioner.tag(&shard.tag());
        }
        Ok(target)
    }

    async fn open_spec(spec: &TargetSpec, network: &Network, shard: Option<Shard>) -> Result<Target> {
        let redactor = Redactor::default();
        for password in crate::client::proxy::passwords(&network.proxy) {
            redactor.add(&password);
        }
        match spec {
            TargetSpec::Embedded { faults, readings } => {
                let server = RunningServer::start_embedded(*faults, *readings)
                    .await
                    .map_err(|source| InternalError::Start { what: "the embedded reference server", source })?;
                let admin = AdminCredentials {
                    domain: server.config.domain.clone(),
                    name: server.config.admin_name.clone(),
                    password: Secret::new(server.config.admin_password.clone()),
                };
                let url = server.base_url.clone();
                let mut target = Target::provisioned(&url, &admin, network, redactor).await?;
                target.label = "reference".to_string();
                target.server = Some(server);
                Ok(target)
            }
            TargetSpec::Remote { url, admin: Admin::Password(admin) } => {
                Target::provisioned(url, admin, network, redactor).await
            }
            TargetSpec::Remote { url, admin: Admin::Key { domain, key } } => {
                Target::keyed(url, domain, key, network, redactor).await
            }
            TargetSpec::Pool { url, file } => Target::pooled(url, file, shard, network, redactor).await,
        }
    }

    async fn provisioned(url: &str, admin: &AdminCredentials, network: &Network, redactor: Redactor) -> Result<Target> {
        redactor.add(admin.password.expose());
        let client = identity::client(url, network)?;
        let (token, body) = password_token(&client, &admin.domain, &admin.name, &admin.password, &redactor)
            .await
            .map_err(ProvisionError::from)?;
        let domain_id = body.token.user.domain.id;
        let provisioner =
            Provisioner::new(client.clone(), token.clone(), admin.domain.clone(), domain_id, redactor.clone());
        Ok(Target {
            client,
            admin: Identity {
                user_id: body.token.user.id.clone(),
                name: Some(admin.name.clone()),
                password: Some(admin.password.clone()),
                token,
            },
            domain: Some(admin.domain.clone()),
            redactor,
            server: None,
            label: host_label(url),
            source: Source::Provision(Box::new(provisioner)),
        })
    }

    /// An administrator known by a token or an access key: the credential is tried, and the
    /// account's id learned, before any user is made.
    async fn keyed(url: &str, domain: &str, key: &AdminKey, network: &Network, redactor: Redactor) -> Result<Target> {
        let mut client = identity::client(url, network)?;
        let token = match key {
            AdminKey::Token(token) => {
                redactor.add(token.expose());
                token.clone()
            }
            AdminKey::Keys(keys) => {
                redactor.add(keys.secret());
                client = client.with_keys(keys.clone());
                Secret::new(crate::client::sign::SIGNED)
            }
        };
        let known = admin::validate(&client, key, &token, &redactor).await?;
        let provisioner =
            Provisioner::new(client.clone(), token.clone(), domain.to_string(), known.domain_id, redactor.clone());
        Ok(Target {
            client,
            admin: Identity { user_id: known.admin_id.unwrap_or_default(), name: None, password: None, token },
            domain: Some(domain.to_string()),
            redactor,
            server: None,
            label: host_label(url),
            source: Source::Provision(Box::new(provisioner)),
        })
    }

    async fn pooled(
        url: &str,
        file: &Path,
        shard: Option<Shard>,
        network: &Network,
        redactor: Redactor,
    ) -> Result<Target> {
        let mut pool = pool::read(file, &redactor)?;
        if let Some(shard) = shard {
            let (start, count) = shard.slice(pool.users.len());
            if count == 0 {
                let problem = format!(
                    "the pool file {} has {} users, too few to give {shard} any; list at least {} users",
                    file.display(),
                    pool.users.len(),
                    shard.count
                );
                return Err(crate::error::UsageError::Pool { problem }.into());
            }
            pool.users = pool.users.drain(start..start + count).collect();
        }
        let client = identity::client(url, network)?;
        pool::validate(&client, &pool).await?;
        let count = pool.users.len();
        Ok(Target {
            client,
            admin: pool.admin,
            domain: pool.domain,
            redactor,
            server: None,
            label: host_label(url),
            source: Source::Pool {
                free: tokio::sync::Mutex::new(pool.users),
                available: tokio::sync::Semaphore::new(count),
                size: count,
            },
        })
    }

    /// How many users can be held at once (`None`: unlimited, they are created on demand).
    pub fn capacity(&self) -> Option<usize> {
        match &self.source {
            Source::Provision(_) => None,
            Source::Pool { size, .. } => Some(*size),
        }
    }

    /// Whether users are created (and can be given passwords) rather than taken from a pool.
    pub fn provisions(&self) -> bool {
        matches!(self.source, Source::Provision(_))
    }

    /// A user identity for the caller's exclusive use until [`Target::release`].
    pub async fn acquire(&self) -> Result<Identity> {
        Ok(self.acquire_many(1).await?.remove(0))
    }

    /// `count` identities at once; pooled ones are taken together, so cases that need two
    /// users never hold one each while waiting for the other.
    pub async fn acquire_many(&self, count: usize) -> Result<Vec<Identity>> {
        match &self.source {
            Source::Provision(provisioner) => {
                let mut identities = Vec::with_capacity(count);
                for _ in 0..count {
                    identities.push(provisioner.create().await.map_err(ProvisionError::from)?);
                }
                Ok(identities)
            }
            Source::Pool { free, available, .. } => {
                let size = u32::try_from(count).unwrap_or(u32::MAX);
                let permit = available
                    .acquire_many(size)
                    .await
                    .map_err(|_| ProvisionError::PoolExhausted { state: "closed" })?;
                permit.forget();
                let mut free = free.lock().await;
                let at = free.len().checked_sub(count).ok_or(ProvisionError::PoolExhausted { state: "empty" })?;
                Ok(free.split_off(at))
            }
        }
    }

    /// Gives an identity back: a pooled one returns to the pool, a provisioned one is deleted
    /// now (so few exist at once); one that could not be deleted is retried by [`Target::close`].
    pub async fn release(&self, identity: Identity) {
        match &self.source {
            Source::Pool { free, available, .. } => {
                free.lock().await.push(identity);
                available.add_permits(1);
            }
            Source::Provision(provisioner) => provisioner.delete(&identity.user_id).await,
        }
    }

    /// Takes a device back to nothing, whatever state it is in: login protection off, admin
    /// unbind (its code is not verified), delete. Answers are not judged.
    pub async fn reset_device(&self, user_id: &str, serial: &str) {
        reset_device(&self.client, self.admin.token.expose(), user_id, serial, true).await;
    }

    /// Gives back provisioned identities whose case changed nothing but their devices, and
    /// reset those ([`Target::clear_device`]): kept, tokens and all, for the next case when
    /// clean, deleted otherwise. Pooled ones return to the pool.
    pub async fn recycle(&self, identities: Vec<Identity>) {
        match &self.source {
            Source::Provision(provisioner) => provisioner.recycle(identities).await,
            Source::Pool { .. } => {
                for identity in identities {
                    self.release(identity).await;
                }
            }
        }
    }

    /// [`Target::reset_device`] for a user whose login protection was never changed: unbind
    /// and delete.
    pub async fn clear_device(&self, user_id: &str, serial: &str) {
        reset_device(&self.client, self.admin.token.expose(), user_id, serial, false).await;
    }

    /// Ids of the users this run created and has not deleted yet.
    pub fn created_users(&self) -> Vec<String> {
        match &self.source {
            Source::Provision(provisioner) => provisioner.live(),
            Source::Pool { .. } => Vec::new(),
        }
    }

    /// Deletes every user this run created (after waiting for creates still in flight, which a
    /// second signal heard by `interrupts` skips) and stops the embedded server. Returns what
    /// it did, naming the users that could not be deleted.
    pub async fn close(mut self, interrupts: &Interrupts) -> Cleanup {
        let cleanup = match &self.source {
            Source::Provision(provisioner) => provisioner.close(interrupts).await,
            Source::Pool { .. } => Cleanup::default(),
        };
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        cleanup
    }
}

/// [`Target::reset_device`] for callers that hold only the client and the admin token
/// (`login_protect`: turn login protection off first). Each request is retried
/// ([`crate::client::retry`]).
pub async fn reset_device(client: &HttpClient, admin_token: &str, user_id: &str, serial: &str, login_protect: bool) {
    use crate::api::ops;
    let admin = Some(admin_token);
    let unbind = crate::api::models::UnbindMfaDevice {
        user_id: user_id.to_string(),
        authentication_code: "000000".into(),
        serial_number: serial.to_string(),
    };
    let login = login_protect.then(|| ops::modify_login_protect(admin, user_id, false, "vmfa"));
    for op in login.into_iter().chain([ops::unbind_device(admin, &unbind), ops::delete_device(admin, user_id, serial)])
    {
        let _ = client.send_retrying(&op, crate::client::Safety::Idempotent).await;
    }
}

/// The host part of a URL, for naming snapshot folders and reports.
pub fn host_label(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}_{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_else(|| "target".to_string())
}
