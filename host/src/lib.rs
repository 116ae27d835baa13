//! crm-consent host: embeds the consent-rules plugin in a CRM's hooks.
//!
//! Data flows one way: [`hooks`] reads a contact's state from [`store`], asks
//! the plugin through [`engine`], and writes the decision back in one
//! transaction. `store` knows nothing of wasmtime and `engine` nothing of SQLite.

pub mod engine;
pub mod hooks;
pub mod setup;
pub mod store;
