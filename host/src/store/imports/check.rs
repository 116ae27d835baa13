//! Checking one import row: its codes looked up (once per code), its
//! contact found, and what it would change classified against the stored
//! state and the rows before it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    ContactKey, IMPORT_METHOD, ImportBatch, ImportField, ImportRow, RowChange, RowOutcome,
    RowProblem,
};
use crate::store::catalog::id_of;
use crate::store::consent_types::{ConsentType, type_by_code};
use crate::store::ledger::{
    ConsentTypeRef, NewConsent, Resolved, check_not_future, resolve, status_of,
};
use crate::store::tombstones;
use crate::store::{Catalog, ConsentTypeId, ContactId, LegalBasis, StatusId, StoreError, secs};

/// The checked rows waiting to be written.
pub(super) type Staged = Vec<(usize, NewConsent, Resolved)>;

/// Per-import caches: a 100k-row file names a handful of codes.
#[derive(Default)]
pub(super) struct Lookups {
    types: HashMap<String, Result<ConsentType, String>>,
    statuses: HashMap<String, Result<StatusId, String>>,
    ways: HashMap<String, Result<(), String>>,
    /// The state each (contact, type) has after the rows before: status
    /// and effective time.
    state: HashMap<(ContactId, ConsentTypeId), (StatusId, i64)>,
}

fn cached<T: Clone>(
    map: &mut HashMap<String, Result<T, String>>,
    code: &str,
    look: impl FnOnce() -> crate::store::Result<T>,
) -> crate::store::Result<Result<T, String>> {
    if let Some(hit) = map.get(code) {
        return Ok(hit.clone());
    }
    let got = match look() {
        Ok(v) => Ok(v),
        Err(e @ StoreError::UnknownCode { .. }) => Err(e.to_string()),
        Err(e) => return Err(e),
    };
    map.insert(code.to_owned(), got.clone());
    Ok(got)
}

