//! Running the plugin: one store and instance per [`Policy`], a fuel budget,
//! a deadline and a memory cap on every call, and failing closed when the
//! plugin faults or answers against the contract.

use wasmtime::component::TypedFunc;

use super::answers::{check_decision, check_reasons};
use super::bindings::{
    BatchError, Channel, Config, ContactBatch, Outcome, REASON_CODES, ReasonCode, Request, Verdict,
    wit,
};
use super::contact::{ContactState, Decision, Denied, JustifyNeeded};
use super::instance::{DecideBatchFunc, DecideFunc, Live};
use super::limits::{Limit, arm, fault_of};
use super::load::Plugin;
use super::verdicts::CODES;
use super::{EngineError, Fault, FaultKind};

/// What `explain` answers when the plugin cannot.
const FAULT_SENTENCE: &str = "No explanation is available: the consent plugin failed, so contact is denied until it works again.";

/// The verdict of every contact of a batch the plugin failed on.
const FAULT_VERDICT: Verdict = Verdict {
    outcome: Outcome::Deny,
    code: ReasonCode::PluginFault,
};

/// The plugin's rules built from one config, in their own store. `Send`, not
/// `Sync`: share it behind a `Mutex`.
pub struct Policy {
    plugin: Plugin,
    config: Config,
    /// `None` after a recycle, or after a fault when a fresh instance could
    /// not be created; the next call creates one.
    live: Option<Live>,
    /// The plugin's [`Recycling`](super::Recycling), flattened for the check
    /// after every call: `u64::MAX` when never on a count.
    recycle_after_calls: u64,
    recycle_above_bytes: usize,
    /// How many instances were recycled.
    recycled: u64,
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
        let recycling = plugin.inner.recycling;
        Ok(Policy {
            plugin,
            config: cfg.clone(),
            live: Some(live),
            recycle_after_calls: recycling.after_calls.unwrap_or(u64::MAX),
            recycle_above_bytes: recycling.above_bytes,
            recycled: 0,
            sentences: Default::default(),
            reasons: Default::default(),
        })
    }

    /// SHA-256 of the plugin that decides, to record with every decision.
    pub fn plugin_sha256(&self) -> &str {
        self.plugin.sha256()
    }

    /// How many times this policy's instance was replaced by a fresh one
    /// because its memory crept or it served its count of calls (see
    /// [`Recycling`](super::Recycling)); faults are not counted.
    pub fn recycled(&self) -> u64 {
        self.recycled
    }

    /// The linear memory of the live instance in bytes; 0 when there is
    /// none (after a recycle or fault, until the next call).
    pub fn memory_bytes(&self) -> usize {
        self.live
            .as_ref()
            .map_or(0, |live| live.store.data().memory_bytes())
    }

    /// Asks the plugin for a decision. Never fails: a trap, timeout or
    /// out-of-memory is a deny with [`ReasonCode::PluginFault`] and a
    /// sentence naming the fault.
    pub fn decide(&mut self, contact: &ContactState, req: &Request) -> Decision {
        let req = *req;
        let decided = self.call("decide", Limit::Call, |live| {
            // SAFETY: `live.decide` was type-checked as a `DecideFunc` when
            // the instance was created.
            let decide: DecideFunc<'_> = unsafe { TypedFunc::new_unchecked(live.decide) };
            let (decision,) = decide.call(&mut live.store, (live.policy, contact, req))?;
            check_decision(&decision)?;
            Ok(decision)
        });
        match decided {
            Ok(wit::Decision::Allow(allowed)) => Decision::Allow(allowed),
            Ok(wit::Decision::Deny(code)) => Decision::Deny(Denied {
                code,
                message: self.explain(code),
            }),
            Ok(wit::Decision::Justify(code)) => match self.reasons(req.channel) {
                Ok(reasons) => Decision::Justify(JustifyNeeded {
                    code,
                    reasons: reasons.into_iter().map(crate::store::ReasonId).collect(),
                }),
                Err(message) => Decision::Deny(Denied {
                    code: ReasonCode::PluginFault,
                    message,
                }),
            },
            Err(fault) => Decision::Deny(Denied {
                code: ReasonCode::PluginFault,
                message: fault.message().to_owned(),
            }),
        }
    }

    /// The reasons an operator may pick from on `channel`: fetched from the
    /// plugin once per channel and kept, as they are the same for every
    /// contact. On a fault, the sentence naming it.
    pub fn reasons(&mut self, channel: Channel) -> Result<Vec<u32>, String> {
        self.reasons_checked(channel)
            .map_err(|fault| fault.message().to_owned())
    }

    fn reasons_checked(&mut self, channel: Channel) -> Result<Vec<u32>, Fault> {
        let slot = channel as usize;
        if let Some(reasons) = &self.reasons[slot] {
            return Ok(reasons.clone());
        }
        let known: Vec<u32> = self.config.reasons.iter().map(|r| r.id).collect();
        let reasons = self.call("reasons", Limit::Call, |live| {
            let (reasons,) = live.reasons.call(&mut live.store, (live.policy, channel))?;
            check_reasons(&reasons, &known, channel)?;
            Ok(reasons)
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
        let decided = self.call("decide-batch", Limit::Batch(contacts), |live| {
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
        self.explain_checked(code)
            .unwrap_or_else(|_| FAULT_SENTENCE.to_owned())
    }

    fn explain_checked(&mut self, code: ReasonCode) -> Result<String, Fault> {
        let slot = code as usize;
        if let Some(sentence) = &self.sentences[slot] {
            return Ok(sentence.clone());
        }
        let sentence = self.call("explain", Limit::Call, |live| {
            live.explain
                .call(&mut live.store, (code,))
                .map(|(sentence,)| sentence)
        })?;
        self.sentences[slot] = Some(sentence.clone());
        Ok(sentence)
    }

    /// Asks the plugin for the sentence of every reason code and the reasons
    /// of every channel, under the same budget as any call, and keeps them.
    /// `setup install` runs this before a plugin becomes active: a plugin
    /// whose `explain` loops would otherwise make every deny wait for the
    /// budget (one bulk send took 11 s), and one whose `reasons` traps would
    /// turn every justify into a deny.
    pub fn self_test(&mut self) -> Result<(), EngineError> {
        for &code in CODES {
            self.explain_checked(code)
                .map_err(|fault| EngineError::SelfTest {
                    call: format!("explain({})", code.as_str()),
                    fault,
                })?;
        }
        for &channel in Channel::ALL {
            self.reasons_checked(channel)
                .map_err(|fault| EngineError::SelfTest {
                    call: format!("reasons({})", channel.as_str()),
                    fault,
                })?;
        }
        Ok(())
    }

    /// Runs `call` on the live instance under a fresh budget and deadline.
    /// On a fault, returns it, after replacing the instance. After a call
    /// that left the instance due for recycling, drops it: the next call
    /// runs on a fresh one.
    #[inline]
    fn call<R>(
        &mut self,
        name: &'static str,
        limit: Limit,
        call: impl FnOnce(&mut Live) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        if self.live.is_none() {
            self.restart()?;
        }
        let live = self.live.as_mut().expect("restart leaves a live instance");
        let running = arm(&mut live.store, &self.plugin.inner.shared, limit);
        let called = call(live);
        drop(running);
        match called {
            Ok(value) => {
                // Two compares per call: the memory is what the limiter granted.
                live.served += 1;
                if live.served >= self.recycle_after_calls
                    || live.store.data().memory_bytes() > self.recycle_above_bytes
                {
                    self.recycle(name);
                }
                Ok(value)
            }
            Err(error) => Err(self.fault(name, limit, &error)),
        }
    }

    /// Drops the live instance, whose pool slot and memory go back to the
    /// engine; the next call builds a fresh one from the same config.
    #[cold]
    #[inline(never)]
    fn recycle(&mut self, after: &'static str) {
        let live = self.live.take().expect("a call ran on the live instance");
        let memory_bytes = live.store.data().memory_bytes();
        let why = if live.served >= self.recycle_after_calls {
            "it served its count of calls"
        } else {
            "its memory is above the recycling threshold"
        };
        self.recycled += 1;
        tracing::info!(
            plugin = self.plugin_sha256(),
            call = after,
            calls = live.served,
            memory_bytes,
            threshold_bytes = self.recycle_above_bytes,
            recycled = self.recycled,
            "plugin instance recycled: {why}; the next call runs on a fresh one"
        );
    }

    #[cold]
    #[inline(never)]
    fn fault(&mut self, call: &'static str, limit: Limit, error: &wasmtime::Error) -> Fault {
        let live = self.live.take().expect("a call ran on the live instance");
        let fault = fault_of(&self.plugin.inner.shared, &live.store, error, limit);
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
        fault
    }

    /// Replaces the instance; on failure leaves none and returns why.
    fn restart(&mut self) -> Result<(), Fault> {
        match Live::create(&self.plugin.inner, &self.config) {
            Ok(live) => {
                self.live = Some(live);
                Ok(())
            }
            Err(e) => {
                tracing::error!(
                    plugin = self.plugin_sha256(),
                    "cannot replace the plugin instance: {e}"
                );
                Err(Fault::new(
                    FaultKind::Error,
                    format!("plugin instance could not be replaced: {e}"),
                ))
            }
        }
    }
}

#[cfg(test)]
impl Policy {
    /// Fuel the last call left over, to measure what calls use.
    pub(crate) fn fuel_left(&self) -> Option<u64> {
        self.live.as_ref()?.store.get_fuel().ok()
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
