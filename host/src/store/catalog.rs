//! The admin's catalog: justification reasons and purposes, and the helpers
//! every code-keyed catalog shares (statuses, methods, consent and
//! subscription types have their own modules).
//!
//! Deleting an entry that the ledger or the decision log points at is refused
//! with [`StoreError::InUse`]: the proof of consent must keep resolving.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::contacts::check_actor;
use super::ledger::event::{Table, delete_row, put_row};
use super::limits::{self, check_len};
use super::{
    Catalog, LegalBasis, PurposeId, ReasonId, Result, Store, StoreError, check_code,
    check_not_empty, secs,
};

/// Checks a catalog entry's name or label and who is changing it.
pub(super) fn check_entry(field: &'static str, value: &str, actor: &str) -> Result<()> {
    check_not_empty(field, value)?;
    check_len(field, value, limits::MAX_LABEL)?;
    check_actor(actor)
}

impl Catalog {
    fn table(self) -> &'static str {
        match self {
            Catalog::ConsentType => "consent_types",
            Catalog::Status => "statuses",
            Catalog::Method => "methods",
            Catalog::Reason => "reasons",
            Catalog::Purpose => "purposes",
            Catalog::SubscriptionType => "subscription_types",
        }
    }
}

/// The id behind a code, or [`StoreError::UnknownCode`] naming it.
pub(super) fn id_of(conn: &Connection, kind: Catalog, code: &str) -> Result<u32> {
    match find_id(conn, kind, code)? {
        Some(id) => Ok(id),
        None => Err(unknown_code(conn, kind, code)),
    }
}

fn find_id(conn: &Connection, kind: Catalog, code: &str) -> Result<Option<u32>> {
    let sql = format!("SELECT id FROM {} WHERE code = ?1", kind.table());
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([code], |row| row.get(0))
        .optional()?)
}

/// [`StoreError::UnknownCode`] for `code`, with the catalog's codes so that
/// the message can suggest the nearest and list them. Every lookup by code
/// should build its error here.
pub(super) fn unknown_code(conn: &Connection, kind: Catalog, code: &str) -> StoreError {
    let sql = format!("SELECT code FROM {} ORDER BY code", kind.table());
    let valid = conn.prepare_cached(&sql).and_then(|mut stmt| {
        stmt.query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()
    });
    match valid {
        Ok(valid) => StoreError::UnknownCode {
            kind,
            code: code.to_owned(),
            valid,
        },
        Err(e) => e.into(),
    }
}

/// Checks that `code` is well formed and not taken yet.
pub(super) fn check_new_code(conn: &Connection, kind: Catalog, code: &str) -> Result<()> {
    check_code(kind, code)?;
    match find_id(conn, kind, code)? {
        Some(_) => Err(StoreError::DuplicateCode {
            kind,
            code: code.to_owned(),
        }),
        None => Ok(()),
    }
}

/// How many rows of the given tables point at `id` through `column`.
fn uses(conn: &Connection, id: u32, places: &[(&str, &str)]) -> Result<i64> {
    let mut total = 0;
    for (table, column) in places {
        let sql = format!("SELECT count(*) FROM {table} WHERE {column} = ?1");
        total += conn
            .prepare_cached(&sql)?
            .query_row([id], |row| row.get::<_, i64>(0))?;
    }
    Ok(total)
}

pub(super) fn refuse_if_used(
    conn: &Connection,
    kind: Catalog,
    code: &str,
    id: u32,
    places: &[(&str, &str)],
    action: &'static str,
) -> Result<()> {
    match uses(conn, id, places)? {
        0 => Ok(()),
        n => Err(StoreError::InUse {
            kind,
            code: code.to_owned(),
            uses: n,
            action,
        }),
    }
}

/// A reason an operator picks to contact someone without valid consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reason {
    /// Its id, as a justification in the decision log cites it.
    pub id: ReasonId,
    /// Stable code, e.g. `existing_customer` (soft opt-in).
    pub code: String,
    /// What the operator reads when picking it.
    pub label: String,
}

/// Why personal data is processed, with its default legal basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Purpose {
    /// Its id, as the plugin and a contact's bases name it.
    pub id: PurposeId,
    /// Stable code, unique among purposes.
    pub code: String,
    /// Shown to admins and operators.
    pub name: String,
    /// The purpose's default legal basis (Art. 6(1)).
    pub legal_basis: LegalBasis,
    /// Art. 21(3): an objection covers every direct-marketing purpose.
    pub direct_marketing: bool,
}

