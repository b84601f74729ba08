//! mfa-harness: contract, load and snapshot checks for implementations of the Huawei Cloud IAM
//! virtual-MFA-device API, with an embedded reference implementation.

pub mod api;
pub mod cli;
pub mod client;
pub mod contract;
pub mod error;
pub mod load;
pub mod openapi;
pub mod reference;
pub mod sanitize;
pub mod schemas;
pub mod serve;
pub mod snapshot;
pub mod target;
pub mod totp;

pub use error::{Error, Outcome, Result};

/// The `*.toml` files of a `--scenarios DIR`, sorted by path, with their text.
pub fn scenario_files(dir: &std::path::Path) -> Result<Vec<(String, String)>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Usage(format!("could not read --scenarios {}: {e}", dir.display())))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            std::fs::read_to_string(&path)
                .map(|text| (path.display().to_string(), text))
                .map_err(|e| Error::Usage(format!("could not read {}: {e}", path.display())))
        })
        .collect()
}

use cli::{Cli, Command, TotpOnly};

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Check(args) => contract::run(args.into_config()?),
        Command::Openapi(args) => {
            let schemas = schemas::Schemas::embedded().map_err(|e| Error::Internal(e.to_string()))?;
            let text = serde_json::to_string_pretty(&openapi::document(&schemas))
                .map_err(|e| Error::Internal(e.to_string()))?;
            match args.output {
                Some(path) => std::fs::write(&path, text + "\n")
                    .map_err(|e| Error::Usage(format!("could not write {}: {e}", path.display())))?,
                None => println!("{text}"),
            }
            Ok(Outcome::Passed)
        }
        Command::Load(args) => load::run(args.into_config()?),
        Command::Snapshot(args) => snapshot::run(args.into_config()?),
        Command::Serve(args) => serve::run(args.into_config()),
        Command::Totp(args) => {
            let config = args.into_config()?;
            let now = config.at.unwrap_or_else(totp::unix_now);
            let code = config.seed.code(totp::step_at(now));
            let pair = totp::bind_pair(&config.seed, now);
            match config.only {
                Some(TotpOnly::Code) => println!("{code}"),
                Some(TotpOnly::Bind) => println!("{} {}", pair.first, pair.second),
                None => {
                    println!("code: {code}  ({} s left in this step)", totp::seconds_left_in_step(now));
                    println!("bind: {} {}", pair.first, pair.second);
                }
            }
            Ok(Outcome::Passed)
        }
    }
}
