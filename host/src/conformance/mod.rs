//! The conformance kit: JSON test vectors of the `crm:consent` contract and
//! a runner that checks any plugin against them through the real [`Engine`].
//!
//! A vectors file (`tests/conformance/vectors.json` in the repository) holds
//! named configs and cases. Each case is a config name, a contact state and
//! a request, with the expected decision: outcome, reason code, what allowed
//! it and, for a justify, the reasons offered. The cases are generated from
//! the reference rules compiled natively, so they say what the seeds' rules
//! decide; a plugin that implements only part of them (a national rule
//! pack) claims the packs or tags it passes.
//!
//! [`run`] loads the plugin, builds one policy per config, and asks every
//! selected case through `decide` and through a one-contact `decide-batch`.

mod run;
mod vectors;

pub use run::{Check, Mismatch, Report, run};
pub use vectors::{ConformanceError, Expected, Vector, Vectors};

use crate::engine::{API_PACKAGE, API_VERSION};

/// The version of the vectors file's layout this host reads.
pub const FORMAT: u32 = 1;

/// The contract the vectors are written against, `crm:consent@0.2.0`.
pub fn contract() -> String {
    format!("{API_PACKAGE}@{API_VERSION}")
}

#[cfg(test)]
mod tests;

#[cfg(doc)]
use crate::engine::Engine;
