//! Contacts (iPresso: persons, companies, devices, ...), their Art. 18 / 21 /
//! opt-out flags, typed relations between them, and the legal basis each
//! contact's data has per purpose (SuperOffice).
//!
//! A contact is split in two rows: `contacts` holds what the ledger may point
//! at forever (id, kind, flags), `contact_personal` what an erasure deletes
//! (name, email, phone).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::catalog::id_of;
use super::erasure::check_not_erased;
use super::kinds::check_contact_type;
use super::ledger::event::{Table, put_row};
use super::ledger::{LedgerEntry, NewConsent, append};
use super::limits::{self, check_len};
use super::timeline::{Note, add_note};
use super::tombstones;
use super::{
    Catalog, ContactFlags, ContactId, ContactKind, ErasureGround, LegalBasis, PurposeId, Result,
    Store, StoreError, TimelineKind, check_not_empty, secs, time,
};

/// A contact to add, as a CRM or an import sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewContact {
    /// Person, company, device, ... (iPresso).
    pub kind: ContactKind,
    /// The name; personal data, erasable (Art. 17).
    pub name: String,
    /// Email address; personal data, erasable.
    pub email: Option<String>,
    /// Phone number; personal data, erasable.
    pub phone: Option<String>,
    /// Art. 18 / Art. 21 / opt-out-of-all flags it starts with.
    pub flags: ContactFlags,
}

/// A contact with its personal fields. After an erasure `name` is empty and
/// `email` and `phone` are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    /// Its id, which the ledger keeps after an erasure.
    pub id: ContactId,
    /// Person, company, device, ... (iPresso).
    pub kind: ContactKind,
    /// The name; empty after an erasure.
    pub name: String,
    /// Email address, if known.
    pub email: Option<String>,
    /// Phone number, if known.
    pub phone: Option<String>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// Art. 18 / Art. 21 / opt-out-of-all flags.
    pub flags: ContactFlags,
    /// When its personal data were erased (Art. 17); every hook denies it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<DateTime<Utc>>,
    /// The Art. 17(1) ground of the erasure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure_ground: Option<ErasureGround>,
    /// Re-added after an erasure: every hook denies it until the person
    /// gives consent on a form themselves (HubSpot).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_own_consent: bool,
}

pub(super) const CONTACT_COLUMNS: &str =
    "SELECT c.id, c.kind, p.name, p.email, p.phone, c.created_at,
        c.restricted, c.objected, c.opted_out_of_all,
        c.erased_at, c.erasure_ground, c.awaiting_own_consent
    FROM contacts c LEFT JOIN contact_personal p ON p.contact_id = c.id";

pub(super) fn contact_from_row(row: &Row<'_>) -> rusqlite::Result<Contact> {
    let kind: String = row.get(1)?;
    Ok(Contact {
        id: row.get(0)?,
        // Stored kinds were checked on the way in; an empty one is "other".
        kind: kind.parse().unwrap_or(ContactKind::Other(kind)),
        name: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
        email: row.get(3)?,
        phone: row.get(4)?,
        created_at: time(row.get(5)?)?,
        flags: ContactFlags {
            restricted: row.get(6)?,
            objected: row.get(7)?,
            opted_out_of_all: row.get(8)?,
        },
        erased_at: row.get::<_, Option<i64>>(9)?.map(time).transpose()?,
        erasure_ground: row
            .get::<_, Option<String>>(10)?
            .and_then(|g| g.parse().ok()),
        awaiting_own_consent: row.get(11)?,
    })
}

