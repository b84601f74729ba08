//! The reference implementation of the IAM virtual-MFA API: an in-memory, concurrency-safe
//! emulator run by `mfa-harness serve` and started in-process when no `--target` is given.

pub mod error;
pub mod faults;
mod iam;
pub mod identity;
mod json;
mod mfa;
pub mod readings;
mod shape;
pub mod signed;
pub mod state;
pub mod store;
mod switches;
pub mod tls;
mod verify;

pub use state::{AppState, Clock, ServerConfig};

use error::ApiError;
use faults::FaultSet;
use readings::ReadingSet;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use std::net::SocketAddr;
use std::time::Instant;
use tokio::net::TcpListener;

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
        .layer(middleware::from_fn_with_state(state.clone(), signed::verify_signature))
        .layer(middleware::from_fn_with_state(state.clone(), shape::shape_response))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn route_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "APIGW.0101", "The API does not exist or has not been published.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "APIGW.0105", "The method is not allowed for this API.")
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
    pub async fn start_embedded(faults: FaultSet, readings: ReadingSet) -> std::io::Result<RunningServer> {
        let config = ServerConfig::generated("mfa-harness", "admin", faults, readings);
        RunningServer::start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub async fn start_with_state(
        config: ServerConfig,
        state: AppState,
        addr: SocketAddr,
    ) -> std::io::Result<RunningServer> {
        RunningServer::start_serving(config, state, addr, None).await
    }

    /// Binds `addr` and serves over HTTPS with `tls` (`serve --tls-cert`).
    pub async fn start_tls(
        config: ServerConfig,
        addr: SocketAddr,
        tls: std::sync::Arc<tokio_rustls::rustls::ServerConfig>,
    ) -> std::io::Result<RunningServer> {
        let state = AppState::with_system_clock(&config);
        RunningServer::start_serving(config, state, addr, Some(tls)).await
    }

    async fn start_serving(
        config: ServerConfig,
        state: AppState,
        addr: SocketAddr,
        tls: Option<std::sync::Arc<tokio_rustls::rustls::ServerConfig>>,
    ) -> std::io::Result<RunningServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let router = app(state.clone());
        let scheme = if tls.is_some() { "https" } else { "http" };
        let bound = match tls {
            Some(tls) => Err(tls::TlsListener::new(listener, tls)?),
            None => Ok(listener),
        };
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            let served = match bound {
                Ok(plain) => axum::serve(plain, router).with_graceful_shutdown(shutdown).await,
                Err(tls) => axum::serve(tls, router).with_graceful_shutdown(shutdown).await,
            };
            if let Err(e) = served {
                tracing::error!("reference server stopped: {e}");
            }
        });
        Ok(RunningServer {
            base_url: format!("{scheme}://{addr}"),
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
