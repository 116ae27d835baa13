//! Ways of giving consent (Livespace: 6 built-in ones, all editable or
//! deletable except "via the CRM form", plus custom ones).

use rusqlite::{Row, params};
use serde::{Deserialize, Serialize};

use super::catalog::{all, check_new_code, locked, one, refuse_if_used};
use super::{Catalog, MethodId, Result, Store, check_not_empty};

/// A way of giving consent: the CRM form, email, paper, an import, ...
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Method {
    pub id: MethodId,
    pub code: String,
    pub name: String,
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

impl Store {
    pub fn methods(&self) -> Result<Vec<Method>> {
        all(&self.conn, METHOD_COLUMNS, method_from_row)
    }

    pub fn method(&self, code: &str) -> Result<Method> {
        one(
            &self.conn,
            Catalog::Method,
            METHOD_COLUMNS,
            code,
            method_from_row,
        )
    }

    pub fn add_method(&mut self, code: &str, name: &str) -> Result<Method> {
        check_not_empty("method name", name)?;
        self.write(|tx| {
            check_new_code(tx, Catalog::Method, code)?;
            tx.execute(
                "INSERT INTO methods (code, name) VALUES (?1, ?2)",
                params![code, name.trim()],
            )?;
            one(tx, Catalog::Method, METHOD_COLUMNS, code, method_from_row)
        })
    }

    /// Renames a way of giving consent; built-in ones too, except the locked
    /// "via the CRM form".
    pub fn rename_method(&mut self, code: &str, name: &str) -> Result<Method> {
        check_not_empty("method name", name)?;
        self.write(|tx| {
            let old = one(tx, Catalog::Method, METHOD_COLUMNS, code, method_from_row)?;
            if old.locked {
                return Err(locked(Catalog::Method, code));
            }
            tx.execute(
                "UPDATE methods SET name = ?2 WHERE id = ?1",
                params![old.id, name.trim()],
            )?;
            one(tx, Catalog::Method, METHOD_COLUMNS, code, method_from_row)
        })
    }

    pub fn delete_method(&mut self, code: &str) -> Result<()> {
        self.write(|tx| {
            let old = one(tx, Catalog::Method, METHOD_COLUMNS, code, method_from_row)?;
            if old.locked {
                return Err(locked(Catalog::Method, code));
            }
            let places = [("consent_ledger", "method_id")];
            refuse_if_used(tx, Catalog::Method, code, old.id.0, &places, "deleted")?;
            tx.execute("DELETE FROM methods WHERE id = ?1", [old.id])?;
            Ok(())
        })
    }
}
