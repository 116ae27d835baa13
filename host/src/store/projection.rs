//! The projection `consent_state`: each contact's current consent per type,
//! derived from the ledger in the same transaction as each entry. The hot
//! reads (`columns`) use it; the ledger stays the proof.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use super::catalog::bad_code;
use super::contacts::check_contact;
use super::ledger::LedgerEntry;
use super::{
    ConsentStatus, ConsentTypeId, ContactId, LedgerSeq, LegalBasis, MethodId, Result, StatusId,
    Store, secs, time,
};

/// The current consent of a contact for one type (the projection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentConsent {
    /// The consent type.
    pub consent_type_id: ConsentTypeId,
    /// The status as recorded, built in or custom.
    pub status_id: StatusId,
    /// What the status means (DPV): what the rules read.
    pub status: ConsentStatus,
    /// The basis it was recorded under.
    pub legal_basis: LegalBasis,
    /// When the person gave it.
    pub given_at: DateTime<Utc>,
    /// How it was given.
    pub method_id: MethodId,
    /// The version of the text agreed to (Art. 7(1)).
    pub text_version: u32,
    /// The ledger entry this state comes from.
    pub seq: LedgerSeq,
}

/// Moves the projection to `e` unless it already holds something the person
/// said later. Entries are ordered by when they took effect, which is their
/// `given_at` but never later than when they were recorded, and then by the
/// order they were recorded in:
/// - Art. 7(3): a withdrawal recorded after a grant always wins, whatever
///   date the grant claims (a grant dated a few minutes ahead counts from
///   when it was recorded, and the plugin still ignores it until its date);
/// - an import of a 2019 "given" recorded today does not undo a 2023
///   withdrawal: it took effect earlier, so it is kept as history.
///
/// Returns whether the projection moved.
pub(super) fn project(conn: &Connection, e: &LedgerEntry) -> Result<bool> {
    let effective_at = secs(e.given_at).min(secs(e.recorded_at));
    let changed = conn
        .prepare_cached(
            "INSERT INTO consent_state (contact_id, consent_type_id, status_id, meaning,
                 legal_basis, given_at, effective_at, method_id, text_version, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (contact_id, consent_type_id) DO UPDATE SET
                 status_id = excluded.status_id, meaning = excluded.meaning,
                 legal_basis = excluded.legal_basis, given_at = excluded.given_at,
                 effective_at = excluded.effective_at,
                 method_id = excluded.method_id, text_version = excluded.text_version,
                 seq = excluded.seq
             WHERE (excluded.effective_at, excluded.seq)
                   >= (consent_state.effective_at, consent_state.seq)",
        )?
        .execute(params![
            e.contact_id,
            e.consent_type_id,
            e.status_id,
            e.status.code(),
            e.legal_basis.code(),
            secs(e.given_at),
            effective_at,
            e.method_id,
            e.text_version,
            e.seq
        ])?;
    Ok(changed == 1)
}

impl Store {
    /// The contact's current consents, one per type, from the projection.
    pub fn current_consents(&self, contact: ContactId) -> Result<Vec<CurrentConsent>> {
        check_contact(&self.conn, contact)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT consent_type_id, status_id, meaning, legal_basis, given_at, method_id,
                    text_version, seq
             FROM consent_state WHERE contact_id = ?1 ORDER BY consent_type_id",
        )?;
        let rows = stmt
            .query_map([contact], |row| {
                let (meaning, basis): (i64, i64) = (row.get(2)?, row.get(3)?);
                Ok(CurrentConsent {
                    consent_type_id: row.get(0)?,
                    status_id: row.get(1)?,
                    status: ConsentStatus::from_code(meaning)
                        .ok_or_else(|| bad_code(2, meaning))?,
                    legal_basis: LegalBasis::from_code(basis).ok_or_else(|| bad_code(3, basis))?,
                    given_at: time(row.get(4)?)?,
                    method_id: row.get(5)?,
                    text_version: row.get(6)?,
                    seq: row.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
