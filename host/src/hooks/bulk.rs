//! Before a newsletter: every contact with an email through the plugin
//! chain in one batch, and the send logged with its recipients.

use std::collections::BTreeMap;

use serde::Serialize;

use super::active;
use super::convert;
use super::{HookError, Operator, StoredHooks};
use crate::engine as wit;
use crate::store::{self, Channel, ContactId, DecisionId, NewDecision, SubscriptionType};

/// Whether a bulk send is for real (logged with its recipients) or a dry
/// run that only shows who would be skipped and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMode {
    /// Decide and log the send with its recipients.
    Send,
    /// Decide, log nothing.
    DryRun,
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

impl StoredHooks {
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
        let head = self.store.ledger_head()?.seq;
        let active = active::refresh(&self.engine, &self.store, &mut self.active, head)?;
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
}
