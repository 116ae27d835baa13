//! Ways of giving consent (Livespace: 6 built-in ones, all editable or
//! deletable except "via the CRM form", plus custom ones).

use rusqlite::{Row, params};
use serde::{Deserialize, Serialize};

use super::catalog::{all, check_entry, check_new_code, locked, one, refuse_if_used};
use super::contacts::check_actor;
use super::ledger::event::{Table, delete_row, put_row};
use super::{Catalog, MethodId, Result, Store, secs};

/// A way of giving consent: the CRM form, email, paper, an import, ...
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Method {
    /// Its id, as ledger entries and the plugin name it.
    pub id: MethodId,
    /// Stable code, e.g. `crm_form` or `import`.
    pub code: String,
    /// Shown to people, e.g. "Via the CRM form".
    pub name: String,
    /// One of the six Livespace ways a new database starts with.
    pub built_in: bool,
    /// Livespace: "via the CRM form" can be neither edited nor deleted.
    pub locked: bool,
}

const METHOD_COLUMNS: &str = "SELECT id, code, name, built_in, locked FROM methods";

fn method_from_row(row: &Row<'_>) -> rusqlite::Result<Method> {
    Ok(Method {
        id: row.get(0)?,
        code: row.get(1)?,
        name: row.get(2)?,
        built_in: row.get(3)?,
        locked: row.get(4)?,
    })
}

/// The method a consent entry names, as an SQL expression over `ledger`.
const LEDGER_METHOD: &str = "CASE kind WHEN 'consent' THEN body ->> '$.method_id' END";

impl Store {
    /// Every way of giving consent, in id order.
    pub fn methods(&self) -> Result<Vec<Method>> {
        all(&self.conn, METHOD_COLUMNS, method_from_row)
    }

    /// The way of giving consent with `code`.
    pub fn method(&self, code: &str) -> Result<Method> {
        one(
            &self.conn,
            Catalog::Method,
            METHOD_COLUMNS,
            code,
            method_from_row,
        )
    }

    /// Adds a custom way of giving consent (Livespace allows custom ones).
    pub fn add_method(&mut self, code: &str, name: &str, actor: &str) -> Result<Method> {
        check_entry("method name", name, actor)?;
        self.write_recorded(|tx, now| {
            check_new_code(tx, Catalog::Method, code)?;
            tx.execute(
                "INSERT INTO methods (code, name) VALUES (?1, ?2)",
                params![code, name.trim()],
            )?;
            let added = one(tx, Catalog::Method, METHOD_COLUMNS, code, method_from_row)?;
            put_row(
                tx,
                Table::Methods,
                &[added.id.0.into()],
                None,
                actor,
                secs(now),
            )?;
            Ok(added)
        })
    }

    /// Renames a way of giving consent; built-in ones too, except the locked
    /// "via the CRM form".
    pub fn rename_method(&mut self, code: &str, name: &str, actor: &str) -> Result<Method> {
        check_entry("method name", name, actor)?;
        self.write_recorded(|tx, now| {
            let old = one(tx, Catalog::Method, METHOD_COLUMNS, code, method_from_row)?;
            if old.locked {
                return Err(locked(Catalog::Method, code));
            }
            tx.execute(
                "UPDATE methods SET name = ?2 WHERE id = ?1",
                params![old.id, name.trim()],
            )?;
            put_row(
                tx,
                Table::Methods,
                &[old.id.0.into()],
                None,
                actor,
                secs(now),
            )?;
            one(tx, Catalog::Method, METHOD_COLUMNS, code, method_from_row)
        })
    }

    /// Refused for the locked "via the CRM form" and while a ledger entry
    /// names the method: the proof must keep resolving it.
    pub fn delete_method(&mut self, code: &str, actor: &str) -> Result<()> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            let old = one(tx, Catalog::Method, METHOD_COLUMNS, code, method_from_row)?;
            if old.locked {
                return Err(locked(Catalog::Method, code));
            }
            let places = [("ledger", LEDGER_METHOD)];
            refuse_if_used(tx, Catalog::Method, code, old.id.0, &places, "deleted")?;
            tx.execute("DELETE FROM methods WHERE id = ?1", [old.id])?;
            delete_row(
                tx,
                Table::Methods,
                &[old.id.0.into()],
                None,
                actor,
                secs(now),
            )?;
            Ok(())
        })
    }
}
