//! One live instance of a plugin: instantiated in its own store, its exports
//! type-checked, and its `policy` resource created from one config.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{Func, InstancePre, ResourceAny, TypedFunc};

use super::bindings::{BatchError, Config, ConsentPlugin, ContactBatch, Request, wit};
use super::contact::ContactState;
use super::limits::{Limit, StoreState, arm, fault_of, is_guest_fault, new_store};
use super::load::{Exports, PluginInner};
use super::verdicts::VerdictList;
use super::{EngineError, PluginLimits, Shared};

/// `policy.decide` with the host's own lowering of a contact.
pub(crate) type DecideFunc<'a> =
    TypedFunc<(ResourceAny, &'a ContactState, Request), (wit::Decision,)>;

/// `policy.decide-batch` with the host's own lifting of the verdicts.
pub(crate) type DecideBatchFunc<'a> =
    TypedFunc<(ResourceAny, Request, &'a ContactBatch), (Result<VerdictList, BatchError>,)>;

/// Instantiates in a fresh store and type-checks the exports (the part of
/// validation wasmtime only does against an instance).
fn instantiate(
    shared: &Shared,
    limits: &PluginLimits,
    pre: &InstancePre<StoreState>,
    exports: &Exports,
    api_version: &str,
) -> Result<(Store<StoreState>, ConsentPlugin, [Func; 2]), EngineError> {
    let mut store = new_store(shared, limits);
    let instance = pre.instantiate(&mut store).map_err(|e| {
        if is_guest_fault(&store, &e) {
            EngineError::Fault {
                during: "instantiating the plugin",
                fault: fault_of(shared, &store, &e, Limit::Setup),
            }
        } else if e
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            EngineError::Instantiate(format!(
                "{e:#}; each policy holds one instance: drop policies no longer used, \
                 or raise the engine option `max_instances`"
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
    limits: &PluginLimits,
    pre: &InstancePre<StoreState>,
    exports: &Exports,
    api_version: &str,
) -> Result<(), EngineError> {
    instantiate(shared, limits, pre, exports, api_version).map(drop)
}

/// One live instance and its `policy` resource.
pub(crate) struct Live {
    pub(crate) store: Store<StoreState>,
    pub(crate) bindings: ConsentPlugin,
    /// `policy.decide`, type-checked as a [`DecideFunc`] at instantiation.
    pub(crate) decide: Func,
    /// `policy.decide-batch`, type-checked as a [`DecideBatchFunc`].
    pub(crate) decide_batch: Func,
    pub(crate) policy: ResourceAny,
    /// The calls this instance served, to recycle it after a count.
    pub(crate) served: u64,
}

impl Live {
    pub(crate) fn create(plugin: &PluginInner, cfg: &Config) -> Result<Live, EngineError> {
        let shared = &plugin.shared;
        let (mut store, bindings, [decide, decide_batch]) = instantiate(
            shared,
            &plugin.limits,
            &plugin.pre,
            &plugin.exports,
            &plugin.info.api_version,
        )?;
        arm(&mut store, shared, Limit::Setup);
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
                served: 0,
            }),
            Ok(Err(refused)) => Err(EngineError::Config(refused)),
            Err(e) => Err(EngineError::Fault {
                during: "creating the policy",
                fault: fault_of(shared, &store, &e, Limit::Setup),
            }),
        }
    }
}
