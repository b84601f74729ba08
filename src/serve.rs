//! `mfa-harness serve`: the reference implementation as a standalone process.

use crate::reference::faults::{Fault, FaultSet};
use crate::reference::{RunningServer, ServerConfig, generate_password};
use crate::{Error, Outcome, Result};
use std::io::Write;
use std::net::SocketAddr;

/// What `serve` runs with.
#[derive(Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub domain: String,
    pub admin_name: String,
    pub admin_password: Option<String>,
    pub faults: Vec<Fault>,
    pub list_faults: bool,
}

/// The `--list-faults` text: one fault a line, name then description.
pub fn fault_list() -> String {
    let width = Fault::ALL.iter().map(|f| f.name().len()).max().unwrap_or(0);
    Fault::ALL.iter().map(|f| format!("{:width$}  {}\n", f.name(), f.description())).collect()
}

/// Starts a tokio runtime for a command.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("could not start the async runtime: {e}")))
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn run(config: ServeConfig) -> Result<Outcome> {
    if config.list_faults {
        print!("{}", fault_list());
        return Ok(Outcome::Passed);
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();

    let generated = config.admin_password.is_none();
    let server_config = ServerConfig {
        domain: config.domain.clone(),
        admin_name: config.admin_name.clone(),
        admin_password: config.admin_password.clone().unwrap_or_else(generate_password),
        faults: FaultSet::new(&config.faults),
    };
    runtime()?.block_on(async move {
        let shutdown = shutdown_signal()
            .map_err(|e| Error::Internal(format!("could not install the Ctrl-C and SIGTERM handlers: {e}")))?;
        let server = RunningServer::start(server_config.clone(), config.listen).await.map_err(|e| {
            Error::Usage(format!("could not listen on {}: {e}; choose another --listen address", config.listen))
        })?;
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "{}", server.base_url);
        let _ = stdout.flush();
        eprintln!("domain: {}  admin: {}", server_config.domain, server_config.admin_name);
        if generated {
            eprintln!("admin password (generated, shown once): {}", server_config.admin_password);
        }
        for fault in &config.faults {
            eprintln!("fault on: {} — {}", fault.name(), fault.description());
        }
        shutdown.await;
        tracing::info!("shutting down");
        server.stop().await;
        Ok(Outcome::Passed)
    })
}

/// Installs the Ctrl-C and SIGTERM handlers at once, before the URL is printed, so a signal
/// sent as soon as the URL appears stops the server gracefully; the future ends at the first one.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    let ctrl_c = tokio::signal::ctrl_c();
    Ok(async move {
        let _ = ctrl_c.await;
    })
}
