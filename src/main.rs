use clap::Parser;
use mfa_harness::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match mfa_harness::run(cli) {
        Ok(outcome) => outcome.into(),
        Err(error) => {
            eprintln!("error: {}", mfa_harness::sanitize::for_terminal(&error.to_string()));
            error.exit_code()
        }
    }
}
