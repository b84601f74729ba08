//! Errors by layer (usage, target, provisioning, report output, internal) and the one function
//! that maps a run's end to the exit codes of DESIGN.md.
//!
//! Each variant's `Display` says what failed and what to do; a cause is its `source`, never
//! repeated in the message, and [`chain`] joins them for printing.

use crate::client::TransportError;
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
    /// Stopped by a second Ctrl-C: waiting was skipped, cleanup was not.
    Interrupted = 130,
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
        Ok(Outcome::Failed) => Exit::Failed,
        Err(Error::Usage(_) | Error::Report(_)) => Exit::Usage,
        Err(Error::Target(_) | Error::Provision(_) | Error::Internal(_) | Error::Incomplete(_)) => Exit::Incomplete,
        Err(Error::Interrupted(i)) if i.forced => Exit::Interrupted,
        Err(Error::Interrupted(_)) => Exit::Incomplete,
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
    /// The pool file cannot serve this run.
    #[error("{problem}")]
    Pool { problem: String },
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
#[error("{} case(s) could not be carried out ({}); see the report for the reason", cases.len(), cases.join(", "))]
pub struct Incomplete {
    pub cases: Vec<String>,
}

/// The run was stopped by a signal; what ran is reported and every user was cleaned up.
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted{}; {}the users this run created were deleted{}",
    after.map(|s| format!(" by {}Ctrl-C after {s:.1} s", if *forced { "a second " } else { "" })).unwrap_or_default(),
    if *summarized { "the summary covers what ran, and " } else { "" },
    if left.is_empty() { String::new() } else { format!(" except {}: {}", left.len(), left.join(", ")) }
)]
pub struct Interrupted {
    /// Seconds the run had measured, when it says.
    pub after: Option<f64>,
    /// Whether a summary of what ran was printed.
    pub summarized: bool,
    /// A second signal: waiting was skipped (cleanup was not).
    pub forced: bool,
    /// Users that could not be deleted.
    pub left: Vec<String>,
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
        assert_eq!(exit_code(&Err(Incomplete { cases: vec!["a".into()] }.into())), Exit::Incomplete);
        let stop = |forced| Interrupted { after: None, summarized: false, forced, left: Vec::new() };
        assert_eq!(exit_code(&Err(stop(false).into())), Exit::Incomplete);
        assert_eq!(exit_code(&Err(stop(true).into())), Exit::Interrupted);
        assert_eq!(exit_code(&Ok(Outcome::Failed)), Exit::Failed);
        assert_eq!(exit_code(&Ok(Outcome::Passed)), Exit::Passed);
    }

    #[test]
    fn the_chain_names_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory (os error 2)");
        let error: Error = UsageError::Read { what: "--scenarios", path: "/x".into(), source: io }.into();
        assert_eq!(chain(&error), "could not read --scenarios /x: No such file or directory (os error 2)");
        let stop = Interrupted { after: Some(2.04), summarized: true, forced: false, left: vec!["u1".into()] };
        assert_eq!(
            stop.to_string(),
            "interrupted by Ctrl-C after 2.0 s; the summary covers what ran, and the users this run created were \
             deleted except 1: u1"
        );
    }
}
