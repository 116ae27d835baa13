//! The CRM's hooks: before a single email, before a bulk send and before a call.
//!
//! [`Hooks`] decides from contact state the CRM passes in memory;
//! [`StoredHooks`] backs the same hooks with the SQLite store, the decision
//! log and the justify flow. Both fail closed: a plugin fault is a deny, never an allow.

mod active;
mod answer;
mod bulk;
pub(crate) mod convert;
mod replay;
mod stored;

pub use answer::{Answer, Justified};

pub use bulk::{BulkMode, BulkSend, Skipped};
pub(crate) use replay::ReplayJson;
pub use replay::{Replay, ReplayedStep};
pub use stored::{HookDecision, HookError, Operator, StoredHooks};

use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::engine::{
    Channel, Config, ContactBatch, ContactState, Decision, EngineError, Plugin, Policy, ReasonCode,
    Request, Verdict,
};

/// What the operator is about to do, beyond the contact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    /// The purpose of the contact, if the CRM knows it.
    pub purpose: Option<u32>,
    /// The time the decision is about (usually now); passed to the plugin,
    /// so decisions replay.
    pub now: DateTime<Utc>,
}

impl Context {
    /// A context at `now`, with no purpose.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self { purpose: None, now }
    }

    /// The same context, for one purpose (its id in the config).
    pub fn for_purpose(mut self, purpose: u32) -> Self {
        self.purpose = Some(purpose);
        self
    }
}

/// Hooks over in-memory contact state: the plugin decides, nothing is stored.
pub struct Hooks {
    policy: Mutex<Policy>,
}

impl Hooks {
    /// Builds the policy once; the config is validated by the plugin.
    pub fn new(plugin: &Plugin, config: &Config) -> Result<Self, EngineError> {
        Ok(Self {
            policy: Mutex::new(plugin.policy(config)?),
        })
    }

    /// The hex sha256 of the plugin that decides: what a CRM logs next to
    /// its own record of a decision, so an auditor can replay it later
    /// against the same bytes.
    pub fn plugin_sha256(&self) -> String {
        self.lock().plugin_sha256().to_owned()
    }

    /// Before one email is sent to one contact.
    pub fn before_send(&self, contact: &ContactState, ctx: Context) -> Decision {
        self.decide(contact, Channel::SingleEmail, ctx)
    }

    /// Before a call is placed.
    pub fn before_dial(&self, contact: &ContactState, ctx: Context) -> Decision {
        self.decide(contact, Channel::Phone, ctx)
    }

    /// Any channel, for CRMs with more than email and phone (SMS).
    pub fn decide(&self, contact: &ContactState, channel: Channel, ctx: Context) -> Decision {
        let req = request(channel, None, ctx);
        self.lock().decide(contact, &req)
    }

    /// Before a newsletter to `subscription_type`: one verdict per contact,
    /// in the order given, from a single call into the plugin.
    pub fn before_bulk_send(
        &self,
        subscription_type: Option<u32>,
        contacts: &[ContactState],
        ctx: Context,
    ) -> Result<Vec<Verdict>, EngineError> {
        let batch = columns(contacts);
        let req = request(Channel::BulkEmail, subscription_type, ctx);
        self.lock().decide_batch(&req, &batch)
    }

    /// A sentence for people that explains a reason code.
    pub fn explain(&self, code: ReasonCode) -> String {
        self.lock().explain(code)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Policy> {
        // A panic while deciding leaves the policy usable: its faults are
        // handled inside, so a poisoned lock carries no broken state.
        self.policy.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) fn request(channel: Channel, subscription_type: Option<u32>, ctx: Context) -> Request {
    Request {
        channel,
        purpose: ctx.purpose,
        subscription_type,
        now: ctx.now.timestamp(),
    }
}

/// Lays contacts out in the batch's columns.
pub fn columns(contacts: &[ContactState]) -> ContactBatch {
    ContactBatch::from_contacts(contacts)
}
