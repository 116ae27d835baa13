//! A contact's timeline (Livespace: every change adds an entry to the person's
//! timeline). Entries are written by the same transaction as the change they
//! describe, so the timeline never shows a change that did not happen or
//! misses one that did. The summaries are for people and may hold personal
//! data, which is why the timeline is erasable and not part of the ledger.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, params};
use serde::{Deserialize, Serialize};

use super::contacts::check_contact;
use super::vocabulary::parse_column;
use super::{
    ContactId, DecisionId, LedgerSeq, Result, Store, StoreError, TimelineKind, secs, time,
};

/// One line of a contact's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    /// Its id.
    pub id: i64,
    /// The contact whose history it is.
    pub contact_id: ContactId,
    /// When the change was recorded.
    pub at: DateTime<Utc>,
    /// What the entry is about.
    pub kind: TimelineKind,
    /// The change in words, for people; may hold personal data.
    pub summary: String,
    /// Who made the change: a user, "import", "form", ...
    pub actor: String,
    /// The ledger entry of a consent change.
    pub ledger_seq: Option<LedgerSeq>,
    /// The decision a justification answers.
    pub decision_id: Option<DecisionId>,
}

/// A timeline entry about to be written inside a transaction.
pub(super) struct Note<'a> {
    pub contact: ContactId,
    pub at: DateTime<Utc>,
    pub kind: TimelineKind,
    pub summary: String,
    pub actor: &'a str,
    pub ledger_seq: Option<LedgerSeq>,
    pub decision: Option<DecisionId>,
}

pub(super) fn add_note(conn: &Connection, note: &Note<'_>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO contact_timeline (contact_id, at, kind, summary, actor, ledger_seq, decision_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        note.contact,
        secs(note.at),
        note.kind.as_str(),
        note.summary,
        note.actor,
        note.ledger_seq,
        note.decision
    ])?;
    Ok(())
}

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<TimelineEntry> {
    Ok(TimelineEntry {
        id: row.get(0)?,
        contact_id: row.get(1)?,
        at: time(row.get(2)?)?,
        kind: parse_column(row, 3)?,
        summary: row.get(4)?,
        actor: row.get(5)?,
        ledger_seq: row.get(6)?,
        decision_id: row.get(7)?,
    })
}

impl Store {
    /// The contact's timeline, oldest first.
    pub fn timeline(&self, contact: ContactId) -> Result<Vec<TimelineEntry>> {
        check_contact(&self.conn, contact)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, contact_id, at, kind, summary, actor, ledger_seq, decision_id
             FROM contact_timeline WHERE contact_id = ?1 ORDER BY at, id",
        )?;
        let entries = stmt
            .query_map([contact], entry_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(StoreError::from)?;
        Ok(entries)
    }
}
