//! Errors by layer (usage, target, provisioning, report output, internal) and the one function
//! that maps a run's end to the exit codes of DESIGN.md.
//!
//! Each variant's `Display` says what failed and what to do; a cause is its `source`, never
//! repeated in the message, and [`chain`] joins them for printing.

use crate::client::TransportError;
use crate::signals::Signal;
use std::path::PathBuf;

/// How a run that did its job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything held.
    Passed,
    /// The target violated the contract, a threshold or a snapshot.
    Failed,
}

/// The process exit codes, the same for every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Passed = 0,
    Failed = 1,
    Usage = 2,
    /// The harness could not do its job.
    Incomplete = 3,
    /// Stopped by SIGHUP (128 + 1); every user the run created was deleted, or is named.
    Hangup = 129,
    /// Stopped by SIGINT, Ctrl-C (128 + 2).
    Interrupted = 130,
    /// Stopped by SIGTERM (128 + 15).
    Terminated = 143,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> std::process::ExitCode {
        std::process::ExitCode::from(exit as u8)
    }
}

/// The exit code of a run's result: the one place errors become exit codes.
pub fn exit_code(result: &Result<Outcome>) -> Exit {
    match result {
        Ok(Outcome::Passed) => Exit::Passed,
        Ok(Outcome::Failed) | Err(Error::NoBaseline { .. }) => Exit::Failed,
        Err(Error::Usage(_) | Error::Report(_)) => Exit::Usage,
        Err(Error::Target(_) | Error::Provision(_) | Error::Internal(_) | Error::Incomplete(_)) => Exit::Incomplete,
        Err(Error::Interrupted(i)) => match i.signal {
            Signal::Interrupt => Exit::Interrupted,
            Signal::Terminate => Exit::Terminated,
            Signal::Hangup => Exit::Hangup,
        },
    }
}

/// An error and its causes, as one line: `what failed: why: why`.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Why the harness did not finish its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Internal(#[from] InternalError),
    #[error(transparent)]
    Incomplete(#[from] Incomplete),
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
    /// Exit 1: `snapshot --ci` (or with `CI` set) found no baseline to compare with.
    #[error(
        "no baseline recorded for {name} (no .snap files in {}); run without --ci (and with CI unset) to record one, and commit it",
        folder.display()
    )]
    NoBaseline { name: String, folder: PathBuf },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit 2: the command line or a file it names is wrong.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// A flag's value is out of its range, or flags do not go together.
    #[error("{flag} {problem}")]
    Flag { flag: &'static str, problem: String },
    /// A file or directory the command line names could not be read.
    #[error("could not read {what} {}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file the command line names is not what it should be.
    #[error("{what} {} is not valid", path.display())]
    Invalid {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: Detail,
    },
    /// A scenario (contract case or load flow) file, embedded or given, is wrong.
    #[error("{kind} {file}{}: {problem}", item.as_ref().map(|i| format!(", {i}")).unwrap_or_default())]
    Scenario { kind: &'static str, file: String, item: Option<String>, problem: String },
    /// Two contract cases share an id.
    #[error("two contract cases share the id '{id}'")]
    DuplicateCase { id: String },
    /// `--only` selected nothing.
    #[error("--only {} matches no contract case", patterns.join(", "))]
    NoCaseMatches { patterns: Vec<String> },
    /// `--flow` names no flow.
    #[error("there is no load flow '{name}'; the flows are: {}", known.join(", "))]
    UnknownFlow { name: String, known: Vec<String> },
    /// A `--threshold` (or a flow's default threshold) is not in the grammar.
    #[error(
        "threshold '{text}': {problem}; write e.g. bind.p95<50ms, query.p99<=20ms, errors<0.1%, flows/s>500, req/s>1000"
    )]
    Threshold { text: String, problem: String },
    /// `--config FILE` cannot be applied.
    #[error("config file {}: {problem}", path.display())]
    Config { path: PathBuf, problem: String },
    /// The pool file cannot serve this run.
    #[error("{problem}")]
    Pool { problem: String },
    /// `load merge` was given summaries it cannot join.
    #[error("load merge: {problem}")]
    Merge { problem: String },
    /// The embedded server could not listen where `serve --listen` asked.
    #[error("could not listen on {address}; choose another --listen address")]
    Listen {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// `totp --seed` is not a seed.
    #[error("--seed")]
    Seed(#[source] crate::totp::SeedError),
    /// goose refused one of the options the load plan gave it.
    #[error("goose option {option} '{value}': {detail}")]
    Goose { option: String, value: String, detail: String },
}

/// A cause that is only text (a parser's message), for [`UsageError::Invalid`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Detail(pub String);

/// Exit 3: the target did not answer, or did not answer as an API does.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// No answer at all.
    #[error("{context}")]
    Unreachable {
        context: String,
        #[source]
        source: TransportError,
    },
    /// An answer that does not let the harness go on (status and redacted body).
    #[error("{context}: {method} {path} answered {status}: {body}")]
    Answered { context: String, method: String, path: String, status: u16, body: String },
    /// A redirect (3xx), which the harness never follows: the API documents none.
    #[error(
        "{context}: {method} {path} answered {status} to {location}; mfa-harness follows no redirects (the API \
         documents none)"
    )]
    Redirected { context: String, method: String, path: String, status: String, location: String },
    /// An answer whose body goes on past `--max-body`; the rest was not read.
    #[error(
        "{context}: the target's answer to {method} {path} exceeds {limit} bytes; the API answers small JSON \
         documents (raise --max-body if this one is right)"
    )]
    TooLarge { context: String, method: String, path: String, limit: usize },
    /// An answer whose body or headers are not as documented.
    #[error("{context}: {problem}")]
    Malformed { context: String, problem: String },
    /// A request of the harness's own that the target throttled at every attempt (429, or
    /// IAM.0012), retries with backoff included.
    #[error(
        "{context}: {method} {path} was throttled by the target ({status}) at each of {attempts} attempt(s); lower \
         the request rate with --rate-limit N/s"
    )]
    Throttled { context: String, method: String, path: String, status: String, attempts: u32 },
    /// A pool identity whose token the target refuses.
    #[error(
        "the target rejects the pool file's token of {who} (user_id {user_id}): {method} {path} answered 401; \
         put a fresh token in the pool file"
    )]
    Rejected { who: String, user_id: String, method: String, path: String },
    /// The administrator's token or signature refused (401).
    #[error("the target refused {who}: {method} {path} answered 401: {body}; {hint}")]
    Refused { who: String, method: String, path: String, body: String, hint: &'static str },
    /// A load run that made no request at all.
    #[error("no request was made; is the target healthy and --run-time long enough?")]
    Idle,
}

