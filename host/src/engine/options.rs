//! What the embedder chooses for an [`Engine`](super::Engine): limits,
//! caps, the compile cache and profiling, and the checks on them.

use std::path::PathBuf;
use std::time::Duration;

use super::{EngineError, FuelBudget, PluginLimits};

/// Limits and caching for an [`Engine`](super::Engine).
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
    ///
    /// [`default_caps`]: super::default_caps
    pub caps: Option<PluginLimits>,
    /// Where compiled plugins are cached; `None` compiles on every load.
    pub cache_dir: Option<PathBuf>,
    /// The most plugin instances alive at once in this engine (each
    /// [`Policy`](super::Policy) holds one). Sizes the pooling allocator.
    /// Default 64.
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
    pub(super) fn effective(self) -> Profiling {
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

pub(super) fn check_options(opts: &EngineOptions) -> Result<(), EngineError> {
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
