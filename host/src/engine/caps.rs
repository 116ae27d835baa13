//! The limits of a plugin that declares none, and the caps on what one may
//! declare: both follow from the [`EngineOptions`].

use super::manifest;
use super::{EngineError, EngineOptions, Manifest, PluginLimits, fuel, load};

/// A Rust component has one core instance, plus a few shim instances that
/// `wit-component` adds; a wider margin costs nothing but bookkeeping. The
/// default of a plugin without a limits manifest.
pub const CORE_INSTANCES_PER_COMPONENT: u32 = 8;
/// The plugin's own memory, plus one for an adapter shim if any.
pub const MEMORIES_PER_COMPONENT: u32 = 2;
/// The indirect-call table, plus the shims' tables.
pub const TABLES_PER_COMPONENT: u32 = 4;

impl EngineOptions {
    /// The limits of a plugin without a manifest: today's, tuned for the
    /// Rust reference plugin.
    pub fn default_limits(&self) -> PluginLimits {
        default_limits(self)
    }
}

/// The caps when the admin set none: the library's default limits (10 ms a
/// call), the same in every process, so that a plugin installed by the CLI
/// is loaded by `serve`.
pub fn default_caps() -> PluginLimits {
    default_limits(&EngineOptions::default())
}

/// The defaults and caps of an engine built with `opts`.
pub(super) fn limits_of_options(
    opts: &EngineOptions,
) -> Result<(PluginLimits, PluginLimits), EngineError> {
    let defaults = default_limits(opts);
    let caps = opts.caps.unwrap_or_else(|| PluginLimits {
        memory_bytes: defaults.memory_bytes.max(default_caps().memory_bytes),
        call_fuel: defaults.call_fuel.max(default_caps().call_fuel),
        batch_contact_fuel: defaults
            .batch_contact_fuel
            .max(default_caps().batch_contact_fuel),
        ..default_caps()
    });
    check_caps(&defaults, &caps)?;
    Ok((defaults, caps))
}

/// Reads the limits manifest of `bytes` and checks it against the caps of
/// `opts`, without an engine and without compiling: for activating a
/// plugin that is installed already (a rollback).
pub fn check_limits(bytes: &[u8], opts: &EngineOptions) -> Result<PluginLimits, EngineError> {
    let (defaults, caps) = limits_of_options(opts)?;
    load::limits_of(&defaults, &caps, bytes)
}

fn default_limits(opts: &EngineOptions) -> PluginLimits {
    PluginLimits {
        core_instances: CORE_INSTANCES_PER_COMPONENT,
        memories: MEMORIES_PER_COMPONENT,
        tables: TABLES_PER_COMPONENT,
        memory_bytes: opts.memory_limit_bytes,
        call_timeout: opts.call_timeout,
        batch_time_per_contact: fuel::BATCH_TIME_PER_CONTACT,
        // With metering off the fuel fields are unused; they keep the
        // defaults so that caps and manifests compare the same way.
        call_fuel: opts.fuel.unwrap_or_default().call,
        batch_contact_fuel: opts.fuel.unwrap_or_default().batch_per_contact,
    }
}

/// Caps below the default counts or memory would refuse the reference
/// plugin's own limits. (Its time and fuel are the process's budget, never
/// refused.)
fn check_caps(defaults: &PluginLimits, caps: &PluginLimits) -> Result<(), EngineError> {
    let asked = Manifest {
        call_ms: None,
        batch_contact_us: None,
        call_fuel: None,
        batch_contact_fuel: None,
        ..defaults.as_manifest()
    };
    manifest::resolve(Some(&asked), defaults, caps)
        .map(drop)
        .map_err(|e| match e {
            EngineError::OverCap { limit, asked, cap } => EngineError::Options(format!(
                "the cap on `{limit}` ({cap}) is below the default limit ({asked}); \
                 raise the cap or lower the default"
            )),
            other => other,
        })
}
