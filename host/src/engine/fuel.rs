//! The deterministic work budget of a plugin call, in wasmtime fuel.
//!
//! Fuel counts WebAssembly instructions (about one unit each), so a budget
//! stops a looping plugin after the same amount of work whether the machine
//! is idle or busy, in a debug or a release host: the guest code is compiled
//! by Cranelift either way. The epoch deadline (`call_timeout`) stays as the
//! wall-clock backstop for what fuel does not see, such as a bulk
//! `memory.fill` that costs one unit but touches megabytes.
//!
//! The defaults were measured with the reference plugin (the figures at each
//! constant; `fuel_use_of_the_reference_plugin` in the engine tests prints
//! them) and leave a margin of 20 times or more, so that an honest plugin
//! never runs out, while a spin loop runs out of a single call's budget in
//! a few milliseconds of CPU: one unit is about one simple instruction.

use super::EngineError;

/// Fuel for one `decide`, `explain` or `reasons` call.
///
/// The reference plugin uses about 2,400-3,000 units for a contact with
/// five records (most of it allocating the facts list) and about 292,000
/// for a contact with 1,000 consent records, 100 bases and 100 preferences,
/// far more than any real contact holds; `explain` about 420. Ten million
/// is 34 times that extreme, and a spin loop burns it in a few milliseconds
/// of CPU, well inside the 100 ms the issue allows on a loaded machine.
pub const DEFAULT_CALL_FUEL: u64 = 10_000_000;

/// Fuel for instantiating the plugin and `policy.create`: once per policy
/// and after a fault, not per decision, with a config that may hold
/// thousands of catalog entries (the plugin checks and indexes them). The
/// reference plugin uses about 11,500 units for a one-type config and 3.3
/// million for a config of 1,000 consent types; 100 million is 30 times
/// that, and a create that loops is still stopped within a tenth of a
/// second of CPU.
pub const DEFAULT_SETUP_FUEL: u64 = 100_000_000;

/// Fuel of a `decide-batch` call before its contacts: entering, reading the
/// request and the eleven columns, writing the verdict list. The same as a
/// single call, so that an empty batch that loops is stopped as fast.
pub const DEFAULT_BATCH_BASE_FUEL: u64 = DEFAULT_CALL_FUEL;

/// Fuel per contact of a `decide-batch` call, on top of the base.
///
/// The reference plugin uses 283 units per contact of a newsletter batch
/// of mixed contacts (none, one or two records each), for 100k contacts as
/// for 1M. 6,000 per contact is 21 times that, so a 1M-contact batch gets
/// six billion units and is never cut off. The price: a batch that loops is
/// stopped only after 21 times the work of its honest run (for 100k
/// contacts about 600 million units, a few tenths of a second), and the
/// wall-clock deadline, which also grows with the batch, may stop it first.
pub const DEFAULT_BATCH_FUEL_PER_CONTACT: u64 = 6_000;

/// How much work each kind of plugin call may do; see
/// [`EngineOptions::fuel`](super::EngineOptions::fuel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuelBudget {
    /// One `decide`, `explain` or `reasons`. Default `DEFAULT_CALL_FUEL`, 10 million.
    pub call: u64,
    /// Instantiation plus `policy.create`. Default `DEFAULT_SETUP_FUEL`, 100 million.
    pub setup: u64,
    /// A `decide-batch` before its contacts. Default `DEFAULT_BATCH_BASE_FUEL`, as `call`.
    pub batch_base: u64,
    /// Each contact of a `decide-batch`. Default `DEFAULT_BATCH_FUEL_PER_CONTACT`, 6,000.
    pub batch_per_contact: u64,
}

impl Default for FuelBudget {
    fn default() -> Self {
        FuelBudget {
            call: DEFAULT_CALL_FUEL,
            setup: DEFAULT_SETUP_FUEL,
            batch_base: DEFAULT_BATCH_BASE_FUEL,
            batch_per_contact: DEFAULT_BATCH_FUEL_PER_CONTACT,
        }
    }
}

impl FuelBudget {
    /// The budget of a batch of `contacts`.
    pub fn batch(&self, contacts: usize) -> u64 {
        let contacts = u64::try_from(contacts).unwrap_or(u64::MAX);
        self.batch_base
            .saturating_add(self.batch_per_contact.saturating_mul(contacts))
    }

    pub(crate) fn check(&self) -> Result<(), EngineError> {
        for (name, value) in [
            ("fuel.call", self.call),
            ("fuel.setup", self.setup),
            ("fuel.batch_base", self.batch_base),
        ] {
            if value == 0 {
                return Err(EngineError::Options(format!(
                    "`{name}` is zero, so every call would fail; leave `fuel` at its default \
                     or set `fuel: None` to turn metering off"
                )));
            }
        }
        Ok(())
    }
}

/// Wall-clock time a batch gets per contact on top of `call_timeout`, so
/// that the backstop deadline, like the fuel, grows with the batch: a 1M
/// batch takes about 30 ms in a release build and much longer in a debug
/// host, whose lowering of the columns is unoptimised. 2 µs per contact
/// gives a 1M batch 2 s more than a single call; a loop is stopped by its
/// fuel long before.
pub(crate) const BATCH_TIME_PER_CONTACT: std::time::Duration = std::time::Duration::from_micros(2);
