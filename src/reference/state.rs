//! The state every handler shares: the configuration a server starts with, its clock, the
//! store under one lock, and the caller a request's token names.

use super::error::ApiError;
use super::faults::{Fault, FaultSet};
use super::readings::ReadingSet;
use super::store::{Caller, Store};
use crate::api::AUTH_HEADER;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// What a reference server is started with.
#[derive(Clone)]
pub struct ServerConfig {
    pub domain: String,
    pub admin_name: String,
    pub admin_password: String,
    pub faults: FaultSet,
    pub readings: ReadingSet,
    /// Slowed answers, for tests of what a slow target does to a run (`serve --delay-…`).
    pub delays: Delays,
    /// Access keys whose signed requests (SDK-HMAC-SHA256) act as the administrator
    /// (`serve --access-key AK:SK`).
    pub access_keys: Vec<crate::sign::Keys>,
}

/// How long the server takes over some calls (zero: no delay).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delays {
    /// `POST /v3.0/OS-USER/users`: the user is created at once, its answer sent this much later.
    pub user_create: std::time::Duration,
    /// `DELETE /v3/users/{id}`: the user is deleted this much later, then the answer sent.
    pub user_delete: std::time::Duration,
    /// Tokens expire after this instead of 24 h (`serve --token-ttl`), so that a test can see
    /// an expired token refused.
    pub token_ttl: Option<std::time::Duration>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("domain", &self.domain)
            .field("admin_name", &self.admin_name)
            .field("admin_password", &"[redacted]")
            .field("faults", &self.faults)
            .field("readings", &self.readings)
            .field("delays", &self.delays)
            .field("access_keys", &self.access_keys)
            .finish()
    }
}

impl ServerConfig {
    /// A configuration with a generated administrator password.
    pub fn generated(domain: &str, admin_name: &str, faults: FaultSet, readings: ReadingSet) -> ServerConfig {
        ServerConfig {
            domain: domain.to_string(),
            admin_name: admin_name.to_string(),
            admin_password: crate::ids::generate_password(),
            faults,
            readings,
            delays: Delays::default(),
            access_keys: Vec::new(),
        }
    }
}

/// Seconds since the Unix epoch, as the server sees them.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Shared state of one server: the store under one lock, the faults, the readings, the clock.
#[derive(Clone)]
pub struct AppState {
    store: Arc<RwLock<Store>>,
    pub faults: FaultSet,
    pub readings: ReadingSet,
    pub delays: Delays,
    /// The access keys whose signatures are accepted, as the administrator.
    pub access_keys: Arc<Vec<crate::sign::Keys>>,
    clock: Clock,
}

impl AppState {
    /// A new server state with its administrator; `clock` gives the time for TOTP and tokens.
    pub fn new(config: &ServerConfig, clock: Clock) -> AppState {
        let mut store = Store::new(&config.domain, config.faults, config.readings);
        if let Some(ttl) = config.delays.token_ttl {
            store.token_ttl = ttl.as_secs().max(1);
        }
        store.add_admin(&config.admin_name, &config.admin_password, clock());
        let (faults, readings, delays) = (config.faults, config.readings, config.delays);
        let access_keys = Arc::new(config.access_keys.clone());
        AppState { store: Arc::new(RwLock::new(store)), faults, readings, delays, access_keys, clock }
    }

    /// A new server state on the system clock.
    pub fn with_system_clock(config: &ServerConfig) -> AppState {
        AppState::new(config, Arc::new(crate::totp::unix_now))
    }

    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Read access to the store (a poisoned lock is recovered: no handler panics holding it).
    pub fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// Put in a request's extensions when its signature was verified (`signed.rs`): the access key.
#[derive(Debug, Clone)]
pub struct SignedBy(pub String);

/// The header the `admin-header-trusted` fault believes.
const ROLE_HEADER: &str = "x-role";

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        if parts.extensions.get::<SignedBy>().is_some() {
            return Ok(state.read().admin_caller());
        }
        let token = parts.headers.get(AUTH_HEADER).and_then(|v| v.to_str().ok());
        let mut caller = state.read().authenticate(token, state.now())?;
        if state.faults.has(Fault::AdminHeaderTrusted) && parts.headers.get(ROLE_HEADER).is_some_and(|v| v == "admin") {
            caller.is_admin = true;
        }
        Ok(caller)
    }
}
