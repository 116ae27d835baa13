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

mod answers;
pub(crate) mod bindings;
mod cache;
mod chain;
pub(crate) mod contact;
mod error;
mod fuel;
mod instance;
mod limits;
mod load;
mod manifest;
mod policy;
mod since_v0_1;
#[cfg(test)]
mod tests;
mod verdicts;
mod versions;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::Linker;
use wasmtime::{InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

// The contract's types are public as `crate::wit`; the engine uses them
// under their own names.
pub(crate) use bindings::{
    Channel, Config, ConsentRecord, ConsentStatus, ConsentType, ContactBatch, ContactFlags,
    JustificationReason, LegalBasis, Outcome, Preference, Purpose, PurposeBasis, ReasonCode,
    Request, SubscriptionState, SubscriptionType, Switches, Verdict,
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
pub use policy::Policy;

use limits::StoreState;
use versions::ApiVersion;

/// The WIT package the plugin implements.
pub const API_PACKAGE: &str = "crm:consent";
/// The version of the contract this host was built against, which new
/// plugins target. Plugins exporting a semver-compatible version (`0.2.x`)
/// are accepted, and so are those of [`SUPPORTED_API_VERSIONS`].
pub const API_VERSION: &str = "0.2.0";

/// Every contract version this host runs, oldest first (the README keeps
/// the compatibility table): a plugin exporting a semver-compatible version
/// of any of them loads.
pub const SUPPORTED_API_VERSIONS: &[&str] = &["0.1.0", API_VERSION];

/// How often the ticker thread advances the engine's epoch. Deadlines are
/// counted in ticks, so this is the resolution of `call_timeout`.
const TICK: Duration = Duration::from_millis(1);

/// The least time instantiation and `policy.create` get. They run once per
/// policy (and after a fault), not per decision, and a config may be large;
/// above all, a wall-clock deadline as tight as `call_timeout` fails them
/// spuriously whenever the thread is descheduled on a busy machine. The
/// plugin imports nothing and so is deterministic: a create that succeeded
/// once succeeds again on restart, so this budget is not spent per call.
const SETUP_TIMEOUT: Duration = Duration::from_secs(1);

/// Guard pages after each linear memory's 4 GiB reservation: a load at a
/// 32-bit address plus a constant offset below this lands in the guard and
/// traps, so Cranelift needs no bounds check for it.
const MEMORY_GUARD_BYTES: u64 = 2 << 20;

/// Everything a 32-bit memory can address.
const WASM32_SPACE: u64 = 4 << 30;

/// A Rust component has one core instance, plus a few shim instances that
/// `wit-component` adds; a wider margin costs nothing but bookkeeping. The
/// default of a plugin without a limits manifest.
pub const CORE_INSTANCES_PER_COMPONENT: u32 = 8;
/// The plugin's own memory, plus one for an adapter shim if any.
pub const MEMORIES_PER_COMPONENT: u32 = 2;
/// The indirect-call table, plus the shims' tables.
pub const TABLES_PER_COMPONENT: u32 = 4;

/// Limits and caching for an [`Engine`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// The most linear memory one plugin instance may use, unless its
    /// limits manifest declares otherwise. Default 32 MiB.
    pub memory_limit_bytes: usize,
    /// The longest one call into the plugin may run, wall clock, unless its
    /// limits manifest declares otherwise. Default 10 ms; a `decide-batch`
    /// gets 2 µs more per contact. The backstop behind `fuel`, which stops a
    /// loop first on a loaded machine.
    pub call_timeout: Duration,
    /// The most a plugin's limits manifest may ask for; a plugin asking more
    /// is refused before it is compiled. `None`: [`default_caps`] (today's
    /// limits, 10 ms a call), with `memory_limit_bytes` if that is more, so
    /// a plugin may only declare tighter limits. Caps below the defaults are
    /// refused: the reference plugin must still run.
    pub caps: Option<PluginLimits>,
    /// Where compiled plugins are cached; `None` compiles on every load.
    pub cache_dir: Option<PathBuf>,
    /// The most plugin instances alive at once in this engine (each
    /// [`Policy`] holds one). Sizes the pooling allocator. Default 64.
    pub max_instances: u32,
    /// The deterministic work budget of each call, in wasmtime fuel. It
    /// stops a looping plugin after the same amount of work however loaded
    /// the machine is; `call_timeout` stays as the wall-clock backstop.
    /// `None` turns fuel metering off, only to measure what it costs.
    pub fuel: Option<FuelBudget>,
    /// Profiling of the compiled plugin. Default off; the environment
    /// variable `CRM_CONSENT_PROFILE=perfmap` turns the perf map on too.
    pub profiling: Profiling,
}

/// How the engine exposes compiled plugin code to profilers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Profiling {
    /// No profiler support: nothing is written outside the cache directory.
    #[default]
    Off,
    /// Writes `/tmp/perf-<pid>.map` for Linux `perf`. One file per process
    /// that is never removed, hence opt-in.
    PerfMap,
}

