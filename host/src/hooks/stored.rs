//! The hooks backed by the store: read the contact's state, ask the active
//! plugin, log what must be proven later (every deny, every justify, every
//! justification and every bulk-send summary, with the plugin's sha256 and
//! everything needed to replay the decision).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::active::{self, Active};
use super::convert;
use crate::engine::{self as wit, ChainStep, Engine, EngineError};
use crate::store::{
    self, Channel, ContactId, DecisionId, NewDecision, NewJustification, PurposeId, ReasonId,
    Store, StoreError, SubscriptionType,
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

/// Whether a bulk send is for real (logged with its recipients) or a dry
/// run that only shows who would be skipped and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMode {
    /// Decide and log the send with its recipients.
    Send,
    /// Decide, log nothing.
    DryRun,
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

/// A contact left out of a newsletter, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Skipped {
    /// The contact who does not get the newsletter.
    pub contact: ContactId,
    /// The reason code in the store's snake_case spelling, e.g. `opted_out`.
    pub code: String,
    /// The plugin's sentence for people that explains the code.
    pub message: String,
}

/// The result of a newsletter: who gets it and who is skipped, with reasons.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BulkSend {
    /// The subscription type (newsletter list) sent to, if the send named one.
    pub subscription_type: Option<SubscriptionType>,
    /// The contacts the plugin allowed, in contact id order; logged with the
    /// summary, so each person's receipt can be shown later.
    pub recipients: Vec<ContactId>,
    /// The contacts left out, each with its reason.
    pub skipped: Vec<Skipped>,
    /// How many contacts got each reason code.
    pub summary: BTreeMap<String, u64>,
    /// The summary row in the decision log; `None` for a dry run.
    pub logged: Option<DecisionId>,
    /// The hex sha256 of the active plugin.
    pub plugin_sha256: String,
    /// The hex sha256 of every plugin that decided the batch, in chain
    /// order, when rule packs follow the active plugin; empty otherwise.
    pub chain_sha256: Vec<String>,
}

/// What a logged decision keeps so that it can be replayed.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Evidence {
    pub(super) config: wit::Config,
    pub(super) contact: wit::ContactState,
    pub(super) request: wit::Request,
    /// Every plugin's answer when rule packs followed the active plugin;
    /// absent for the active plugin alone (and in rows logged before packs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) chain: Vec<ChainStep>,
}

/// Hooks over a store: one per database, sharing the process's [`Engine`].
pub struct StoredHooks {
    pub(super) engine: Engine,
    pub(super) store: Store,
    active: Option<Active>,
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
        let (evidence, mut decision, sha) = self.ask(contact, channel, subscription_type, op)?;
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
            Some(code) => Some(self.store.log_refusal(&NewDecision {
                at: op.at,
                contact: Some(contact),
                channel,
                outcome,
                reason_code: convert::reason_code(code),
                subscription_type,
                summary: None,
                recipients: None,
                plugin_sha256: Some(sha.clone()),
                request: serde_json::to_value(&evidence).map_err(StoreError::from)?,
                actor: op.actor.clone(),
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
        let (evidence, decision, sha) = self.ask(contact, channel, None, op)?;
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

    /// Before a newsletter to `subscription_type` (a code): every contact
    /// with an email goes through the plugin in one batch. A dry run logs
    /// nothing and shows why each contact would be skipped.
    pub fn before_bulk_send(
        &mut self,
        subscription_type: Option<&str>,
        mode: BulkMode,
        op: &Operator,
    ) -> Result<BulkSend, HookError> {
        let dry_run = mode == BulkMode::DryRun;
        let sub = subscription_type
            .map(|code| self.store.subscription_type(code))
            .transpose()?;
        let columns = self.store.newsletter_columns(sub.as_ref().map(|s| s.id))?;
        let batch = convert::batch(&columns);
        let request = wit::Request {
            channel: wit::Channel::BulkEmail,
            purpose: op.purpose.map(|p| p.0),
            subscription_type: sub.as_ref().map(|s| s.id.0),
            now: op.at.timestamp(),
        };
        let active = active::refresh(&self.engine, &self.store, &mut self.active)?;
        let decided = active.chain.decide_batch(&request, &batch)?;
        let verdicts = decided.verdicts;
        let sha = active.primary_sha256().to_owned();
        let chain_sha256 = active.pack_sha256s();

        let mut recipients = Vec::new();
        let mut skipped = Vec::new();
        let mut summary: BTreeMap<String, u64> = BTreeMap::new();
        // The plugin whose verdict won explains it.
        let mut sentences: BTreeMap<(u8, u8), (String, String)> = BTreeMap::new();
        let by = decided.decided_by;
        for ((contact, verdict), link) in columns.contact_ids.iter().zip(&verdicts).zip(by) {
            let (code, message) = sentences
                .entry((link, verdict.code as u8))
                .or_insert_with(|| {
                    (
                        convert::reason_code(verdict.code),
                        active.chain.explain(usize::from(link), verdict.code),
                    )
                })
                .clone();
            *summary.entry(code.clone()).or_default() += 1;
            if verdict.outcome == wit::Outcome::Allow {
                recipients.push(*contact);
            } else {
                skipped.push(Skipped {
                    contact: *contact,
                    code,
                    message,
                });
            }
        }
        let logged = if dry_run {
            None
        } else {
            let config = active.config.clone();
            let mut evidence = serde_json::json!({ "config": config, "request": request });
            if !chain_sha256.is_empty() {
                evidence["chain"] = serde_json::json!(chain_sha256);
            }
            Some(self.store.log_decision(&NewDecision {
                at: op.at,
                contact: None,
                channel: Channel::BulkEmail,
                outcome: if recipients.is_empty() {
                    store::Outcome::Deny
                } else {
                    store::Outcome::Allow
                },
                reason_code: "bulk_summary".into(),
                subscription_type: sub.as_ref().map(|s| s.id),
                summary: Some(serde_json::json!({
                    "contacts": verdicts.len(),
                    "recipients": recipients.len(),
                    "skipped": skipped.len(),
                    "codes": summary,
                })),
                // Who received it, so each person's receipt can be shown later.
                recipients: Some(recipients.clone()),
                plugin_sha256: Some(sha.clone()),
                request: evidence,
                actor: op.actor.clone(),
            })?)
        };
        Ok(BulkSend {
            subscription_type: sub,
            recipients,
            skipped,
            summary,
            logged,
            plugin_sha256: sha,
            chain_sha256,
        })
    }

    fn ask(
        &mut self,
        contact: ContactId,
        channel: Channel,
        subscription_type: Option<store::SubscriptionTypeId>,
        op: &Operator,
    ) -> Result<(Evidence, wit::Decision, String), HookError> {
        let snapshot = self.store.contact_snapshot(contact)?;
        let state = convert::contact_state(&snapshot);
        let request = wit::Request {
            channel: convert::channel(channel),
            purpose: op.purpose.map(|p| p.0),
            subscription_type: subscription_type.map(|s| s.0),
            now: op.at.timestamp(),
        };
        let active = active::refresh(&self.engine, &self.store, &mut self.active)?;
        let chained = active.chain.decide(&state, &request);
        let evidence = Evidence {
            config: active.config.clone(),
            contact: state,
            request,
            chain: chained.steps,
        };
        Ok((
            evidence,
            chained.decision,
            active.primary_sha256().to_owned(),
        ))
    }
}
