//! Tombstones: what an erasure (Art. 17) keeps of a person, and the re-add
//! block (HubSpot) that reads them.
//!
//! A tombstone holds HMAC-SHA256 of the normalized email and phone, keyed
//! with a sub-key of the installation's secret: without the key nobody can
//! confirm a guessed address against it, and the key never leaves the file.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::Sha256;

use super::timeline::{Note, add_note};
use super::{ContactId, Result, StoreError, TimelineKind, secs, time};

type HmacSha256 = Hmac<Sha256>;

/// What a tombstone matched: the field and when its contact was erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TombstoneMatch {
    /// `email` or `phone`.
    pub field: &'static str,
    /// The erased contact whose tombstone matched.
    pub contact: ContactId,
    /// When it was erased.
    pub erased_at: DateTime<Utc>,
}

/// Trim and lowercase: `Anna@Example.com ` and `anna@example.com` are one
/// address to the re-add block.
pub(crate) fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Digits and a leading `+`: `+48 600-000-000` and `+48600000000` are one
/// number.
pub(crate) fn normalize_phone(phone: &str) -> String {
    let phone = phone.trim();
    let plus = if phone.starts_with('+') { "+" } else { "" };
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    format!("{plus}{digits}")
}

/// The tombstone key: HMAC(link secret, "tombstone"), so that a link
/// signature and a tombstone never share a key.
fn key(conn: &Connection) -> Result<[u8; 32]> {
    let secret: Vec<u8> = conn
        .prepare_cached("SELECT secret FROM link_secret WHERE id = 1")?
        .query_row([], |row| row.get(0))?;
    let mut mac = HmacSha256::new_from_slice(&secret).map_err(|_| StoreError::CorruptValue {
        what: "link secret",
        value: "wrong length".to_owned(),
    })?;
    mac.update(b"tombstone");
    Ok(mac.finalize().into_bytes().into())
}

fn digest(key: &[u8; 32], field: &str, normalized: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a 32-byte key");
    mac.update(field.as_bytes());
    mac.update(b"\0");
    mac.update(normalized.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The keyed hashes of an email and a phone; `None` for a missing or blank one.
pub(crate) struct Hashes {
    pub email: Option<Vec<u8>>,
    pub phone: Option<Vec<u8>>,
}

pub(crate) fn hashes(
    conn: &Connection,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<Hashes> {
    let key = key(conn)?;
    let email = email
        .map(normalize_email)
        .filter(|e| !e.is_empty())
        .map(|e| digest(&key, "email", &e));
    let phone = phone
        .map(normalize_phone)
        .filter(|p| !p.trim_start_matches('+').is_empty())
        .map(|p| digest(&key, "phone", &p));
    Ok(Hashes { email, phone })
}

/// The first live (not superseded) tombstone the email or phone matches.
pub(crate) fn find(
    conn: &Connection,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<Option<TombstoneMatch>> {
    // Most databases have no erasure yet: an import of many contacts then
    // pays one cheap lookup each, not two keyed hashes.
    let any: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM tombstones WHERE superseded_at IS NULL)")?
        .query_row([], |r| r.get(0))?;
    if !any || (email.is_none() && phone.is_none()) {
        return Ok(None);
    }
    let hashes = hashes(conn, email, phone)?;
    for (field, column, hash) in [
        ("email", "email_hmac", hashes.email),
        ("phone", "phone_hmac", hashes.phone),
    ] {
        let Some(hash) = hash else { continue };
        let found: Option<(ContactId, i64)> = conn
            .prepare_cached(&format!(
                "SELECT contact_id, erased_at FROM tombstones
                 WHERE {column} = ?1 AND superseded_at IS NULL ORDER BY erased_at DESC LIMIT 1"
            ))?
            .query_row([hash], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((contact, at)) = found {
            return Ok(Some(TombstoneMatch {
                field,
                contact,
                erased_at: time(at)?,
            }));
        }
    }
    Ok(None)
}

/// Refuses an email or phone that matches a live tombstone (HubSpot: an
/// erased person is not added back by someone else).
pub(crate) fn check_not_erased(
    conn: &Connection,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<()> {
    match find(conn, email, phone)? {
        Some(m) => Err(StoreError::ErasedBefore {
            field: m.field,
            erased_at: m.erased_at,
        }),
        None => Ok(()),
    }
}

/// What a tombstone records besides the hashes.
pub(crate) struct NewTombstone<'a> {
    pub contact: ContactId,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub at: DateTime<Utc>,
    pub requested_by: &'a str,
    pub ground: &'a str,
    pub cascaded_from: Option<ContactId>,
}

pub(crate) fn insert(conn: &Connection, t: &NewTombstone<'_>) -> Result<()> {
    let h = hashes(conn, t.email, t.phone)?;
    conn.prepare_cached(
        "INSERT INTO tombstones
             (contact_id, email_hmac, phone_hmac, erased_at, requested_by, ground, cascaded_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        t.contact,
        h.email,
        h.phone,
        secs(t.at),
        t.requested_by,
        t.ground,
        t.cascaded_from
    ])?;
    Ok(())
}

/// The person gave consent again themselves: the tombstones their address
/// matches stop blocking, and the new contact's timeline says so.
pub(crate) fn supersede(
    conn: &Connection,
    contact: ContactId,
    email: Option<&str>,
    phone: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<usize> {
    let h = hashes(conn, email, phone)?;
    let mut superseded = 0;
    for (column, hash) in [("email_hmac", h.email), ("phone_hmac", h.phone)] {
        let Some(hash) = hash else { continue };
        superseded += conn.execute(
            &format!(
                "UPDATE tombstones SET superseded_at = ?2, superseded_by = ?3
                 WHERE {column} = ?1 AND superseded_at IS NULL"
            ),
            params![hash, secs(now), contact],
        )?;
    }
    add_note(
        conn,
        &Note {
            contact,
            at: now,
            kind: TimelineKind::Erasure,
            summary: format!(
                "gave consent again on a form: {superseded} earlier erasure tombstone(s) \
                 no longer block this contact"
            ),
            actor,
            ledger_seq: None,
            decision: None,
        },
    )?;
    Ok(superseded)
}
