//! The ledger: the proof of consent (Art. 7(1)) and of every other fact a
//! decision reads.
//!
//! # Design: a chain over pseudonyms, personal data beside it
//!
//! Every change that can alter a decision appends one entry to `ledger`:
//! consent changes (`consent`), and rows of the tables the hooks read
//! (`row_put`, `row_delete`; see `event`). Nothing ever updates or deletes
//! an entry (SQLite triggers refuse it too). Each entry's hash covers its
//! fields and the previous entry's hash, so editing, deleting or reordering
//! an entry breaks the chain at that entry, and `verify` rebuilds every
//! projection from the entries and names the first row that differs.
//!
//! The chain covers only pseudonymous ids, codes, the catalog texts an admin
//! wrote, times, the source and actor (which describe the controller's
//! process, not the person, and must not hold the person's data) and the
//! SHA-256 of the evidence. The evidence itself (IP, user agent, form
//! payload) lives in `consent_evidence`, and the contact's name, email and
//! phone in `contact_personal`. An erasure (Art. 17) deletes those rows, and
//! the chain still verifies.

mod checkpoint;
pub(crate) mod event;
mod verify;

pub use checkpoint::Checkpoint;
pub use verify::{LedgerProblem, LedgerProblemKind, LedgerReport};

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::catalog::{bad_code, id_of, unknown_code};
use super::chain::sha256_hex;
use super::consent_types::{text_of, type_by_code, type_by_id};
use super::contacts::check_contact;
use super::limits::{self, check_len};
use super::projection::project;
use super::timeline::{Note, add_note};
use super::{
    Catalog, ConsentStatus, ConsentTypeId, ContactId, LedgerSeq, LegalBasis, MethodId, Result,
    StatusId, Store, StoreError, TimelineKind, check_not_empty, time,
};

/// How far in the future `given_at` may be: clocks of the form server and
/// the CRM may disagree a little, but nobody consents tomorrow.
pub(crate) const CLOCK_SKEW: Duration = Duration::minutes(2);

/// A consent type named by id (hooks) or by code (CLI, imports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentTypeRef {
    /// By id, as hooks and the plugin know it.
    Id(ConsentTypeId),
    /// By code, as people and import files write it.
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
    /// The contact who gave, refused or withdrew it.
    pub contact: ContactId,
    /// Which consent type it is about.
    pub consent_type: ConsentTypeRef,
    /// Status code, built in (`given`, `refused`, `withdrawn`, `expired`) or custom.
    pub status: String,
    /// Code of the way it was given (`crm_form`, `email`, `import`, ...).
    pub method: String,
    /// The basis it is recorded under, usually `consent`.
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerEntry {
    /// Its position in the ledger.
    pub seq: LedgerSeq,
    /// The contact it is about.
    pub contact_id: ContactId,
    /// The consent type.
    pub consent_type_id: ConsentTypeId,
    /// The version of the text the person agreed to (Art. 7(1)).
    pub text_version: u32,
    /// The status as recorded, built in or custom.
    pub status_id: StatusId,
    /// What the status meant when it was recorded.
    pub status: ConsentStatus,
    /// The basis it was recorded under.
    pub legal_basis: LegalBasis,
    /// How it was given (form, phone, import, ...).
    pub method_id: MethodId,
    /// Where it came from: "web form", "import: file.xlsx", ...
    pub source: String,
    /// Who recorded it.
    pub actor: String,
    /// When it was written, by the store's clock.
    pub recorded_at: DateTime<Utc>,
    /// When the person gave it; may be earlier than `recorded_at`.
    pub given_at: DateTime<Utc>,
    /// SHA-256 of the evidence, which is stored beside the chain and erasable.
    pub evidence_hash: Option<String>,
    /// The previous entry's hash; [`GENESIS_HASH`](crate::store::GENESIS_HASH)
    /// for the first.
    pub prev_hash: String,
    /// SHA-256 over this entry's fields and `prev_hash`: editing, deleting or
    /// reordering an entry breaks the chain there.
    pub hash: String,
}

/// The body of a `consent` entry: what the chain proves about one consent
/// change, besides who recorded it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ConsentBody {
    pub consent_type_id: ConsentTypeId,
    pub text_version: u32,
    pub status_id: StatusId,
    pub status: ConsentStatus,
    pub legal_basis: LegalBasis,
    pub method_id: MethodId,
    pub source: String,
    pub given_at: i64,
    pub evidence_hash: Option<String>,
}

