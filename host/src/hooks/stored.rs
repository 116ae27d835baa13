//! The hooks backed by the store: read the contact's state, ask the active
//! plugin, log what must be proven later (every deny, every justify, every
//! justification and every bulk-send summary, with the plugin's sha256 and
//! everything needed to replay the decision).

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::active::{self, Active};
use super::convert;
use crate::engine::{self as wit, ChainStep, Engine, EngineError};
use crate::store::{
    self, Channel, CitedConfig, CitedDecision, ContactId, DecisionId, NewDecision,
    NewJustification, PurposeId, ReasonId, Store, StoreError,
};

/// The longest justification text an operator may type.
pub const MAX_JUSTIFICATION_CHARS: usize = 2000;

/// Why a stored hook gave no decision, or refused a justification. An error
/// is never a permission: the CRM must not contact the person.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The store could not be read or written, or names no such contact,
    /// subscription type or justification reason.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The active plugin could not be loaded, or refused the config or a
    /// batch. (A fault while deciding one contact is a deny, not an error.)
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// No plugin is installed in this database: an admin installs one first.
    #[error("no consent plugin is installed: run `crm-consent setup install <plugin.wasm>` first")]
    NoPlugin,
    /// The operator picked a justification reason the plugin did not offer
    /// for this contact and channel; only an offered reason is recorded.
    #[error(
        "justification reason `{reason}` was not offered for this contact; pick one of the \
         offered reasons: {}",
        Offered(offered)
    )]
    ReasonNotOffered {
        /// The reason the operator picked.
        reason: ReasonId,
        /// The reasons the plugin offered, in the order to show them.
        offered: Vec<ReasonId>,
    },
    /// Taken again at justify time, the decision is not a justify: an allow
    /// needs no reason, and a deny (a withdrawal, an Art. 21(3) objection, an
    /// Art. 18 restriction) cannot be overridden by one. Holds the decision.
    #[error(
        "nothing to justify: the plugin answers {0} for this contact; an allow needs no \
         reason, and a deny cannot be overridden"
    )]
    NothingToJustify(String),
    /// The operator's justification text is longer than the 2000 characters
    /// of `MAX_JUSTIFICATION_CHARS`; holds its length in characters.
    #[error(
        "the justification text is {0} characters long; shorten it to at most \
         {MAX_JUSTIFICATION_CHARS}"
    )]
    TextTooLong(usize),
    /// An auditor's replay cannot run: no plugin hash or
    /// single-contact request was logged (a bulk-send summary), or those
    /// plugin bytes are no longer installed. Holds the decision and why.
    #[error("decision {0} cannot be replayed: {1}")]
    NotReplayable(DecisionId, String),
}

/// The reasons offered, for a message: `` `1`, `3` `` or `none`.
struct Offered<'a>(&'a [ReasonId]);

impl std::fmt::Display for Offered<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let ids: Vec<String> = self.0.iter().map(|id| format!("`{id}`")).collect();
        f.write_str(&ids.join(", "))
    }
}

/// Who acts, when, and for which purpose.
#[derive(Debug, Clone)]
pub struct Operator {
    /// Who acts (an operator's login or a system's name), recorded with
    /// every logged decision and justification for the auditor.
    pub actor: String,
    /// When: the `now` the plugin decides at, so a decision replays, and the
    /// time the log records.
    pub at: DateTime<Utc>,
    /// The purpose of the contact, if the CRM knows it: an objection
    /// (Art. 21(3)) covers direct marketing purposes, and a purpose's legal
    /// basis can allow an email or call without consent.
    pub purpose: Option<PurposeId>,
}

impl Operator {
    /// An operator acting at `at`, for no particular purpose.
    pub fn new(actor: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self {
            actor: actor.into(),
            at,
            purpose: None,
        }
    }
}

/// A single decision and, when it was logged, its id in the decision log.
#[derive(Debug, Clone, Serialize)]
pub struct HookDecision {
    /// The contact decided about.
    pub contact: ContactId,
    /// The channel asked about.
    pub channel: Channel,
    /// The answer, with a deny's sentence and a justify's reasons filled in.
    pub decision: wit::Decision,
    /// The decision-log row of a deny or a justify; `None` for an allow,
    /// which proves nothing beyond the ledger and is not logged.
    pub logged: Option<DecisionId>,
    /// The hex sha256 of the active plugin, as logged for replay.
    pub plugin_sha256: String,
    /// Every plugin's answer, in chain order, when rule packs follow the
    /// active plugin (logged with a deny or justify); empty otherwise.
    pub chain: Vec<ChainStep>,
}

