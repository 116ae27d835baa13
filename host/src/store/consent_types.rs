//! Consent types (Italian CRM plugin: title, unique code, validity, three
//! channel flags) and the versioned text a person agrees to (Salesforce
//! authorization forms). Changing the text adds a version; every ledger entry
//! names the version that was agreed to, so old consents keep their old text.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::catalog::{check_new_code, id_of, unknown_code};
use super::contacts::check_actor;
use super::ledger::event::{Table, put_row};
use super::limits::{self, check_len};
use super::pages::write_double_opt_in;
use super::{
    Catalog, Channel, ConsentTypeId, Result, Store, StoreError, check_not_empty, secs, time,
};

/// A kind of consent an admin defines ("Newsletter", "Phone marketing").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConsentType {
    /// Its id, as consents and the plugin name it.
    pub id: ConsentTypeId,
    /// Stable code used in imports and the CLI, e.g. `newsletter`.
    pub code: String,
    /// Shown in pick lists.
    pub title: String,
    /// An admin's note on what the type covers; not the agreed text.
    pub description: Option<String>,
    /// The current version of the text; bumped on every text change.
    pub text_version: u32,
    /// Days a given consent stays valid; `None` never expires.
    pub validity_days: Option<u32>,
    /// Allows newsletters and other bulk sends.
    pub allow_bulk_email: bool,
    /// Allows one email (or SMS) to one contact.
    pub allow_single_email: bool,
    /// Allows phone calls.
    pub allow_phone: bool,
    /// When the admin added it.
    pub created_at: DateTime<Utc>,
}

/// A consent type to add (Italian CRM plugin: title, unique code, validity,
/// three channel flags), with the first version of its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewConsentType {
    /// Stable code used in imports and the CLI.
    #[schema(pattern = r"^[A-Za-z0-9_.-]{1,64}$")]
    pub code: String,
    /// Shown in pick lists.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    /// An admin's note on what the type covers.
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// The text the person agrees to: version 1.
    #[schema(min_length = 1, max_length = 65536, pattern = r"\S")]
    pub text: String,
    /// Days a given consent stays valid; `None` never expires.
    pub validity_days: Option<u32>,
    /// Allows newsletters and other bulk sends.
    pub allow_bulk_email: bool,
    /// Allows one email (or SMS) to one contact.
    pub allow_single_email: bool,
    /// Allows phone calls.
    pub allow_phone: bool,
    /// From when the first text counts; `None` means from now. Only an
    /// import of historical consents needs an earlier date (Art. 7(1): no
    /// one agrees to a text before it existed).
    #[serde(default)]
    pub text_valid_from: Option<DateTime<Utc>>,
}

/// Changes to a consent type; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentTypeEdit {
    /// A new title.
    pub title: Option<String>,
    /// `Some(None)` removes the description.
    pub description: Option<Option<String>>,
    /// A different text adds a new version; the same text adds none.
    pub text: Option<String>,
    /// `Some(None)` makes the consent never expire.
    pub validity_days: Option<Option<u32>>,
    /// Allows newsletters and other bulk sends.
    pub allow_bulk_email: Option<bool>,
    /// Allows one email (or SMS) to one contact.
    pub allow_single_email: Option<bool>,
    /// Allows phone calls.
    pub allow_phone: Option<bool>,
}

/// One version of a consent type's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentTypeText {
    /// 1 for the first text, then one more per change.
    pub version: u32,
    /// The words the person agreed to, exactly as shown (Art. 7(1)).
    pub text: String,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// Consents given before this time cannot name this version.
    pub valid_from: DateTime<Utc>,
}

impl ConsentType {
    /// Whether consent of this type covers `channel`. An SMS is a written
    /// message to one person, so it rides on `allow_single_email` (the rules
    /// in `plugin/src/rules/consent.rs` do the same).
    pub const fn allows(&self, channel: Channel) -> bool {
        match channel {
            Channel::BulkEmail => self.allow_bulk_email,
            Channel::SingleEmail | Channel::Sms => self.allow_single_email,
            Channel::Phone => self.allow_phone,
        }
    }
}

// The columns keep their first names (`allow_bulk`, `allow_single`,
// `allow_contact`) while the fields use the channel words: the ledger's
// `row_put` entries hold rows keyed by column name and `ledger verify`
// replays them into this schema, so a renamed column would break the replay
// of every existing ledger. This module is the one place that maps them.
pub(super) const TYPE_COLUMNS: &str = "SELECT t.id, t.code, t.title, t.description,
        (SELECT version FROM consent_type_texts WHERE type_id = t.id
         ORDER BY valid_from DESC, version DESC LIMIT 1),
        t.validity_days, t.allow_bulk, t.allow_single, t.allow_contact, t.created_at
    FROM consent_types t";

