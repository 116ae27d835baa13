//! Running the plugin: one store and instance per [`Policy`], a deadline and
//! a memory cap on every call, and failing closed when the plugin faults.

use std::sync::Arc;

use wasmtime::component::{Func, InstancePre, ResourceAny, TypedFunc};
use wasmtime::{ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder};

use super::bindings::{
    BatchError, Channel, Config, ConsentPlugin, ContactBatch, Outcome, REASON_CODES, ReasonCode,
    Request, Verdict, wit,
};
use super::contact::{ContactState, Decision, Denied, JustifyNeeded};
use super::load::{Exports, Plugin, PluginInner};
use super::verdicts::VerdictList;
use super::{EngineError, Fault, Shared};

/// What `explain` answers when the plugin cannot.
const FAULT_SENTENCE: &str = "No explanation is available: the consent plugin failed, so contact is denied until it works again.";

/// The verdict of every contact of a batch the plugin failed on.
const FAULT_VERDICT: Verdict = Verdict {
    outcome: Outcome::Deny,
    code: ReasonCode::PluginFault,
};

/// The data of a plugin store: its limits, and whether a memory growth was
/// refused (which tells an out-of-memory apart from any other trap).
pub(crate) struct StoreState {
    limits: StoreLimits,
    memory_refused: bool,
}

impl ResourceLimiter for StoreState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let verdict = self.limits.memory_growing(current, desired, maximum);
        if !matches!(verdict, Ok(true)) {
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

fn new_store(shared: &Shared) -> Store<StoreState> {
    let limits = StoreLimitsBuilder::new()
        .memory_size(shared.opts.memory_limit_bytes)
        // A refused growth traps at once instead of returning -1 to a guest
        // that would abort anyway: the fault is then reported where it happened.
        .trap_on_grow_failure(true)
        .build();
    let mut store = Store::new(
        &shared.wasm,
        StoreState {
            limits,
            memory_refused: false,
        },
    );
    store.limiter(|state| state);
    store.epoch_deadline_trap();
    store.set_epoch_deadline(shared.setup_ticks);
    store
}

/// Which deadline a call ran under, to name it in a timeout.
#[derive(Clone, Copy)]
enum Deadline {
    Setup,
    Call,
}

fn fault_of(
    shared: &Shared,
    store: &Store<StoreState>,
    error: &wasmtime::Error,
    deadline: Deadline,
) -> Fault {
    let timeout = match deadline {
        Deadline::Setup => shared.setup_timeout,
        Deadline::Call => shared.opts.call_timeout,
    };
    Fault::classify(
        error,
        store.data().memory_refused,
        timeout,
        shared.opts.memory_limit_bytes,
    )
}

/// Whether `error` comes from the guest misbehaving rather than from wasmtime
/// refusing to instantiate (e.g. the instance pool is full).
fn is_guest_fault(store: &Store<StoreState>, error: &wasmtime::Error) -> bool {
    store.data().memory_refused || error.downcast_ref::<wasmtime::Trap>().is_some()
}

/// `policy.decide` with the host's own lowering of a contact.
type DecideFunc<'a> = TypedFunc<(ResourceAny, &'a ContactState, Request), (wit::Decision,)>;

/// `policy.decide-batch` with the host's own lifting of the verdicts.
type DecideBatchFunc<'a> =
    TypedFunc<(ResourceAny, Request, &'a ContactBatch), (Result<VerdictList, BatchError>,)>;

/// Instantiates in a fresh store and type-checks the exports (the part of
/// validation wasmtime only does against an instance).
fn instantiate(
    shared: &Shared,
    pre: &InstancePre<StoreState>,
    exports: &Exports,
    api_version: &str,
) -> Result<(Store<StoreState>, ConsentPlugin, [Func; 2]), EngineError> {
    let mut store = new_store(shared);
    let instance = pre.instantiate(&mut store).map_err(|e| {
        if is_guest_fault(&store, &e) {
            EngineError::Fault {
                during: "instantiating the plugin",
                fault: fault_of(shared, &store, &e, Deadline::Setup),
            }
        } else if e
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            EngineError::Instantiate(format!(
                "{e:#} (EngineOptions::max_instances; each Policy holds one)"
            ))
        } else {
            EngineError::Instantiate(format!("{e:#}"))
        }
    })?;
    let wrong_types = |e: wasmtime::Error| EngineError::WrongTypes {
        version: api_version.to_owned(),
        detail: format!("{e:#}"),
    };
    let bindings = exports
        .indices
        .load(&mut store, &instance)
        .map_err(wrong_types)?;
    let decide = *instance
        .get_typed_func::<(ResourceAny, &ContactState, Request), (wit::Decision,)>(
            &mut store,
            &exports.decide,
        )
        .map_err(wrong_types)?
        .func();
    let decide_batch = *instance
        .get_typed_func::<(ResourceAny, Request, &ContactBatch), (Result<VerdictList, BatchError>,)>(
            &mut store,
            &exports.decide_batch,
        )
        .map_err(wrong_types)?
        .func();
    Ok((store, bindings, [decide, decide_batch]))
}