/// What a logged decision keeps so that it can be replayed. A hook borrows
/// the loaded config (most decisions are allows, which log nothing); a
/// replay reads its own.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Evidence<'a> {
    pub(super) config: Cow<'a, wit::Config>,
    pub(super) contact: wit::ContactState,
    pub(super) request: wit::Request,
    /// Every plugin's answer when rule packs followed the active plugin;
    /// absent for the active plugin alone (and in rows logged before packs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) chain: Vec<ChainStep>,
}

/// The fields of [`Evidence`] but its config, which the log cites by hash
/// (`decision_configs`). Same names, same order of keys once stored.
#[derive(Serialize)]
struct Uncited<'a> {
    contact: &'a wit::ContactState,
    request: &'a wit::Request,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    chain: &'a [ChainStep],
}

impl Evidence<'_> {
    /// The evidence as the decision log stores it, citing `config` (the
    /// loaded config, serialized and hashed once per load) by its hash: what
    /// `decision_configs::cite` makes of the whole evidence, without
    /// serializing the config again for every row.
    pub(super) fn cited(&self, config: &CitedConfig) -> Result<String, StoreError> {
        let uncited = serde_json::to_value(Uncited {
            contact: &self.contact,
            request: &self.request,
            chain: &self.chain,
        })?;
        let fields = uncited.as_object().into_iter().flatten();
        store::cited_text(fields.map(|(key, value)| (key.as_str(), value)), config)
    }
}

/// Hooks over a store: one per database, sharing the process's [`Engine`].
pub struct StoredHooks {
    pub(super) engine: Engine,
    pub(super) store: Store,
    pub(super) active: Option<Active>,
}

impl StoredHooks {
    /// Hooks over `store`; the active plugin is loaded by the first hook.
    pub fn new(engine: &Engine, store: Store) -> Self {
        Self {
            engine: engine.clone(),
            store,
            active: None,
        }
    }

    /// The store, for what the hooks do not cover: a contact's ledger
    /// history, the decision log, the catalog.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, to record consents or change the config between hooks;
    /// the next hook rebuilds the policy if the config or plugin changed.
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The engine the hooks load plugins with.
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Gives the store back, dropping the loaded plugin.
    pub fn into_store(self) -> Store {
        self.store
    }

    /// Before one email to one contact.
    pub fn before_send(
        &mut self,
        contact: ContactId,
        op: &Operator,
    ) -> Result<HookDecision, HookError> {
        self.decide(contact, Channel::SingleEmail, op)
    }

    /// Before a call.
    pub fn before_dial(
        &mut self,
        contact: ContactId,
        op: &Operator,
    ) -> Result<HookDecision, HookError> {
        self.decide(contact, Channel::Phone, op)
    }

    /// Decides one contact on any channel; denies and justifies are logged.
    pub fn decide(
        &mut self,
        contact: ContactId,
        channel: Channel,
        op: &Operator,
    ) -> Result<HookDecision, HookError> {
        self.decide_one(contact, channel, None, op)
    }

    /// Decides one contact for a newsletter to `subscription_type` (a code),
    /// exactly as [`StoredHooks::before_bulk_send`] decides each recipient:
    /// for a CRM that adds one recipient by hand.
    pub fn decide_newsletter(
        &mut self,
        contact: ContactId,
        subscription_type: Option<&str>,
        op: &Operator,
    ) -> Result<HookDecision, HookError> {
        let sub = subscription_type
            .map(|code| self.store.subscription_type(code))
            .transpose()?;
        self.decide_one(contact, Channel::BulkEmail, sub.map(|s| s.id), op)
    }

