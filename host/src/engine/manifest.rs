//! A plugin's limits manifest: what it declares it needs, read from a
//! custom section of the component before anything is compiled, checked
//! against the admin's caps, and turned into the limits its stores run with.
//!
//! Like Extism's manifest (`memory.max_pages`, `timeout_ms`) and Spin's
//! per-component limits, but carried inside the component: the manifest is
//! part of the bytes whose SHA-256 names the plugin in every logged decision,
//! so a replay of that plugin runs under the same limits.

use std::time::Duration;

use super::EngineError;

/// The custom section holding a plugin's limits manifest, JSON.
pub const LIMITS_SECTION: &str = "crm-consent-limits";

/// What a plugin declares in its `crm-consent-limits` section. Each field is
/// optional: an absent one gets the engine's default, which is today's tight
/// limit tuned for the Rust reference plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Core instances of one plugin instance (componentize-py needs 38).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub core_instances: Option<u32>,
    /// Linear memories of one plugin instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memories: Option<u32>,
    /// Tables of one plugin instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables: Option<u32>,
    /// The most linear memory of one plugin instance, in MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u32>,
    /// Wall-clock time of one `decide`, `explain` or `reasons`, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_ms: Option<u64>,
    /// Wall-clock time a `decide-batch` gets per contact, in µs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_contact_us: Option<u64>,
    /// Fuel (about one WebAssembly instruction a unit) of one `decide`,
    /// `explain` or `reasons`. An interpreter compiled to WebAssembly
    /// (componentize-js, componentize-py) runs far more instructions per
    /// decision than compiled Rust.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_fuel: Option<u64>,
    /// Fuel per contact of a `decide-batch`, on top of one call's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_contact_fuel: Option<u64>,
    /// Replace the plugin's instance with a fresh one after it served this
    /// many calls. Absent: never on a count. Not a limit, so not capped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recycle_after_calls: Option<u64>,
    /// Replace the plugin's instance with a fresh one after a call that
    /// left its linear memory above this many MiB, at most `memory_mib`
    /// (equal to it: never on memory). Absent: three quarters of
    /// `memory_mib` (see [`RECYCLE_ABOVE_MEMORY_FRACTION`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recycle_above_mib: Option<u32>,
}

/// When a plugin instance is replaced by a fresh one before its memory creep
/// makes it trap (see [`Recycling`]), as fourths of its memory limit: above
/// three quarters.
///
/// wasm memory never shrinks, and a garbage-collected guest (componentize-js
/// grows 5–10 MiB per 100k-contact batch and gives nothing back) creeps until
/// a call traps on the limit, which fails that call closed: a deny for every
/// contact of the batch. The check runs between calls, so the last quarter is
/// the headroom one call may still grow into: 8 MiB of the default 32, about
/// one 100k batch of that creep. The Rust reference plugin stays far below it
/// and is never recycled. Like Spin's instance reuse limits and wasmtime's
/// pooling `max_unused_warm_slots`, this trades an instantiation (tens of µs
/// from the pool's copy-on-write image, plus `policy.create`) now and then
/// for never failing a call on a leak. A plugin that grows more per call
/// declares a lower `recycle_above_mib`.
pub const RECYCLE_ABOVE_MEMORY_FRACTION: (usize, usize) = (3, 4);

/// When a plugin's instance is replaced by a fresh one built from the same
/// config, after a call that succeeded. The plugin is pure, so its answers
/// do not change across a recycle; only its leaked memory is given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Recycling {
    /// After this many calls into one instance (`decide`, `decide-batch`,
    /// `explain`, `reasons`); `None`: never on a count.
    pub after_calls: Option<u64>,
    /// When a call left the instance's linear memory above this many bytes.
    pub above_bytes: usize,
}

impl Recycling {
    /// The default for a plugin whose memory limit is `memory_bytes`.
    pub fn default_for(memory_bytes: usize) -> Recycling {
        let (num, den) = RECYCLE_ABOVE_MEMORY_FRACTION;
        Recycling {
            after_calls: None,
            above_bytes: memory_bytes / den * num,
        }
    }
}

/// The limits one plugin's stores run with, or the caps no plugin may ask
/// more than (see [`EngineOptions::caps`](super::EngineOptions::caps)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PluginLimits {
    /// Core instances per plugin instance.
    pub core_instances: u32,
    /// Linear memories per plugin instance.
    pub memories: u32,
    /// Tables per plugin instance.
    pub tables: u32,
    /// Bytes of linear memory per plugin instance.
    pub memory_bytes: usize,
    /// Wall-clock time of one call.
    pub call_timeout: Duration,
    /// Wall-clock time per contact of a batch, on top of `call_timeout`.
    pub batch_time_per_contact: Duration,
    /// Fuel of one call (when the engine meters fuel).
    pub call_fuel: u64,
    /// Fuel per contact of a batch, on top of the batch's base.
    pub batch_contact_fuel: u64,
}