fn clean(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

pub(super) fn check_email(email: Option<&str>) -> Result<()> {
    match email {
        Some(e) if !e.contains('@') || e.chars().any(char::is_whitespace) => {
            Err(StoreError::Invalid {
                field: "email",
                why: format!("`{e}` is not an email address; give one like `name@example.com`"),
            })
        }
        _ => Ok(()),
    }
}

/// Fails with [`StoreError::UnknownContact`] unless the contact exists.
pub(super) fn check_contact(conn: &Connection, id: ContactId) -> Result<()> {
    conn.prepare_cached("SELECT 1 FROM contacts WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .ok_or(StoreError::UnknownContact(id))
}

pub(super) fn flags_of(conn: &Connection, id: ContactId) -> Result<ContactFlags> {
    conn.prepare_cached(
        "SELECT restricted, objected, opted_out_of_all FROM contacts WHERE id = ?1",
    )?
    .query_row([id], |row| {
        Ok(ContactFlags {
            restricted: row.get(0)?,
            objected: row.get(1)?,
            opted_out_of_all: row.get(2)?,
        })
    })
    .optional()?
    .ok_or(StoreError::UnknownContact(id))
}

pub(super) fn write_flags(conn: &Connection, id: ContactId, flags: ContactFlags) -> Result<()> {
    conn.prepare_cached(
        "UPDATE contacts SET restricted = ?2, objected = ?3, opted_out_of_all = ?4 WHERE id = ?1",
    )?
    .execute(params![
        id,
        flags.restricted,
        flags.objected,
        flags.opted_out_of_all
    ])?;
    Ok(())
}

pub(super) fn contact_by_id(conn: &Connection, id: ContactId) -> Result<Contact> {
    conn.prepare_cached(&format!("{CONTACT_COLUMNS} WHERE c.id = ?1"))?
        .query_row([id], contact_from_row)
        .optional()?
        .ok_or(StoreError::UnknownContact(id))
}

fn check_new_contact(new: &NewContact, actor: &str) -> Result<()> {
    check_not_empty("contact name", &new.name)?;
    check_actor(actor)?;
    check_len("contact name", &new.name, limits::MAX_NAME)?;
    for (field, value) in [("email", &new.email), ("phone", &new.phone)] {
        if let Some(v) = value {
            check_len(field, v, limits::MAX_NAME)?;
        }
    }
    check_len("contact kind", new.kind.as_str(), 64)?;
    check_email(clean(&new.email))
}

/// Who made a change: recorded in the chain, so it has a size limit.
pub(super) fn check_actor(actor: &str) -> Result<()> {
    check_not_empty("actor", actor)?;
    check_len("actor", actor, limits::MAX_ACTOR)
}

/// How a contact is added: normally, or (HubSpot) re-added after an
/// erasure, waiting for the person's own consent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Adding {
    Normal,
    AwaitingOwnConsent,
}

fn insert_contact(
    tx: &Connection,
    new: &NewContact,
    actor: &str,
    now: DateTime<Utc>,
    adding: Adding,
) -> Result<ContactId> {
    check_contact_type(tx, new.kind.as_str())?;
    let awaiting = adding == Adding::AwaitingOwnConsent;
    if !awaiting {
        // HubSpot: an erased person is not added back by someone else.
        tombstones::check_not_erased(tx, clean(&new.email), clean(&new.phone))?;
    }
    tx.prepare_cached(
        "INSERT INTO contacts
             (kind, created_at, restricted, objected, opted_out_of_all, awaiting_own_consent)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        new.kind.as_str(),
        secs(now),
        new.flags.restricted,
        new.flags.objected,
        new.flags.opted_out_of_all,
        awaiting
    ])?;
    let id = ContactId(tx.last_insert_rowid());
    tx.prepare_cached(
        "INSERT INTO contact_personal (contact_id, name, email, phone) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        id,
        new.name.trim(),
        clean(&new.email),
        clean(&new.phone)
    ])?;
    let seq = put_row(tx, Table::Contacts, &[id.0], Some(id), actor, secs(now))?;
    add_note(
        tx,
        &Note {
            contact: id,
            at: now,
            kind: TimelineKind::Created,
            summary: if awaiting {
                format!(
                    "{} created, awaiting the person's own consent on a form; flags: {}",
                    new.kind, new.flags
                )
            } else {
                format!("{} created; flags: {}", new.kind, new.flags)
            },
            actor,
            ledger_seq: Some(seq),
            decision: None,
        },
    )?;
    Ok(id)
}

