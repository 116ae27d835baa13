//! Consent statuses (Livespace: 4 built-in ones that cannot be edited or
//! deleted, plus custom ones). Each status means exactly one DPV state, which
//! is what the rules read.

use rusqlite::{Row, params};
use serde::{Deserialize, Serialize};

use super::catalog::{all, bad_code, check_entry, check_new_code, locked, one, refuse_if_used};
use super::contacts::check_actor;
use super::ledger::event::{Table, delete_row, put_row};
use super::{Catalog, ConsentStatus, Result, StatusId, Store, secs};

/// The status a consent entry names, as an SQL expression over `ledger`.
const LEDGER_STATUS: &str = "CASE kind WHEN 'consent' THEN body ->> '$.status_id' END";

/// A consent status; each one means exactly one DPV state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Status {
    /// Its id, as ledger entries name it.
    pub id: StatusId,
    /// Stable code, e.g. `given`.
    pub code: String,
    /// Shown to people.
    pub name: String,
    /// The DPV state it means, which is what the rules read.
    pub meaning: ConsentStatus,
    /// Livespace: the four built-in statuses cannot be edited or deleted.
    pub built_in: bool,
}

fn status_from_row(row: &Row<'_>) -> rusqlite::Result<Status> {
    let meaning: i64 = row.get(3)?;
    Ok(Status {
        id: row.get(0)?,
        code: row.get(1)?,
        name: row.get(2)?,
        meaning: ConsentStatus::from_code(meaning).ok_or_else(|| bad_code(3, meaning))?,
        built_in: row.get(4)?,
    })
}

const STATUS_COLUMNS: &str = "SELECT id, code, name, meaning, built_in FROM statuses";

impl Store {
    /// Every consent status, built in and custom, in id order.
    pub fn statuses(&self) -> Result<Vec<Status>> {
        all(&self.conn, STATUS_COLUMNS, status_from_row)
    }

    /// The consent status with `code`.
    pub fn status(&self, code: &str) -> Result<Status> {
        one(
            &self.conn,
            Catalog::Status,
            STATUS_COLUMNS,
            code,
            status_from_row,
        )
    }

    /// Adds a custom status meaning one DPV state.
    pub fn add_status(
        &mut self,
        code: &str,
        name: &str,
        meaning: ConsentStatus,
        actor: &str,
    ) -> Result<Status> {
        check_entry("status name", name, actor)?;
        self.write_recorded(|tx, now| {
            check_new_code(tx, Catalog::Status, code)?;
            tx.execute(
                "INSERT INTO statuses (code, name, meaning) VALUES (?1, ?2, ?3)",
                params![code, name.trim(), meaning.code()],
            )?;
            let added = one(tx, Catalog::Status, STATUS_COLUMNS, code, status_from_row)?;
            put_row(
                tx,
                Table::Statuses,
                &[added.id.0.into()],
                None,
                actor,
                secs(now),
            )?;
            Ok(added)
        })
    }

    /// Renames a custom status or changes its meaning. The meaning of a status
    /// already in the ledger stays fixed: changing it would rewrite what past
    /// consents meant.
    pub fn edit_status(
        &mut self,
        code: &str,
        name: &str,
        meaning: ConsentStatus,
        actor: &str,
    ) -> Result<Status> {
        check_entry("status name", name, actor)?;
        self.write_recorded(|tx, now| {
            let old = one(tx, Catalog::Status, STATUS_COLUMNS, code, status_from_row)?;
            if old.built_in {
                return Err(locked(Catalog::Status, code));
            }
            if old.meaning != meaning {
                let places = [("ledger", LEDGER_STATUS)];
                refuse_if_used(
                    tx,
                    Catalog::Status,
                    code,
                    old.id.0,
                    &places,
                    "given a new meaning",
                )?;
            }
            tx.execute(
                "UPDATE statuses SET name = ?2, meaning = ?3 WHERE id = ?1",
                params![old.id, name.trim(), meaning.code()],
            )?;
            put_row(
                tx,
                Table::Statuses,
                &[old.id.0.into()],
                None,
                actor,
                secs(now),
            )?;
            one(tx, Catalog::Status, STATUS_COLUMNS, code, status_from_row)
        })
    }

    /// Deletes a custom status. Refused for a built-in one (Livespace) and
    /// while a ledger entry names it: the proof must keep resolving it.
    pub fn delete_status(&mut self, code: &str, actor: &str) -> Result<()> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            let old = one(tx, Catalog::Status, STATUS_COLUMNS, code, status_from_row)?;
            if old.built_in {
                return Err(locked(Catalog::Status, code));
            }
            let places = [("ledger", LEDGER_STATUS)];
            refuse_if_used(tx, Catalog::Status, code, old.id.0, &places, "deleted")?;
            tx.execute("DELETE FROM statuses WHERE id = ?1", [old.id])?;
            delete_row(
                tx,
                Table::Statuses,
                &[old.id.0.into()],
                None,
                actor,
                secs(now),
            )?;
            Ok(())
        })
    }
}