impl PluginLimits {
    /// These limits in the manifest's words and units, every field set.
    pub fn as_manifest(&self) -> Manifest {
        Manifest {
            core_instances: Some(self.core_instances),
            memories: Some(self.memories),
            tables: Some(self.tables),
            memory_mib: Some(u32::try_from(self.memory_bytes >> 20).unwrap_or(u32::MAX)),
            call_ms: Some(u64::try_from(self.call_timeout.as_millis()).unwrap_or(u64::MAX)),
            batch_contact_us: Some(
                u64::try_from(self.batch_time_per_contact.as_micros()).unwrap_or(u64::MAX),
            ),
            call_fuel: Some(self.call_fuel),
            batch_contact_fuel: Some(self.batch_contact_fuel),
            recycle_after_calls: None,
            recycle_above_mib: None,
        }
    }

    /// Each value of `self` that exceeds `cap`, as (limit, asked, cap).
    fn exceeding(&self, caps: &PluginLimits) -> Option<(&'static str, String, String)> {
        let mib = |b: usize| format!("{} MiB", b >> 20);
        let ms = |d: Duration| format!("{} ms", d.as_millis());
        let us = |d: Duration| format!("{} µs", d.as_micros());
        let checks = [
            (
                "core_instances",
                self.core_instances > caps.core_instances,
                self.core_instances.to_string(),
                caps.core_instances.to_string(),
            ),
            (
                "memories",
                self.memories > caps.memories,
                self.memories.to_string(),
                caps.memories.to_string(),
            ),
            (
                "tables",
                self.tables > caps.tables,
                self.tables.to_string(),
                caps.tables.to_string(),
            ),
            (
                "memory_mib",
                self.memory_bytes > caps.memory_bytes,
                mib(self.memory_bytes),
                mib(caps.memory_bytes),
            ),
            (
                "call_ms",
                self.call_timeout > caps.call_timeout,
                ms(self.call_timeout),
                ms(caps.call_timeout),
            ),
            (
                "batch_contact_us",
                self.batch_time_per_contact > caps.batch_time_per_contact,
                us(self.batch_time_per_contact),
                us(caps.batch_time_per_contact),
            ),
            (
                "call_fuel",
                self.call_fuel > caps.call_fuel,
                self.call_fuel.to_string(),
                caps.call_fuel.to_string(),
            ),
            (
                "batch_contact_fuel",
                self.batch_contact_fuel > caps.batch_contact_fuel,
                self.batch_contact_fuel.to_string(),
                caps.batch_contact_fuel.to_string(),
            ),
        ];
        checks
            .into_iter()
            .find(|(_, over, _, _)| *over)
            .map(|(name, _, asked, cap)| (name, asked, cap))
    }
}

impl Manifest {
    /// These values over `base`: each field this manifest declares replaces
    /// `base`'s (how caps are read from the stored settings).
    pub fn over(&self, base: &PluginLimits) -> PluginLimits {
        let mib = |mib: u32| {
            usize::try_from(mib)
                .unwrap_or(usize::MAX)
                .saturating_mul(1 << 20)
        };
        PluginLimits {
            core_instances: self.core_instances.unwrap_or(base.core_instances),
            memories: self.memories.unwrap_or(base.memories),
            tables: self.tables.unwrap_or(base.tables),
            memory_bytes: self.memory_mib.map_or(base.memory_bytes, mib),
            call_timeout: self
                .call_ms
                .map_or(base.call_timeout, Duration::from_millis),
            batch_time_per_contact: self
                .batch_contact_us
                .map_or(base.batch_time_per_contact, Duration::from_micros),
            call_fuel: self.call_fuel.unwrap_or(base.call_fuel),
            batch_contact_fuel: self.batch_contact_fuel.unwrap_or(base.batch_contact_fuel),
        }
    }

    /// `self` with each field `newer` declares replaced.
    pub fn updated(&self, newer: &Manifest) -> Manifest {
        Manifest {
            core_instances: newer.core_instances.or(self.core_instances),
            memories: newer.memories.or(self.memories),
            tables: newer.tables.or(self.tables),
            memory_mib: newer.memory_mib.or(self.memory_mib),
            call_ms: newer.call_ms.or(self.call_ms),
            batch_contact_us: newer.batch_contact_us.or(self.batch_contact_us),
            call_fuel: newer.call_fuel.or(self.call_fuel),
            batch_contact_fuel: newer.batch_contact_fuel.or(self.batch_contact_fuel),
            recycle_after_calls: newer.recycle_after_calls.or(self.recycle_after_calls),
            recycle_above_mib: newer.recycle_above_mib.or(self.recycle_above_mib),
        }
    }
}

