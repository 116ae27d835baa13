//! Translations of consent texts. A translation shown on a form is what the
//! person read, so it is evidence (Art. 7(1)) like the text itself: each is
//! a `row_put` ledger entry that `ledger verify` replays, and none is ever
//! edited. A better wording belongs to a new text version.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::super::consent_types::{text_of, type_by_code};
use super::super::contacts::check_actor;
use super::super::ledger::event::{Table, put_row};
use super::super::limits::{self, check_len};
use super::super::{ConsentTypeId, Result, Store, StoreError, check_not_empty, secs, time};

/// A translation to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTranslation {
    /// The language, as a two- or three-letter ISO 639 code: `pl`, `it`.
    pub language: String,
    /// The consent type's title in that language.
    pub title: String,
    /// The text the person agrees to, in that language.
    pub text: String,
    /// The text version it translates; `None` means the current one.
    pub version: Option<u32>,
}

/// A consent text in another language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translation {
    /// The consent type.
    pub type_id: ConsentTypeId,
    /// The text version it translates.
    pub version: u32,
    /// The language code, lowercase.
    pub language: String,
    /// The title in that language.
    pub title: String,
    /// The text in that language.
    pub text: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "SELECT type_id, version, language, title, text, created_at
    FROM consent_type_translations";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Translation> {
    Ok(Translation {
        type_id: row.get(0)?,
        version: row.get(1)?,
        language: row.get(2)?,
        title: row.get(3)?,
        text: row.get(4)?,
        created_at: time(row.get(5)?)?,
    })
}

/// Lowercases an ISO 639 code and refuses anything else.
fn language_code(language: &str) -> Result<String> {
    let code = language.trim().to_ascii_lowercase();
    if (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase()) {
        return Ok(code);
    }
    Err(StoreError::Invalid {
        field: "language",
        why: format!("`{language}` is not a two- or three-letter language code such as `pl`"),
    })
}

pub(super) fn translation_of(
    conn: &Connection,
    type_id: ConsentTypeId,
    version: u32,
    language: &str,
) -> Result<Option<Translation>> {
    Ok(conn
        .prepare_cached(&format!(
            "{COLUMNS} WHERE type_id = ?1 AND version = ?2 AND language = ?3"
        ))?
        .query_row(params![type_id, version, language], from_row)
        .optional()?)
}

impl Store {
    /// Adds the translation of a consent type's text (the current version
    /// unless `new.version` names another), as a ledger entry. A version has
    /// at most one translation per language.
    pub fn add_translation(
        &mut self,
        code: &str,
        new: &NewTranslation,
        actor: &str,
    ) -> Result<Translation> {
        let language = language_code(&new.language)?;
        check_not_empty("translated title", &new.title)?;
        check_len("translated title", &new.title, limits::MAX_NAME)?;
        check_not_empty("translated text", &new.text)?;
        check_len("translated text", &new.text, limits::MAX_TEXT)?;
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            let ty = type_by_code(tx, code)?;
            let version = text_of(tx, ty.id, new.version.unwrap_or(ty.text_version))?.version;
            if translation_of(tx, ty.id, version, &language)?.is_some() {
                return Err(StoreError::Invalid {
                    field: "translation",
                    why: format!(
                        "text v{version} of `{code}` already has a `{language}` translation, and \
                         what people read is never changed; edit the type's text to make a new \
                         version and translate that"
                    ),
                });
            }
            tx.execute(
                "INSERT INTO consent_type_translations
                     (type_id, version, language, title, text, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    ty.id,
                    version,
                    language,
                    new.title.trim(),
                    new.text,
                    secs(now)
                ],
            )?;
            let id = tx.last_insert_rowid();
            put_row(
                tx,
                Table::ConsentTypeTranslations,
                &[id],
                None,
                actor,
                secs(now),
            )?;
            translation_of(tx, ty.id, version, &language)?.ok_or(StoreError::CorruptValue {
                what: "translation just added",
                value: language.clone(),
            })
        })
    }

    /// The translation of one text version into `language`, if there is one.
    pub fn translation(
        &self,
        type_id: ConsentTypeId,
        version: u32,
        language: &str,
    ) -> Result<Option<Translation>> {
        translation_of(&self.conn, type_id, version, &language.to_ascii_lowercase())
    }

    /// Every translation of a consent type, by version then language.
    pub fn translations(&self, code: &str) -> Result<Vec<Translation>> {
        let ty = type_by_code(&self.conn, code)?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "{COLUMNS} WHERE type_id = ?1 ORDER BY version, language"
        ))?;
        let rows = stmt
            .query_map([ty.id], from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
