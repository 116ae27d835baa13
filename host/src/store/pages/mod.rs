//! What the contact-facing pages keep (issue 8): the key that signs their
//! links, each contact's link generation, the pages' settings, the
//! admin's templates, the outbox, consent text translations, and the
//! writes a form or a confirmation makes.
//!
//! Only storage lives here; tokens, rendering and view models are in
//! `crate::pages`. Each write is one immediate transaction.

mod forms;
mod outbox;
mod templates;
mod translations;

pub use forms::CONFIRMATION_DAYS;
pub(super) use forms::write_double_opt_in;
pub(crate) use forms::{CRM_FORM, Confirmation, awaits_confirmation, counts_as_given};
pub use forms::{FormChange, FormChoice, FormSubmission, PendingConfirmation};
pub use outbox::{NewOutboxMessage, OutboxKind, OutboxMessage};
pub use translations::{NewTranslation, Translation};

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::contacts::{check_actor, check_contact};
use super::limits::{self, check_len};
use super::{ContactId, Result, Store, StoreError, secs, time};

/// Where links point when no base URL was set: the server's default address.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";
/// How long a preference-centre link works when no period was set: long,
/// because unsubscribe links in old emails must keep working.
pub const DEFAULT_PREFERENCE_LINK_DAYS: u32 = 180;
/// The longest a preference-centre link may be made to work: ten years.
pub const MAX_PREFERENCE_LINK_DAYS: u32 = 3650;

/// The settings of the contact-facing pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSettings {
    /// What every link starts with, without a trailing `/`, e.g.
    /// `https://consent.example.com`.
    pub base_url: String,
    /// How many days a preference-centre link works.
    pub preference_link_days: u32,
}

const BASE_URL: &str = "base_url";
const PREFERENCE_DAYS: &str = "preference_link_days";

fn check_base_url(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    check_len("base URL", url, limits::MAX_SOURCE)?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let ok = rest.is_some_and(|host| {
        !host.is_empty()
            && !host.starts_with('/')
            && !host
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '?' | '#' | '"' | '<' | '>'))
    });
    if ok {
        Ok(url.to_owned())
    } else {
        Err(StoreError::Invalid {
            field: "base URL",
            why: format!(
                "`{url}` is not an http:// or https:// address without a query or fragment; \
                 give the address the pages are served at, e.g. `https://consent.example.com`"
            ),
        })
    }
}

impl Store {
    /// The installation's key for signing links. Crate-private: no command
    /// or API shows it.
    pub(crate) fn link_secret(&self) -> Result<[u8; 32]> {
        let secret: Vec<u8> = self
            .conn
            .prepare_cached("SELECT secret FROM link_secret WHERE id = 1")?
            .query_row([], |row| row.get(0))?;
        secret.try_into().map_err(|_| StoreError::CorruptValue {
            what: "link secret",
            value: "wrong length".to_owned(),
        })
    }

    /// The pages' settings, with the defaults for those never set.
    pub fn link_settings(&self) -> Result<LinkSettings> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT value FROM page_settings WHERE name = ?1")?;
        let base_url: Option<String> = stmt.query_row([BASE_URL], |r| r.get(0)).optional()?;
        let days: Option<String> = stmt.query_row([PREFERENCE_DAYS], |r| r.get(0)).optional()?;
        let preference_link_days = match days {
            None => DEFAULT_PREFERENCE_LINK_DAYS,
            Some(d) => d.parse().map_err(|_| StoreError::CorruptValue {
                what: "preference link days",
                value: d,
            })?,
        };
        Ok(LinkSettings {
            base_url: base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
            preference_link_days,
        })
    }

    /// Sets the address the pages are served at; links issued from now on
    /// start with it.
    pub fn set_base_url(&mut self, url: &str, actor: &str) -> Result<LinkSettings> {
        let url = check_base_url(url)?;
        self.put_setting(BASE_URL, &url, actor)
    }

    /// Sets how many days preference-centre links issued from now on work
    /// (1 to 3650).
    pub fn set_preference_link_days(&mut self, days: u32, actor: &str) -> Result<LinkSettings> {
        if !(1..=MAX_PREFERENCE_LINK_DAYS).contains(&days) {
            return Err(StoreError::Invalid {
                field: "preference link days",
                why: format!("{days} is outside 1 to {MAX_PREFERENCE_LINK_DAYS} days"),
            });
        }
        self.put_setting(PREFERENCE_DAYS, &days.to_string(), actor)
    }

    fn put_setting(&mut self, name: &str, value: &str, actor: &str) -> Result<LinkSettings> {
        self.put_page_setting(name, value, actor)?;
        self.link_settings()
    }

    /// Writes one named row of `page_settings`, which holds any setting
    /// that changes no decision (not projected, no migration for a new one).
    pub(super) fn put_page_setting(&mut self, name: &str, value: &str, actor: &str) -> Result<()> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            tx.execute(
                "INSERT INTO page_settings (name, value, updated_at, updated_by)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value,
                     updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                params![name, value, secs(now), actor.trim()],
            )?;
            Ok(())
        })
    }

    /// The contact's link generation: links signed with an older one are
    /// revoked. 0 until the contact's links are first rotated.
    pub fn link_generation(&self, contact: ContactId) -> Result<u32> {
        check_contact(&self.conn, contact)?;
        Ok(self
            .conn
            .prepare_cached("SELECT generation FROM link_generations WHERE contact_id = ?1")?
            .query_row([contact], |row| row.get(0))
            .optional()?
            .unwrap_or(0))
    }

    /// When and by whom the contact's links were last rotated, if ever.
    pub fn links_rotated(&self, contact: ContactId) -> Result<Option<(DateTime<Utc>, String)>> {
        check_contact(&self.conn, contact)?;
        let row: Option<(i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT rotated_at, rotated_by FROM link_generations WHERE contact_id = ?1",
            )?
            .query_row([contact], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        row.map(|(at, by)| Ok((time(at)?, by))).transpose()
    }

    /// Revokes every link issued to the contact so far (a forwarded email,
    /// a leaked link) by moving to the next generation; returns it.
    pub fn rotate_links(&mut self, contact: ContactId, actor: &str) -> Result<u32> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            check_contact(tx, contact)?;
            tx.prepare_cached(
                "INSERT INTO link_generations (contact_id, generation, rotated_at, rotated_by)
                 VALUES (?1, 1, ?2, ?3)
                 ON CONFLICT (contact_id) DO UPDATE SET generation = generation + 1,
                     rotated_at = excluded.rotated_at, rotated_by = excluded.rotated_by",
            )?
            .execute(params![contact, secs(now), actor.trim()])?;
            Ok(tx
                .prepare_cached("SELECT generation FROM link_generations WHERE contact_id = ?1")?
                .query_row([contact], |row| row.get(0))?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_is_an_http_address_without_query_or_trailing_slash() {
        assert_eq!(
            check_base_url(" https://consent.example.com/ ").unwrap(),
            "https://consent.example.com"
        );
        assert_eq!(
            check_base_url("http://127.0.0.1:8080/crm").unwrap(),
            "http://127.0.0.1:8080/crm"
        );
        for bad in [
            "consent.example.com",
            "ftp://x",
            "https://",
            "https://a b",
            "https://x?y",
        ] {
            let e = check_base_url(bad).unwrap_err().to_string();
            assert!(e.contains("is not an http://"), "{bad}: {e}");
        }
    }
}
