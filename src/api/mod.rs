//! The contract as types: one [`Operation`] value per endpoint call, built from typed models.
//! Nothing here sends a request; contract, load and snapshot each carry operations over their
//! own transport.

pub mod models;
pub mod operation;
pub mod ops;

pub use operation::*;
pub use ops::*;
