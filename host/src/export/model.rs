//! What an export holds: the typed snapshot both formats render from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{
    BulkReceipt, Channel, ConsentStatus, Contact, ContactPurpose, ContactSubscription, DecisionId,
    LedgerHead, LedgerSeq, LegalBasis, LoggedDecision, Relation, TimelineEntry,
};

/// Everything the store holds about one contact (Art. 15), read in one
/// transaction, so every part is of the same moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// When it was read.
    pub exported_at: DateTime<Utc>,
    /// The ledger's last entry when it was read: the export shows the
    /// contact exactly as of this entry.
    pub ledger_head: LedgerHead,
    /// The controller as the admin set it (`crm-consent setup controller`);
    /// `None` until set.
    pub controller: Option<String>,
    /// The profile: kind, name, email, phone, created, and the Art. 18 /
    /// Art. 21 / opt-out-of-all flags.
    pub contact: Contact,
    /// One record per consent type the contact has ledger entries for.
    pub consents: Vec<ConsentRecord>,
    /// The legal basis per purpose.
    pub purposes: Vec<ContactPurpose>,
    /// The subscription choices; "not specified" is absent.
    pub subscriptions: Vec<ContactSubscription>,
    /// Relations to other contacts, either side.
    pub relations: Vec<Relation>,
    /// Each time an operator went on without valid consent, with a reason.
    pub justifications: Vec<Justification>,
    /// The plugin's decisions about this contact alone (allow, deny, justify).
    pub decisions: Vec<LoggedDecision>,
    /// The bulk sends the contact was among the recipients of.
    pub bulk_sends: Vec<BulkReceipt>,
    /// Everything that happened to the contact, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

/// A consent type and the contact's whole history of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// The consent type's code.
    pub consent_type: String,
    /// Its title, the purpose as the person saw it.
    pub title: String,
    /// The admin's description of what it covers.
    pub description: Option<String>,
    /// The channels it allows.
    pub channels: Vec<Channel>,
    /// Days a given consent stays valid; `None` never expires.
    pub validity_days: Option<u32>,
    /// The state in force: the ledger entry the projection holds.
    pub current: Option<CurrentState>,
    /// Every ledger entry, oldest first.
    pub events: Vec<ConsentEvent>,
}

/// The consent in force for one type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentState {
    /// The ledger entry it comes from.
    pub seq: LedgerSeq,
    /// The status code.
    pub status: String,
    /// What the status means (DPV).
    pub meaning: ConsentStatus,
    /// The basis it is recorded under.
    pub legal_basis: LegalBasis,
    /// When the person gave it.
    pub given_at: DateTime<Utc>,
    /// When it expires, for a given or renewed consent with a validity.
    pub valid_until: Option<DateTime<Utc>>,
    /// Given or renewed, and not expired when exported.
    pub valid: bool,
}

/// One ledger entry of a consent: what the person said, when and how, to
/// which text, and the entry's place in the hash chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentEvent {
    /// Its position in the ledger.
    pub seq: LedgerSeq,
    /// When it was written, by the store's clock.
    pub recorded_at: DateTime<Utc>,
    /// When the person gave it.
    pub given_at: DateTime<Utc>,
    /// The status code, built in or custom.
    pub status: String,
    /// What the status meant (DPV).
    pub meaning: ConsentStatus,
    /// The basis it was recorded under.
    pub legal_basis: LegalBasis,
    /// The way of giving, by code.
    pub method: String,
    /// The way of giving, as people read it.
    pub method_name: String,
    /// The version of the text agreed to.
    pub text_version: u32,
    /// The text itself (Art. 7(1)).
    pub text: String,
    /// When it expires, for a given or renewed consent with a validity.
    pub valid_until: Option<DateTime<Utc>>,
    /// Where it came from.
    pub source: String,
    /// Who recorded it.
    pub actor: String,
    /// IP, user agent, form payload; `None` if there was none or it was erased.
    pub evidence: Option<serde_json::Value>,
    /// SHA-256 of the evidence as the chain holds it.
    pub evidence_hash: Option<String>,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// An operator going on without valid consent (decision `justified`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Justification {
    /// The decision-log row.
    pub decision: DecisionId,
    /// The time the plugin was asked about.
    pub at: DateTime<Utc>,
    /// When it was logged.
    pub recorded_at: DateTime<Utc>,
    /// The channel the operator used.
    pub channel: Channel,
    /// Why consent was missing (`no_consent`, `consent_expired`).
    pub missing: String,
    /// The reason picked, by code.
    pub reason: String,
    /// The reason's label.
    pub reason_label: String,
    /// The operator's own words; `None` once erased.
    pub text: Option<String>,
    /// The sha256 of the plugin whose `justify` this answers.
    pub plugin_sha256: Option<String>,
    /// The operator.
    pub actor: String,
}
