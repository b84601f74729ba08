//! Where the target is and who we are there: the embedded reference server or a remote URL,
//! identities provisioned through the admin API (always deleted again) or read from a pool file.

use crate::api::models::{CreateUser, CreateUserResponse, TokenResponse};
use crate::api::ops;
use crate::client::{Exchange, HttpClient, TransportError};
use crate::error::{Detail, InternalError, ProvisionError, Result, TargetError, UsageError};
use crate::reference::RunningServer;
use crate::reference::faults::FaultSet;
use crate::reference::readings::ReadingSet;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A string that must never be printed; its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for sending it; never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Every secret seen in a run (tokens, passwords, seeds), so printers can redact them.
#[derive(Debug, Clone, Default)]
pub struct Redactor(Arc<Mutex<Vec<String>>>);

impl Redactor {
    pub fn add(&self, secret: &str) {
        if secret.len() >= 4 {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).push(secret.to_string());
        }
    }

    /// `text` with every known secret replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        let secrets = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        crate::sanitize::redact(text, &refs)
    }
}

/// Admin credentials for provisioning.
#[derive(Clone, Debug)]
pub struct AdminCredentials {
    pub domain: String,
    pub name: String,
    pub password: Secret,
}

/// What to test and how to get identities there.
#[derive(Clone, Debug)]
pub enum TargetSpec {
    /// Start the reference server in-process on 127.0.0.1:0, with faults and alternative readings.
    Embedded { faults: FaultSet, readings: ReadingSet },
    /// A remote implementation, with admin credentials to create throw-away users.
    Remote { url: String, admin: AdminCredentials },
    /// A remote implementation with pre-made identities.
    Pool { url: String, file: PathBuf },
}

/// An identity the harness acts as.
#[derive(Clone, Debug)]
pub struct Identity {
    pub user_id: String,
    pub name: Option<String>,
    pub password: Option<Secret>,
    pub token: Secret,
}

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

