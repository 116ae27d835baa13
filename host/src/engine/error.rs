//! What can go wrong between the host and a plugin, in words that name the problem.

use std::fmt;
use std::time::Duration;

use super::bindings::{ConfigError, describe_config_error};

/// The contract versions this host accepts, for error messages.
pub(crate) use super::versions::Supported;

/// The contract a plugin is rebuilt against, for error messages.
pub(crate) const CONTRACT: &str = "crm:consent@0.2.0";

/// Errors of the engine module.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// `EngineOptions` that cannot work (zero memory, zero timeout, ...);
    /// the message names the option and what to set instead.
    #[error("invalid engine options: {0}")]
    Options(String),
    /// wasmtime refused the engine configuration.
    #[error("cannot set up the wasmtime engine: {0}")]
    Setup(String),
    /// The bytes are not a WebAssembly component (text, a core module, garbage).
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    /// The bytes claim to be a component but do not validate or compile.
    #[error("invalid WebAssembly component: {0}; rebuild the plugin")]
    InvalidComponent(String),
    /// The component does not export an interface of the world at all.
    #[error(
        "the component does not export `{expected}` (its exports: {found}); \
         build it against the `consent-plugin` world of `{CONTRACT}`"
    )]
    MissingExport {
        /// The missing interface, e.g. `crm:consent/rules@0.2.x`.
        expected: String,
        /// The component's exports, comma-separated, or `none`.
        found: String,
    },
    /// The component exports the rules interface in a version this host
    /// cannot run, such as a plugin built for `crm:consent@0.3.0` or an
    /// unversioned one.
    #[error(
        "the plugin targets {}, but this host runs {Supported}; \
         rebuild the plugin against `{CONTRACT}`",
        Targets(found)
    )]
    IncompatibleVersion {
        /// The version the component exports (`none` when unversioned).
        found: String,
    },
    /// The component imports something callable; the contract says a plugin imports nothing.
    #[error(
        "the component imports {found}, but a consent plugin must import nothing; \
         build it against the `consent-plugin` world, without WASI"
    )]
    HasImports {
        /// The offending imports, comma-separated.
        found: String,
    },
    /// The rules interface is there, but its functions or types are not the contract's.
    #[error(
        "the component exports `crm:consent/rules@{version}` with types other than the \
         contract's ({detail}); rebuild it against `{CONTRACT}`"
    )]
    WrongTypes {
        /// The exported interface version.
        version: String,
        /// What wasmtime found wrong.
        detail: String,
    },
    /// The plugin's limits manifest asks for more than the admin's caps;
    /// found before compiling.
    #[error(
        "the plugin asks for {limit} {asked}, over the cap of {cap}; raise the cap with \
         `crm-consent setup limits` if you trust the plugin, or lower what its \
         `crm-consent-limits` section asks"
    )]
    OverCap {
        /// The manifest field, e.g. `core_instances`.
        limit: &'static str,
        /// What the plugin asks, with its unit.
        asked: String,
        /// The cap, with its unit.
        cap: String,
    },
    /// The plugin's `crm-consent-limits` section cannot be read.
    #[error("invalid limits manifest: {0}")]
    Manifest(String),
    /// wasmtime could not instantiate the component (e.g. the instance pool is full).
    #[error("cannot instantiate the plugin: {0}")]
    Instantiate(String),
    /// The plugin refused the config given to `policy.create`; the message
    /// names the entry.
    #[error(
        "plugin refused the config: {}; fix that entry of the catalog",
        describe_config_error(.0)
    )]
    Config(ConfigError),
    /// The plugin trapped, timed out or ran out of memory outside a decision
    /// (while instantiating or creating the policy).
    #[error("{fault} while {during}")]
    Fault {
        /// What the host was doing: "creating the policy", "instantiating the plugin".
        during: &'static str,
        /// The fault.
        fault: Fault,
    },
    /// The plugin refused a batch (row counts do not match the columns):
    /// a bug in the plugin or in the host's columns.
    #[error("plugin refused the batch: {0}")]
    Batch(String),
    /// The plugin faulted or answered against the contract when asked for
    /// every sentence and every channel's reasons at install.
    #[error(
        "plugin failed its self-test: `{call}`: {fault}; fix the plugin, \
         or keep the one installed now"
    )]
    SelfTest {
        /// The call that failed, e.g. `explain(opted_out)` or `reasons(phone)`.
        call: String,
        /// What went wrong.
        fault: Fault,
    },
}

/// `` `crm:consent@0.1.0` ``, or an unversioned contract.
struct Targets<'a>(&'a str);

impl fmt::Display for Targets<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            "none" => f.write_str("an unversioned `crm:consent`"),
            version => write!(f, "`crm:consent@{version}`"),
        }
    }
}

