//! The admin's templates, stored as typed. Which names exist, what they
//! must contain and how they render is `crate::pages::templates`' business:
//! these functions are crate-private so that no template is saved without
//! its checks.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::super::contacts::check_actor;
use super::super::limits::{self, check_len};
use super::super::{Result, Store, secs, time};

/// A template as an admin saved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredTemplate {
    pub subject: Option<String>,
    pub body: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl Store {
    /// The saved template called `name`; `None` means the built-in one.
    pub(crate) fn stored_template(&self, name: &str) -> Result<Option<StoredTemplate>> {
        let row: Option<(Option<String>, String, i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT subject, body, updated_at, updated_by FROM page_templates WHERE name = ?1",
            )?
            .query_row([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        row.map(|(subject, body, at, by)| {
            Ok(StoredTemplate {
                subject,
                body,
                updated_at: time(at)?,
                updated_by: by,
            })
        })
        .transpose()
    }

    /// Saves a template the caller has checked.
    pub(crate) fn put_template(
        &mut self,
        name: &str,
        subject: Option<&str>,
        body: &str,
        actor: &str,
    ) -> Result<()> {
        check_actor(actor)?;
        check_len("template body", body, limits::MAX_TEXT)?;
        if let Some(s) = subject {
            check_len("template subject", s, limits::MAX_LABEL)?;
        }
        self.write_recorded(|tx, now| {
            tx.execute(
                "INSERT INTO page_templates (name, subject, body, updated_at, updated_by)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (name) DO UPDATE SET subject = excluded.subject,
                     body = excluded.body, updated_at = excluded.updated_at,
                     updated_by = excluded.updated_by",
                params![name, subject, body, secs(now), actor.trim()],
            )?;
            Ok(())
        })
    }

    /// Forgets the saved template, so the built-in one is used again.
    pub(crate) fn delete_template(&mut self, name: &str, actor: &str) -> Result<()> {
        check_actor(actor)?;
        self.write_recorded(|tx, _| {
            tx.execute("DELETE FROM page_templates WHERE name = ?1", [name])?;
            Ok(())
        })
    }
}