enum Source {
    Provision { domain_id: String, run_id: String, next: Mutex<u32>, created: Mutex<Vec<String>> },
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

fn target_error(context: &str, source: TransportError) -> TargetError {
    TargetError::Unreachable { context: context.to_string(), source }
}

/// An answer provisioning cannot use whatever its status: a redirect (never followed) or a
/// body cut at `--max-body`.
fn unusable(context: &str, exchange: &Exchange, redactor: &Redactor) -> Result<(), TargetError> {
    let (method, path) = (exchange.method.to_string(), crate::sanitize::for_terminal(&redactor.redact(&exchange.path)));
    if let Some(limit) = exchange.cut_at {
        return Err(TargetError::TooLarge { context: context.to_string(), method, path, limit });
    }
    if exchange.is_redirect() {
        let location = exchange.location.as_deref().map_or("nowhere (no Location header)".into(), |l| {
            crate::sanitize::for_terminal(&redactor.redact(&crate::sanitize::truncate(&display_url(l), 200)))
        });
        let status = exchange.status_line();
        return Err(TargetError::Redirected { context: context.to_string(), method, path, status, location });
    }
    Ok(())
}

/// An answer with a status provisioning did not expect (after [`unusable`] let it through).
fn unexpected(context: &str, exchange: &Exchange, redactor: &Redactor) -> TargetError {
    let body = crate::sanitize::truncate(&String::from_utf8_lossy(&exchange.body), 300);
    TargetError::Answered {
        context: context.to_string(),
        method: exchange.method.to_string(),
        path: exchange.path.clone(),
        status: exchange.status,
        body: crate::sanitize::for_terminal(&redactor.redact(&body)),
    }
}

fn client(url: &str, (timeout, max_body): (Duration, usize)) -> Result<HttpClient, TargetError> {
    HttpClient::with_max_body(url, timeout, max_body).map_err(|e| target_error("could not build the HTTP client", e))
}

fn malformed(context: &str, problem: String) -> TargetError {
    TargetError::Malformed { context: context.to_string(), problem }
}

/// Obtains a password token; returns it with the token body.
pub async fn password_token(
    client: &HttpClient,
    domain: &str,
    name: &str,
    password: &Secret,
    redactor: &Redactor,
) -> Result<(Secret, TokenResponse), TargetError> {
    let exchange = client
        .send(&ops::token_by_password(domain, name, password.expose()))
        .await
        .map_err(|e| target_error("could not obtain a token", e))?;
    let context = format!("could not obtain a token for '{name}'");
    unusable(&context, &exchange, redactor)?;
    if exchange.status != 201 && exchange.status != 200 {
        // Only a refusal of the credentials is worth a hint about them; a 5xx or a broken
        // answer is the target's.
        let context = if matches!(exchange.status, 400 | 401 | 403 | 404) {
            format!("{context} (check --domain, --admin-name, --admin-password)")
        } else {
            context
        };
        return Err(unexpected(&context, &exchange, redactor));
    }
    let token = exchange
        .subject_token
        .clone()
        .ok_or_else(|| malformed(&context, "the answer has no X-Subject-Token header".into()))?;
    if token == crate::client::NOT_TEXT {
        return Err(malformed(&context, "the X-Subject-Token header is not text (bytes outside visible ASCII)".into()));
    }
    redactor.add(&token);
    let body: TokenResponse = serde_json::from_slice(&exchange.body)
        .map_err(|e| malformed(&context, format!("the token body is not as documented ({e})")))?;
    Ok((Secret::new(token), body))
}

impl Target {
    /// Opens the target: starts the embedded server or checks the remote one, and obtains the
    /// admin identity.
    /// `max_body` bounds every answer's body (`--max-body`).
    pub async fn open(spec: &TargetSpec, timeout: Duration, max_body: usize) -> Result<Target> {
        let redactor = Redactor::default();
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
                let mut target = Target::provisioned(&url, &admin, (timeout, max_body), redactor).await?;
                target.label = "reference".to_string();
                target.server = Some(server);
                Ok(target)
            }
            TargetSpec::Remote { url, admin } => Target::provisioned(url, admin, (timeout, max_body), redactor).await,
            TargetSpec::Pool { url, file } => Target::pooled(url, file, (timeout, max_body), redactor),
        }
    }

    async fn provisioned(
        url: &str,
        admin: &AdminCredentials,
        limits: (Duration, usize),
        redactor: Redactor,
    ) -> Result<Target> {
        redactor.add(admin.password.expose());
        let client = client(url, limits)?;
        let (token, body) = password_token(&client, &admin.domain, &admin.name, &admin.password, &redactor)
            .await
            .map_err(ProvisionError::from)?;
        let run_id = crate::ids::random_hex(3);
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
            source: Source::Provision {
                domain_id: body.token.user.domain.id,
                run_id,
                next: Mutex::new(0),
                created: Mutex::new(Vec::new()),
            },
        })
    }

    fn pooled(url: &str, file: &Path, limits: (Duration, usize), redactor: Redactor) -> Result<Target> {
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
        let client = client(url, limits)?;
        let users: Vec<Identity> = pool.users.into_iter().map(Identity::from).collect();
        let count = users.len();
        Ok(Target {
            client,
            admin: pool.admin.into(),
            domain: pool.domain,
            redactor,
            server: None,
            label: host_label(url),
            source: Source::Pool {
                free: tokio::sync::Mutex::new(users),
                available: tokio::sync::Semaphore::new(count),
                size: count,
            },
        })
    }

    /// How many users can be held at once (`None`: unlimited, they are created on demand).
    pub fn capacity(&self) -> Option<usize> {
        match &self.source {
            Source::Provision { .. } => None,
            Source::Pool { size, .. } => Some(*size),
        }
    }

    /// Whether users are created (and can be given passwords) rather than taken from a pool.
    pub fn provisions(&self) -> bool {
        matches!(self.source, Source::Provision { .. })
    }

    /// A user identity for the caller's exclusive use until [`Target::release`].
    pub async fn acquire(&self) -> Result<Identity> {
        Ok(self.acquire_many(1).await?.remove(0))
    }

    /// Creates one throw-away user and obtains its token.
    async fn provision_user(
        &self,
        domain_id: &str,
        run_id: &str,
        next: &Mutex<u32>,
        created: &Mutex<Vec<String>>,
    ) -> Result<Identity, TargetError> {
        let n = {
            let mut next = next.lock().unwrap_or_else(|e| e.into_inner());
            *next += 1;
            *next
        };
        let name = crate::ids::user_name(run_id, n);
        let password = Secret::new(crate::ids::generate_password());
        self.redactor.add(password.expose());
        let user = CreateUser {
            name: name.clone(),
            domain_id: domain_id.to_string(),
            password: Some(password.expose().to_string()),
            enabled: Some(true),
            description: Some("throw-away user of mfa-harness; safe to delete".into()),
        };
        let op = ops::create_user(Some(self.admin.token.expose()), &user);
        let exchange = self.client.send(&op).await.map_err(|e| target_error("could not create a test user", e))?;
        unusable("could not create a test user", &exchange, &self.redactor)?;
        if exchange.status != 201 && exchange.status != 200 {
            let context = "could not create a test user (may the admin create users?)";
            return Err(unexpected(context, &exchange, &self.redactor));
        }
        let created_user: CreateUserResponse = serde_json::from_slice(&exchange.body)
            .map_err(|e| malformed("could not create a test user", format!("the answer is not as documented ({e})")))?;
        created.lock().unwrap_or_else(|e| e.into_inner()).push(created_user.user.id.clone());
        let domain = self.domain.clone().unwrap_or_default();
        let (token, _) = password_token(&self.client, &domain, &name, &password, &self.redactor).await?;
        Ok(Identity { user_id: created_user.user.id, name: Some(name), password: Some(password), token })
    }

    /// `count` identities at once; pooled ones are taken together, so cases that need two
    /// users never hold one each while waiting for the other.
    pub async fn acquire_many(&self, count: usize) -> Result<Vec<Identity>> {
        match &self.source {
            Source::Provision { domain_id, run_id, next, created } => {
                let mut identities = Vec::with_capacity(count);
                for _ in 0..count {
                    let identity = self.provision_user(domain_id, run_id, next, created).await;
                    identities.push(identity.map_err(ProvisionError::from)?);
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
            Source::Provision { created, .. } => {
                let op = ops::delete_user(Some(self.admin.token.expose()), &identity.user_id);
                if let Ok(e) = self.client.send(&op).await
                    && matches!(e.status, 200 | 204 | 404)
                {
                    created.lock().unwrap_or_else(|e| e.into_inner()).retain(|id| *id != identity.user_id);
                }
            }
        }
    }

    /// Takes a device back to nothing, whatever state it is in: login protection off, admin
    /// unbind (its code is not verified), delete. Answers are not judged.
    pub async fn reset_device(&self, user_id: &str, serial: &str) {
        reset_device(&self.client, self.admin.token.expose(), user_id, serial).await;
    }

    /// Ids of the users this run created and has not deleted yet.
    pub fn created_users(&self) -> Vec<String> {
        match &self.source {
            Source::Provision { created, .. } => created.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            Source::Pool { .. } => Vec::new(),
        }
    }

    /// Deletes every user this run created and stops the embedded server. Returns the users
    /// that could not be deleted, with the reason.
    pub async fn close(mut self) -> Vec<(String, String)> {
        let mut leftovers = Vec::new();
        let ids = self.created_users();
        let results = futures::future::join_all(ids.iter().map(|id| {
            let op = ops::delete_user(Some(self.admin.token.expose()), id);
            let client = self.client.clone();
            async move { (id.clone(), client.send(&op).await) }
        }))
        .await;
        for (id, result) in results {
            match result {
                Ok(e) if e.status == 204 || e.status == 200 || e.status == 404 => {}
                Ok(e) => leftovers.push((id, format!("delete answered {}", e.status_line()))),
                Err(e) => leftovers.push((id, e.to_string())),
            }
        }
        if let Source::Provision { created, .. } = &self.source {
            created.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        leftovers
    }
}

/// [`Target::reset_device`] for callers that hold only the client and the admin token.
pub async fn reset_device(client: &HttpClient, admin_token: &str, user_id: &str, serial: &str) {
    let admin = Some(admin_token);
    let unbind = crate::api::models::UnbindMfaDevice {
        user_id: user_id.to_string(),
        authentication_code: "000000".into(),
        serial_number: serial.to_string(),
    };
    for op in [
        ops::modify_login_protect(admin, user_id, false, "vmfa"),
        ops::unbind_device(admin, &unbind),
        ops::delete_device(admin, user_id, serial),
    ] {
        let _ = client.send(&op).await;
    }
}

/// A URL as reports show it: any `user:password@` it carries is left out.
pub fn display_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.as_str().trim_end_matches('/').to_string()
        }
        _ => url.to_string(),
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
