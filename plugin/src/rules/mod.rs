//! The GDPR consent rules as plain Rust: `no_std` + `alloc`, no bindings.
//!
//! [`Policy::new`] validates a [`Config`]; [`Policy::decide`],
//! [`Policy::verdict`] and [`Policy::decide_batch`] answer requests;
//! [`explain`] turns a [`ReasonCode`] into a sentence. The wasm component
//! (`crate::guest`, wasm32 only) is a thin conversion layer over this module,
//! and the host uses it natively as a baseline.

mod batch;
mod columns;
mod config;
mod consent;
mod decide;
pub use decide::Ruling;
mod explain;
mod types;

#[cfg(test)]
mod tests;

pub use batch::BatchError;
pub use columns::{Columns, basis_index, state_index, status_index};
pub use config::{ConfigError, Policy};
pub use consent::{expiry, switch_on};
pub use explain::explain;
pub use types::*;
