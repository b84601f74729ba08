//! The contract gate in process: fault detection, user pools, and the report formats.

#[path = "../common/mod.rs"]
mod common;

mod detection;
mod pool;
mod reports;
