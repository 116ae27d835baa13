//! The [`Engine`] handle and what all its plugins share: the wasmtime engine
//! (pooling allocator sized for the caps, fuel metering, epoch interruption),
//! one linker per contract version and the epoch ticker.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::Linker;
use wasmtime::{InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

use super::caps::limits_of_options;
use super::epoch::Ticker;
use super::limits::StoreState;
use super::options::check_options;
use super::versions::ApiVersion;
use super::{ComponentInfo, EngineError, EngineOptions, Plugin, PluginLimits, Profiling, load};

/// Guard pages after each linear memory's 4 GiB reservation: a load at a
/// 32-bit address plus a constant offset below this lands in the guard and
/// traps, so Cranelift needs no bounds check for it.
const MEMORY_GUARD_BYTES: u64 = 2 << 20;

/// Everything a 32-bit memory can address.
const WASM32_SPACE: u64 = 4 << 30;

/// The process-wide wasmtime engine for consent plugins. Cloning is cheap
/// (a reference count): every clone shares the one wasmtime engine, its
/// instance pool and its epoch ticker.
#[derive(Clone)]
pub struct Engine {
    pub(super) shared: Arc<Shared>,
}

/// What every plugin and policy of one engine shares. Plugins and policies
/// hold an `Arc` of it, so the epoch ticker lives while any of them is
/// alive (a policy without a ticker would have no deadline at all) and
/// stops when the last one is dropped. It ticks only while calls run
/// (`epoch`).
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
    pub(super) ticker: Ticker,
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
        let profiling = opts.profiling.effective();
        let config = wasm_config(&opts, &caps, profiling);
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
                ticker,
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
    /// ([`SUPPORTED_API_VERSIONS`](super::SUPPORTED_API_VERSIONS)) with that
    /// contract's types, and importing nothing callable. Compiles it (through
    /// the cache) and instantiates it once in a throwaway store, because
    /// wasmtime type-checks typed exports against an instance.
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

/// The wasmtime configuration of an engine: the pool is sized for the caps;
/// each store then holds its plugin to the limits it declared (see
/// `limits::new_store`).
fn wasm_config(
    opts: &EngineOptions,
    caps: &PluginLimits,
    profiling: Profiling,
) -> wasmtime::Config {
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
    config
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
