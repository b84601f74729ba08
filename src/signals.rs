//! The one way every command hears the signals that ask it to stop: SIGINT (Ctrl-C), SIGTERM
//! (what CI systems and `timeout` send) and SIGHUP (a closed terminal).
//!
//! SIGINT reaches the process through one `ctrlc` handler. goose installs a `ctrlc` handler of
//! its own whose second Ctrl-C calls `process::exit(1)`, past our cleanup; `ctrlc` takes one
//! handler per process, so ours, installed first, keeps goose's out (goose logs that and goes
//! on, and [`Interrupts`] users stop goose themselves). `ctrlc`'s `termination` feature would
//! catch SIGTERM and SIGHUP too, but its handler is not told which signal came, and the exit
//! code must say it (130, 143, 129); so SIGTERM and SIGHUP are heard by `tokio::signal::unix`
//! on a thread of their own (it outlives any command's runtime). While no [`Interrupts`]
//! listens, a signal ends the process with its conventional exit code (128 + its number), as
//! an unhandled one would.

use std::sync::OnceLock;
use tokio::sync::watch;

/// A signal that asks the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// SIGHUP.
    Hangup,
}

impl Signal {
    /// Its name, as `kill -l` says it.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }

    /// How reports name it: `SIGINT (Ctrl-C)`, `SIGTERM`, `SIGHUP`.
    pub fn describe(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT (Ctrl-C)",
            other => other.name(),
        }
    }

    /// 128 + the signal's number: the code a shell shows for a process it ended.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
            Signal::Hangup => 129,
        }
    }
}

/// Every stop signal the process has had, in order.
type Heard = Vec<Signal>;

static HEARD: OnceLock<watch::Sender<Heard>> = OnceLock::new();

/// Counts `signal`, or ends the process with its exit code when nobody listens.
fn hear(signal: Signal) {
    match HEARD.get() {
        Some(sender) if sender.receiver_count() > 0 => sender.send_modify(|heard| heard.push(signal)),
        _ => std::process::exit(i32::from(signal.exit_code())),
    }
}

fn heard() -> &'static watch::Sender<Heard> {
    HEARD.get_or_init(|| {
        let (sender, _) = watch::channel(Vec::new());
        let _ = ctrlc::set_handler(|| hear(Signal::Interrupt));
        #[cfg(unix)]
        listen_for_termination();
        sender
    })
}

/// SIGTERM and SIGHUP, on a thread with a small runtime of its own.
#[cfg(unix)]
fn listen_for_termination() {
    use tokio::signal::unix::{SignalKind, signal};
    let (ready, registered) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().name("mfa-harness-signals".into()).spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            let _ = ready.send(());
            return;
        };
        runtime.block_on(async move {
            let streams = (signal(SignalKind::terminate()), signal(SignalKind::hangup()));
            // Registered (or failed): from here a signal is either heard or ends the process.
            let _ = ready.send(());
            let (Ok(mut terminate), Ok(mut hangup)) = streams else { return };
            loop {
                tokio::select! {
                    Some(()) = terminate.recv() => hear(Signal::Terminate),
                    Some(()) = hangup.recv() => hear(Signal::Hangup),
                    else => return,
                }
            }
        });
    });
    if spawned.is_ok() {
        let _ = registered.recv();
    }
}

#[cfg(not(unix))]
fn listen_for_termination() {}

/// Hears every stop signal from when it is made until it is dropped.
#[derive(Clone)]
pub struct Interrupts {
    receiver: watch::Receiver<Heard>,
    /// Signals the process had before this listened.
    before: usize,
    /// Signals [`Interrupts::next`] has returned.
    seen: usize,
}

impl Interrupts {
    pub fn listen() -> Interrupts {
        let receiver = heard().subscribe();
        let before = receiver.borrow().len();
        Interrupts { receiver, before, seen: 0 }
    }

    /// Waits for the next signal not yet waited for, and says which it was.
    pub async fn next(&mut self) -> Signal {
        loop {
            if let Some(signal) = self.receiver.borrow_and_update().get(self.before + self.seen).copied() {
                self.seen += 1;
                return signal;
            }
            if self.receiver.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// The first signal heard since [`Interrupts::listen`], if any.
    pub fn first(&self) -> Option<Signal> {
        self.receiver.borrow().get(self.before).copied()
    }

    /// How many signals were heard since [`Interrupts::listen`].
    pub fn count(&self) -> usize {
        self.receiver.borrow().len() - self.before
    }

    /// Ends once `n` signals in all were heard since [`Interrupts::listen`].
    pub async fn until(&self, n: usize) {
        let mut receiver = self.receiver.clone();
        let before = self.before;
        if receiver.wait_for(|heard| heard.len() >= before + n).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Listens for SIGINT, SIGTERM and SIGHUP at once (before a server prints its URL, so a signal
/// sent as soon as the URL appears is heard); the future ends at the first of them.
pub fn shutdown() -> impl Future<Output = Signal> {
    let mut interrupts = Interrupts::listen();
    async move { interrupts.next().await }
}