/// The kind of a plugin fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// The call ran past `EngineOptions::call_timeout` (epoch deadline).
    Timeout,
    /// The call used up its fuel budget (`EngineOptions::fuel`): the
    /// deterministic stop for a plugin that loops.
    OutOfFuel,
    /// The plugin returned an answer the contract forbids: `plugin-fault`
    /// (the host's own code), an allow with a deny code or the reverse, or
    /// reason ids the config does not have.
    InvalidAnswer,
    /// The plugin tried to grow its memory past `EngineOptions::memory_limit_bytes`.
    OutOfMemory,
    /// A WebAssembly trap: `unreachable` (a Rust panic), out-of-bounds access, stack overflow.
    Trap,
    /// Anything else the call failed with, e.g. the plugin returned an invalid value.
    Error,
}

impl FaultKind {
    /// A short stable name, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Timeout => "timeout",
            FaultKind::OutOfFuel => "out-of-fuel",
            FaultKind::InvalidAnswer => "invalid-answer",
            FaultKind::OutOfMemory => "out-of-memory",
            FaultKind::Trap => "trap",
            FaultKind::Error => "error",
        }
    }
}

/// A plugin call that did not return normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    kind: FaultKind,
    message: String,
}

impl Fault {
    pub(crate) fn new(kind: FaultKind, message: String) -> Self {
        Fault { kind, message }
    }

    /// What kind of fault this was.
    pub fn kind(&self) -> FaultKind {
        self.kind
    }

    /// A sentence naming the fault, e.g. "plugin timed out after 10 ms".
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Classifies an error returned by a plugin call.
    ///
    /// `memory_refused` is set by the store's limiter when it refused a memory
    /// growth during the call: that is the only reliable sign of an
    /// out-of-memory, since the guest may report it as a plain trap.
    pub(crate) fn classify(
        error: &wasmtime::Error,
        memory_refused: bool,
        budget: Budget,
        memory_limit: usize,
    ) -> Fault {
        if let Some(InvalidAnswer(why)) = error.downcast_ref::<InvalidAnswer>() {
            return Fault::new(FaultKind::InvalidAnswer, format!("plugin {why}"));
        }
        if memory_refused {
            return Fault::new(
                FaultKind::OutOfMemory,
                format!(
                    "plugin ran out of memory (limit {})",
                    Bytes(memory_limit as u64)
                ),
            );
        }
        match error.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::Interrupt) => Fault::new(
                FaultKind::Timeout,
                format!("plugin timed out after {}", Millis(budget.timeout)),
            ),
            Some(wasmtime::Trap::OutOfFuel) => Fault::new(
                FaultKind::OutOfFuel,
                format!(
                    "plugin used up its budget of {} fuel units (it probably loops)",
                    Thousands(budget.fuel.unwrap_or(0))
                ),
            ),
            Some(trap) => {
                let trap = trap.to_string();
                let what = trap.strip_prefix("wasm trap: ").unwrap_or(&trap);
                Fault::new(FaultKind::Trap, format!("plugin trapped: {what}"))
            }
            None => Fault::new(FaultKind::Error, format!("plugin failed: {error:#}")),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The limits one call ran under, to name the one it hit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub(crate) timeout: Duration,
    /// `None` when fuel metering is off.
    pub(crate) fuel: Option<u64>,
}

/// A plugin answer that breaks the contract; the sentence completes
/// "plugin ...", e.g. "returned an allow carrying the deny code `restricted`".
#[derive(Debug)]
pub(crate) struct InvalidAnswer(pub(crate) String);

impl fmt::Display for InvalidAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plugin {}", self.0)
    }
}

impl std::error::Error for InvalidAnswer {}

/// Formats a count with thousands separators: "10,000,000".
pub(crate) struct Thousands(pub u64);

impl fmt::Display for Thousands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                f.write_str(",")?;
            }
            write!(f, "{digit}")?;
        }
        Ok(())
    }
}

/// Formats a duration as "1 s", "10 ms" or "500 µs".
pub(crate) struct Millis(pub Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.0.as_micros();
        if micros.is_multiple_of(1_000_000) {
            write!(f, "{} s", micros / 1_000_000)
        } else if micros.is_multiple_of(1000) {
            write!(f, "{} ms", micros / 1000)
        } else {
            write!(f, "{micros} µs")
        }
    }
}

/// Formats a byte count as "32 MiB", "64 KiB" or "1000 bytes".
pub(crate) struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KIB: u64 = 1024;
        const MIB: u64 = 1024 * KIB;
        match self.0 {
            n if n >= MIB && n.is_multiple_of(MIB) => write!(f, "{} MiB", n / MIB),
            n if n >= KIB && n.is_multiple_of(KIB) => write!(f, "{} KiB", n / KIB),
            n => write!(f, "{n} bytes"),
        }
    }
}
