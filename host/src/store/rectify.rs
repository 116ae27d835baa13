//! Rectification (Art. 16): correcting a contact's name, email or phone.
//!
//! The timeline names the fields that changed, never the values. Old values
//! leave no copy behind: the row is rewritten under `secure_delete`, stored
//! HTTP answers that quote them are dropped, and the WAL is emptied.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::contacts::{check_actor, check_email};
use super::erasure::check_not_erased;
use super::limits::{self, check_len};
use super::timeline::{Note, add_note};
use super::{Contact, ContactId, Result, Store, StoreError, TimelineKind, WalWipe, tombstones};

/// The corrections; `None` leaves a field as it is, an empty email or phone
/// removes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rectification {
    /// The corrected name.
    #[serde(default)]
    pub name: Option<String>,
    /// The corrected email; empty removes it.
    #[serde(default)]
    pub email: Option<String>,
    /// The corrected phone; empty removes it.
    #[serde(default)]
    pub phone: Option<String>,
}

/// What a rectification changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RectificationReport {
    /// The contact as it now reads.
    pub contact: Contact,
    /// The fields that changed: `name`, `email`, `phone`.
    pub changed: Vec<String>,
    /// Whether the WAL was emptied of the old values.
    pub wal: WalWipe,
}

type Personal = (String, Option<String>, Option<String>);

fn personal(conn: &Connection, id: ContactId) -> Result<Personal> {
    conn.prepare_cached("SELECT name, email, phone FROM contact_personal WHERE contact_id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or(StoreError::UnknownContact(id))
}

fn cleaned(value: &Option<String>) -> Option<Option<String>> {
    value.as_ref().map(|v| {
        let v = v.trim();
        (!v.is_empty()).then(|| v.to_owned())
    })
}

fn check(r: &Rectification) -> Result<()> {
    if r.name.is_none() && r.email.is_none() && r.phone.is_none() {
        return Err(StoreError::Invalid {
            field: "rectification",
            why: "nothing to correct; give a name, email or phone".to_owned(),
        });
    }
    if let Some(name) = &r.name {
        super::check_not_empty("contact name", name)?;
        check_len("contact name", name, limits::MAX_NAME)?;
    }
    for (field, value) in [("email", &r.email), ("phone", &r.phone)] {
        if let Some(v) = value {
            check_len(field, v, limits::MAX_NAME)?;
        }
    }
    check_email(cleaned(&r.email).flatten().as_deref())
}

impl Store {
    /// Corrects a contact's personal data (Art. 16) and notes which fields
    /// changed on its timeline. An email or phone that matches an erased
    /// person's tombstone is refused, as when adding.
    pub fn rectify(
        &mut self,
        id: ContactId,
        r: &Rectification,
        actor: &str,
    ) -> Result<RectificationReport> {
        check(r)?;
        check_actor(actor)?;
        let (contact, changed) = self.write_recorded(|tx, now| {
            check_not_erased(tx, id)?;
            let (old_name, old_email, old_phone) = personal(tx, id)?;
            let name = r.name.as_deref().map(str::trim).unwrap_or(&old_name);
            let email = cleaned(&r.email).unwrap_or_else(|| old_email.clone());
            let phone = cleaned(&r.phone).unwrap_or_else(|| old_phone.clone());
            let mut changed = Vec::new();
            if name != old_name {
                changed.push("name".to_owned());
            }
            if email != old_email {
                changed.push("email".to_owned());
            }
            if phone != old_phone {
                changed.push("phone".to_owned());
            }
            let new_email = changed
                .iter()
                .any(|f| f == "email")
                .then_some(email.as_deref());
            let new_phone = changed
                .iter()
                .any(|f| f == "phone")
                .then_some(phone.as_deref());
            tombstones::check_not_erased(tx, new_email.flatten(), new_phone.flatten())?;
            if !changed.is_empty() {
                tx.prepare_cached(
                    "UPDATE contact_personal SET name = ?2, email = ?3, phone = ?4
                     WHERE contact_id = ?1",
                )?
                .execute(params![id, name, email, phone])?;
                // Remembered HTTP answers may quote the old values, where a
                // later erasure (which looks for the current ones) cannot
                // find them.
                let old: Vec<&str> = [
                    Some(old_name.as_str()),
                    old_email.as_deref(),
                    old_phone.as_deref(),
                ]
                .into_iter()
                .flatten()
                .collect();
                super::erasure::scrub_answers(tx, &old)?;
                add_note(
                    tx,
                    &Note {
                        contact: id,
                        at: now,
                        kind: TimelineKind::Rectification,
                        summary: format!("rectified (Art. 16): {}", changed.join(", ")),
                        actor,
                        ledger_seq: None,
                        decision: None,
                    },
                )?;
            }
            Ok((super::contacts::contact_by_id(tx, id)?, changed))
        })?;
        let wal = if changed.is_empty() {
            WalWipe::NotNeeded
        } else {
            self.wipe_wal()?
        };
        Ok(RectificationReport {
            contact,
            changed,
            wal,
        })
    }
}
