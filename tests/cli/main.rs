//! The built binary's subcommands: `check`, `load`, `serve` and `totp`, `snapshot`, and
//! all three against hostile targets (`hardening`) and stopped by signals (`signals`).

#[path = "../common/mod.rs"]
mod common;

mod auth;
mod check;
mod config;
mod explore;
mod hardening;
mod live;
mod load;
mod prefix;
mod proxy;
mod secrets;
mod serve;
mod shape;
mod signals;
mod snapshot;
mod throttle;
mod tls;
