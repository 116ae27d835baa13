//! What a consent form and a double opt-in confirmation write: for each
//! consent offered, the change the person made (if any) as a ledger entry
//! with its evidence, and the confirmation emails, in one transaction.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::super::consent_types::{type_by_code, type_by_id};
use super::super::contacts::{check_actor, check_contact};
use super::super::ledger::event::{Table, put_row};
use super::super::ledger::{ConsentTypeRef, LedgerEntry, NewConsent, append};
use super::super::tombstones::supersede;
use super::super::{
    ConsentStatus, ConsentType, ConsentTypeId, ContactId, LedgerSeq, LegalBasis, NewConsentType,
    OutboxId, Result, Store, StoreError, secs, time,
};
use super::outbox::{NewOutboxMessage, enqueue};

/// Livespace: the way of giving consent a form records, built in and locked.
pub(crate) const CRM_FORM: &str = "crm_form";
/// The status of a consent given on a form that waits for its email
/// confirmation (DPV `requested`): it allows nothing.
const REQUESTED: &str = "requested";
/// Who adds the `requested` status when double opt-in first needs it.
const SYSTEM_ACTOR: &str = "crm-consent (double opt-in)";

/// Livespace: a link works for 14 days. A confirmation link too, so a
/// request older than that can be made again from the form.
pub const CONFIRMATION_DAYS: i64 = 14;

/// One consent a form offered and what the person chose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormChoice {
    /// The consent type offered.
    pub consent_type: ConsentTypeId,
    /// Ticked: the person gives it; unticked: they do not (or withdraw it).
    pub ticked: bool,
    /// The text version the form showed.
    pub text_version: u32,
    /// Where it came from, including which translation was shown; hashed
    /// into the ledger, so no personal data.
    pub source: String,
}

/// A submitted consent form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormSubmission {
    /// The contact the form's link was issued to.
    pub contact: ContactId,
    /// Every consent the form offered.
    pub choices: Vec<FormChoice>,
    /// Who is recorded as acting.
    pub actor: String,
    /// IP, user agent, the link's id: stored apart and erasable.
    pub evidence: serde_json::Value,
}

/// A change a form made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormChange {
    /// The consent type.
    pub consent_type: ConsentTypeId,
    /// `given`, `withdrawn` or, for double opt-in, `requested`.
    pub status: ConsentStatus,
    /// The ledger entry.
    pub seq: LedgerSeq,
    /// The confirmation email of a `requested` consent.
    pub outbox: Option<OutboxId>,
}

/// A consent given on a form that waits for its email confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingConfirmation {
    /// The contact.
    pub contact: ContactId,
    /// The consent type.
    pub consent_type: ConsentTypeId,
    /// The `requested` ledger entry the confirmation answers.
    pub request: LedgerSeq,
}

/// What a confirmation click did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Confirmation {
    /// Recorded `given`.
    Confirmed(LedgerEntry),
    /// The consent is given already (a second click): nothing to do.
    AlreadyGiven,
    /// The consent changed after the request: the link answers nothing.
    Superseded,
}

/// A contact's current consent of one type, as the form compares it.
struct State {
    status: ConsentStatus,
    given_at: DateTime<Utc>,
    text_version: u32,
    seq: LedgerSeq,
}

