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
        shutdown_signal().await;
        tracing::info!("shutting down");
        server.stop().await;
        Ok(Outcome::Passed)
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
