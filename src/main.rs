use clap::Parser;
use mfa_harness::{app, cli, error, sanitize};
use std::process::ExitCode;

fn main() -> ExitCode {
    let result = cli::Cli::parse().into_plan().and_then(app::run);
    if let Err(e) = &result {
        eprintln!("error: {}", sanitize::for_terminal(&error::chain(e)));
    }
    error::exit_code(&result).into()
}
