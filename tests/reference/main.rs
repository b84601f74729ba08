//! The reference server: its handlers, faults (the first ones in `faults`, the catalogue's in
//! `catalogue`) and alternative readings in memory, over a real socket, against a model of the
//! documented rules, and its transcripts pinned as insta snapshots.

#[path = "../common/mod.rs"]
mod common;

mod catalogue;
mod faults;
mod handlers;
mod model;
mod readings;
mod snapshot;
mod socket;
