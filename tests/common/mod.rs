//! The test kit shared by the four test binaries (`reference`, `contract`, `load`, `cli`);
//! each binary includes it with `#[path = "../common/mod.rs"] mod common;`.
#![allow(dead_code)]

pub mod world;
