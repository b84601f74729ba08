//! `load`: in process against faults, Ctrl-C, constant rates, goose's own reports, the text
//! summary as golden output, and distributed runs (shards, `--start-at`, `load merge`).

#[path = "../common/mod.rs"]
mod common;

mod contract;
mod distributed;
mod golden;
mod html;
mod interrupt;
mod rate;
mod reports;
