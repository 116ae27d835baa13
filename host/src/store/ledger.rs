//! The consent ledger: the proof of consent (Art. 7(1)).
//!
//! # Design: a chain over pseudonyms, personal data beside it
//!
//! Every consent change appends one entry to `consent_ledger`; nothing ever
//! updates or deletes one (SQLite triggers refuse it too). Each entry's hash
//! covers its fields and the previous entry's hash, so editing, deleting or
//! reordering an entry breaks the chain at that entry and
//! [`Store::verify_ledger`] names it.
//!
//! The chain covers only pseudonymous ids (contact, type, status, method),
//! codes, times, the source and actor (which describe the controller's
//! process, not the person, and must not hold the person's data) and the
//! SHA-256 of the evidence. The evidence itself (IP, user agent, form
//! payload) lives in `consent_evidence`, and the contact's name, email and
//! phone in `contact_personal`. An erasure (Art. 17) deletes those rows, and
//! the chain still verifies: what remains proves that *some* contact gave
//! *this* consent at *this* time, and if the evidence is ever produced again
//! its hash shows whether it is genuine.
//!
//! The projection `consent_state` (see `projection`) is written in the same
//! transaction as the entry, as is the timeline entry, so readers never see
//! one without the others.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::catalog::{bad_code, id_of, unknown_code};
use super::chain::{self, Fields, LedgerHead, sha256_hex};
use super::consent_types::{text_of, type_by_code, type_by_id};
use super::contacts::check_contact;
use super::projection::project;
use super::timeline::{Note, add_note};
use super::vocabulary::parse_column;
use super::{
    Catalog, ConsentStatus, ConsentTypeId, ContactId, LedgerSeq, LegalBasis, MethodId, Result,
    StatusId, Store, StoreError, TimelineKind, check_not_empty, secs, time,
};

/// How far in the future `given_at` may be: clocks of the form server and
/// the CRM may disagree a little, but nobody consents tomorrow.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// A consent type named by id (hooks) or by code (CLI, imports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentTypeRef {
    Id(ConsentTypeId),
    Code(String),
}

impl From<ConsentTypeId> for ConsentTypeRef {
    fn from(id: ConsentTypeId) -> Self {
        ConsentTypeRef::Id(id)
    }
}

impl From<&str> for ConsentTypeRef {
    fn from(code: &str) -> Self {
        ConsentTypeRef::Code(code.to_owned())
    }
}

/// A consent change to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewConsent {
    pub contact: ContactId,
    pub consent_type: ConsentTypeRef,
    /// Status code, built in (`given`, `refused`, `withdrawn`, `expired`) or custom.
    pub status: String,
    /// Code of the way it was given (`crm_form`, `email`, `import`, ...).
    pub method: String,
    pub legal_basis: LegalBasis,
    /// When the person gave it; may be earlier than when it is recorded.
    pub given_at: DateTime<Utc>,
    /// Where it came from: "web form", "import: file.xlsx", ... Part of the
    /// hashed proof, so it must not hold the person's personal data.
    pub source: String,
    /// Who recorded it. Also hashed.
    pub actor: String,
    /// IP, user agent, form payload: stored apart and erasable; only its
    /// hash enters the chain.
    pub evidence: Option<serde_json::Value>,
    /// The text version agreed to; `None` means the current one. Imports of
    /// old consents name the version the person actually saw.
    pub text_version: Option<u32>,
}

