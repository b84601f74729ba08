//! `load`: in process against faults, Ctrl-C, constant rates, goose's own reports, and the
//! text summary as golden output.

#[path = "../common/mod.rs"]
mod common;

mod contract;
mod golden;
mod html;
mod interrupt;
mod rate;
mod reports;