pub(super) fn type_from_row(row: &Row<'_>) -> rusqlite::Result<ConsentType> {
    Ok(ConsentType {
        id: row.get(0)?,
        code: row.get(1)?,
        title: row.get(2)?,
        description: row.get(3)?,
        text_version: row.get(4)?,
        validity_days: row.get(5)?,
        allow_bulk_email: row.get(6)?,
        allow_single_email: row.get(7)?,
        allow_phone: row.get(8)?,
        created_at: time(row.get(9)?)?,
    })
}

/// A type that allows no channel can never allow anything: almost surely a
/// mistake on the command line.
fn check_channels(bulk_email: bool, single_email: bool, phone: bool) -> Result<()> {
    if bulk_email || single_email || phone {
        return Ok(());
    }
    Err(StoreError::Invalid {
        field: "channels",
        why: "a consent type must allow at least one channel (bulk_email, single_email or phone); \
              otherwise it can never allow anything"
            .to_owned(),
    })
}

fn check_text(text: &str) -> Result<()> {
    check_not_empty("consent type text", text)?;
    check_len("consent type text", text, limits::MAX_TEXT)
}

fn check_validity(days: Option<u32>) -> Result<()> {
    match days {
        Some(0) => Err(StoreError::Invalid {
            field: "validity_days",
            why: "0 days would expire at once; leave it empty for a consent that never expires"
                .to_owned(),
        }),
        _ => Ok(()),
    }
}

/// The type with `code`, or [`StoreError::UnknownCode`] naming it.
pub(super) fn type_by_code(conn: &Connection, code: &str) -> Result<ConsentType> {
    conn.prepare_cached(&format!("{TYPE_COLUMNS} WHERE t.code = ?1"))?
        .query_row([code], type_from_row)
        .optional()?
        .ok_or_else(|| unknown_code(conn, Catalog::ConsentType, code))
}

pub(super) fn type_by_id(conn: &Connection, id: ConsentTypeId) -> Result<ConsentType> {
    conn.prepare_cached(&format!("{TYPE_COLUMNS} WHERE t.id = ?1"))?
        .query_row([id], type_from_row)
        .optional()?
        .ok_or(StoreError::UnknownId {
            kind: Catalog::ConsentType,
            id: id.0.into(),
        })
}

pub(super) fn all_types(conn: &Connection) -> Result<Vec<ConsentType>> {
    let mut stmt = conn.prepare_cached(&format!("{TYPE_COLUMNS} ORDER BY t.id"))?;
    let types = stmt
        .query_map([], type_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(types)
}

/// Adds a text version and records it, text included: the chain proves the
/// words, not only their version number.
fn add_text(
    conn: &Connection,
    id: ConsentTypeId,
    version: u32,
    text: &str,
    valid_from: i64,
    actor: &str,
    now: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO consent_type_texts (type_id, version, text, created_at, valid_from)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, version, text, now, valid_from],
    )?;
    let key = [i64::from(id.0), i64::from(version)];
    put_row(conn, Table::ConsentTypeTexts, &key, None, actor, now)?;
    Ok(())
}

impl Store {
    /// Adds a consent type with version 1 of its text.
    pub fn add_consent_type(&mut self, new: &NewConsentType, actor: &str) -> Result<ConsentType> {
        self.add_type(new, false, actor)
    }