pub(crate) fn trial_instantiate(
    shared: &Arc<Shared>,
    pre: &InstancePre<StoreState>,
    exports: &Exports,
    api_version: &str,
) -> Result<(), EngineError> {
    instantiate(shared, pre, exports, api_version).map(drop)
}

/// One live instance and its `policy` resource.
struct Live {
    store: Store<StoreState>,
    bindings: ConsentPlugin,
    /// `policy.decide`, type-checked as a [`DecideFunc`] at instantiation.
    decide: Func,
    /// `policy.decide-batch`, type-checked as a [`DecideBatchFunc`].
    decide_batch: Func,
    policy: ResourceAny,
}

impl Live {
    fn create(plugin: &PluginInner, cfg: &Config) -> Result<Live, EngineError> {
        let shared = &plugin.shared;
        let (mut store, bindings, [decide, decide_batch]) = instantiate(
            shared,
            &plugin.pre,
            &plugin.exports,
            &plugin.info.api_version,
        )?;
        store.set_epoch_deadline(shared.setup_ticks);
        match bindings
            .crm_consent_rules()
            .policy()
            .call_create(&mut store, cfg)
        {
            Ok(Ok(policy)) => Ok(Live {
                store,
                bindings,
                decide,
                decide_batch,
                policy,
            }),
            Ok(Err(refused)) => Err(EngineError::Config(refused)),
            Err(e) => Err(EngineError::Fault {
                during: "creating the policy",
                fault: fault_of(shared, &store, &e, Deadline::Setup),
            }),
        }
    }
}

/// The plugin's rules built from one config, in their own store. `Send`, not
/// `Sync`: share it behind a `Mutex`.
pub struct Policy {
    plugin: Plugin,
    config: Config,
    /// `None` after a fault when a fresh instance could not be created; the
    /// next call tries again.
    live: Option<Live>,
    /// `explain` sentences already fetched, indexed by `ReasonCode as usize`.
    sentences: [Option<String>; REASON_CODES],
    /// `policy.reasons` already fetched, indexed by `Channel as usize`.
    reasons: [Option<Vec<u32>>; CHANNELS],
}

/// Number of `channel` cases (bindgen's enums are `repr(u8)` in WIT order).
const CHANNELS: usize = Channel::Sms as usize + 1;

impl Policy {
    pub(crate) fn create(plugin: Plugin, cfg: &Config) -> Result<Policy, EngineError> {
        let live = Live::create(&plugin.inner, cfg)?;
        Ok(Policy {
            plugin,
            config: cfg.clone(),
            live: Some(live),
            sentences: Default::default(),
            reasons: Default::default(),
        })
    }

    /// SHA-256 of the plugin that decides, to record with every decision.
    pub fn plugin_sha256(&self) -> &str {
        self.plugin.sha256()
    }

    /// Asks the plugin for a decision. Never fails: a trap, timeout or
    /// out-of-memory is a deny with [`ReasonCode::PluginFault`] and a
    /// sentence naming the fault.
    pub fn decide(&mut self, contact: &ContactState, req: &Request) -> Decision {
        let req = *req;
        let decided = self.call("decide", |live| {
            // SAFETY: `live.decide` was type-checked as a `DecideFunc` when
            // the instance was created.
            let decide: DecideFunc<'_> = unsafe { TypedFunc::new_unchecked(live.decide) };
            decide
                .call(&mut live.store, (live.policy, contact, req))
                .map(|(decision,)| decision)
        });
        match decided {
            Ok(wit::Decision::Allow(allowed)) => Decision::Allow(allowed),
            Ok(wit::Decision::Deny(code)) => Decision::Deny(Denied {
                code,
                message: self.explain(code),
            }),
            Ok(wit::Decision::Justify(code)) => match self.reasons(req.channel) {
                Ok(reasons) => Decision::Justify(JustifyNeeded { code, reasons }),
                Err(message) => Decision::Deny(Denied {
                    code: ReasonCode::PluginFault,
                    message,
                }),
            },
            Err(message) => Decision::Deny(Denied {
                code: ReasonCode::PluginFault,
                message,
            }),
        }
    }

