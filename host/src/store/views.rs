//! A contact's consents as people and CRMs read them: codes instead of ids,
//! the agreed text beside each ledger entry, and whether each consent is
//! valid now. The CLI, the HTTP API and the export all show these, so they
//! are built once here.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{
    ConsentStatus, ContactId, LedgerEntry, LedgerSeq, LegalBasis, MethodId, Result, StatusId, Store,
};

/// A current consent, with codes instead of ids.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    /// The consent type's code.
    pub consent_type: String,
    /// The status's code (built in or custom).
    pub status: String,
    /// What the status means (W3C DPV).
    pub meaning: ConsentStatus,
    /// The legal basis it was recorded on.
    pub legal_basis: LegalBasis,
    /// When the person gave it.
    pub given_at: DateTime<Utc>,
    /// When it expires: `given_at` plus the type's validity days.
    pub valid_until: Option<DateTime<Utc>>,
    /// Given or renewed, and not expired at the time asked about.
    pub valid_now: bool,
    /// The way of giving's code.
    pub method: String,
    /// The text version agreed to.
    pub text_version: u32,
    /// The ledger entry behind it.
    pub seq: LedgerSeq,
}

/// A ledger entry, with the codes and the text that was agreed to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// The entry itself.
    #[serde(flatten)]
    pub entry: LedgerEntry,
    /// The consent type's code.
    pub consent_type: String,
    /// The status's code.
    pub status_code: String,
    /// The way of giving's code.
    pub method: String,
    /// The text agreed to, at the entry's version.
    pub text: String,
}

impl Store {
    /// The contact's current consents, one per type, as read at `now`.
    pub fn consent_views(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ConsentView>> {
        let rows = self.current_consents(contact)?;
        let types: HashMap<_, _> = self
            .consent_types()?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let (statuses, methods) = self.status_and_method_codes()?;
        Ok(rows
            .into_iter()
            .map(|c| {
                let t = types.get(&c.consent_type_id);
                let valid_until = t
                    .and_then(|t| t.validity_days)
                    .map(|days| c.given_at + Duration::days(days.into()));
                let live = matches!(c.status, ConsentStatus::Given | ConsentStatus::Renewed);
                ConsentView {
                    consent_type: t
                        .map_or_else(|| c.consent_type_id.to_string(), |t| t.code.clone()),
                    status: code_or_id(&statuses, c.status_id, || c.status.to_string()),
                    meaning: c.status,
                    legal_basis: c.legal_basis,
                    given_at: c.given_at,
                    valid_until,
                    valid_now: live && c.given_at <= now && valid_until.is_none_or(|u| now < u),
                    method: code_or_id(&methods, c.method_id, || c.method_id.to_string()),
                    text_version: c.text_version,
                    seq: c.seq,
                }
            })
            .collect())
    }

    /// Every consent ledger entry of the contact, oldest first, with codes
    /// and the agreed text (Art. 7(1): when, how, by whom, which text).
    pub fn history_views(&self, contact: ContactId) -> Result<Vec<HistoryEntry>> {
        let entries = self.consent_history(contact)?;
        let types: HashMap<_, _> = self
            .consent_types()?
            .into_iter()
            .map(|t| (t.id, t.code))
            .collect();
        let (statuses, methods) = self.status_and_method_codes()?;
        entries
            .into_iter()
            .map(|entry| {
                let text = self.consent_type_text(entry.consent_type_id, entry.text_version)?;
                Ok(HistoryEntry {
                    consent_type: code_or_id(&types, entry.consent_type_id, || {
                        entry.consent_type_id.to_string()
                    }),
                    status_code: code_or_id(&statuses, entry.status_id, || {
                        entry.status.to_string()
                    }),
                    method: code_or_id(&methods, entry.method_id, || entry.method_id.to_string()),
                    text: text.text,
                    entry,
                })
            })
            .collect()
    }

    fn status_and_method_codes(
        &self,
    ) -> Result<(HashMap<StatusId, String>, HashMap<MethodId, String>)> {
        let statuses = self
            .statuses()?
            .into_iter()
            .map(|s| (s.id, s.code))
            .collect();
        let methods = self
            .methods()?
            .into_iter()
            .map(|m| (m.id, m.code))
            .collect();
        Ok((statuses, methods))
    }
}

fn code_or_id<K: std::hash::Hash + Eq>(
    codes: &HashMap<K, String>,
    id: K,
    fallback: impl FnOnce() -> String,
) -> String {
    codes.get(&id).cloned().unwrap_or_else(fallback)
}