/// Exit 3: the harness could not get the identities it needs.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The target refused or broke a provisioning call.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The pool has no identity left (or was closed).
    #[error("the identity pool is {state}")]
    PoolExhausted { state: &'static str },
}

/// Exit 2: a report could not be written where the command line said.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("could not write {what} to {}", path.display())]
    Write {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not render the {format} report: {detail}")]
    Render { format: &'static str, detail: String },
}

/// Exit 3: something of the harness's own failed.
#[derive(Debug, thiserror::Error)]
pub enum InternalError {
    #[error("could not start {what}")]
    Start {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("the embedded schemas do not compile: {detail}")]
    Schemas { detail: String },
    #[error("{what}: {detail}")]
    Load { what: &'static str, detail: String },
}

/// Exit 3: the run finished, but cases that decide the verdict could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{}{} case(s) could not be carried out ({}{}); {}",
    if during.is_empty() { String::new() } else { format!("{during}: ") },
    cases.len(),
    cases.iter().take(Incomplete::NAMED).cloned().collect::<Vec<_>>().join(", "),
    if cases.len() > Incomplete::NAMED { format!(" and {} more", cases.len() - Incomplete::NAMED) } else { String::new() },
    reason.as_deref().unwrap_or("see the report for the reason")
)]
pub struct Incomplete {
    pub cases: Vec<String>,
    /// Why the first of them could not (`the first, ID: why`), when the message gives it (no
    /// report is printed).
    pub reason: Option<String>,
    /// What refuses to go on without them, if not the verdict.
    pub during: &'static str,
}

impl Incomplete {
    /// How many case ids a message names.
    pub const NAMED: usize = 5;

    /// Cases the verdict needs, named in the report.
    pub fn verdict(cases: Vec<String>) -> Incomplete {
        Incomplete { cases, reason: None, during: "" }
    }
}

/// What the end of a run did with the users it created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cleanup {
    /// Users the run created (also those only found afterwards through the admin API).
    pub created: usize,
    /// Of them, deleted.
    pub deleted: usize,
    /// Users that could not be deleted, or whose creation could not be ruled out, each as
    /// `name (id …): why`.
    pub left: Vec<String>,
}

