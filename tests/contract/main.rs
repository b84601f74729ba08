//! The contract gate in process: fault detection, user pools, the report formats, and the
//! reports as golden output.

#[path = "../common/mod.rs"]
mod common;

mod detection;
mod exploration;
mod golden;
mod pool;
mod reports;
