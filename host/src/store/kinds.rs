//! The catalogs of contact types and relation types (iPresso): an admin adds
//! to both, adding and relating contacts check against them, and a relation
//! type says whether an erasure cascades along it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::contacts::check_actor;
use super::vocabulary::parse_column;
use super::{Cascade, ContactId, Result, Store, StoreError, check_not_empty, secs, time};

/// A type of contact: person, company, device, car, ...
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactType {
    /// Its code, as contacts carry it in `kind`.
    pub code: String,
    /// Its name for people.
    pub name: String,
    /// Shipped with crm-consent.
    pub built_in: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// A type of relation, read as "from is `<code>` of to".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RelationType {
    /// Its code, e.g. `parent_child`.
    pub code: String,
    /// Its name for people.
    pub name: String,
    /// The contact type `from` must have; `None` for any.
    pub from_type: Option<String>,
    /// The contact type `to` must have; `None` for any.
    pub to_type: Option<String>,
    /// Which way an erasure cascades along it, one level only.
    pub cascade: Cascade,
    /// Shipped with crm-consent.
    pub built_in: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// A relation type to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewRelationType {
    /// Its code: letters, digits, `_`, `-`, `.`.
    pub code: String,
    /// Its name for people.
    pub name: String,
    /// The contact type `from` must have; `None` for any.
    #[serde(default)]
    pub from_type: Option<String>,
    /// The contact type `to` must have; `None` for any.
    #[serde(default)]
    pub to_type: Option<String>,
    /// Which way an erasure cascades along it.
    pub cascade: Cascade,
}