    fn decide_one(
        &mut self,
        contact: ContactId,
        channel: Channel,
        subscription_type: Option<store::SubscriptionTypeId>,
        op: &Operator,
    ) -> Result<HookDecision, HookError> {
        let (evidence, mut decision, sha, cited) = ask(
            &self.engine,
            &self.store,
            &mut self.active,
            (contact, channel, subscription_type),
            op,
        )?;
        let chain = evidence.chain.clone();
        // An erased or re-added contact is denied through its flags; the
        // operator reads why.
        if let wit::Decision::Deny(d) = &mut decision
            && let Some(why) = self.store.blocked_because(contact)?
        {
            d.message = why;
        }
        let (outcome, code) = match &decision {
            wit::Decision::Allow(_) => (store::Outcome::Allow, None),
            wit::Decision::Deny(d) => (store::Outcome::Deny, Some(d.code)),
            wit::Decision::Justify(j) => (store::Outcome::Justify, Some(j.code)),
        };
        // Allows are the common case and prove nothing beyond the ledger;
        // denies and justifies are what an auditor asks about.
        let logged = match code {
            None => None,
            Some(code) => Some(self.store.log_cited_refusal(&CitedDecision {
                decision: &NewDecision {
                    at: op.at,
                    contact: Some(contact),
                    channel,
                    outcome,
                    reason_code: convert::reason_code(code),
                    subscription_type,
                    summary: None,
                    recipients: None,
                    plugin_sha256: Some(sha.clone()),
                    // Not read: the cited `request` below stands for it.
                    request: serde_json::Value::Null,
                    actor: op.actor.clone(),
                },
                request: evidence.cited(&cited)?,
                config: cited,
            })?),
        };
        Ok(HookDecision {
            contact,
            channel,
            decision,
            logged,
            plugin_sha256: sha,
            chain,
        })
    }

    /// The operator goes on after a justify, with one of the offered reasons
    /// and optional free text. The decision is taken again, so a consent
    /// withdrawn in the meantime is never overridden by a justification.
    pub fn justify(
        &mut self,
        contact: ContactId,
        channel: Channel,
        reason: ReasonId,
        text: &str,
        op: &Operator,
    ) -> Result<DecisionId, HookError> {
        let chars = text.trim().chars().count();
        if chars > MAX_JUSTIFICATION_CHARS {
            return Err(HookError::TextTooLong(chars));
        }
        let known = self.store.reasons()?.iter().any(|r| r.id == reason);
        if !known {
            return Err(StoreError::UnknownReason(reason).into());
        }
        let (evidence, decision, sha, _) = ask(
            &self.engine,
            &self.store,
            &mut self.active,
            (contact, channel, None),
            op,
        )?;
        let why = match &decision {
            wit::Decision::Justify(j) if j.reasons.contains(&reason) => j.code,
            wit::Decision::Justify(j) => {
                return Err(HookError::ReasonNotOffered {
                    reason,
                    offered: j.reasons.clone(),
                });
            }
            wit::Decision::Allow(a) => {
                return Err(HookError::NothingToJustify(format!(
                    "allow ({})",
                    convert::reason_code(a.code)
                )));
            }
            wit::Decision::Deny(d) => {
                return Err(HookError::NothingToJustify(format!(
                    "deny ({})",
                    convert::reason_code(d.code)
                )));
            }
        };
        Ok(self.store.log_justification(&NewJustification {
            at: op.at,
            contact,
            channel,
            reason,
            text: text.trim().to_owned(),
            reason_code: convert::reason_code(why),
            plugin_sha256: Some(sha),
            request: serde_json::to_value(&evidence).map_err(StoreError::from)?,
            actor: op.actor.clone(),
        })?)
    }
}

/// Asks the chain about one contact; the evidence borrows the loaded config.
fn ask<'a>(
    engine: &Engine,
    store: &Store,
    active: &'a mut Option<Active>,
    (contact, channel, subscription_type): (ContactId, Channel, Option<store::SubscriptionTypeId>),
    op: &Operator,
) -> Result<(Evidence<'a>, wit::Decision, String, Arc<CitedConfig>), HookError> {
    let (snapshot, head) = store.hook_inputs(contact)?;
    let state = convert::contact_state(&snapshot);
    let request = wit::Request {
        channel: convert::channel(channel),
        purpose: op.purpose.map(|p| p.0),
        subscription_type: subscription_type.map(|s| s.0),
        now: op.at.timestamp(),
    };
    let active = active::refresh(engine, store, active, head.seq)?;
    let chained = active.chain.decide(&state, &request);
    let sha = active.primary_sha256().to_owned();
    let evidence = Evidence {
        config: Cow::Borrowed(&active.config),
        contact: state,
        request,
        chain: chained.steps,
    };
    Ok((evidence, chained.decision, sha, Arc::clone(&active.cited)))
}