/// One entry of the ledger, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub seq: LedgerSeq,
    pub contact_id: ContactId,
    pub consent_type_id: ConsentTypeId,
    pub text_version: u32,
    pub status_id: StatusId,
    /// What the status meant when it was recorded.
    pub status: ConsentStatus,
    pub legal_basis: LegalBasis,
    pub method_id: MethodId,
    pub source: String,
    pub actor: String,
    pub recorded_at: DateTime<Utc>,
    pub given_at: DateTime<Utc>,
    pub evidence_hash: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl LedgerEntry {
    fn fields(&self) -> Fields<'_> {
        Fields {
            seq: self.seq.0,
            contact_id: self.contact_id.0,
            consent_type_id: self.consent_type_id.0.into(),
            text_version: self.text_version.into(),
            status_id: self.status_id.0.into(),
            meaning: self.status.as_str(),
            legal_basis: self.legal_basis.as_str(),
            method_id: self.method_id.0.into(),
            source: &self.source,
            actor: &self.actor,
            recorded_at: secs(self.recorded_at),
            given_at: secs(self.given_at),
            evidence_hash: self.evidence_hash.as_deref(),
            prev_hash: &self.prev_hash,
        }
    }
}

const ENTRY_COLUMNS: &str = "SELECT seq, contact_id, consent_type_id, text_version, status_id,
        meaning, legal_basis, method_id, source, actor, recorded_at, given_at,
        evidence_hash, prev_hash, hash
    FROM consent_ledger";

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<LedgerEntry> {
    Ok(LedgerEntry {
        seq: row.get(0)?,
        contact_id: row.get(1)?,
        consent_type_id: row.get(2)?,
        text_version: row.get(3)?,
        status_id: row.get(4)?,
        status: parse_column(row, 5)?,
        legal_basis: parse_column(row, 6)?,
        method_id: row.get(7)?,
        source: row.get(8)?,
        actor: row.get(9)?,
        recorded_at: time(row.get(10)?)?,
        given_at: time(row.get(11)?)?,
        evidence_hash: row.get(12)?,
        prev_hash: row.get(13)?,
        hash: row.get(14)?,
    })
}

/// Validates `c`, appends its entry, moves the projection and notes it on the
/// timeline. Runs inside the caller's transaction.
pub(super) fn append(tx: &Connection, c: &NewConsent, now: DateTime<Utc>) -> Result<LedgerEntry> {
    check_not_empty("source", &c.source)?;
    check_not_empty("actor", &c.actor)?;
    if c.given_at > now + CLOCK_SKEW {
        return Err(StoreError::BadDate {
            field: "given_at",
            value: c.given_at.to_rfc3339(),
            why: "it is later than now",
        });
    }
    check_contact(tx, c.contact)?;
    let ty = match &c.consent_type {
        ConsentTypeRef::Id(id) => type_by_id(tx, *id)?,
        ConsentTypeRef::Code(code) => type_by_code(tx, code)?,
    };
    let text_version = match c.text_version {
        None => ty.text_version,
        Some(version) => text_of(tx, ty.id, version)?.version,
    };
    let (status_id, status) = status_of(tx, &c.status)?;
    let method_id = MethodId(id_of(tx, Catalog::Method, &c.method)?);
    let evidence = c.evidence.as_ref().map(serde_json::to_string).transpose()?;
    let head = chain::head(tx)?;
    let mut entry = LedgerEntry {
        seq: LedgerSeq(head.seq.0 + 1),
        contact_id: c.contact,
        consent_type_id: ty.id,
        text_version,
        status_id,
        status,
        legal_basis: c.legal_basis,
        method_id,
        source: c.source.trim().to_owned(),
        actor: c.actor.trim().to_owned(),
        // The ledger keeps whole seconds, like every stored time.
        recorded_at: time(secs(now))?,
        given_at: time(secs(c.given_at))?,
        evidence_hash: evidence.as_deref().map(|e| sha256_hex(e.as_bytes())),
        prev_hash: head.hash,
        hash: String::new(),
    };
    entry.hash = chain::entry_hash(&entry.fields());
    insert_entry(tx, &entry)?;
    if let Some(evidence) = &evidence {
        tx.prepare_cached(
            "INSERT INTO consent_evidence (seq, contact_id, evidence) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![entry.seq, entry.contact_id, evidence])?;
    }
    chain::set_head(
        tx,
        &LedgerHead {
            seq: entry.seq,
            hash: entry.hash.clone(),
        },
    )?;
    let applied = project(tx, &entry)?;
    let mut summary = format!(
        "consent \"{}\": {} ({}), legal basis {}, via \"{}\", text v{}; source: {}",
        ty.code, c.status, status, entry.legal_basis, c.method, text_version, entry.source
    );
    if !applied {
        summary.push_str("; older than the current state, kept as history");
    }
    add_note(
        tx,
        &Note {
            contact: entry.contact_id,
            at: now,
            kind: TimelineKind::ConsentChange,
            summary,
            actor: &entry.actor,
            ledger_seq: Some(entry.seq),
            decision: None,
        },
    )?;
    Ok(entry)
}

fn status_of(conn: &Connection, code: &str) -> Result<(StatusId, ConsentStatus)> {
    let found: Option<(StatusId, i64)> = conn
        .prepare_cached("SELECT id, meaning FROM statuses WHERE code = ?1")?
        .query_row([code], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let (id, meaning) = found.ok_or_else(|| unknown_code(conn, Catalog::Status, code))?;
    let meaning = ConsentStatus::from_code(meaning).ok_or_else(|| bad_code(1, meaning))?;
    Ok((id, meaning))
}

fn insert_entry(conn: &Connection, e: &LedgerEntry) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO consent_ledger (seq, contact_id, consent_type_id, text_version, status_id,
             meaning, legal_basis, method_id, source, actor, recorded_at, given_at,
             evidence_hash, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        e.seq,
        e.contact_id,
        e.consent_type_id,
        e.text_version,
        e.status_id,
        e.status.as_str(),
        e.legal_basis.as_str(),
        e.method_id,
        e.source,
        e.actor,
        secs(e.recorded_at),
        secs(e.given_at),
        e.evidence_hash,
        e.prev_hash,
        e.hash
    ])?;
    Ok(())
}

