//! The component glue (wasm32 only): WIT values are converted to
//! [`crate::rules`] types, the rules decide, and the answer is converted back.
//! No rule lives here: the glue itself is `glue.rs`, shared with the fixture
//! that builds these rules against the 0.1 contract.

use crate::rules as r;
use bindings::exports::crm::consent::types as w;

mod bindings {
    wit_bindgen::generate!({
        world: "consent-plugin",
        path: "../wit",
    });
}

// --- WIT <-> rules: the one mapping, shared with the host's native tests --

crate::wit_mapping!(w, r);

include!("glue.rs");

// The no_std runtime (allocator, panic handler, `cabi_realloc`, libc's
// mem* functions), shared with the test fixtures.
include!("runtime.rs");
