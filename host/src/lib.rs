#![doc = include_str!("../../README.md")]
#![deny(missing_docs)]
//!
//! # The crate
//!
//! Data flows one way: [`hooks`] reads a contact's state from [`store`], asks
//! the plugin through [`engine`], and writes the decision back in one
//! transaction. `store` knows nothing of wasmtime and `engine` nothing of
//! SQLite; the contract's own types are in [`wit`].
//!
//! What a CRM needs is re-exported here: the [`Engine`] and a loaded
//! [`Plugin`], the hooks ([`Hooks`] over contact state the CRM holds,
//! [`StoredHooks`] over the [`Store`]), the [`Decision`] they answer, the ids
//! and the errors.

pub mod conformance;
pub mod engine;
pub mod export;
pub mod hooks;
pub mod http;
pub mod import;
pub mod pages;
pub mod setup;
pub mod store;
pub mod wit;

/// The error vocabulary (codes, messages, hints) of the CLI and the HTTP API.
mod failure;

/// The `crm-consent` command line, over the same library functions. Public
/// only for the binary and its tests: not part of the library's API.
#[doc(hidden)]
pub mod cli;

pub use engine::{Decision, Denied, Engine, EngineError, EngineOptions, JustifyNeeded, Plugin};
pub use hooks::{
    BulkMode, BulkSend, Context, HookDecision, HookError, Hooks, Operator, Replay, Skipped,
    StoredHooks,
};
pub use pages::PageError;
pub use setup::SetupError;
pub use store::{
    ConsentTypeId, ContactId, DecisionId, LedgerSeq, MethodId, PluginId, PurposeId, ReasonId,
    RelationId, StatusId, Store, StoreError, SubscriptionTypeId,
};

/// The reference plugin component, built from `plugin/` for wasm32-wasip2 by
/// the build script and embedded in the library, so `crm-consent setup
/// install --bundled` and `crm-consent demo` need no file next to the binary.
/// Load it with [`Engine::load`].
pub const BUNDLED_PLUGIN: &[u8] = include_bytes!(env!("CRM_CONSENT_PLUGIN_WASM"));