    /// Adds a consent type, with double opt-in when `double_opt_in`.
    pub(super) fn add_type(
        &mut self,
        new: &NewConsentType,
        double_opt_in: bool,
        actor: &str,
    ) -> Result<ConsentType> {
        check_not_empty("consent type title", &new.title)?;
        check_len("consent type title", &new.title, limits::MAX_NAME)?;
        if let Some(d) = &new.description {
            check_len("consent type description", d, limits::MAX_LABEL)?;
        }
        check_text(&new.text)?;
        check_validity(new.validity_days)?;
        check_channels(
            new.allow_bulk_email,
            new.allow_single_email,
            new.allow_phone,
        )?;
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            check_new_code(tx, Catalog::ConsentType, &new.code)?;
            tx.execute(
                "INSERT INTO consent_types (code, title, description, validity_days,
                     allow_bulk, allow_single, allow_contact, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    new.code,
                    new.title.trim(),
                    new.description,
                    new.validity_days,
                    new.allow_bulk_email,
                    new.allow_single_email,
                    new.allow_phone,
                    secs(now)
                ],
            )?;
            let id = ConsentTypeId(id_of(tx, Catalog::ConsentType, &new.code)?);
            if double_opt_in {
                write_double_opt_in(tx, id, true, now)?;
            }
            put_row(
                tx,
                Table::ConsentTypes,
                &[i64::from(id.0)],
                None,
                actor,
                secs(now),
            )?;
            let valid_from = new.text_valid_from.map_or(secs(now), secs);
            add_text(tx, id, 1, &new.text, valid_from, actor, secs(now))?;
            type_by_id(tx, id)
        })
    }

    /// Edits a consent type. A changed text becomes a new version in the same
    /// transaction; consents already given keep pointing at the old one.
    pub fn edit_consent_type(
        &mut self,
        code: &str,
        edit: &ConsentTypeEdit,
        actor: &str,
    ) -> Result<ConsentType> {
        if let Some(title) = &edit.title {
            check_not_empty("consent type title", title)?;
            check_len("consent type title", title, limits::MAX_NAME)?;
        }
        if let Some(Some(d)) = &edit.description {
            check_len("consent type description", d, limits::MAX_LABEL)?;
        }
        if let Some(text) = &edit.text {
            check_text(text)?;
        }
        if let Some(days) = edit.validity_days {
            check_validity(days)?;
        }
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            let old = type_by_code(tx, code)?;
            check_channels(
                edit.allow_bulk_email.unwrap_or(old.allow_bulk_email),
                edit.allow_single_email.unwrap_or(old.allow_single_email),
                edit.allow_phone.unwrap_or(old.allow_phone),
            )?;
            tx.execute(
                "UPDATE consent_types SET title = ?2, description = ?3, validity_days = ?4,
                     allow_bulk = ?5, allow_single = ?6, allow_contact = ?7
                 WHERE id = ?1",
                params![
                    old.id,
                    edit.title.as_deref().map(str::trim).unwrap_or(&old.title),
                    edit.description.clone().unwrap_or(old.description.clone()),
                    edit.validity_days.unwrap_or(old.validity_days),
                    edit.allow_bulk_email.unwrap_or(old.allow_bulk_email),
                    edit.allow_single_email.unwrap_or(old.allow_single_email),
                    edit.allow_phone.unwrap_or(old.allow_phone),
                ],
            )?;
            put_row(
                tx,
                Table::ConsentTypes,
                &[i64::from(old.id.0)],
                None,
                actor,
                secs(now),
            )?;
            if let Some(text) = &edit.text {
                let current = text_of(tx, old.id, old.text_version)?;
                if current.text != *text {
                    let version = old.text_version + 1;
                    add_text(tx, old.id, version, text, secs(now), actor, secs(now))?;
                }
            }
            type_by_id(tx, old.id)
        })
    }

    /// Adds a text version valid from an earlier time, for an import of
    /// historical consents that were given to a text this database never
    /// held. It becomes the current version only if it is the newest.
    pub fn add_historical_text(
        &mut self,
        code: &str,
        text: &str,
        valid_from: DateTime<Utc>,
        actor: &str,
    ) -> Result<ConsentTypeText> {
        check_text(text)?;
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            let ty = type_by_code(tx, code)?;
            let version = ty.text_version + 1;
            add_text(tx, ty.id, version, text, secs(valid_from), actor, secs(now))?;
            text_of(tx, ty.id, version)
        })
    }

    /// The consent type with `code`.
    pub fn consent_type(&self, code: &str) -> Result<ConsentType> {
        type_by_code(&self.conn, code)
    }

    /// The consent type with `id`, as hooks and the plugin name it.
    pub fn consent_type_by_id(&self, id: ConsentTypeId) -> Result<ConsentType> {
        type_by_id(&self.conn, id)
    }

    /// Every consent type, in id order.
    pub fn consent_types(&self) -> Result<Vec<ConsentType>> {
        all_types(&self.conn)
    }

    /// Every version of a type's text, oldest first.
    pub fn consent_type_texts(&self, code: &str) -> Result<Vec<ConsentTypeText>> {
        let id = ConsentTypeId(id_of(&self.conn, Catalog::ConsentType, code)?);
        let mut stmt = self.conn.prepare_cached(
            "SELECT version, text, created_at, valid_from FROM consent_type_texts
             WHERE type_id = ?1 ORDER BY version",
        )?;
        let texts = stmt
            .query_map([id], text_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(texts)
    }

    /// One version of a type's text: what a ledger entry's person agreed to.
    pub fn consent_type_text(&self, id: ConsentTypeId, version: u32) -> Result<ConsentTypeText> {
        text_of(&self.conn, id, version)
    }
}

fn text_from_row(row: &Row<'_>) -> rusqlite::Result<ConsentTypeText> {
    Ok(ConsentTypeText {
        version: row.get(0)?,
        text: row.get(1)?,
        created_at: time(row.get(2)?)?,
        valid_from: time(row.get(3)?)?,
    })
}

pub(super) fn text_of(
    conn: &Connection,
    id: ConsentTypeId,
    version: u32,
) -> Result<ConsentTypeText> {
    conn.prepare_cached(
        "SELECT version, text, created_at, valid_from FROM consent_type_texts
         WHERE type_id = ?1 AND version = ?2",
    )?
    .query_row(params![id, version], text_from_row)
    .optional()?
    .ok_or(StoreError::UnknownTextVersion {
        type_id: id,
        version,
    })
}
