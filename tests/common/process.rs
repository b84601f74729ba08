//! The built `mfa-harness` binary as a child process: run it with a time limit, keep a
//! long-running one under a kill-on-drop guard, and start `serve` on 127.0.0.1:0.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_mfa-harness");

/// How long a run of the binary may take before the test fails (and the process is killed).
pub const TIME_LIMIT: Duration = Duration::from_secs(120);

/// `mfa-harness` with no `MFA_ADMIN_PASSWORD` from the environment of the test run, and no
/// `CI` (which puts `snapshot` in CI mode): a test that wants either sets it.
pub fn command() -> Command {
    let mut command = Command::new(BIN);
    command.env_remove("MFA_ADMIN_PASSWORD").env_remove("CI");
    command
}

/// Runs `mfa-harness ARGS` to its end (at most [`TIME_LIMIT`]) and returns what it printed.
pub fn run(args: &[&str]) -> Output {
    let mut command = command();
    command.args(args);
    output_within(command, TIME_LIMIT)
}

/// Runs `command` to its end with stdout and stderr captured; kills it and fails the test
/// when it takes longer than `limit`.
pub fn output_within(mut command: Command, limit: Duration) -> Output {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut guard = Guard::spawn(&mut command);
    let stdout = drain(guard.0.stdout.take());
    let stderr = drain(guard.0.stderr.take());
    let status = guard.try_wait_within(limit);
    if status.is_none() {
        // The readers only finish when the pipes close.
        let _ = guard.0.kill();
        let _ = guard.0.wait();
    }
    let stdout = stdout.join().unwrap();
    let stderr = stderr.join().unwrap();
    match status {
        Some(status) => Output { status, stdout, stderr },
        None => panic!(
            "{command:?} did not end within {limit:?}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ),
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// A child process that is killed (and reaped) when the guard is dropped, also when a test
/// panics half-way.
pub struct Guard(pub Child);

impl Guard {
    pub fn spawn(command: &mut Command) -> Guard {
        Guard(command.spawn().unwrap_or_else(|e| panic!("{command:?} does not start: {e}")))
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Sends a signal by name (`INT`, `TERM`) with kill(1).
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill").arg(format!("-{name}")).arg(self.pid().to_string()).status().unwrap();
        assert!(sent.success(), "kill -{name} {}", self.pid());
    }

    /// Waits for the process to end; `None` when it still runs after `limit`.
    pub fn try_wait_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            if started.elapsed() >= limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to end; fails the test, naming `what`, after `limit`.
    pub fn wait_within(&mut self, limit: Duration, what: &str) -> ExitStatus {
        self.try_wait_within(limit).unwrap_or_else(|| panic!("{what}: still running after {limit:?}"))
    }

    /// The rest of a piped stdout (after the process ended, or it blocks until then).
    pub fn read_stdout(&mut self) -> String {
        let mut text = String::new();
        self.0.stdout.take().expect("stdout is piped").read_to_string(&mut text).unwrap();
        text
    }

    /// The rest of a piped stderr (after the process ended, or it blocks until then).
    pub fn read_stderr(&mut self) -> String {
        let mut text = String::new();
        self.0.stderr.take().expect("stderr is piped").read_to_string(&mut text).unwrap();
        text
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How to start `mfa-harness serve --listen 127.0.0.1:0 …`; see [`serve`].
#[derive(Debug, Clone)]
pub struct Serve {
    args: Vec<String>,
    log: &'static str,
    capture_stderr: bool,
}

/// `serve` on a free port of 127.0.0.1, with `RUST_LOG=warn`, stderr discarded and the
/// server's defaults (domain `mfa-harness`, administrator `admin`, a generated password).
pub fn serve() -> Serve {
    Serve { args: Vec::new(), log: "warn", capture_stderr: false }
}

impl Serve {
    pub fn arg(mut self, arg: &str) -> Serve {
        self.args.push(arg.to_string());
        self
    }

    pub fn args(self, args: &[&str]) -> Serve {
        args.iter().fold(self, |serve, arg| serve.arg(arg))
    }

    pub fn domain(self, domain: &str) -> Serve {
        self.args(&["--domain", domain])
    }

    pub fn admin_name(self, name: &str) -> Serve {
        self.args(&["--admin-name", name])
    }

    pub fn admin_password(self, password: &str) -> Serve {
        self.args(&["--admin-password", password])
    }

    /// `--fault NAME` for each name.
    pub fn faults(self, names: &[&str]) -> Serve {
        names.iter().fold(self, |serve, name| serve.args(&["--fault", name]))
    }

    /// `RUST_LOG` of the server (`info` logs a line per request).
    pub fn log(mut self, level: &'static str) -> Serve {
        self.log = level;
        self
    }

    /// Keeps stderr in a pipe, for [`Server::stop`] to return.
    pub fn capture_stderr(mut self) -> Serve {
        self.capture_stderr = true;
        self
    }

    /// Starts the server and reads its URL from the first line of stdout.
    pub fn start(self) -> Server {
        let mut command = command();
        command.args(["serve", "--listen", "127.0.0.1:0"]).args(&self.args).env("RUST_LOG", self.log);
        command.stdin(Stdio::null()).stdout(Stdio::piped());
        command.stderr(if self.capture_stderr { Stdio::piped() } else { Stdio::null() });
        let mut guard = Guard::spawn(&mut command);
        let mut line = String::new();
        BufReader::new(guard.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().to_string();
        let plain_or_tls = url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:");
        assert!(plain_or_tls, "serve {:?} printed no URL first: {line:?}", self.args);
        Server { url, guard }
    }
}

/// A running `serve`, killed when dropped.
pub struct Server {
    pub url: String,
    pub guard: Guard,
}

impl Server {
    /// `--target URL` and the default administrator's credentials (domain `mfa-harness`, user
    /// `admin`) with `password`, for a command line.
    pub fn target_args<'a>(&'a self, password: &'a str) -> [&'a str; 8] {
        let url = self.url.as_str();
        ["--target", url, "--domain", "mfa-harness", "--admin-name", "admin", "--admin-password", password]
    }

    /// Stops the server with SIGTERM (it must end within 10 s) and returns its exit code and
    /// its stderr (captured with [`Serve::capture_stderr`]).
    pub fn stop(mut self) -> (Option<i32>, String) {
        self.guard.signal("TERM");
        let status = self.guard.wait_within(Duration::from_secs(10), "serve after SIGTERM");
        (status.code(), self.guard.read_stderr())
    }
}