/// Writes the contact's basis for one purpose, its ledger entry and its
/// timeline entry, inside the caller's transaction.
pub(super) fn put_purpose_basis(
    tx: &Connection,
    id: ContactId,
    purpose: &str,
    basis: LegalBasis,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let purpose_id = PurposeId(id_of(tx, Catalog::Purpose, purpose)?);
    tx.prepare_cached(
        "INSERT INTO contact_purposes (contact_id, purpose_id, legal_basis, changed_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (contact_id, purpose_id)
         DO UPDATE SET legal_basis = excluded.legal_basis, changed_at = excluded.changed_at",
    )?
    .execute(params![id, purpose_id, basis.code(), secs(now)])?;
    let key = [id.0, i64::from(purpose_id.0)];
    let seq = put_row(tx, Table::ContactPurposes, &key, Some(id), actor, secs(now))?;
    add_note(
        tx,
        &Note {
            contact: id,
            at: now,
            kind: TimelineKind::Purpose,
            summary: format!("purpose `{purpose}`: legal basis {basis}"),
            actor,
            ledger_seq: Some(seq),
            decision: None,
        },
    )
}

impl Store {
    /// Adds a contact and a "created" timeline entry.
    pub fn add_contact(&mut self, new: &NewContact, actor: &str) -> Result<Contact> {
        check_new_contact(new, actor)?;
        self.write_recorded(|tx, now| {
            let id = insert_contact(tx, new, actor, now, Adding::Normal)?;
            contact_by_id(tx, id)
        })
    }

    /// HubSpot's exception to the re-add block: adds a contact whose email
    /// or phone may match an erased person's tombstone, in a pending state
    /// that every hook denies and that only the person lifts, by giving
    /// consent on a form link themselves.
    pub fn add_contact_awaiting_own_consent(
        &mut self,
        new: &NewContact,
        actor: &str,
    ) -> Result<Contact> {
        check_new_contact(new, actor)?;
        self.write_recorded(|tx, now| {
            let id = insert_contact(tx, new, actor, now, Adding::AwaitingOwnConsent)?;
            contact_by_id(tx, id)
        })
    }

