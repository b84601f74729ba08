//! `load`: in process against faults, Ctrl-C, constant rates, and goose's own reports.

#[path = "../common/mod.rs"]
mod common;

mod contract;
mod interrupt;
mod rate;
mod reports;
