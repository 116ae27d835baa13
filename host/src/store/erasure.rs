//! Erasure (Art. 17): a contact's personal data go, a tombstone stays, the
//! ledger records the erasure itself, and contacts related one level down
//! along a cascading relation go with it (iPresso).
//!
//! What is deleted: the name, email and phone (`contact_personal`), consent
//! evidence, the timeline (its summaries are free text), justification texts
//! in the decision log (the chain hashes only their SHA-256), outbox
//! messages, queued notifications and remembered HTTP answers that hold the
//! name, email or phone. The connection runs with `secure_delete`, so freed
//! cells are zeroed, and a `wal_checkpoint(TRUNCATE)` after the commit
//! empties the WAL of the old page images.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::kinds::cascade_targets;
use super::ledger::event::{Table, put_row};
use super::notifications::enqueue;
use super::timeline::{Note, add_note};
use super::tombstones::{self, NewTombstone};
use super::{
    ContactId, ErasureGround, Result, Store, StoreError, TimelineKind, WalWipe, secs, time,
};

/// What to erase for, and who asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRequest {
    /// The Art. 17(1) ground.
    pub ground: ErasureGround,
    /// Who asked (kept on the tombstone only, never in the ledger).
    pub requested_by: String,
    /// Who carries it out: the ledger's actor.
    pub actor: String,
    /// List who would be erased and write nothing.
    pub dry_run: bool,
}

impl ErasureRequest {
    /// An erasure on `ground` that `actor` asks for and carries out.
    pub fn new(ground: ErasureGround, actor: impl Into<String>) -> Self {
        let actor = actor.into();
        ErasureRequest {
            ground,
            requested_by: actor.clone(),
            actor,
            dry_run: false,
        }
    }

    /// The same request as a dry run.
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }
}

/// One contact an erasure took (or, in a dry run, would take).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErasedContact {
    /// The contact.
    pub contact: ContactId,
    /// Its contact type.
    pub kind: String,
    /// The contact whose erasure took it along; `None` for the one asked.
    pub cascaded_from: Option<ContactId>,
    /// The relation type it was taken along.
    pub relation: Option<String>,
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErasureReport {
    /// The Art. 17(1) ground.
    pub ground: ErasureGround,
    /// When (the recorded time).
    pub erased_at: DateTime<Utc>,
    /// Nothing was written.
    pub dry_run: bool,
    /// Every contact erased: the ones asked first, then those the cascade took.
    pub erased: Vec<ErasedContact>,
    /// Staff notifications queued (Art. 19), one per erased contact, if a
    /// webhook is set.
    pub notifications: Vec<i64>,
    /// Whether the WAL was emptied.
    pub wal: WalWipe,
}

/// The erased time of a contact, if erased; fails for an unknown one.
pub(crate) fn erased_at(conn: &Connection, id: ContactId) -> Result<Option<DateTime<Utc>>> {
    let at: Option<Option<i64>> = conn
        .prepare_cached("SELECT erased_at FROM contacts WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    at.ok_or(StoreError::UnknownContact(id))?
        .map(time)
        .transpose()
        .map_err(Into::into)
}

/// Fails with [`StoreError::Erased`] for an erased contact.
pub(crate) fn check_not_erased(conn: &Connection, id: ContactId) -> Result<()> {
    match erased_at(conn, id)? {
        Some(at) => Err(StoreError::Erased { contact: id, at }),
        None => Ok(()),
    }
}

fn kind(conn: &Connection, id: ContactId) -> Result<String> {
    Ok(conn
        .prepare_cached("SELECT kind FROM contacts WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?)
}

fn relation_between(conn: &Connection, a: ContactId, b: ContactId) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT kind FROM contact_relations
             WHERE (from_contact = ?1 AND to_contact = ?2) OR (from_contact = ?2 AND to_contact = ?1)
             ORDER BY id LIMIT 1",
        )?
        .query_row([a, b], |r| r.get(0))
        .optional()?)
}

/// Who an erasure of `asked` takes: each asked contact, then one level down
/// each one's cascading relations. A contact is listed once; already
/// erased ones are left out (an asked one is refused).
pub(crate) fn plan(conn: &Connection, asked: &[ContactId]) -> Result<Vec<ErasedContact>> {
    let mut out: Vec<ErasedContact> = Vec::new();
    for &id in asked {
        check_not_erased(conn, id)?;
        if !out.iter().any(|e| e.contact == id) {
            out.push(ErasedContact {
                contact: id,
                kind: kind(conn, id)?,
                cascaded_from: None,
                relation: None,
            });
        }
    }
    for &id in asked {
        // iPresso: exactly one level; the targets' own relations are not followed.
        for target in cascade_targets(conn, id)? {
            if out.iter().any(|e| e.contact == target) || erased_at(conn, target)?.is_some() {
                continue;
            }
            out.push(ErasedContact {
                contact: target,
                kind: kind(conn, target)?,
                cascaded_from: Some(id),
                relation: relation_between(conn, id, target)?,
            });
        }
    }
    Ok(out)
}

/// Deletes remembered HTTP answers that hold one of `values`.
pub(crate) fn scrub_answers(tx: &Connection, values: &[&str]) -> Result<()> {
    for value in values.iter().filter(|v| v.chars().count() >= 3) {
        tx.prepare_cached(
            "DELETE FROM idempotency WHERE instr(CAST(body AS BLOB), CAST(?1 AS BLOB)) > 0",
        )?
        .execute([value])?;
    }
    Ok(())
}

