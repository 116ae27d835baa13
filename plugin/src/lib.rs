//! crm-consent's reference plugin.
//!
//! Natively this crate is just [`rules`], the consent rules as plain Rust,
//! which the host's tests and benches use as a baseline. Built for
//! `wasm32-wasip2` it is also a WebAssembly component exporting the
//! `crm:consent/rules` interface of `wit/consent.wit` (module `guest`).
//!
//! The crate is `no_std`: a std guest imports 13 WASI interfaces, and the
//! contract says the plugin imports nothing.
#![no_std]
#![deny(missing_docs)]

extern crate alloc;

// Natively, std supplies the allocator and panic handler the cdylib needs.
#[cfg(not(target_arch = "wasm32"))]
extern crate std;

mod mapping;
pub mod rules;

#[cfg(target_arch = "wasm32")]
mod guest;
