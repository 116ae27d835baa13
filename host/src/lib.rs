//! crm-consent host: embeds the consent-rules plugin in a CRM's hooks.
//!
//! Data flows one way: [`hooks`] reads a contact's state from [`store`], asks
//! the plugin through [`engine`], and writes the decision back in one
//! transaction. `store` knows nothing of wasmtime and `engine` nothing of SQLite.

pub mod cli;
pub mod engine;
pub mod hooks;
pub mod setup;
pub mod store;

/// The reference plugin component, built from `plugin/` for wasm32-wasip2 by
/// the build script and embedded in the library, so `crm-consent setup
/// install --bundled` and `crm-consent demo` need no file next to the binary.
pub const BUNDLED_PLUGIN: &[u8] = include_bytes!(env!("CRM_CONSENT_PLUGIN_WASM"));