const ENTRY_COLUMNS: &str =
    "SELECT seq, contact_id, actor, recorded_at, body, prev_hash, hash FROM ledger";

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<LedgerEntry> {
    let body: String = row.get(4)?;
    let body: ConsentBody = serde_json::from_str(&body).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, e.into())
    })?;
    LedgerEntry::from_parts(
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        time(row.get(3)?)?,
        body,
        row.get(5)?,
        row.get(6)?,
    )
}

impl LedgerEntry {
    pub(crate) fn from_parts(
        seq: LedgerSeq,
        contact_id: ContactId,
        actor: String,
        recorded_at: DateTime<Utc>,
        body: ConsentBody,
        prev_hash: String,
        hash: String,
    ) -> rusqlite::Result<LedgerEntry> {
        Ok(LedgerEntry {
            seq,
            contact_id,
            consent_type_id: body.consent_type_id,
            text_version: body.text_version,
            status_id: body.status_id,
            status: body.status,
            legal_basis: body.legal_basis,
            method_id: body.method_id,
            source: body.source,
            actor,
            recorded_at,
            given_at: time(body.given_at)?,
            evidence_hash: body.evidence_hash,
            prev_hash,
            hash,
        })
    }
}

/// Checks what can be checked without the database.
fn check_new_consent(c: &NewConsent) -> Result<Option<String>> {
    check_not_empty("source", &c.source)?;
    check_not_empty("actor", &c.actor)?;
    check_len("source", &c.source, limits::MAX_SOURCE)?;
    check_len("actor", &c.actor, limits::MAX_ACTOR)?;
    let evidence = c.evidence.as_ref().map(serde_json::to_string).transpose()?;
    if let Some(e) = &evidence {
        check_len("evidence", e, limits::MAX_EVIDENCE)?;
    }
    Ok(evidence)
}

/// A consent change that passed every check and has its ids resolved:
/// what [`write`] appends. Imports resolve every row before writing any.
pub(crate) struct Resolved {
    type_code: String,
    body: ConsentBody,
    evidence: Option<String>,
}

impl Resolved {
    /// The status it records.
    pub(crate) fn status_id(&self) -> StatusId {
        self.body.status_id
    }

    /// The consent type it is about.
    pub(crate) fn type_id(&self) -> ConsentTypeId {
        self.body.consent_type_id
    }
}

/// Validates `c`, appends its entry, moves the projection and notes it on the
/// timeline. Runs inside the caller's transaction; `now` is the recorded time
/// (the store's clock, never a caller's `--now`).
pub(super) fn append(tx: &Connection, c: &NewConsent, now: DateTime<Utc>) -> Result<LedgerEntry> {
    let resolved = resolve(tx, c, now)?;
    write(tx, c, resolved, now)
}

/// Nobody consents in the future: a date later than the clock (plus a
/// little skew between the CRM's clock and ours) is a mistake.
pub(super) fn check_not_future(given_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
    if given_at > now + CLOCK_SKEW {
        return Err(StoreError::BadDate {
            field: "given_at",
            value: given_at.to_rfc3339(),
            why: "it is later than now; record a consent once it has been given",
        });
    }
    Ok(())
}

/// Every check of [`append`], and the ids it writes, without writing.
pub(super) fn resolve(tx: &Connection, c: &NewConsent, now: DateTime<Utc>) -> Result<Resolved> {
    let evidence = check_new_consent(c)?;
    check_not_future(c.given_at, now)?;
    // An erased contact has no one left to consent (Art. 17); this also
    // refuses an unknown one.
    super::erasure::check_not_erased(tx, c.contact)?;
    let ty = match &c.consent_type {
        ConsentTypeRef::Id(id) => type_by_id(tx, *id)?,
        ConsentTypeRef::Code(code) => type_by_code(tx, code)?,
    };
    let text = text_of(tx, ty.id, c.text_version.unwrap_or(ty.text_version))?;
    // Art. 7(1): no one agrees to a text that did not exist yet.
    if c.given_at < text.valid_from {
        return Err(StoreError::BadDate {
            field: "given_at",
            value: c.given_at.to_rfc3339(),
            why: "it is before the consent type's text version existed; \
                  name the version the person saw, or add a backdated text version for historical consents",
        });
    }
    let (status_id, status) = status_of(tx, &c.status)?;
    let method_id = MethodId(id_of(tx, Catalog::Method, &c.method)?);
    let body = ConsentBody {
        consent_type_id: ty.id,
        text_version: text.version,
        status_id,
        status,
        legal_basis: c.legal_basis,
        method_id,
        source: c.source.trim().to_owned(),
        given_at: c.given_at.timestamp(),
        evidence_hash: evidence.as_deref().map(|e| sha256_hex(e.as_bytes())),
    };
    Ok(Resolved {
        type_code: ty.code,
        body,
        evidence,
    })
}