/// Erases one contact inside the caller's transaction.
fn erase_one(
    tx: &Connection,
    e: &ErasedContact,
    req: &ErasureRequest,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let id = e.contact;
    let personal: Option<(String, Option<String>, Option<String>)> = tx
        .prepare_cached("SELECT name, email, phone FROM contact_personal WHERE contact_id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (name, email, phone) = personal.unwrap_or_default();
    // The tombstone first: the triggers let the logs be scrubbed only for
    // a contact that has one.
    tombstones::insert(
        tx,
        &NewTombstone {
            contact: id,
            email: email.as_deref(),
            phone: phone.as_deref(),
            at: now,
            requested_by: &req.requested_by,
            ground: req.ground.as_str(),
            cascaded_from: e.cascaded_from,
        },
    )?;
    for sql in [
        "DELETE FROM contact_personal WHERE contact_id = ?1",
        "DELETE FROM consent_evidence WHERE contact_id = ?1",
        "UPDATE decisions SET justification = NULL
         WHERE contact_id = ?1 AND justification IS NOT NULL",
        "DELETE FROM contact_timeline WHERE contact_id = ?1",
        "DELETE FROM outbox WHERE contact_id = ?1",
        "DELETE FROM notifications WHERE contact_id = ?1",
    ] {
        tx.prepare_cached(sql)?.execute([id])?;
    }
    let values: Vec<&str> = [Some(name.as_str()), email.as_deref(), phone.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    scrub_answers(tx, &values)?;
    tx.prepare_cached(
        "UPDATE contacts SET erased_at = ?2, erasure_ground = ?3, awaiting_own_consent = 0
         WHERE id = ?1",
    )?
    .execute(params![id, secs(now), req.ground.as_str()])?;
    let seq = put_row(
        tx,
        Table::Contacts,
        &[id.0],
        Some(id),
        &req.actor,
        secs(now),
    )?;
    let from = e
        .cascaded_from
        .map(|c| format!(", taken along from contact {c}"))
        .unwrap_or_default();
    add_note(
        tx,
        &Note {
            contact: id,
            at: now,
            kind: TimelineKind::Erasure,
            summary: format!("erased (Art. 17(1), ground {}){from}", req.ground),
            actor: &req.actor,
            ledger_seq: Some(seq),
            decision: None,
        },
    )?;
    notify(tx, e, req.ground, now)
}

/// Art. 19: the staff webhook hears of each erasure; ids, ground and time only.
fn notify(
    tx: &Connection,
    e: &ErasedContact,
    ground: ErasureGround,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let webhook: Option<i64> = tx
        .query_row("SELECT id FROM webhook WHERE id = 1", [], |r| r.get(0))
        .optional()?;
    if webhook.is_none() {
        return Ok(None);
    }
    let body = serde_json::json!({
        "event": "erasure",
        "contact": e.contact,
        "cascaded_from": e.cascaded_from,
        "ground": ground,
        "erased_at": now.to_rfc3339(),
    });
    Ok(Some(enqueue(tx, e.contact, &body, now)?))
}

/// Erases the planned contacts inside the caller's transaction; returns the
/// queued notifications.
pub(crate) fn erase_in(
    tx: &Connection,
    planned: &[ErasedContact],
    req: &ErasureRequest,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let mut notes = Vec::new();
    for e in planned {
        notes.extend(erase_one(tx, e, req, now)?);
    }
    Ok(notes)
}

impl Store {
    /// Why every hook denies this contact, if one does: it was erased, or it
    /// was re-added and waits for the person's own consent. The hooks show
    /// this sentence with their deny.
    pub fn blocked_because(&self, id: ContactId) -> Result<Option<String>> {
        let row: Option<(Option<i64>, Option<String>, bool)> = self
            .conn
            .prepare_cached(
                "SELECT erased_at, erasure_ground, awaiting_own_consent FROM contacts WHERE id = ?1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (erased, ground, awaiting) = row.ok_or(StoreError::UnknownContact(id))?;
        if let Some(at) = erased {
            return Ok(Some(format!(
                "Contact {id} was erased on {} (GDPR Art. 17, ground {}): it must not be contacted.",
                time(at)?.format("%Y-%m-%d"),
                ground.unwrap_or_default()
            )));
        }
        Ok(awaiting.then(|| {
            format!(
                "Contact {id} was added again after an erasure and waits for the person to give \
                 consent on a form link themselves: it must not be contacted until then."
            )
        }))
    }

    /// Erases a contact and, one level down, the contacts its cascading
    /// relations take (Art. 17; iPresso), in one transaction, then empties
    /// the WAL. A dry run lists the same contacts and writes nothing.
    pub fn erase(&mut self, contact: ContactId, req: &ErasureRequest) -> Result<ErasureReport> {
        self.erase_many(&[contact], req)
    }

    /// [`Store::erase`] for several contacts in one transaction (retention):
    /// each is listed once, however many relations lead to it.
    pub fn erase_many(
        &mut self,
        contacts: &[ContactId],
        req: &ErasureRequest,
    ) -> Result<ErasureReport> {
        super::contacts::check_actor(&req.actor)?;
        super::check_not_empty("requested by", &req.requested_by)?;
        if req.dry_run {
            let snapshot = self.snapshot()?;
            let erased = plan(&snapshot, contacts)?;
            snapshot.finish()?;
            return Ok(ErasureReport {
                ground: req.ground,
                erased_at: self.clock_now(),
                dry_run: true,
                erased,
                notifications: Vec::new(),
                wal: WalWipe::NotNeeded,
            });
        }
        let (erased, notifications, erased_at) = self.write_recorded(|tx, now| {
            let planned = plan(tx, contacts)?;
            let notes = erase_in(tx, &planned, req, now)?;
            Ok((planned, notes, now))
        })?;
        let wal = self.wipe_wal()?;
        Ok(ErasureReport {
            ground: req.ground,
            erased_at,
            dry_run: false,
            erased,
            notifications,
            wal,
        })
    }
}