impl Store {
    /// Records a consent change now ([`Utc::now`]).
    pub fn record_consent(&mut self, consent: &NewConsent) -> Result<LedgerEntry> {
        self.record_consent_at(consent, Utc::now())
    }

    /// Records a consent change: validates every code, appends the ledger
    /// entry, moves the projection and adds a timeline entry, all in one
    /// transaction. `now` becomes the entry's `recorded_at`.
    pub fn record_consent_at(
        &mut self,
        consent: &NewConsent,
        now: DateTime<Utc>,
    ) -> Result<LedgerEntry> {
        self.write(|tx| append(tx, consent, now))
    }

    /// Records many changes (an import, a bulk fill) in one transaction: if
    /// one is invalid, none is recorded.
    pub fn record_consents(
        &mut self,
        consents: &[NewConsent],
        now: DateTime<Utc>,
    ) -> Result<Vec<LedgerEntry>> {
        self.write(|tx| consents.iter().map(|c| append(tx, c, now)).collect())
    }

    /// Every ledger entry of a contact, oldest first.
    pub fn consent_history(&self, contact: ContactId) -> Result<Vec<LedgerEntry>> {
        check_contact(&self.conn, contact)?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ENTRY_COLUMNS} WHERE contact_id = ?1 ORDER BY seq"
        ))?;
        let entries = stmt
            .query_map([contact], entry_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(entries)
    }

    pub fn ledger_entry(&self, seq: LedgerSeq) -> Result<Option<LedgerEntry>> {
        let entry = self
            .conn
            .prepare_cached(&format!("{ENTRY_COLUMNS} WHERE seq = ?1"))?
            .query_row([seq], entry_from_row)
            .optional()?;
        Ok(entry)
    }

    /// The evidence of an entry, unless there was none or it was erased.
    pub fn evidence(&self, seq: LedgerSeq) -> Result<Option<serde_json::Value>> {
        let text: Option<String> = self
            .conn
            .prepare_cached("SELECT evidence FROM consent_evidence WHERE seq = ?1")?
            .query_row([seq], |row| row.get(0))
            .optional()?;
        Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
    }
}