fn current_state(
    conn: &Connection,
    contact: ContactId,
    type_id: ConsentTypeId,
) -> Result<Option<State>> {
    let row: Option<(i64, i64, u32, LedgerSeq)> = conn
        .prepare_cached(
            "SELECT meaning, given_at, text_version, seq FROM consent_state
             WHERE contact_id = ?1 AND consent_type_id = ?2",
        )?
        .query_row(params![contact, type_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    row.map(|(meaning, given_at, text_version, seq)| {
        Ok(State {
            status: ConsentStatus::from_code(meaning).ok_or(StoreError::CorruptValue {
                what: "consent status",
                value: meaning.to_string(),
            })?,
            given_at: time(given_at)?,
            text_version,
            seq,
        })
    })
    .transpose()
}

/// Whether a consent counts as given at `now`: given or renewed, and not
/// past its type's validity (Italian CRM plugin). The form shows these
/// ticked, and only these can be withdrawn by unticking.
pub(crate) fn counts_as_given(
    status: ConsentStatus,
    given_at: DateTime<Utc>,
    validity_days: Option<u32>,
    now: DateTime<Utc>,
) -> bool {
    matches!(status, ConsentStatus::Given | ConsentStatus::Renewed)
        && validity_days.is_none_or(|d| now < given_at + Duration::days(d.into()))
}

/// Whether a consent waits for a confirmation whose link still works.
pub(crate) fn awaits_confirmation(
    status: ConsentStatus,
    requested_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    status == ConsentStatus::Requested && now < requested_at + Duration::days(CONFIRMATION_DAYS)
}

/// The status a choice records, if it changes anything.
fn next_status(
    ticked: bool,
    state: Option<&State>,
    ty: &ConsentType,
    double_opt_in: bool,
    now: DateTime<Utc>,
) -> Option<ConsentStatus> {
    let given = state.is_some_and(|s| counts_as_given(s.status, s.given_at, ty.validity_days, now));
    let pending = state.is_some_and(|s| awaits_confirmation(s.status, s.given_at, now));
    match (ticked, given || pending) {
        (true, true) | (false, false) => None,
        (true, false) if double_opt_in => Some(ConsentStatus::Requested),
        (true, false) => Some(ConsentStatus::Given),
        // Art. 7(3): withdrawing is as easy as giving, and a pending
        // request is cancelled the same way.
        (false, true) => Some(ConsentStatus::Withdrawn),
    }
}

/// Whether consent of this type must be confirmed by email.
pub(crate) fn requires_confirmation(conn: &Connection, id: ConsentTypeId) -> Result<bool> {
    conn.prepare_cached("SELECT requires_confirmation FROM consent_types WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::UnknownId {
            kind: super::super::Catalog::ConsentType,
            id: id.0.into(),
        })
}

/// Makes sure a status `requested` meaning DPV requested exists. It is a
/// custom status, not a fifth built-in one (Livespace has four), added the
/// first time double opt-in needs it.
fn ensure_requested_status(tx: &Connection, actor: &str, now: DateTime<Utc>) -> Result<()> {
    let meaning: Option<i64> = tx
        .prepare_cached("SELECT meaning FROM statuses WHERE code = ?1")?
        .query_row([REQUESTED], |r| r.get(0))
        .optional()?;
    match meaning {
        Some(m) if m == i64::from(ConsentStatus::Requested.code()) => Ok(()),
        Some(_) => Err(StoreError::Invalid {
            field: "status",
            why: "double opt-in records the status `requested`, but a custom status with that \
                  code means something else; rename that status first"
                .to_owned(),
        }),
        None => {
            tx.execute(
                "INSERT INTO statuses (code, name, meaning) VALUES (?1, ?2, ?3)",
                params![
                    REQUESTED,
                    "Requested, awaiting confirmation",
                    ConsentStatus::Requested.code()
                ],
            )?;
            let id = tx.last_insert_rowid();
            put_row(tx, Table::Statuses, &[id], None, actor, secs(now))?;
            Ok(())
        }
    }
}

/// Turns double opt-in on or off for a type inside the caller's
/// transaction; the caller records the type's row.
pub(in super::super) fn write_double_opt_in(
    tx: &Connection,
    id: ConsentTypeId,
    on: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    if on {
        ensure_requested_status(tx, SYSTEM_ACTOR, now)?;
    }
    tx.execute(
        "UPDATE consent_types SET requires_confirmation = ?2 WHERE id = ?1",
        params![id, on],
    )?;
    Ok(())
}

fn form_entry(
    form: &FormSubmission,
    choice: &FormChoice,
    status: ConsentStatus,
    now: DateTime<Utc>,
) -> NewConsent {
    NewConsent {
        contact: form.contact,
        consent_type: ConsentTypeRef::Id(choice.consent_type),
        // The built-in statuses and `requested` have their DPV name as code.
        status: status.as_str().to_owned(),
        method: CRM_FORM.to_owned(),
        legal_basis: LegalBasis::Consent,
        given_at: now,
        source: choice.source.clone(),
        actor: form.actor.clone(),
        evidence: Some(form.evidence.clone()),
        text_version: Some(choice.text_version),
    }
}

/// HubSpot: a contact re-added after an erasure gave consent on the form
/// itself. Its pending state ends (a ledger entry: hooks read it) and the
/// tombstones its email or phone matched stop blocking.
fn lift_awaiting(
    tx: &Connection,
    contact: ContactId,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let awaiting: bool = tx
        .prepare_cached("SELECT awaiting_own_consent FROM contacts WHERE id = ?1")?
        .query_row([contact], |r| r.get(0))?;
    if !awaiting {
        return Ok(());
    }
    tx.execute(
        "UPDATE contacts SET awaiting_own_consent = 0 WHERE id = ?1",
        [contact],
    )?;
    put_row(
        tx,
        Table::Contacts,
        &[contact.0],
        Some(contact),
        actor,
        secs(now),
    )?;
    let (email, phone): (Option<String>, Option<String>) = tx
        .prepare_cached("SELECT email, phone FROM contact_personal WHERE contact_id = ?1")?
        .query_row([contact], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or_default();
    supersede(tx, contact, email.as_deref(), phone.as_deref(), actor, now)?;
    Ok(())
}

impl Store {
    /// Records a submitted form in one transaction: for each offered type,
    /// ticked records `given` (or `requested` with double opt-in, and the
    /// email `confirm` writes goes to the outbox), unticked when given
    /// records `withdrawn`, and no change records nothing.
    pub(crate) fn record_form<E: From<StoreError>>(
        &mut self,
        form: &FormSubmission,
        mut confirm: impl FnMut(&PendingConfirmation) -> Result<NewOutboxMessage, E>,
    ) -> Result<Vec<FormChange>, E> {
        check_actor(&form.actor)?;
        self.write_recorded_with(|tx, now| {
            check_contact(tx, form.contact)?;
            super::super::erasure::check_not_erased(tx, form.contact)?;
            let mut changes = Vec::new();
            for choice in &form.choices {
                let ty = type_by_id(tx, choice.consent_type)?;
                let state = current_state(tx, form.contact, ty.id)?;
                let double = requires_confirmation(tx, ty.id)?;
                let Some(status) = next_status(choice.ticked, state.as_ref(), &ty, double, now)
                else {
                    continue;
                };
                if status == ConsentStatus::Requested {
                    ensure_requested_status(tx, SYSTEM_ACTOR, now)?;
                }
                let entry = append(tx, &form_entry(form, choice, status, now), now)?;
                let outbox = if status == ConsentStatus::Requested {
                    let pending = PendingConfirmation {
                        contact: form.contact,
                        consent_type: ty.id,
                        request: entry.seq,
                    };
                    Some(enqueue(tx, &confirm(&pending)?, now)?)
                } else {
                    None
                };
                changes.push(FormChange {
                    consent_type: ty.id,
                    status,
                    seq: entry.seq,
                    outbox,
                });
            }
            if changes.iter().any(|c| c.status != ConsentStatus::Withdrawn) {
                lift_awaiting(tx, form.contact, &form.actor, now)?;
            }
            Ok(changes)
        })
    }

    /// Double opt-in: the contact clicked the confirmation link of
    /// `pending`. Records `given` at the confirmation time, for the text
    /// version that was requested, if the request is still the current state.
    pub(crate) fn confirm_request(
        &mut self,
        pending: &PendingConfirmation,
        source: &str,
        actor: &str,
        evidence: serde_json::Value,
    ) -> Result<Confirmation> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            let ty = type_by_id(tx, pending.consent_type)?;
            let Some(state) = current_state(tx, pending.contact, ty.id)? else {
                return Ok(Confirmation::Superseded);
            };
            if state.seq == pending.request && state.status == ConsentStatus::Requested {
                let entry = NewConsent {
                    contact: pending.contact,
                    consent_type: ConsentTypeRef::Id(ty.id),
                    status: ConsentStatus::Given.as_str().to_owned(),
                    method: CRM_FORM.to_owned(),
                    legal_basis: LegalBasis::Consent,
                    given_at: now,
                    source: source.to_owned(),
                    actor: actor.to_owned(),
                    evidence: Some(evidence),
                    text_version: Some(state.text_version),
                };
                return Ok(Confirmation::Confirmed(append(tx, &entry, now)?));
            }
            if counts_as_given(state.status, state.given_at, ty.validity_days, now) {
                return Ok(Confirmation::AlreadyGiven);
            }
            Ok(Confirmation::Superseded)
        })
    }

    /// Whether consent of this type given on a form waits for an email
    /// confirmation (double opt-in).
    pub fn requires_confirmation(&self, id: ConsentTypeId) -> Result<bool> {
        requires_confirmation(&self.conn, id)
    }

    /// Turns double opt-in on or off for a consent type; a ledger entry of
    /// the type's row, since it changes what a form records.
    pub fn set_requires_confirmation(&mut self, code: &str, on: bool, actor: &str) -> Result<()> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            let ty = type_by_code(tx, code)?;
            write_double_opt_in(tx, ty.id, on, now)?;
            put_row(
                tx,
                Table::ConsentTypes,
                &[ty.id.0.into()],
                None,
                actor,
                secs(now),
            )?;
            Ok(())
        })
    }

    /// [`Store::add_consent_type`] for a type whose consent given on a form
    /// must be confirmed by email (double opt-in), in one transaction.
    pub fn add_consent_type_with_double_opt_in(
        &mut self,
        new: &NewConsentType,
        actor: &str,
    ) -> Result<ConsentType> {
        self.add_type(new, true, actor)
    }
}
