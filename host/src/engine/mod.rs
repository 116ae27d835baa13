//! The wasmtime side: load, validate, cache and run the rules component.
//!
//! One [`Engine`] per process holds the wasmtime engine (pooling allocator,
//! fuel metering, epoch interruption), an empty component linker (the
//! plugin imports nothing) and the epoch ticker thread. [`Engine::load`] turns component
//! bytes into a [`Plugin`]: validated, compiled (or read back from the disk
//! cache) and pre-instantiated once. [`Plugin::policy`] builds a [`Policy`]:
//! one store, one instance and the plugin's `policy` resource for one config.
//!
//! Every call into the plugin runs under a fuel budget, a wall-clock deadline
//! and a memory cap. A decision call that traps, runs out of fuel, times out
//! or runs out of memory fails closed (deny, `plugin-fault`), and the
//! instance is replaced by a fresh one. So does an answer that breaks the
//! contract (an allow carrying a deny code, a `plugin-fault` from the plugin,
//! reason ids the config does not have). An instance whose memory crept
//! above its recycling threshold, or that served its declared number of
//! calls, is replaced after the call that got it there, before it can trap
//! (see [`Recycling`]).
//!
//! Where things live: [`EngineOptions`] and the checks on them in `options`,
//! the default limits and the caps in `caps`, the [`Engine`] and what its
//! plugins share in `runtime`, the epoch ticker and deadlines in `epoch`,
//! loading, compiling and caching in `load` and `cache`, the contract
//! versions in `versions`, a plugin's limits manifest in `manifest`, the
//! per-call limits in `limits`, and the [`Policy`] calls in `policy`.

mod answers;
pub(crate) mod bindings;
mod cache;
mod caps;
mod chain;
pub(crate) mod contact;
mod epoch;
mod error;
mod fuel;
mod instance;
mod limits;
mod load;
mod manifest;
mod options;
mod policy;
mod runtime;
mod since_v0_1;
#[cfg(test)]
mod tests;
mod verdicts;
mod versions;

// The contract's types are public as `crate::wit`; the engine uses them
// under their own names.
pub(crate) use bindings::{
    Channel, Config, ConsentRecord, ConsentStatus, ConsentType, ContactBatch, ContactFlags,
    JustificationReason, LegalBasis, Outcome, Preference, Purpose, PurposeBasis, ReasonCode,
    Request, SubscriptionState, SubscriptionType, Switches, Verdict,
};
pub use caps::{
    CORE_INSTANCES_PER_COMPONENT, MEMORIES_PER_COMPONENT, TABLES_PER_COMPONENT, check_limits,
    default_caps,
};
pub use chain::{Chain, ChainStep, Chained, ChainedBatch, MAX_CHAIN, combine, step};
pub(crate) use contact::ContactState;
pub use contact::{Decision, Denied, JustifyNeeded};
pub use error::{EngineError, Fault, FaultKind};
pub use fuel::FuelBudget;
pub use load::{ComponentInfo, Plugin};
pub use manifest::{
    LIMITS_SECTION, Manifest, PluginLimits, RECYCLE_ABOVE_MEMORY_FRACTION, Recycling,
    parse as parse_manifest, with_manifest,
};
pub use options::{EngineOptions, PROFILE_ENV, Profiling};
pub use policy::Policy;
pub use runtime::Engine;
pub(crate) use runtime::Shared;
pub use versions::{API_PACKAGE, API_VERSION, SUPPORTED_API_VERSIONS};