/// The environment variable that turns profiling on without code changes.
pub const PROFILE_ENV: &str = "CRM_CONSENT_PROFILE";

impl Profiling {
    /// The option, or `perfmap` from [`PROFILE_ENV`].
    fn effective(self) -> Profiling {
        match std::env::var(PROFILE_ENV) {
            Ok(value) if value.trim().eq_ignore_ascii_case("perfmap") => Profiling::PerfMap,
            _ => self,
        }
    }
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            memory_limit_bytes: 32 << 20,
            call_timeout: Duration::from_millis(10),
            cache_dir: None,
            max_instances: 64,
            caps: None,
            fuel: Some(FuelBudget::default()),
            profiling: Profiling::Off,
        }
    }
}

/// The process-wide wasmtime engine for consent plugins. Cloning is cheap
/// (a reference count): every clone shares the one wasmtime engine, its
/// instance pool and its epoch ticker.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

/// What every plugin and policy of one engine shares. Plugins and policies
/// hold an `Arc` of it, so the epoch ticker keeps running while any of them
/// is alive (a policy without a ticker would have no deadline at all) and
/// stops when the last one is dropped.
pub(crate) struct Shared {
    pub(crate) wasm: wasmtime::Engine,
    /// One linker per contract version ([`ApiVersion::ALL`] order), as Zed
    /// keeps one per `since_v*`: empty today, as a plugin imports nothing,
    /// but where a version's host functions would be added.
    linkers: [Linker<StoreState>; ApiVersion::ALL.len()],
    pub(crate) opts: EngineOptions,
    /// The limits of a plugin that declares none.
    pub(crate) defaults: PluginLimits,
    /// The most a plugin may declare.
    pub(crate) caps: PluginLimits,
    /// Hex digest of `precompile_compatibility_hash`: part of the cache key.
    pub(crate) compatibility: String,
    /// The profiler the engine was built with (option or environment).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) profiling: Profiling,
    _ticker: Ticker,
}

impl Shared {
    /// The linker of plugins exporting `version`.
    pub(crate) fn linker(&self, version: ApiVersion) -> &Linker<StoreState> {
        &self.linkers[version.index()]
    }
}

impl Engine {
    /// Creates the engine and starts its epoch ticker thread.
    pub fn new(opts: EngineOptions) -> Result<Self, EngineError> {
        check_options(&opts)?;
        let (defaults, caps) = limits_of_options(&opts)?;

        // The pool is sized for the caps; each store then holds its plugin
        // to the limits it declared (see `limits::new_store`).
        let mut pool = PoolingAllocationConfig::new();
        let n = opts.max_instances;
        pool.total_component_instances(n)
            .total_core_instances(n.saturating_mul(caps.core_instances))
            .max_core_instances_per_component(caps.core_instances)
            .total_memories(n.saturating_mul(caps.memories))
            .max_memories_per_component(caps.memories)
            .total_tables(n.saturating_mul(caps.tables))
            .max_tables_per_component(caps.tables)
            .max_memory_size(caps.memory_bytes)
            .max_unused_warm_slots(n);

        let profiling = opts.profiling.effective();
        let mut config = wasmtime::Config::new();
        config
            .wasm_component_model(true)
            .cranelift_opt_level(OptLevel::Speed)
            .epoch_interruption(true)
            .consume_fuel(opts.fuel.is_some())
            .profiler(match profiling {
                Profiling::Off => wasmtime::ProfilingStrategy::None,
                Profiling::PerfMap => wasmtime::ProfilingStrategy::PerfMap,
            })
            // Reserve the whole 32-bit address space per memory slot (virtual
            // only; `memory_limit_bytes` still caps what may be committed), so
            // Cranelift elides the bounds check of every guest load and store.
            // With a reservation of just the limit, explicit bounds checks made
            // a 100k-contact batch 2.3x slower (7.0 ms against 3.0 ms).
            .memory_reservation(WASM32_SPACE)
            .memory_guard_size(MEMORY_GUARD_BYTES)
            .memory_reservation_for_growth(0)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let wasm =
            wasmtime::Engine::new(&config).map_err(|e| EngineError::Setup(format!("{e:#}")))?;

        let compatibility = {
            let mut hasher = Sha256Hasher(Sha256::new());
            std::hash::Hash::hash(&wasm.precompile_compatibility_hash(), &mut hasher);
            hex::encode(&hasher.0.finalize()[..12])
        };
        let ticker = Ticker::start(wasm.clone())?;
        Ok(Engine {
            shared: Arc::new(Shared {
                linkers: ApiVersion::ALL.map(|_| Linker::new(&wasm)),
                wasm,
                defaults,
                caps,
                opts,
                compatibility,
                profiling,
                _ticker: ticker,
            }),
        })
    }

