//! The hooks backed by the store: read the contact's state, ask the active
//! plugin, log what must be proven later (every deny, every justify, every
//! justification and every bulk-send summary, with the plugin's sha256 and
//! everything needed to replay the decision).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::convert;
use crate::engine::{self as wit, Engine, EngineError, Plugin, Policy};
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
    /// The hex sha256 of the plugin that decided, as logged for replay.
    pub plugin_sha256: String,
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
    /// The hex sha256 of the plugin that decided the batch.
    pub plugin_sha256: String,
}

/// A decision replayed against the plugin bytes that made it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Replay {
    /// The logged decision that was replayed.
    pub decision: DecisionId,
    /// The outcome as logged: `allow`, `deny`, `justify` or `justified`.
    pub logged_outcome: String,
    /// The reason code as logged.
    pub logged_code: String,
    /// What the plugin answers now, from the same bytes, config, contact
    /// state and time.
    #[schema(value_type = Object)]
    pub replayed: wit::Decision,
    /// Whether the replay gives the logged outcome and code (a justification
    /// counts as the justify it answered): what an auditor checks.
    pub same: bool,
}

/// What a logged decision keeps so that it can be replayed.
#[derive(Debug, Serialize, Deserialize)]
struct Evidence {
    config: wit::Config,
    contact: wit::ContactState,
    request: wit::Request,
}

struct Active {
    plugin: Plugin,
    config: wit::Config,
    policy: Policy,
    /// The ledger's head when `config` was read. Every change to the config
    /// and to which plugin is active is a ledger entry, so while the head
    /// stays there is nothing to re-read.
    ledger_seq: store::LedgerSeq,
}

/// Hooks over a store: one per database, sharing the process's [`Engine`].
pub struct StoredHooks {
    engine: Engine,
    store: Store,
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
        let active = self.refresh()?;
        let verdicts = active.policy.decide_batch(&request, &batch)?;
        let sha = active.plugin.sha256().to_owned();

        let mut recipients = Vec::new();
        let mut skipped = Vec::new();
        let mut summary: BTreeMap<String, u64> = BTreeMap::new();
        let mut sentences: BTreeMap<u8, (String, String)> = BTreeMap::new();
        for (contact, verdict) in columns.contact_ids.iter().zip(&verdicts) {
            let (code, message) = sentences
                .entry(verdict.code as u8)
                .or_insert_with(|| {
                    (
                        convert::reason_code(verdict.code),
                        active.policy.explain(verdict.code),
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
                request: serde_json::json!({ "config": config, "request": request }),
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
        })
    }

    /// Decides a logged decision again, against the plugin bytes that made
    /// it and the config and contact state it saw.
    pub fn replay(&mut self, id: DecisionId) -> Result<Replay, HookError> {
        let logged = self
            .store
            .decision(id)?
            .ok_or(StoreError::UnknownDecision(id))?;
        let sha = logged
            .plugin_sha256
            .clone()
            .ok_or_else(|| HookError::NotReplayable(id, "no plugin hash was logged".into()))?;
        let installed = self.store.plugin_by_sha256(&sha)?.ok_or_else(|| {
            HookError::NotReplayable(id, format!("plugin `{sha}` is not installed"))
        })?;
        // Compiled from the stored bytes, not read from the cache, so that a
        // replay checks the decision independently of what the cache holds.
        // Loaded before the evidence is read: a decision made by a plugin of
        // another contract version logged its config in that version's words
        // (`allow_bulk` before 0.2.0), and the version is what to report.
        let plugin = self
            .engine
            .load_uncached(&installed.bytes)
            .map_err(|e| match e {
                EngineError::IncompatibleVersion { found } => HookError::NotReplayable(
                    id,
                    format!(
                        "it was made by a plugin for `crm:consent@{found}`, which this host \
                         cannot run; replay it with the crm-consent release of that contract"
                    ),
                ),
                other => other.into(),
            })?;
        let evidence: Evidence = serde_json::from_value(logged.request.clone()).map_err(|e| {
            HookError::NotReplayable(id, format!("it has no single-contact request ({e})"))
        })?;
        let mut policy = plugin.policy(&evidence.config)?;
        let replayed = policy.decide(&evidence.contact, &evidence.request);
        let code = match &replayed {
            wit::Decision::Allow(a) => a.code,
            wit::Decision::Deny(d) => d.code,
            wit::Decision::Justify(j) => j.code,
        };
        let outcome = match &replayed {
            wit::Decision::Allow(_) => store::Outcome::Allow,
            wit::Decision::Deny(_) => store::Outcome::Deny,
            wit::Decision::Justify(_) => store::Outcome::Justify,
        };
        // A justification was, when it was given, a justify decision.
        let logged_outcome = match logged.outcome {
            store::Outcome::Justified => store::Outcome::Justify,
            other => other,
        };
        Ok(Replay {
            decision: id,
            same: outcome == logged_outcome && convert::reason_code(code) == logged.reason_code,
            logged_outcome: logged.outcome.as_str().to_owned(),
            logged_code: logged.reason_code,
            replayed,
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
        let active = self.refresh()?;
        let decision = active.policy.decide(&state, &request);
        let evidence = Evidence {
            config: active.config.clone(),
            contact: state,
            request,
        };
        Ok((evidence, decision, active.plugin.sha256().to_owned()))
    }

    /// The policy of the active plugin over the current config, rebuilt only
    /// when either changed since the last hook.
    fn refresh(&mut self) -> Result<&mut Active, HookError> {
        // Read before the config: a write in between makes the next hook
        // see a newer head and read again.
        let ledger_seq = self.store.ledger_head()?.seq;
        if self
            .active
            .as_ref()
            .is_some_and(|a| a.ledger_seq == ledger_seq)
        {
            return Ok(self.active.as_mut().expect("checked above"));
        }
        let info = self
            .store
            .plugins()?
            .into_iter()
            .find(|p| p.active)
            .ok_or(HookError::NoPlugin)?;
        let config = convert::config(&self.store.config_snapshot()?);
        let stale = match &self.active {
            Some(a) => a.plugin.sha256() != info.sha256 || a.config != config,
            None => true,
        };
        if stale {
            let plugin = match self.active.take() {
                Some(a) if a.plugin.sha256() == info.sha256 => a.plugin,
                _ => self.engine.load(&self.store.plugin(info.id)?.bytes)?,
            };
            let policy = plugin.policy(&config)?;
            self.active = Some(Active {
                plugin,
                config,
                policy,
                ledger_seq,
            });
        }
        let active = self.active.as_mut().expect("set above");
        active.ledger_seq = ledger_seq;
        Ok(active)
    }
}