    /// The reasons an operator may pick from on `channel`: fetched from the
    /// plugin once per channel and kept, as they are the same for every
    /// contact. On a fault, the sentence naming it.
    pub fn reasons(&mut self, channel: Channel) -> Result<Vec<u32>, String> {
        let slot = channel as usize;
        if let Some(reasons) = &self.reasons[slot] {
            return Ok(reasons.clone());
        }
        let reasons = self.call("reasons", |live| {
            live.bindings.crm_consent_rules().policy().call_reasons(
                &mut live.store,
                live.policy,
                channel,
            )
        })?;
        self.reasons[slot] = Some(reasons.clone());
        Ok(reasons)
    }

    /// Asks the plugin for one verdict per contact of `batch`.
    ///
    /// A fault is `Ok` with a deny/`plugin-fault` verdict for every contact;
    /// a batch the plugin refuses (row counts that do not match the columns)
    /// is [`EngineError::Batch`].
    pub fn decide_batch(
        &mut self,
        req: &Request,
        batch: &ContactBatch,
    ) -> Result<Vec<Verdict>, EngineError> {
        let req = *req;
        let contacts = batch.len();
        let decided = self.call("decide-batch", |live| {
            // SAFETY: `live.decide_batch` was type-checked as a
            // `DecideBatchFunc` when the instance was created.
            let decide: DecideBatchFunc<'_> =
                unsafe { TypedFunc::new_unchecked(live.decide_batch) };
            decide
                .call(&mut live.store, (live.policy, req, batch))
                .map(|(verdicts,)| verdicts.map(|list| list.0))
        });
        match decided {
            Ok(Ok(verdicts)) if verdicts.len() == contacts => Ok(verdicts),
            Ok(Ok(verdicts)) => {
                tracing::error!(
                    plugin = self.plugin_sha256(),
                    kind = "error",
                    call = "decide-batch",
                    "plugin returned {} verdicts for {contacts} contacts; the batch failed closed",
                    verdicts.len()
                );
                Ok(vec![FAULT_VERDICT; contacts])
            }
            Ok(Err(BatchError { message })) => Err(EngineError::Batch(message)),
            Err(_) => Ok(vec![FAULT_VERDICT; contacts]),
        }
    }

    /// A sentence for people explaining `code`. Fetched from the plugin once
    /// per code and kept; when the plugin fails, a fixed host sentence (not
    /// kept, so a later call can still get the plugin's).
    pub fn explain(&mut self, code: ReasonCode) -> String {
        let slot = code as usize;
        if let Some(sentence) = &self.sentences[slot] {
            return sentence.clone();
        }
        match self.call("explain", |live| {
            live.bindings
                .crm_consent_rules()
                .call_explain(&mut live.store, code)
        }) {
            Ok(sentence) => {
                self.sentences[slot] = Some(sentence.clone());
                sentence
            }
            Err(_) => FAULT_SENTENCE.to_owned(),
        }
    }

    /// Runs `call` on the live instance under a fresh deadline. On a fault,
    /// returns the sentence naming it, after replacing the instance.
    #[inline]
    fn call<R>(
        &mut self,
        name: &'static str,
        call: impl FnOnce(&mut Live) -> wasmtime::Result<R>,
    ) -> Result<R, String> {
        if self.live.is_none() {
            self.restart()?;
        }
        let live = self.live.as_mut().expect("restart leaves a live instance");
        live.store
            .set_epoch_deadline(self.plugin.inner.shared.deadline_ticks);
        match call(live) {
            Ok(value) => Ok(value),
            Err(error) => Err(self.fault(name, &error)),
        }
    }

    #[cold]
    #[inline(never)]
    fn fault(&mut self, call: &'static str, error: &wasmtime::Error) -> String {
        let live = self.live.take().expect("a call ran on the live instance");
        let fault = fault_of(
            &self.plugin.inner.shared,
            &live.store,
            error,
            Deadline::Call,
        );
        tracing::error!(
            plugin = self.plugin_sha256(),
            kind = fault.kind().as_str(),
            call,
            "{fault}; the call failed closed"
        );
        // A component instance that trapped cannot be entered again, and one
        // stopped mid-call may hold half-updated state: throw it away (giving
        // its pool slot back first) and build a fresh one from the same config.
        drop(live);
        let _ = self.restart();
        fault.message().to_owned()
    }

    /// Replaces the instance; on failure leaves none and returns why.
    fn restart(&mut self) -> Result<(), String> {
        match Live::create(&self.plugin.inner, &self.config) {
            Ok(live) => {
                self.live = Some(live);
                Ok(())
            }
            Err(e) => {
                tracing::error!(
                    plugin = self.plugin_sha256(),
                    "cannot replace the faulted plugin instance: {e}"
                );
                Err(format!("plugin could not be restarted after a fault: {e}"))
            }
        }
    }
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("plugin_sha256", &self.plugin_sha256())
            .field("live", &self.live.is_some())
            .finish_non_exhaustive()
    }
}
