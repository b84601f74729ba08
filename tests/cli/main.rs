//! The built binary's subcommands: `check`, `load`, `serve` and `totp`, `snapshot`.

#[path = "../common/mod.rs"]
mod common;

mod check;
mod load;
mod serve;
mod snapshot;