/// The limits of a plugin whose manifest is `manifest` (`None`: it has
/// none), with `defaults` for what it does not declare; refused if any
/// declared value is over `caps`. A plugin never gets less time or fuel than
/// the process's budget (a CLI command waits longer than a request): time is
/// the backstop, fuel stops a loop first.
pub(crate) fn resolve(
    manifest: Option<&Manifest>,
    defaults: &PluginLimits,
    caps: &PluginLimits,
) -> Result<PluginLimits, EngineError> {
    let Some(m) = manifest else {
        return Ok(*defaults);
    };
    // Only what it declares is checked: undeclared fields ask the cap itself.
    if let Some((limit, asked, cap)) = m.over(caps).exceeding(caps) {
        return Err(EngineError::OverCap { limit, asked, cap });
    }
    let zero = [
        ("core_instances", m.core_instances == Some(0)),
        ("memory_mib", m.memory_mib == Some(0)),
        ("call_ms", m.call_ms == Some(0)),
        ("call_fuel", m.call_fuel == Some(0)),
    ];
    if let Some((name, _)) = zero.into_iter().find(|(_, zero)| *zero) {
        return Err(EngineError::Manifest(format!(
            "`{name}` is zero, so the plugin could never run; declare what it needs \
             or leave the field out for the default"
        )));
    }
    let mut limits = m.over(defaults);
    limits.call_timeout = limits.call_timeout.max(defaults.call_timeout);
    limits.batch_time_per_contact = limits
        .batch_time_per_contact
        .max(defaults.batch_time_per_contact);
    // Fuel likewise: a plugin may ask for more work per call, never less
    // than the process grants the reference plugin.
    limits.call_fuel = limits.call_fuel.max(defaults.call_fuel);
    limits.batch_contact_fuel = limits.batch_contact_fuel.max(defaults.batch_contact_fuel);
    Ok(limits)
}

/// When the instances of a plugin whose manifest is `manifest` and whose
/// memory limit is `limits.memory_bytes` are recycled.
pub(crate) fn recycling(
    manifest: Option<&Manifest>,
    limits: &PluginLimits,
) -> Result<Recycling, EngineError> {
    let mut recycling = Recycling::default_for(limits.memory_bytes);
    let Some(m) = manifest else {
        return Ok(recycling);
    };
    if m.recycle_after_calls == Some(0) {
        return Err(EngineError::Manifest(
            "`recycle_after_calls` is zero, so no instance could serve a call; declare \
             how many calls one instance serves, or leave the field out to never recycle \
             on a count"
                .into(),
        ));
    }
    recycling.after_calls = m.recycle_after_calls;
    if let Some(mib) = m.recycle_above_mib {
        let limit_mib = limits.memory_bytes >> 20;
        let mib = usize::try_from(mib).unwrap_or(usize::MAX);
        if mib == 0 || mib > limit_mib {
            return Err(EngineError::Manifest(format!(
                "`recycle_above_mib` is {mib}, but it must be between 1 and the plugin's \
                 memory limit ({limit_mib} MiB): above the limit the plugin runs out of \
                 memory first; declare `recycle_after_calls: 1` for a fresh instance per call"
            )));
        }
        recycling.above_bytes = mib << 20;
    }
    Ok(recycling)
}

/// Finds the top-level `crm-consent-limits` section of a component and
/// parses it, reading section headers only: nothing is validated or
/// compiled, so an oversized plugin is refused in milliseconds. Sections of
/// nested modules and components are not the plugin's manifest. Bytes that
/// stop parsing end the search; compiling them reports what is wrong.
pub(crate) fn read(bytes: &[u8]) -> Result<Option<Manifest>, EngineError> {
    use wasmparser::{Parser, Payload};
    let mut depth = 0usize;
    let mut found: Option<&[u8]> = None;
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { break };
        match payload {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(section) if depth == 1 && section.name() == LIMITS_SECTION => {
                if found.is_some() {
                    return Err(EngineError::Manifest(format!(
                        "the component has two `{LIMITS_SECTION}` sections; keep one"
                    )));
                }
                found = Some(section.data());
            }
            _ => {}
        }
    }
    found.map(parse).transpose()
}

/// Parses a manifest's JSON.
pub fn parse(data: &[u8]) -> Result<Manifest, EngineError> {
    serde_json::from_slice(data).map_err(|e| {
        EngineError::Manifest(format!(
            "the `{LIMITS_SECTION}` section is not valid: {e}; write JSON such as \
             {{\"core_instances\": 40, \"memory_mib\": 64, \"call_ms\": 50}} with the fields \
             core_instances, memories, tables, memory_mib, call_ms, batch_contact_us, \
             recycle_after_calls, recycle_above_mib"
        ))
    })
}

/// Appends a `crm-consent-limits` custom section holding `json` to a
/// component's bytes (a custom section may follow any other): how a plugin
/// built by any toolchain gets its manifest.
pub fn with_manifest(component: &[u8], json: &str) -> Vec<u8> {
    let mut payload = Vec::new();
    leb128(&mut payload, LIMITS_SECTION.len());
    payload.extend_from_slice(LIMITS_SECTION.as_bytes());
    payload.extend_from_slice(json.as_bytes());
    let mut out = component.to_vec();
    out.push(0); // custom section id
    leb128(&mut out, payload.len());
    out.extend_from_slice(&payload);
    out
}

fn leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
