//! The one way every command hears Ctrl-C (and `serve` also SIGTERM).
//!
//! Ctrl-C reaches the process through one `ctrlc` handler. goose installs a `ctrlc` handler of
//! its own whose second Ctrl-C calls `process::exit(1)`, past our cleanup; `ctrlc` takes one
//! handler per process, so ours, installed first, keeps goose's out (goose logs that and goes
//! on, and [`Interrupts`] users stop goose themselves). While no [`Interrupts`] listens, Ctrl-C
//! ends the process with exit 130, as an unhandled SIGINT would.

use std::sync::OnceLock;
use tokio::sync::watch;

/// How many Ctrl-Cs the process has had.
static INTERRUPTS: OnceLock<watch::Sender<u32>> = OnceLock::new();

fn interrupts() -> &'static watch::Sender<u32> {
    INTERRUPTS.get_or_init(|| {
        let (sender, _) = watch::channel(0);
        let _ = ctrlc::set_handler(|| match INTERRUPTS.get() {
            Some(sender) if sender.receiver_count() > 0 => sender.send_modify(|n| *n += 1),
            _ => std::process::exit(130),
        });
        sender
    })
}

/// Hears every Ctrl-C from when it is made until it is dropped.
pub struct Interrupts {
    receiver: watch::Receiver<u32>,
    seen: u32,
}

impl Interrupts {
    pub fn listen() -> Interrupts {
        let receiver = interrupts().subscribe();
        let seen = *receiver.borrow();
        Interrupts { receiver, seen }
    }

    /// Waits for the next Ctrl-C not yet waited for.
    pub async fn next(&mut self) {
        loop {
            if *self.receiver.borrow_and_update() > self.seen {
                self.seen += 1;
                return;
            }
            if self.receiver.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Listens for Ctrl-C and SIGTERM at once (before a server prints its URL, so a signal sent as
/// soon as the URL appears is heard); the future ends at the first of them.
#[cfg(unix)]
pub fn shutdown() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupts = Interrupts::listen();
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupts.next() => {},
        }
    })
}

#[cfg(not(unix))]
pub fn shutdown() -> std::io::Result<impl Future<Output = ()>> {
    let mut interrupts = Interrupts::listen();
    Ok(async move { interrupts.next().await })
}