/// A purpose to add, or the new values of an existing one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewPurpose {
    /// Stable code; in an edit, the purpose's new code.
    #[schema(pattern = r"^[A-Za-z0-9_.-]{1,64}$")]
    pub code: String,
    /// Shown to admins and operators.
    #[schema(min_length = 1, max_length = 1000, pattern = r"\S")]
    pub name: String,
    /// The default legal basis (Art. 6(1)).
    pub legal_basis: LegalBasis,
    /// Covered by an Art. 21(3) objection.
    pub direct_marketing: bool,
}

fn purpose_from_row(row: &Row<'_>) -> rusqlite::Result<Purpose> {
    let basis: i64 = row.get(3)?;
    Ok(Purpose {
        id: row.get(0)?,
        code: row.get(1)?,
        name: row.get(2)?,
        legal_basis: LegalBasis::from_code(basis).ok_or_else(|| bad_code(3, basis))?,
        direct_marketing: row.get(4)?,
    })
}

/// A stored enum code outside its vocabulary: only a hand-edited file does that.
pub(super) fn bad_code(column: usize, code: i64) -> rusqlite::Error {
    rusqlite::Error::IntegralValueOutOfRange(column, code)
}

const REASON_COLUMNS: &str = "SELECT id, code, label FROM reasons";
const PURPOSE_COLUMNS: &str = "SELECT id, code, name, legal_basis, direct_marketing FROM purposes";

fn reason_from_row(row: &Row<'_>) -> rusqlite::Result<Reason> {
    Ok(Reason {
        id: row.get(0)?,
        code: row.get(1)?,
        label: row.get(2)?,
    })
}

