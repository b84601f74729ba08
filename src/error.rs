//! The harness's top-level error and the exit codes of DESIGN.md.

use std::process::ExitCode;

/// How a run ended, as the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: everything held.
    Passed = 0,
    /// 1: the target violated the contract, a threshold or a snapshot.
    Failed = 1,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        ExitCode::from(outcome as u8)
    }
}

/// Why the harness could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Exit 2: the command line or a configuration file is wrong.
    #[error("{0}")]
    Usage(String),
    /// Exit 3: the target could not be reached or did not let us set up.
    #[error("{0}")]
    Target(String),
    /// Exit 3: anything else that kept the harness from working.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) => ExitCode::from(2),
            Error::Target(_) | Error::Internal(_) => ExitCode::from(3),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