    /// The options this engine was created with.
    pub fn options(&self) -> &EngineOptions {
        &self.shared.opts
    }

    /// The most a plugin's limits manifest may ask for.
    pub fn caps(&self) -> &PluginLimits {
        &self.shared.caps
    }

    /// Reads the limits manifest of `bytes` and checks it against the caps,
    /// without compiling anything: the limits the plugin would run with.
    pub fn check_limits(&self, bytes: &[u8]) -> Result<PluginLimits, EngineError> {
        load::limits_of(&self.shared.defaults, &self.shared.caps, bytes)
    }

    /// Checks that `bytes` are a consent plugin this host can run: a
    /// component exporting `crm:consent/rules` in a version this host runs
    /// ([`SUPPORTED_API_VERSIONS`]) with that contract's types, and
    /// importing nothing callable. Compiles it (through the cache)
    /// and instantiates it once in a throwaway store, because wasmtime
    /// type-checks typed exports against an instance.
    pub fn validate(&self, bytes: &[u8]) -> Result<ComponentInfo, EngineError> {
        Ok(load::prepare(&self.shared, bytes, load::Cache::Use)?
            .info()
            .clone())
    }

    /// Validates, compiles (or loads from the disk cache) and
    /// pre-instantiates a plugin.
    pub fn load(&self, bytes: &[u8]) -> Result<Plugin, EngineError> {
        load::prepare(&self.shared, bytes, load::Cache::Use)
    }

    /// Like [`Engine::load`], but compiles `bytes` now without reading or
    /// writing the disk cache, for checks that must not trust it (replaying
    /// a logged decision). The plugin is named by the SHA-256 of `bytes`.
    pub fn load_uncached(&self, bytes: &[u8]) -> Result<Plugin, EngineError> {
        load::prepare(&self.shared, bytes, load::Cache::Bypass)
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("options", &self.shared.opts)
            .finish_non_exhaustive()
    }
}

fn check_options(opts: &EngineOptions) -> Result<(), EngineError> {
    const PAGE: usize = 64 << 10;
    if opts.memory_limit_bytes < PAGE {
        return Err(EngineError::Options(format!(
            "`memory_limit_bytes` is {}, below one WebAssembly page; give it at least \
             65536 bytes",
            opts.memory_limit_bytes
        )));
    }
    if opts.call_timeout.is_zero() {
        return Err(EngineError::Options(
            "`call_timeout` is zero, so every call would time out; give calls some time".into(),
        ));
    }
    if opts.max_instances == 0 {
        return Err(EngineError::Options(
            "`max_instances` is zero, so no plugin could run; allow at least one".into(),
        ));
    }
    if let Some(fuel) = &opts.fuel {
        fuel.check()?;
    }
    Ok(())
}

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
fn limits_of_options(opts: &EngineOptions) -> Result<(PluginLimits, PluginLimits), EngineError> {
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

/// A timeout in epoch ticks, rounded up: a call never gets less than asked.
fn ticks(timeout: Duration) -> u64 {
    let ticks = timeout.as_nanos().div_ceil(TICK.as_nanos()).max(1);
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

/// Feeds `Hash` output into SHA-256, for a cache key that is stable across
/// runs (std's `DefaultHasher` makes no such promise).
struct Sha256Hasher(Sha256);

impl std::hash::Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        0 // never read: only the SHA-256 digest is
    }
}

/// Advances the engine's epoch every [`TICK`] until dropped.
struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: wasmtime::Engine) -> Result<Self, EngineError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("crm-consent-epoch".into())
            .spawn(move || {
                // Dropping the sender disconnects the channel and ends the loop at once.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                    engine.increment_epoch();
                }
            })
            .map_err(|e| {
                EngineError::Setup(format!("cannot start the epoch ticker thread: {e}"))
            })?;
        Ok(Ticker {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
