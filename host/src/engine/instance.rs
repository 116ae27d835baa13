//! One live instance of a plugin: instantiated in its own store, its exports
//! type-checked, and its `policy` resource created from one config.
//!
//! The entry points are typed functions over the host's current types, for
//! every contract version (see `versions`); only `policy.create` is typed
//! per version, with the config converted by that version's module.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{Func, Instance, InstancePre, ResourceAny, TypedFunc};

use super::bindings::{
    BatchError, Channel, Config, ConfigError, ContactBatch, ReasonCode, Request, wit,
};
use super::contact::ContactState;
use super::limits::{Limit, StoreState, arm, fault_of, is_guest_fault, new_store};
use super::load::{Exports, PluginInner};
use super::verdicts::VerdictList;
use super::versions::ApiVersion;
use super::{EngineError, PluginLimits, Shared, since_v0_1};

/// `policy.decide` with the host's own lowering of a contact.
pub(crate) type DecideFunc<'a> =
    TypedFunc<(ResourceAny, &'a ContactState, Request), (wit::Decision,)>;

/// `policy.decide-batch` with the host's own lifting of the verdicts.
pub(crate) type DecideBatchFunc<'a> =
    TypedFunc<(ResourceAny, Request, &'a ContactBatch), (Result<VerdictList, BatchError>,)>;

/// `policy.reasons`.
pub(crate) type ReasonsFunc = TypedFunc<(ResourceAny, Channel), (Vec<u32>,)>;

/// `explain`.
pub(crate) type ExplainFunc = TypedFunc<(ReasonCode,), (String,)>;

/// `policy.create` of the current contract.
type CreateFunc<'a> = TypedFunc<(&'a Config,), (Result<ResourceAny, ConfigError>,)>;

/// `policy.create` of 0.1, which names the config's fields otherwise.
type CreateFuncV0_1<'a> = TypedFunc<(&'a since_v0_1::Config,), (Result<ResourceAny, ConfigError>,)>;

/// The entry points of one instance, type-checked.
struct Funcs {
    /// A [`CreateFunc`] or [`CreateFuncV0_1`], as the version says.
    create: Func,
    decide: Func,
    decide_batch: Func,
    reasons: ReasonsFunc,
    explain: ExplainFunc,
}

/// Instantiates in a fresh store and type-checks the exports (the part of
/// validation wasmtime only does against an instance).
fn instantiate(
    shared: &Shared,
    limits: &PluginLimits,
    pre: &InstancePre<StoreState>,
    exports: &Exports,
) -> Result<(Store<StoreState>, Funcs), EngineError> {
    let mut store = new_store(shared, limits);
    let running = arm(&mut store, shared, Limit::Setup);
    let instantiated = pre.instantiate(&mut store);
    drop(running);
    let instance = instantiated.map_err(|e| {
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
    let funcs = typed(&mut store, &instance, exports).map_err(|e| EngineError::WrongTypes {
        version: exports.version_name.clone(),
        detail: format!("{e:#}"),
    })?;
    Ok((store, funcs))
}

/// Looks the entry points up and checks their types.
fn typed(
    store: &mut Store<StoreState>,
    instance: &Instance,
    exports: &Exports,
) -> wasmtime::Result<Funcs> {
    let create = match exports.version {
        ApiVersion::V0_1 => {
            let create = instance
                .get_typed_func::<(&since_v0_1::Config,), (Result<ResourceAny, ConfigError>,)>(
                    &mut *store,
                    &exports.create,
                )?;
            *create.func()
        }
        ApiVersion::V0_2 => {
            let create = instance
                .get_typed_func::<(&Config,), (Result<ResourceAny, ConfigError>,)>(
                    &mut *store,
                    &exports.create,
                )?;
            *create.func()
        }
    };
    let decide = *instance
        .get_typed_func::<(ResourceAny, &ContactState, Request), (wit::Decision,)>(
            &mut *store,
            &exports.decide,
        )?
        .func();
    let decide_batch = *instance
        .get_typed_func::<(ResourceAny, Request, &ContactBatch), (Result<VerdictList, BatchError>,)>(
            &mut *store,
            &exports.decide_batch,
        )?
        .func();
    Ok(Funcs {
        create,
        decide,
        decide_batch,
        reasons: instance.get_typed_func(&mut *store, exports.reasons)?,
        explain: instance.get_typed_func(&mut *store, exports.explain)?,
    })
}

pub(crate) fn trial_instantiate(
    shared: &Arc<Shared>,
    limits: &PluginLimits,
    pre: &InstancePre<StoreState>,
    exports: &Exports,
) -> Result<(), EngineError> {
    instantiate(shared, limits, pre, exports).map(drop)
}

/// One live instance and its `policy` resource.
pub(crate) struct Live {
    pub(crate) store: Store<StoreState>,
    /// `policy.decide`, type-checked as a [`DecideFunc`] at instantiation.
    pub(crate) decide: Func,
    /// `policy.decide-batch`, type-checked as a [`DecideBatchFunc`].
    pub(crate) decide_batch: Func,
    pub(crate) reasons: ReasonsFunc,
    pub(crate) explain: ExplainFunc,
    pub(crate) policy: ResourceAny,
    /// The calls this instance served, to recycle it after a count.
    pub(crate) served: u64,
}

impl Live {
    pub(crate) fn create(plugin: &PluginInner, cfg: &Config) -> Result<Live, EngineError> {
        let shared = &plugin.shared;
        let (mut store, funcs) = instantiate(shared, &plugin.limits, &plugin.pre, &plugin.exports)?;
        let running = arm(&mut store, shared, Limit::Setup);
        // SAFETY: `funcs.create` was type-checked as the `CreateFunc` of
        // this plugin's version in `typed`.
        let created = match plugin.exports.version {
            ApiVersion::V0_1 => {
                let create: CreateFuncV0_1<'_> = unsafe { TypedFunc::new_unchecked(funcs.create) };
                create.call(&mut store, (&since_v0_1::config(cfg),))
            }
            ApiVersion::V0_2 => {
                let create: CreateFunc<'_> = unsafe { TypedFunc::new_unchecked(funcs.create) };
                create.call(&mut store, (cfg,))
            }
        };
        drop(running);
        match created {
            Ok((Ok(policy),)) => Ok(Live {
                store,
                decide: funcs.decide,
                decide_batch: funcs.decide_batch,
                reasons: funcs.reasons,
                explain: funcs.explain,
                policy,
                served: 0,
            }),
            Ok((Err(refused),)) => Err(EngineError::Config(refused)),
            Err(e) => Err(EngineError::Fault {
                during: "creating the policy",
                fault: fault_of(shared, &store, &e, Limit::Setup),
            }),
        }
    }
}
