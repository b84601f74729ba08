//! mfa-harness: contract, load and snapshot checks for implementations of the Huawei Cloud IAM
//! virtual-MFA-device API, with an embedded reference implementation.

pub mod api;
pub mod app;
pub mod cli;
pub mod client;
pub mod contract;
pub mod error;
pub mod flags;
pub mod ids;
pub mod load;
pub mod openapi;
pub mod reference;
pub mod rules;
pub mod sanitize;
pub mod scenarios;
pub mod schemas;
pub mod serve;
pub mod sign;
pub mod signals;
pub mod snapshot;
pub mod target;
pub mod totp;

pub use error::{Error, Outcome, Result};

#[cfg(test)]
mod architecture;
#[cfg(test)]
mod properties;