fn find_contact(
    tx: &Connection,
    key: &ContactKey,
) -> crate::store::Result<Result<ContactId, String>> {
    match key {
        ContactKey::Id(id) => Ok(match crate::store::erasure::erased_at(tx, *id) {
            Ok(None) => Ok(*id),
            // Art. 17: an erased contact's consents are not brought back.
            Ok(Some(at)) => Err(format!(
                "contact `{id}` was erased on {} (Art. 17); an import does not bring \
                 consents back: drop the row",
                at.format("%Y-%m-%d")
            )),
            Err(StoreError::UnknownContact(_)) => Err(format!(
                "no contact has the id `{id}`; use an id `crm-consent contacts list` shows"
            )),
            Err(e) => return Err(e),
        }),
        ContactKey::Email(email) => {
            let ids: Vec<ContactId> = tx
                .prepare_cached(
                    "SELECT contact_id FROM contact_personal WHERE email = ?1 ORDER BY contact_id",
                )?
                .query_map([email.trim()], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(match ids.as_slice() {
                [id] => Ok(*id),
                [] => Err(match tombstones::find(tx, Some(email.trim()), None)? {
                    // HubSpot: an erased person is not added back by a file.
                    Some(m) => format!(
                        "the email `{email}` belongs to a person whose data was erased on {} \
                         (Art. 17); only the person can come back, through a form link: drop \
                         the row",
                        m.erased_at.format("%Y-%m-%d")
                    ),
                    None => format!(
                        "no contact has the email `{email}`; add the contact first \
                         (`crm-consent contacts add`) or use its id"
                    ),
                }),
                many => Err(format!(
                    "{} contacts share the email `{email}` (ids {}); use the contact's id",
                    many.len(),
                    many.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            })
        }
    }
}

fn stored_state(
    tx: &Connection,
    contact: ContactId,
    ty: ConsentTypeId,
) -> crate::store::Result<Option<(StatusId, i64)>> {
    Ok(tx
        .prepare_cached(
            "SELECT status_id, effective_at FROM consent_state
             WHERE contact_id = ?1 AND consent_type_id = ?2",
        )?
        .query_row(params![contact, ty], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

/// The text version in force when the consent was given: the newest by
/// `valid_from` that existed then (Art. 7(1): the words the person saw).
/// `None` when no version existed yet; `resolve` then names the date.
fn version_at(
    tx: &Connection,
    ty: ConsentTypeId,
    at: DateTime<Utc>,
) -> crate::store::Result<Option<u32>> {
    Ok(tx
        .prepare_cached(
            "SELECT version FROM consent_type_texts WHERE type_id = ?1 AND valid_from <= ?2
             ORDER BY valid_from DESC, version DESC LIMIT 1",
        )?
        .query_row(params![ty, secs(at)], |row| row.get(0))
        .optional()?)
}

/// The row's codes, each looked up; the problems of the cells that fail.
struct Looked {
    contact: Option<ContactId>,
    ty: Option<ConsentType>,
    status: Option<StatusId>,
}

fn look_up(
    tx: &Connection,
    row: &ImportRow,
    cache: &mut Lookups,
    problems: &mut Vec<RowProblem>,
) -> crate::store::Result<Looked> {
    let mut problem = |field, value: &str, why: String| {
        problems.push(RowProblem {
            line: row.line,
            field: Some(field),
            value: value.to_owned(),
            problem: why,
        });
    };
    let contact = match find_contact(tx, &row.contact)? {
        Ok(id) => Some(id),
        Err(why) => {
            let value = match &row.contact {
                ContactKey::Id(id) => id.to_string(),
                ContactKey::Email(e) => e.clone(),
            };
            problem(ImportField::Contact, &value, why);
            None
        }
    };
    let code = row.consent_type.as_str();
    let ty = match cached(&mut cache.types, code, || type_by_code(tx, code))? {
        Ok(ty) => Some(ty),
        Err(why) => {
            problem(ImportField::Consent, code, why);
            None
        }
    };
    let mut status = None;
    if let Some(code) = row.status.as_deref() {
        match cached(&mut cache.statuses, code, || Ok(status_of(tx, code)?.0))? {
            Ok(id) => status = Some(id),
            Err(why) => problem(ImportField::Status, code, why),
        }
    }
    if let Some(code) = row.way.as_deref() {
        let known = cached(&mut cache.ways, code, || {
            id_of(tx, Catalog::Method, code).map(|_| ())
        })?;
        if let Err(why) = known {
            problem(ImportField::Way, code, why);
        }
    }
    Ok(Looked {
        contact,
        ty,
        status,
    })
}

/// Checks and classifies one row; stages it when it changes something.
pub(super) fn check_row(
    tx: &Connection,
    index: usize,
    batch: &ImportBatch<'_>,
    now: DateTime<Utc>,
    cache: &mut Lookups,
    staged: &mut Staged,
    problems: &mut Vec<RowProblem>,
) -> crate::store::Result<Option<RowOutcome>> {
    let row = &batch.rows[index];
    let before = problems.len();
    let looked = look_up(tx, row, cache, problems)?;
    // A row that changes nothing still must not claim a future date.
    if let Some(at) = row.given_at
        && let Err(StoreError::BadDate { why, .. }) = check_not_future(at, now)
    {
        problems.push(RowProblem {
            line: row.line,
            field: Some(ImportField::Date),
            value: at.to_rfc3339(),
            problem: why.to_owned(),
        });
    }
    let (Some(contact), Some(ty)) = (looked.contact, looked.ty) else {
        return Ok(None);
    };
    if problems.len() > before {
        return Ok(None);
    }
    let key = (contact, ty.id);
    let stored = match cache.state.get(&key) {
        Some(state) => Some(*state),
        None => stored_state(tx, contact, ty.id)?,
    };
    let outcome = |change, status: &str| RowOutcome {
        line: row.line,
        contact,
        consent_type: ty.code.clone(),
        status: status.to_owned(),
        change,
        seq: None,
    };
    // A blank cell never erases a stored value: a blank status keeps the
    // stored one, and with nothing stored there is nothing to keep.
    let (Some(status), Some(status_code)) = (looked.status, row.status.as_deref()) else {
        if stored.is_some() {
            return Ok(Some(outcome(RowChange::Unchanged, "")));
        }
        problems.push(RowProblem {
            line: row.line,
            field: Some(ImportField::Status),
            value: String::new(),
            problem: format!(
                "the status is blank and contact {contact} has no `{}` consent stored to keep; \
                 give a status (`crm-consent statuses list` shows them)",
                ty.code
            ),
        });
        return Ok(None);
    };
    let given_at = row.given_at.unwrap_or(now);
    let effective_at = secs(given_at).min(secs(now));
    let change = match stored {
        None => RowChange::New,
        Some((id, _)) if id == status => RowChange::Unchanged,
        Some((_, at)) if effective_at < at => RowChange::Outdated,
        Some(_) => RowChange::Changed,
    };
    if matches!(change, RowChange::Unchanged | RowChange::Outdated) {
        return Ok(Some(outcome(change, status_code)));
    }
    let consent = NewConsent {
        contact,
        consent_type: ConsentTypeRef::Id(ty.id),
        status: status_code.to_owned(),
        method: IMPORT_METHOD.to_owned(),
        legal_basis: LegalBasis::Consent,
        given_at,
        source: format!(
            "import {}",
            &batch.file_sha256[..16.min(batch.file_sha256.len())]
        ),
        actor: batch.actor.to_owned(),
        evidence: Some(serde_json::json!({
            "file_sha256": batch.file_sha256,
            "row": row.line,
            "way_of_giving": row.way,
        })),
        text_version: version_at(tx, ty.id, given_at)?,
    };
    match resolve(tx, &consent, now) {
        Ok(resolved) => {
            debug_assert_eq!((resolved.type_id(), resolved.status_id()), (ty.id, status));
            cache.state.insert(key, (status, effective_at));
            staged.push((index, consent, resolved));
            Ok(Some(outcome(change, status_code)))
        }
        Err(StoreError::BadDate { value, why, .. }) => {
            problems.push(RowProblem {
                line: row.line,
                field: Some(ImportField::Date),
                value: if row.given_at.is_some() {
                    value
                } else {
                    String::new()
                },
                problem: why.to_owned(),
            });
            Ok(None)
        }
        Err(e @ (StoreError::TooLong { .. } | StoreError::EmptyField(_))) => {
            problems.push(RowProblem {
                line: row.line,
                field: None,
                value: String::new(),
                problem: e.to_string(),
            });
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
