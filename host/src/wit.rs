//! The `crm:consent` contract's types (`wit/consent.wit`), as wasmtime's
//! `bindgen!` generates them: what a plugin receives and answers.
//!
//! They live in their own namespace because the store has domain types of
//! the same names (a stored [`crate::store::ConsentType`] is not the
//! [`ConsentType`] a policy is built from); the mapping between the two is
//! written once, in `hooks::convert`. Enum names in JSON, the CLI and the
//! decision log are the snake_case of the WIT names (`single-email` is
//! `single_email`).

pub use crate::engine::bindings::{
    Allowed, BatchError, Channel, Config, ConfigError, ConsentRecord, ConsentStatus, ConsentType,
    ContactBatch, ContactFlags, JustificationReason, LegalBasis, Outcome, Preference, Purpose,
    PurposeBasis, ReasonCode, Request, SubscriptionState, SubscriptionType, Switches, Verdict,
};
pub use crate::engine::contact::ContactState;
