//! The reference implementation of the IAM virtual-MFA API: an in-memory, concurrency-safe
//! emulator run by `mfa-harness serve` and started in-process when no `--target` is given.

pub mod error;
pub mod faults;
mod iam;
pub mod identity;
mod json;
mod mfa;
pub mod store;

use crate::api::AUTH_HEADER;
use error::{ApiError, keystone_body};
use faults::{Fault, FaultSet};
use store::{Caller, Store};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;
use tokio::net::TcpListener;

/// What a reference server is started with.
#[derive(Clone)]
pub struct ServerConfig {
    pub domain: String,
    pub admin_name: String,
    pub admin_password: String,
    pub faults: FaultSet,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("domain", &self.domain)
            .field("admin_name", &self.admin_name)
            .field("admin_password", &"[redacted]")
            .field("faults", &self.faults)
            .finish()
    }
}

impl ServerConfig {
    /// A configuration with a generated administrator password.
    pub fn generated(domain: &str, admin_name: &str, faults: FaultSet) -> ServerConfig {
        ServerConfig {
            domain: domain.to_string(),
            admin_name: admin_name.to_string(),
            admin_password: crate::ids::generate_password(),
            faults,
        }
    }
}

/// Seconds since the Unix epoch, as the server sees them.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Shared state of one server: the store under one lock, the faults, the clock.
#[derive(Clone)]
pub struct AppState {
    store: Arc<RwLock<Store>>,
    pub faults: FaultSet,
    clock: Clock,
}

impl AppState {
    /// A new server state with its administrator; `clock` gives the time for TOTP and tokens.
    pub fn new(config: &ServerConfig, clock: Clock) -> AppState {
        let mut store = Store::new(&config.domain, config.faults);
        store.add_admin(&config.admin_name, &config.admin_password, clock());
        AppState { store: Arc::new(RwLock::new(store)), faults: config.faults, clock }
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

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let token = parts.headers.get(AUTH_HEADER).and_then(|v| v.to_str().ok());
        state.read().authenticate(token, state.now())
    }
}

/// The router of the whole API.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/v3.0/OS-MFA/virtual-mfa-devices", post(mfa::mfa_create).get(mfa::mfa_list).delete(mfa::mfa_delete))
        .route("/v3.0/OS-MFA/mfa-devices/bind", put(mfa::mfa_bind))
        .route("/v3.0/OS-MFA/mfa-devices/unbind", put(mfa::mfa_unbind))
        .route("/v3.0/OS-MFA/users/{user_id}/virtual-mfa-device", get(mfa::mfa_show))
        .route("/v3/auth/tokens", post(iam::token_create))
        .route("/v3.0/OS-USER/users", post(iam::user_create))
        .route("/v3/users", get(iam::user_list))
        .route("/v3/users/{user_id}", delete(iam::user_delete))
        .route(
            "/v3.0/OS-USER/users/{user_id}/login-protect",
            get(iam::login_protect_show).put(iam::login_protect_modify),
        )
        .route("/v3.0/OS-USER/login-protects", get(iam::login_protect_list))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(json::BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), shape_response))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn route_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "APIGW.0101", "The API does not exist or has not been published.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "APIGW.0105", "The method is not allowed for this API.")
}

/// Gives every error the API's JSON shape (also axum's own rejections) and applies the
/// response-shape faults.
async fn shape_response(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let status = response.status();
    let error = response.extensions().get::<ApiError>().cloned();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && error.is_none() && !is_json {
        response = ApiError::new(status, "IAM.0007", "The request is invalid.").into_response();
    }
    if state.faults.has(Fault::ErrorBodyKeystone)
        && let Some(error) = response.extensions().get::<ApiError>().cloned()
    {
        response = (error.status, axum::Json(keystone_body(&error))).into_response();
    }
    if state.faults.has(Fault::TextContentType) && response.headers().contains_key(header::CONTENT_TYPE) {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    }
    response
}

/// One `info` line per request: method, path, status, latency. Never headers, query or body.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        path = %crate::sanitize::for_terminal(&path),
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// A reference server running on a background task.
pub struct RunningServer {
    pub base_url: String,
    pub addr: SocketAddr,
    pub state: AppState,
    pub config: ServerConfig,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Binds `addr` (port 0 for any free port) and serves in the background.
    pub async fn start(config: ServerConfig, addr: SocketAddr) -> std::io::Result<RunningServer> {
        let state = AppState::with_system_clock(&config);
        RunningServer::start_with_state(config, state, addr).await
    }

    /// Starts a server on `127.0.0.1:0` with a generated administrator password.
    pub async fn start_embedded(faults: FaultSet) -> std::io::Result<RunningServer> {
        let config = ServerConfig::generated("mfa-harness", "admin", faults);
        RunningServer::start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub async fn start_with_state(
        config: ServerConfig,
        state: AppState,
        addr: SocketAddr,
    ) -> std::io::Result<RunningServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let router = app(state.clone());
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
                tracing::error!("reference server stopped: {e}");
            }
        });
        Ok(RunningServer {
            base_url: format!("http://{addr}"),
            addr,
            state,
            config,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Stops accepting, lets requests in flight finish, and waits for the task.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
