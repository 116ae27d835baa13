//! The decision log: every allow, deny and justify the plugin answered, and
//! every justification an operator gave to go on without consent (Italian CRM
//! plugin). Each row keeps the request and contact state as the caller sent
//! them and the plugin's sha256, so a decision can be replayed against the
//! same plugin bytes.
//!
//! The log is append-only (triggers) and hash-chained like the ledger, so a
//! deleted deny or justification is detected by `ledger verify`, and a
//! checkpoint anchors its length. The operator's justification text is
//! personal data: the chain holds its SHA-256, so an erasure can remove it.
//! A bulk send keeps who was sent to (`recipients`), compactly.
//!
//! Writing the log is in `write` (`Store::log_decision`,
//! `Store::log_refusal`, `Store::log_justification`), reading it in
//! `read`, each row's hash and the append in `chain`, checking the chain in
//! `verify`, and the compact recipient lists in `recipients`.

mod chain;
mod read;
mod recipients;
mod verify;
mod write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Channel, ContactId, DecisionId, Outcome, ReasonId, SubscriptionTypeId};

pub(super) use chain::{append, hash_at, head, insert};
pub(super) use recipients::{decode_ids, encode_ids};
pub(super) use verify::verify_chain;
pub(crate) use write::CitedDecision;
pub(super) use write::LogRow;

/// A plugin decision to log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDecision {
    /// The `now` the plugin was asked with.
    pub at: DateTime<Utc>,
    /// `None` for the summary row of a bulk send.
    pub contact: Option<ContactId>,
    /// The channel the operator was about to use.
    pub channel: Channel,
    /// `Allow`, `Deny` or `Justify`; justifications go through
    /// [`Store::log_justification`](super::Store::log_justification).
    pub outcome: Outcome,
    /// The plugin's reason code, e.g. `no_consent`.
    pub reason_code: String,
    /// For a newsletter: the subscription type sent.
    pub subscription_type: Option<SubscriptionTypeId>,
    /// Counts of a bulk send, e.g. `{"allow": 9120, "deny": 880}`.
    pub summary: Option<serde_json::Value>,
    /// Who a bulk send went to, so it can later be shown why each person
    /// received it. Stored delta-encoded: about a byte per recipient.
    pub recipients: Option<Vec<ContactId>>,
    /// The sha256 of the plugin that answered, to replay the decision.
    pub plugin_sha256: Option<String>,
    /// Enough to replay: the contact state and request as sent to the plugin.
    pub request: serde_json::Value,
    /// Who asked: a CRM user, or the process that ran the check.
    pub actor: String,
}

/// An operator going on after a `Justify` decision, with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJustification {
    /// The `now` the plugin was asked with.
    pub at: DateTime<Utc>,
    /// The contact about to be contacted.
    pub contact: ContactId,
    /// The channel the operator is using.
    pub channel: Channel,
    /// The reason the operator picked from the catalog.
    pub reason: ReasonId,
    /// The operator's own words; may be empty.
    pub text: String,
    /// Why consent was missing (`no_consent`, `consent_expired`).
    pub reason_code: String,
    /// The sha256 of the plugin whose `Justify` this answers.
    pub plugin_sha256: Option<String>,
    /// The contact state and request as sent to the plugin.
    pub request: serde_json::Value,
    /// The operator.
    pub actor: String,
}

/// A logged decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LoggedDecision {
    /// Its position in the log.
    pub id: DecisionId,
    /// The `now` the plugin was asked with.
    pub at: DateTime<Utc>,
    /// `None` for the summary row of a bulk send.
    pub contact: Option<ContactId>,
    /// The channel asked about.
    pub channel: Channel,
    /// What the plugin answered, or `Justified`.
    pub outcome: Outcome,
    /// The plugin's reason code, e.g. `no_consent`.
    pub reason_code: String,
    /// For a justification: the reason the operator picked.
    pub reason: Option<ReasonId>,
    /// For a justification: the operator's own words. Personal data that an
    /// erasure can remove; the chain holds only its hash.
    pub justification: Option<String>,
    /// For a newsletter: the subscription type sent.
    pub subscription_type: Option<SubscriptionTypeId>,
    /// Counts of a bulk send.
    pub summary: Option<serde_json::Value>,
    /// Who a bulk send went to.
    pub recipients: Option<Vec<ContactId>>,
    /// The sha256 of the plugin that answered.
    pub plugin_sha256: Option<String>,
    /// The contact state and request as sent to the plugin.
    pub request: serde_json::Value,
    /// Who asked: a CRM user, or the process that ran the check.
    pub actor: String,
    /// When it was written (the clock); `at` is the time it was asked about.
    pub recorded_at: DateTime<Utc>,
}
