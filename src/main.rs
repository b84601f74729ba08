use mfa_harness::{app, cli, error, sanitize};
use std::process::ExitCode;

fn main() -> ExitCode {
    let result =
        cli::Cli::parse_with_config(std::env::args_os().collect()).and_then(cli::Cli::into_plan).and_then(app::run);
    if let Err(e) = &result {
        eprintln!("error: {}", sanitize::for_terminal(&error::chain(e)));
    }
    error::exit_code(&result).into()
}