fn codes(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let rows = conn
        .prepare_cached(&format!("SELECT code FROM {table} ORDER BY code"))?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn exists(conn: &Connection, table: &str, code: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(&format!("SELECT 1 FROM {table} WHERE code = ?1"))?
        .query_row([code], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Fails unless `code` is in the contact type catalog, listing the valid codes.
pub(crate) fn check_contact_type(conn: &Connection, code: &str) -> Result<()> {
    if exists(conn, "contact_types", code)? {
        return Ok(());
    }
    Err(StoreError::UnknownKind {
        what: "contact type",
        code: code.to_owned(),
        valid: codes(conn, "contact_types")?,
    })
}

fn contact_type_row(row: &Row<'_>) -> rusqlite::Result<ContactType> {
    Ok(ContactType {
        code: row.get(0)?,
        name: row.get(1)?,
        built_in: row.get(2)?,
        created_at: time(row.get(3)?)?,
    })
}

fn relation_type_row(row: &Row<'_>) -> rusqlite::Result<RelationType> {
    Ok(RelationType {
        code: row.get(0)?,
        name: row.get(1)?,
        from_type: row.get(2)?,
        to_type: row.get(3)?,
        cascade: parse_column(row, 4)?,
        built_in: row.get(5)?,
        created_at: time(row.get(6)?)?,
    })
}

const RELATION_TYPES: &str =
    "SELECT code, name, from_type, to_type, cascade, built_in, created_at FROM relation_types";

fn relation_type(conn: &Connection, code: &str) -> Result<RelationType> {
    conn.prepare_cached(&format!("{RELATION_TYPES} WHERE code = ?1"))?
        .query_row([code], relation_type_row)
        .optional()?
        .map_or_else(
            || {
                Err(StoreError::UnknownKind {
                    what: "relation type",
                    code: code.to_owned(),
                    valid: codes(conn, "relation_types")?,
                })
            },
            Ok,
        )
}

fn kind_of(conn: &Connection, id: ContactId) -> Result<String> {
    conn.prepare_cached("SELECT kind FROM contacts WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::UnknownContact(id))
}

/// Fails unless `code` is a relation type whose contact types `from` and
/// `to` have.
pub(crate) fn check_relation(
    conn: &Connection,
    from: ContactId,
    to: ContactId,
    code: &str,
) -> Result<()> {
    let ty = relation_type(conn, code)?;
    for (side, id, wanted) in [("from", from, &ty.from_type), ("to", to, &ty.to_type)] {
        let Some(wanted) = wanted else { continue };
        let kind = kind_of(conn, id)?;
        if &kind != wanted {
            return Err(StoreError::Invalid {
                field: "relation",
                why: format!(
                    "`{code}` relates a {from_type} to a {to_type}, but the {side} contact {id} \
                     is a {kind}; pick a relation type that fits (`contacts relation-types list`)",
                    from_type = ty.from_type.as_deref().unwrap_or("contact"),
                    to_type = ty.to_type.as_deref().unwrap_or("contact"),
                ),
            });
        }
    }
    Ok(())
}

/// The contacts erasing `id` takes along: one level down every cascading
/// relation, in id order, without `id` itself.
pub(crate) fn cascade_targets(conn: &Connection, id: ContactId) -> Result<Vec<ContactId>> {
    let rows = conn
        .prepare_cached(
            "SELECT r.to_contact FROM contact_relations r
                 JOIN relation_types t ON t.code = r.kind
                 WHERE r.from_contact = ?1 AND t.cascade = 'from_to'
             UNION
             SELECT r.from_contact FROM contact_relations r
                 JOIN relation_types t ON t.code = r.kind
                 WHERE r.to_contact = ?1 AND t.cascade = 'to_from'
             ORDER BY 1",
        )?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<ContactId>>>()?;
    Ok(rows.into_iter().filter(|c| *c != id).collect())
}

fn check_new_code(code: &str, name: &str) -> Result<()> {
    check_not_empty("name", name)?;
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: "code",
            why: format!(
                "`{code}` may hold at most 64 lowercase letters, digits or `_`; choose another"
            ),
        })
    }
}

impl Store {
    /// The contact type catalog, by code.
    pub fn contact_types(&self) -> Result<Vec<ContactType>> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT code, name, built_in, created_at FROM contact_types ORDER BY code",
            )?
            .query_map([], contact_type_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Adds a contact type (admin).
    pub fn add_contact_type(&mut self, code: &str, name: &str, actor: &str) -> Result<ContactType> {
        check_new_code(code, name)?;
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            if exists(tx, "contact_types", code)? {
                return Err(StoreError::DuplicateKind {
                    what: "contact type",
                    code: code.to_owned(),
                });
            }
            tx.execute(
                "INSERT INTO contact_types (code, name, created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4)",
                params![code, name.trim(), secs(now), actor],
            )?;
            Ok(ContactType {
                code: code.to_owned(),
                name: name.trim().to_owned(),
                built_in: false,
                created_at: now,
            })
        })
    }

    /// The relation type catalog, by code.
    pub fn relation_types(&self) -> Result<Vec<RelationType>> {
        let rows = self
            .conn
            .prepare_cached(&format!("{RELATION_TYPES} ORDER BY code"))?
            .query_map([], relation_type_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Adds a relation type (admin); its contact types must be in the catalog.
    pub fn add_relation_type(
        &mut self,
        new: &NewRelationType,
        actor: &str,
    ) -> Result<RelationType> {
        check_new_code(&new.code, &new.name)?;
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            if exists(tx, "relation_types", &new.code)? {
                return Err(StoreError::DuplicateKind {
                    what: "relation type",
                    code: new.code.clone(),
                });
            }
            for ty in [&new.from_type, &new.to_type].into_iter().flatten() {
                check_contact_type(tx, ty)?;
            }
            tx.execute(
                "INSERT INTO relation_types
                     (code, name, from_type, to_type, cascade, created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    new.code,
                    new.name.trim(),
                    new.from_type,
                    new.to_type,
                    new.cascade.as_str(),
                    secs(now),
                    actor
                ],
            )?;
            relation_type(tx, &new.code)
        })
    }
}