/// Every row of a catalog query, in id order.
pub(super) fn all<T>(
    conn: &Connection,
    select: &str,
    map: fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(&format!("{select} ORDER BY id"))?;
    let rows = stmt.query_map([], map)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The row with `code`, or [`StoreError::UnknownCode`] naming it.
pub(super) fn one<T>(
    conn: &Connection,
    kind: Catalog,
    select: &str,
    code: &str,
    map: fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<T> {
    let found = conn
        .prepare_cached(&format!("{select} WHERE code = ?1"))?
        .query_row([code], map)
        .optional()?;
    found.ok_or_else(|| unknown_code(conn, kind, code))
}

/// Adds a purpose and its ledger entry inside the caller's transaction.
pub(super) fn insert_purpose(
    tx: &Connection,
    purpose: &NewPurpose,
    actor: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Purpose> {
    check_new_code(tx, Catalog::Purpose, &purpose.code)?;
    tx.execute(
        "INSERT INTO purposes (code, name, legal_basis, direct_marketing)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            purpose.code,
            purpose.name.trim(),
            purpose.legal_basis.code(),
            purpose.direct_marketing
        ],
    )?;
    let added = one(
        tx,
        Catalog::Purpose,
        PURPOSE_COLUMNS,
        &purpose.code,
        purpose_from_row,
    )?;
    put_row(
        tx,
        Table::Purposes,
        &[added.id.0.into()],
        None,
        actor,
        secs(now),
    )?;
    Ok(added)
}

impl Store {
    /// Every justification reason, in id order: what an operator picks from.
    pub fn reasons(&self) -> Result<Vec<Reason>> {
        all(&self.conn, REASON_COLUMNS, reason_from_row)
    }

    /// The reason with `code`.
    pub fn reason(&self, code: &str) -> Result<Reason> {
        one(
            &self.conn,
            Catalog::Reason,
            REASON_COLUMNS,
            code,
            reason_from_row,
        )
    }

    /// Adds a justification reason an operator can pick (Italian CRM plugin);
    /// a ledger entry, since reasons are part of the plugin's config.
    pub fn add_reason(&mut self, code: &str, label: &str, actor: &str) -> Result<Reason> {
        check_entry("reason label", label, actor)?;
        self.write_recorded(|tx, now| {
            check_new_code(tx, Catalog::Reason, code)?;
            tx.execute(
                "INSERT INTO reasons (code, label) VALUES (?1, ?2)",
                params![code, label.trim()],
            )?;
            let reason = one(tx, Catalog::Reason, REASON_COLUMNS, code, reason_from_row)?;
            put_row(
                tx,
                Table::Reasons,
                &[reason.id.0.into()],
                None,
                actor,
                secs(now),
            )?;
            Ok(reason)
        })
    }

    /// Changes a reason's label. Justifications already logged keep the
    /// label's old wording in their timeline entries.
    pub fn edit_reason(&mut self, code: &str, label: &str, actor: &str) -> Result<Reason> {
        check_entry("reason label", label, actor)?;
        self.write_recorded(|tx, now| {
            let old = one(tx, Catalog::Reason, REASON_COLUMNS, code, reason_from_row)?;
            tx.execute(
                "UPDATE reasons SET label = ?2 WHERE id = ?1",
                params![old.id, label.trim()],
            )?;
            put_row(
                tx,
                Table::Reasons,
                &[old.id.0.into()],
                None,
                actor,
                secs(now),
            )?;
            one(tx, Catalog::Reason, REASON_COLUMNS, code, reason_from_row)
        })
    }

    /// Refused once a justification cites the reason: the log must resolve it.
    pub fn delete_reason(&mut self, code: &str, actor: &str) -> Result<()> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            let old = one(tx, Catalog::Reason, REASON_COLUMNS, code, reason_from_row)?;
            let places = [("decisions", "reason_id")];
            refuse_if_used(tx, Catalog::Reason, code, old.id.0, &places, "deleted")?;
            tx.execute("DELETE FROM reasons WHERE id = ?1", [old.id])?;
            delete_row(
                tx,
                Table::Reasons,
                &[old.id.0.into()],
                None,
                actor,
                secs(now),
            )?;
            Ok(())
        })
    }

    /// Every purpose of processing, in id order.
    pub fn purposes(&self) -> Result<Vec<Purpose>> {
        all(&self.conn, PURPOSE_COLUMNS, purpose_from_row)
    }

    /// The purpose with `code`.
    pub fn purpose(&self, code: &str) -> Result<Purpose> {
        one(
            &self.conn,
            Catalog::Purpose,
            PURPOSE_COLUMNS,
            code,
            purpose_from_row,
        )
    }

    /// Adds a purpose of processing with its default legal basis
    /// (SuperOffice); a ledger entry, since decisions read it.
    pub fn add_purpose(&mut self, purpose: &NewPurpose, actor: &str) -> Result<Purpose> {
        check_entry("purpose name", &purpose.name, actor)?;
        self.write_recorded(|tx, now| insert_purpose(tx, purpose, actor, now))
    }

    /// Changes a purpose's name, default basis and marketing flag; `code` picks
    /// the purpose and `purpose.code` becomes its code.
    pub fn edit_purpose(
        &mut self,
        code: &str,
        purpose: &NewPurpose,
        actor: &str,
    ) -> Result<Purpose> {
        check_entry("purpose name", &purpose.name, actor)?;
        self.write_recorded(|tx, now| {
            let id = id_of(tx, Catalog::Purpose, code)?;
            if purpose.code != code {
                check_new_code(tx, Catalog::Purpose, &purpose.code)?;
            }
            tx.execute(
                "UPDATE purposes SET code = ?2, name = ?3, legal_basis = ?4, direct_marketing = ?5
                 WHERE id = ?1",
                params![
                    id,
                    purpose.code,
                    purpose.name.trim(),
                    purpose.legal_basis.code(),
                    purpose.direct_marketing
                ],
            )?;
            put_row(tx, Table::Purposes, &[id.into()], None, actor, secs(now))?;
            one(
                tx,
                Catalog::Purpose,
                PURPOSE_COLUMNS,
                &purpose.code,
                purpose_from_row,
            )
        })
    }

    /// Refused while a contact has a legal basis for the purpose.
    pub fn delete_purpose(&mut self, code: &str, actor: &str) -> Result<()> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            let id = id_of(tx, Catalog::Purpose, code)?;
            let places = [("contact_purposes", "purpose_id")];
            refuse_if_used(tx, Catalog::Purpose, code, id, &places, "deleted")?;
            tx.execute("DELETE FROM purposes WHERE id = ?1", [id])?;
            delete_row(tx, Table::Purposes, &[id.into()], None, actor, secs(now))?;
            Ok(())
        })
    }
}

pub(super) fn locked(kind: Catalog, code: &str) -> StoreError {
    StoreError::Locked {
        kind,
        code: code.to_owned(),
    }
}
