//! The test kit shared by the four test binaries (`reference`, `contract`, `load`, `cli`);
//! each binary includes it with `#[path = "../common/mod.rs"] mod common;` and uses what it
//! needs (hence `dead_code` is allowed here).
//!
//! - [`world`]: the reference server in memory with a controllable clock, driven by `oneshot`.
//! - [`process`]: the built binary: its path, running it with a time limit, a kill-on-drop
//!   guard, `serve` on 127.0.0.1:0 with its URL read from the first stdout line.
//! - [`admin`]: the users a target holds, listed through its admin API.
//! - [`hostile`]: targets that redirect or stream endless bodies, a proxy that does so on the
//!   MFA paths of a real target, a listener nothing may reach, a process's peak RSS.
//! - [`tls`]: a test PKI made with rcgen (a CA, server and client certificates) as PEM files.
//! - [`proxy`]: a real HTTP forward proxy (absolute-form and `CONNECT`) that records what it saw.
//! - [`schema`]: our JSON outputs validated against `schemas/reports/*.json`.
//! - [`config`]: the only construction of `CheckConfig` / `LoadConfig` (and `execute` calls).
//! - [`render`]: the only calls of the report renderers.
//! - [`golden`]: insta settings for golden outputs: `tests/snapshots/`, volatile values redacted.
#![allow(dead_code)]

pub mod admin;
pub mod config;
pub mod golden;
pub mod hostile;
pub mod process;
pub mod proxy;
pub mod render;
pub mod schema;
pub mod tls;
pub mod world;
