//! The reference server: its handlers and faults in memory, over a real socket, against a
//! model of the documented rules, and its transcripts pinned as insta snapshots.

#[path = "../common/mod.rs"]
mod common;

mod faults;
mod handlers;
mod model;
mod snapshot;
mod socket;