impl std::fmt::Display for Cleanup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.created, self.left.len()) {
            (0, 0) => write!(f, "no user had been created"),
            (1, 0) => write!(f, "the 1 user this run created was deleted"),
            (n, 0) => write!(f, "the {n} users this run created were all deleted"),
            (_, left) => write!(
                f,
                "{} of the {} users this run created were deleted; {left} user(s) could not be deleted, delete them \
                 by hand: {}",
                self.deleted,
                self.created.max(self.deleted + left),
                self.left.join("; ")
            ),
        }
    }
}

/// The run was stopped by a signal; what ran is reported, and what cleanup did.
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted by {}{}{}; {}{}",
    signal.describe(),
    if *forced { " and a second signal (waiting was skipped)" } else { "" },
    after.map(|s| format!(" after {s:.1} s")).unwrap_or_default(),
    if *summarized { "the summary covers what ran, and " } else { "" },
    cleanup
)]
pub struct Interrupted {
    /// The first signal heard; it decides the exit code.
    pub signal: Signal,
    /// Seconds the run had measured, when it says.
    pub after: Option<f64>,
    /// Whether a summary of what ran was printed.
    pub summarized: bool,
    /// A second signal: waiting was skipped (cleanup was not).
    pub forced: bool,
    /// What became of the users the run created.
    pub cleanup: Cleanup,
}

impl Interrupted {
    /// A stop before the run had created anyone.
    pub fn before_any_user(signal: Signal) -> Interrupted {
        Interrupted { signal, after: None, summarized: false, forced: false, cleanup: Cleanup::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_has_its_exit_code() {
        let usage: Result<Outcome> =
            Err(UsageError::Flag { flag: "--users", problem: "must be at least 1".into() }.into());
        assert_eq!(exit_code(&usage), Exit::Usage);
        let report: Result<Outcome> = Err(ReportError::Render { format: "junit", detail: "x".into() }.into());
        assert_eq!(exit_code(&report), Exit::Usage);
        assert_eq!(exit_code(&Err(TargetError::Idle.into())), Exit::Incomplete);
        assert_eq!(exit_code(&Err(ProvisionError::PoolExhausted { state: "empty" }.into())), Exit::Incomplete);
        assert_eq!(exit_code(&Err(Incomplete::verdict(vec!["a".into()]).into())), Exit::Incomplete);
        let stop = |signal, forced| Interrupted {
            signal,
            after: None,
            summarized: false,
            forced,
            cleanup: Cleanup::default(),
        };
        assert_eq!(exit_code(&Err(stop(Signal::Interrupt, false).into())), Exit::Interrupted);
        assert_eq!(exit_code(&Err(stop(Signal::Interrupt, true).into())), Exit::Interrupted);
        assert_eq!(exit_code(&Err(stop(Signal::Terminate, false).into())), Exit::Terminated);
        assert_eq!(exit_code(&Err(stop(Signal::Hangup, true).into())), Exit::Hangup);
        assert_eq!([Exit::Hangup as u8, Exit::Interrupted as u8, Exit::Terminated as u8], [129, 130, 143]);
        assert_eq!(exit_code(&Ok(Outcome::Failed)), Exit::Failed);
        assert_eq!(exit_code(&Ok(Outcome::Passed)), Exit::Passed);
    }

    #[test]
    fn the_chain_names_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory (os error 2)");
        let error: Error = UsageError::Read { what: "--scenarios", path: "/x".into(), source: io }.into();
        assert_eq!(chain(&error), "could not read --scenarios /x: No such file or directory (os error 2)");
        let left = vec!["mfa-harness-ab12cd-3 (id u3): delete answered 500 Internal Server Error".to_string()];
        let cleanup = Cleanup { created: 4, deleted: 3, left };
        let stop =
            Interrupted { signal: Signal::Terminate, after: Some(2.04), summarized: true, forced: false, cleanup };
        assert_eq!(
            stop.to_string(),
            "interrupted by SIGTERM after 2.0 s; the summary covers what ran, and 3 of the 4 users this run created \
             were deleted; 1 user(s) could not be deleted, delete them by hand: mfa-harness-ab12cd-3 (id u3): delete \
             answered 500 Internal Server Error"
        );
        let clean = Cleanup { created: 7, deleted: 7, left: Vec::new() };
        let stop =
            Interrupted { signal: Signal::Interrupt, after: None, summarized: false, forced: true, cleanup: clean };
        assert_eq!(
            stop.to_string(),
            "interrupted by SIGINT (Ctrl-C) and a second signal (waiting was skipped); the 7 users this run created \
             were all deleted"
        );
    }
}
