//! Typed relations between contacts (iPresso): "from is `<kind>` of to",
//! checked against the relation type catalog (`kinds`), which also says
//! whether an erasure cascades along them.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::contacts::{check_actor, check_contact};
use super::erasure::check_not_erased;
use super::kinds::check_relation;
use super::ledger::event::{Table, put_row};
use super::limits::check_len;
use super::timeline::{Note, add_note};
use super::{
    ContactId, RelationId, RelationKind, Result, Store, StoreError, TimelineKind, secs, time,
};

/// "`from` is `kind` of `to`", e.g. an employee of a company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    /// Its id.
    pub id: RelationId,
    /// The contact the relation is read from.
    pub from: ContactId,
    /// The contact it points to.
    pub to: ContactId,
    /// How they are related (iPresso).
    pub kind: RelationKind,
    /// When the relation was recorded.
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Records that `from` is `kind` of `to`. Relating the same pair the same
    /// way twice returns the existing relation.
    pub fn relate(
        &mut self,
        from: ContactId,
        to: ContactId,
        kind: &RelationKind,
        actor: &str,
    ) -> Result<RelationId> {
        if from == to {
            return Err(StoreError::Invalid {
                field: "relation",
                why: format!("contact {from} cannot be related to itself"),
            });
        }
        check_actor(actor)?;
        check_len("relation kind", kind.as_str(), 64)?;
        self.write_recorded(|tx, now| {
            check_not_erased(tx, from)?;
            check_not_erased(tx, to)?;
            check_relation(tx, from, to, kind.as_str())?;
            let existing: Option<RelationId> = tx
                .query_row(
                    "SELECT id FROM contact_relations
                     WHERE from_contact = ?1 AND to_contact = ?2 AND kind = ?3",
                    params![from, to, kind.as_str()],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(id) = existing {
                return Ok(id);
            }
            tx.execute(
                "INSERT INTO contact_relations (from_contact, to_contact, kind, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![from, to, kind.as_str(), secs(now)],
            )?;
            let id = RelationId(tx.last_insert_rowid());
            let seq = put_row(
                tx,
                Table::ContactRelations,
                &[id.0],
                Some(from),
                actor,
                secs(now),
            )?;
            for (contact, other) in [(from, to), (to, from)] {
                add_note(
                    tx,
                    &Note {
                        contact,
                        at: now,
                        kind: TimelineKind::Relation,
                        summary: format!("related to contact {other}: {from} is {kind} of {to}"),
                        actor,
                        ledger_seq: Some(seq),
                        decision: None,
                    },
                )?;
            }
            Ok(id)
        })
    }

    /// Every relation the contact takes part in, either side.
    pub fn relations(&self, id: ContactId) -> Result<Vec<Relation>> {
        check_contact(&self.conn, id)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, from_contact, to_contact, kind, created_at FROM contact_relations
             WHERE from_contact = ?1 OR to_contact = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map([id], |row| {
                let kind: String = row.get(3)?;
                Ok(Relation {
                    id: row.get(0)?,
                    from: row.get(1)?,
                    to: row.get(2)?,
                    kind: kind.parse().unwrap_or(RelationKind::Other(kind)),
                    created_at: time(row.get(4)?)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
