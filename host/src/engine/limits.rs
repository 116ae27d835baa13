//! The limits of a plugin store and of each call into it: memory capped by
//! a limiter that remembers a refused growth, a fuel budget and an epoch
//! deadline armed afresh before every call, and the fault each limit names.

use wasmtime::{ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder};

use super::epoch::{Running, SETUP_TIMEOUT, ticks};
use super::error::Budget;
use super::{Fault, PluginLimits, Shared};

/// The data of a plugin store: its limits, and whether a memory growth was
/// refused (which tells an out-of-memory apart from any other trap).
pub(crate) struct StoreState {
    limits: StoreLimits,
    /// The plugin's own limits (its manifest, bounded by the caps).
    plugin: PluginLimits,
    /// `plugin.call_timeout` in ticks.
    call_ticks: u64,
    /// The deadline of instantiation and `policy.create`: at least
    /// `SETUP_TIMEOUT`, at least `plugin.call_timeout`.
    setup_timeout: std::time::Duration,
    memory_refused: bool,
    /// The linear memory of the instance, all memories together: what the
    /// limiter granted, from their creation (current 0) on. Read after each
    /// call to recycle a creeping instance, at the cost of a load.
    memory_bytes: usize,
}

impl StoreState {
    /// The instance's linear memory in bytes.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }
}

impl ResourceLimiter for StoreState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let verdict = self.limits.memory_growing(current, desired, maximum);
        if matches!(verdict, Ok(true)) {
            self.memory_bytes = self
                .memory_bytes
                .saturating_add(desired.saturating_sub(current));
        } else {
            self.memory_refused = true;
        }
        verdict
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.memory_refused = true;
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

pub(crate) fn new_store(shared: &Shared, plugin: &PluginLimits) -> Store<StoreState> {
    let to_usize = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
    let limits = StoreLimitsBuilder::new()
        .memory_size(plugin.memory_bytes)
        .instances(to_usize(plugin.core_instances))
        .memories(to_usize(plugin.memories))
        .tables(to_usize(plugin.tables))
        // A refused growth traps at once instead of returning -1 to a guest
        // that would abort anyway: the fault is then reported where it happened.
        .trap_on_grow_failure(true)
        .build();
    let mut store = Store::new(
        &shared.wasm,
        StoreState {
            limits,
            plugin: *plugin,
            call_ticks: ticks(plugin.call_timeout),
            setup_timeout: plugin.call_timeout.max(SETUP_TIMEOUT),
            memory_refused: false,
            memory_bytes: 0,
        },
    );
    store.limiter(|state| state);
    store.epoch_deadline_trap();
    store
}

/// Which budget a call runs under.
#[derive(Clone, Copy)]
pub(crate) enum Limit {
    /// Instantiation and `policy.create`.
    Setup,
    /// `decide`, `explain`, `reasons`.
    Call,
    /// `decide-batch` of this many contacts.
    Batch(usize),
}

impl Limit {
    fn budget(self, shared: &Shared, state: &StoreState) -> (Budget, u64) {
        let fuel = shared.opts.fuel;
        let plugin = &state.plugin;
        match self {
            Limit::Setup => (
                Budget {
                    timeout: state.setup_timeout,
                    fuel: fuel.map(|f| f.setup),
                },
                ticks(state.setup_timeout),
            ),
            Limit::Call => (
                Budget {
                    timeout: plugin.call_timeout,
                    // The plugin's own budget: its manifest may ask more.
                    fuel: fuel.map(|_| plugin.call_fuel),
                },
                state.call_ticks,
            ),
            Limit::Batch(contacts) => {
                let extra = plugin
                    .batch_time_per_contact
                    .saturating_mul(u32::try_from(contacts).unwrap_or(u32::MAX));
                let timeout = plugin.call_timeout.saturating_add(extra);
                (
                    Budget {
                        timeout,
                        fuel: fuel.map(|f| {
                            let contacts = u64::try_from(contacts).unwrap_or(u64::MAX);
                            f.batch_base
                                .saturating_add(plugin.batch_contact_fuel.saturating_mul(contacts))
                        }),
                    },
                    ticks(timeout),
                )
            }
        }
    }
}

/// Gives the store a fresh fuel budget and deadline for the next call. The
/// deadline runs out only while the call holds what this returns: the
/// epoch advances only while some call does (`epoch`).
pub(crate) fn arm<'s>(
    store: &mut Store<StoreState>,
    shared: &'s Shared,
    limit: Limit,
) -> Running<'s> {
    let running = shared.ticker.running();
    let (budget, ticks) = limit.budget(shared, store.data());
    if let Some(fuel) = budget.fuel {
        store
            .set_fuel(fuel)
            .expect("fuel is on in this engine's config whenever a budget is set");
    }
    store.set_epoch_deadline(ticks);
    running
}

pub(crate) fn fault_of(
    shared: &Shared,
    store: &Store<StoreState>,
    error: &wasmtime::Error,
    limit: Limit,
) -> Fault {
    Fault::classify(
        error,
        store.data().memory_refused,
        limit.budget(shared, store.data()).0,
        store.data().plugin.memory_bytes,
    )
}

/// Whether `error` comes from the guest misbehaving rather than from wasmtime
/// refusing to instantiate (e.g. the instance pool is full).
pub(crate) fn is_guest_fault(store: &Store<StoreState>, error: &wasmtime::Error) -> bool {
    store.data().memory_refused || error.downcast_ref::<wasmtime::Trap>().is_some()
}