/// Appends what [`resolve`] checked, moves the projection and notes it.
pub(super) fn write(
    tx: &Connection,
    c: &NewConsent,
    resolved: Resolved,
    now: DateTime<Utc>,
) -> Result<LedgerEntry> {
    let Resolved {
        type_code,
        body,
        evidence,
    } = resolved;
    let text_version = body.text_version;
    let body_text = serde_json::to_string(&body)?;
    let actor = c.actor.trim();
    let at = now.timestamp();
    let appended = event::append_entry(tx, "consent", Some(c.contact), &body_text, actor, at)?;
    // The entry as it now reads, built from what was written rather than
    // read back: an import writes many of these in one transaction.
    let entry = LedgerEntry::from_parts(
        appended.seq,
        c.contact,
        actor.to_owned(),
        time(at)?,
        body,
        appended.prev_hash,
        appended.hash,
    )?;
    if let Some(evidence) = &evidence {
        tx.prepare_cached(
            "INSERT INTO consent_evidence (seq, contact_id, evidence) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![entry.seq, entry.contact_id, evidence])?;
    }
    let applied = project(tx, &entry)?;
    let mut summary = format!(
        "consent `{}`: {} ({}), legal basis {}, via `{}`, text v{}; source: {}",
        type_code, c.status, entry.status, entry.legal_basis, c.method, text_version, entry.source
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

pub(super) fn status_of(conn: &Connection, code: &str) -> Result<(StatusId, ConsentStatus)> {
    let found: Option<(StatusId, i64)> = conn
        .prepare_cached("SELECT id, meaning FROM statuses WHERE code = ?1")?
        .query_row([code], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let (id, meaning) = found.ok_or_else(|| unknown_code(conn, Catalog::Status, code))?;
    let meaning = ConsentStatus::from_code(meaning).ok_or_else(|| bad_code(1, meaning))?;
    Ok((id, meaning))
}

impl Store {
    /// Records a consent change: validates every code, appends the ledger
    /// entry, moves the projection and adds a timeline entry, all in one
    /// transaction. The entry's `recorded_at` is the store's clock.
    pub fn record_consent(&mut self, consent: &NewConsent) -> Result<LedgerEntry> {
        self.write_recorded(|tx, now| append(tx, consent, now))
    }

    /// Records many changes (an import, a bulk fill) in one transaction: if
    /// one is invalid, none is recorded.
    pub fn record_consents(&mut self, consents: &[NewConsent]) -> Result<Vec<LedgerEntry>> {
        self.write_recorded(|tx, now| consents.iter().map(|c| append(tx, c, now)).collect())
    }

    /// Every consent entry of a contact, oldest first.
    pub fn consent_history(&self, contact: ContactId) -> Result<Vec<LedgerEntry>> {
        check_contact(&self.conn, contact)?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ENTRY_COLUMNS} WHERE contact_id = ?1 AND kind = 'consent' ORDER BY seq"
        ))?;
        let entries = stmt
            .query_map([contact], entry_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(entries)
    }

    /// One consent entry by its sequence number; `None` if there is none or
    /// the entry is not a consent change.
    pub fn ledger_entry(&self, seq: LedgerSeq) -> Result<Option<LedgerEntry>> {
        let entry = self
            .conn
            .prepare_cached(&format!(
                "{ENTRY_COLUMNS} WHERE seq = ?1 AND kind = 'consent'"
            ))?
            .query_row([seq], entry_from_row)
            .optional()?;
        Ok(entry)
    }

    /// The last entry's seq and hash: what a checkpoint anchors.
    pub fn ledger_head(&self) -> Result<super::LedgerHead> {
        super::chain::head(&self.conn)
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