    /// Adds a contact together with the consents it comes with (each
    /// consent's `contact` is set to the new contact's id), in one
    /// transaction: if one consent is invalid, neither the contact nor any
    /// consent is stored.
    pub fn add_contact_with_consents(
        &mut self,
        new: &NewContact,
        consents: &[NewConsent],
        actor: &str,
    ) -> Result<(Contact, Vec<LedgerEntry>)> {
        check_new_contact(new, actor)?;
        self.write_recorded(|tx, now| {
            let id = insert_contact(tx, new, actor, now, Adding::Normal)?;
            let entries = consents
                .iter()
                .map(|c| {
                    append(
                        tx,
                        &NewConsent {
                            contact: id,
                            ..c.clone()
                        },
                        now,
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((contact_by_id(tx, id)?, entries))
        })
    }

    /// Adds many contacts in one transaction: all of them or, if any is
    /// invalid, none.
    pub fn add_contacts(&mut self, new: &[NewContact], actor: &str) -> Result<Vec<ContactId>> {
        for contact in new {
            check_new_contact(contact, actor)?;
        }
        self.write_recorded(|tx, now| {
            new.iter()
                .map(|c| insert_contact(tx, c, actor, now, Adding::Normal))
                .collect()
        })
    }

    /// The contact with `id`, personal fields included.
    pub fn contact(&self, id: ContactId) -> Result<Contact> {
        contact_by_id(&self.conn, id)
    }

    /// Up to `limit` contacts with ids above `after`, in id order (keyset
    /// paging, so listing a million contacts never re-reads skipped rows).
    pub fn contacts(&self, after: Option<ContactId>, limit: u32) -> Result<Vec<Contact>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{CONTACT_COLUMNS} WHERE c.id > ?1 ORDER BY c.id LIMIT ?2"
        ))?;
        let after = after.map_or(i64::MIN, |id| id.0);
        let rows = stmt
            .query_map(params![after, limit], contact_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Contacts with this email, ignoring case. Several contacts may share
    /// one address (a person and their company).
    pub fn find_contacts_by_email(&self, email: &str) -> Result<Vec<Contact>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{CONTACT_COLUMNS} WHERE p.email = ?1 ORDER BY c.id"
        ))?;
        let rows = stmt
            .query_map([email.trim()], contact_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Sets the Art. 18 / Art. 21 / opt-out-of-all flags and notes the change
    /// on the timeline. Returns the flags as they were.
    pub fn set_flags(
        &mut self,
        id: ContactId,
        flags: ContactFlags,
        actor: &str,
    ) -> Result<ContactFlags> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            check_not_erased(tx, id)?;
            let old = flags_of(tx, id)?;
            if old != flags {
                // Art. 18 and 21 are rights events in themselves: each
                // change of a flag is a ledger entry.
                write_flags(tx, id, flags)?;
                let seq = put_row(tx, Table::Contacts, &[id.0], Some(id), actor, secs(now))?;
                add_note(
                    tx,
                    &Note {
                        contact: id,
                        at: now,
                        kind: TimelineKind::Flag,
                        summary: format!("flags: {old} → {flags}"),
                        actor,
                        ledger_seq: Some(seq),
                        decision: None,
                    },
                )?;
            }
            Ok(old)
        })
    }

    /// Sets the legal basis the contact's data has for one purpose
    /// (SuperOffice: every contact has a purpose and a legal basis).
    pub fn set_purpose_basis(
        &mut self,
        id: ContactId,
        purpose: &str,
        basis: LegalBasis,
        actor: &str,
    ) -> Result<()> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            check_not_erased(tx, id)?;
            put_purpose_basis(tx, id, purpose, basis, actor, now)
        })
    }

    /// Gives every contact the same basis for one purpose, in one transaction
    /// (SuperOffice upgrade: all contacts get "Sales and service" on
    /// legitimate interest). Returns how many contacts it touched.
    pub fn set_purpose_basis_for_all(
        &mut self,
        purpose: &str,
        basis: LegalBasis,
        actor: &str,
    ) -> Result<usize> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            let purpose_id = PurposeId(id_of(tx, Catalog::Purpose, purpose)?);
            let summary = format!("purpose `{purpose}`: legal basis {basis}");
            let touched = tx.execute(
                "INSERT INTO contact_purposes (contact_id, purpose_id, legal_basis, changed_at)
                 SELECT id, ?1, ?2, ?3 FROM contacts WHERE true
                 ON CONFLICT (contact_id, purpose_id)
                 DO UPDATE SET legal_basis = excluded.legal_basis, changed_at = excluded.changed_at",
                params![purpose_id, basis.code(), secs(now)],
            )?;
            let ids: Vec<ContactId> = tx
                .prepare("SELECT id FROM contacts ORDER BY id")?
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            // One entry per contact: each contact's basis is a fact its
            // decisions read, and verify rebuilds it row by row.
            for id in ids {
                let key = [id.0, i64::from(purpose_id.0)];
                let seq = put_row(tx, Table::ContactPurposes, &key, Some(id), actor, secs(now))?;
                add_note(
                    tx,
                    &Note {
                        contact: id,
                        at: now,
                        kind: TimelineKind::Purpose,
                        summary: summary.clone(),
                        actor,
                        ledger_seq: Some(seq),
                        decision: None,
                    },
                )?;
            }
            Ok(touched)
        })
    }
}
