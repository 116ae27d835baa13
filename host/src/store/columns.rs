//! The reads the hooks make before asking the plugin: one contact's state,
//! or every mailable contact's state in columns for a newsletter.
//!
//! This is the hot path (a million contacts read and decided in two seconds),
//! so it reads only integer columns of the projection tables, never JSON or
//! the ledger, and never queries per contact: each table is scanned once in
//! contact order (the tables are clustered on `contact_id`) and the scans are
//! merge-joined here.

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Row, Statement};
use serde::{Deserialize, Serialize};

use super::catalog::bad_code;

/// Whether a contact is blocked for every hook: erased (Art. 17) or
/// re-added and awaiting the person's own consent (HubSpot). Both are
/// `contacts` columns, so `ledger verify` rebuilds them.
macro_rules! blocked {
    () => {
        "(erased_at IS NOT NULL OR awaiting_own_consent = 1)"
    };
}
const BLOCKED: &str = blocked!();

/// A contact's flags and whether it is blocked ([`BLOCKED`]).
const HOOK_FLAGS: &str = concat!(
    "SELECT restricted, objected, opted_out_of_all, ",
    blocked!(),
    " FROM contacts WHERE id = ?1"
);

/// The flags hooks see: a blocked contact has all three set, so every hook
/// (and a replay of its decision) denies it. One statement reads both.
fn hook_flags(conn: &Connection, contact: ContactId) -> Result<ContactFlags> {
    conn.prepare_cached(HOOK_FLAGS)?
        .query_row([contact], |row| {
            let blocked: bool = row.get(3)?;
            Ok(ContactFlags {
                restricted: blocked || row.get(0)?,
                objected: blocked || row.get(1)?,
                opted_out_of_all: blocked || row.get(2)?,
            })
        })
        .optional()?
        .ok_or(super::StoreError::UnknownContact(contact))
}

use super::subscriptions::check_subscription_type;
use super::{
    ConsentStatus, ConsentTypeId, ContactFlags, ContactId, LedgerHead, LegalBasis, MethodId,
    PurposeId, Result, Store, SubscriptionState, SubscriptionTypeId, chain,
};

/// One current consent of a contact (WIT `consent-record`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRow {
    /// The consent type.
    pub type_id: ConsentTypeId,
    /// The DPV meaning of the status.
    pub status: ConsentStatus,
    /// The basis the consent was recorded under.
    pub legal_basis: LegalBasis,
    /// Unix seconds.
    pub given_at: i64,
    /// How it was given (form, phone, import, ...).
    pub method_id: MethodId,
}

/// The legal basis a contact's data has for one purpose (WIT `purpose-basis`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeBasis {
    /// The purpose.
    pub purpose_id: PurposeId,
    /// The basis the contact's data has for it.
    pub legal_basis: LegalBasis,
}

/// A contact's choice for one subscription type (WIT `preference`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preference {
    /// The subscription type.
    pub subscription_type_id: SubscriptionTypeId,
    /// Opted in, opted out or not specified (HubSpot).
    pub state: SubscriptionState,
}

/// What the rules need to know about one contact (WIT `contact-state`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSnapshot {
    /// Art. 18 / Art. 21 / opt-out-of-all flags.
    pub flags: ContactFlags,
    /// The current consent per type.
    pub consents: Vec<ConsentRow>,
    /// The legal basis per purpose.
    pub bases: Vec<PurposeBasis>,
    /// The subscription choice per type.
    pub preferences: Vec<Preference>,
}

/// One contact of [`Columns`]: its flags and how many entries it owns in each
/// column (WIT `contact-row`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRow {
    /// The contact's flags.
    pub flags: ContactFlags,
    /// How many entries of [`Columns::consents`] are this contact's.
    pub consents: u32,
    /// How many entries of [`Columns::bases`] are this contact's.
    pub bases: u32,
    /// How many entries of [`Columns::preferences`] are this contact's.
    pub preferences: u32,
}

/// Many contacts in columns (WIT `contact-batch`): contact `i` is
/// `contact_ids[i]`, described by `rows[i]`, and owns the next
/// `rows[i].consents` entries of `consents`, and likewise for `bases` and
/// `preferences`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Columns {
    /// The contacts, in id order.
    pub contact_ids: Vec<ContactId>,
    /// One row per contact, in the same order.
    pub rows: Vec<ContactRow>,
    /// Every contact's current consents, contact after contact.
    pub consents: Vec<ConsentRow>,
    /// Every contact's legal bases, contact after contact.
    pub bases: Vec<PurposeBasis>,
    /// Every contact's subscription choices, contact after contact.
    pub preferences: Vec<Preference>,
}

/// Defines a scan of a column table and its read of one contact, both
/// whole literals: built with `format!`, the one-contact read was an
/// allocation on every hook.
macro_rules! scan {
    ($all:ident, $one:ident, $select:literal) => {
        const $all: &str = $select;
        const $one: &str = concat!($select, " WHERE contact_id = ?1");
    };
}
scan!(
    CONSENTS,
    CONSENTS_OF,
    "SELECT contact_id, consent_type_id, meaning, legal_basis, given_at, method_id
    FROM consent_state"
);
scan!(
    BASES,
    BASES_OF,
    "SELECT contact_id, purpose_id, legal_basis FROM contact_purposes"
);
scan!(
    PREFERENCES,
    PREFERENCES_OF,
    "SELECT contact_id, subscription_type_id, state FROM subscription_preferences"
);

fn consent_row(row: &Row<'_>) -> rusqlite::Result<ConsentRow> {
    let (meaning, basis): (i64, i64) = (row.get(2)?, row.get(3)?);
    Ok(ConsentRow {
        type_id: row.get(1)?,
        status: ConsentStatus::from_code(meaning).ok_or_else(|| bad_code(2, meaning))?,
        legal_basis: LegalBasis::from_code(basis).ok_or_else(|| bad_code(3, basis))?,
        given_at: row.get(4)?,
        method_id: row.get(5)?,
    })
}

fn basis_row(row: &Row<'_>) -> rusqlite::Result<PurposeBasis> {
    let basis: i64 = row.get(2)?;
    Ok(PurposeBasis {
        purpose_id: row.get(1)?,
        legal_basis: LegalBasis::from_code(basis).ok_or_else(|| bad_code(2, basis))?,
    })
}

fn preference_row(row: &Row<'_>) -> rusqlite::Result<Preference> {
    let state: i64 = row.get(2)?;
    Ok(Preference {
        subscription_type_id: row.get(1)?,
        state: SubscriptionState::from_code(state).ok_or_else(|| bad_code(2, state))?,
    })
}

/// One contact's state, inside the caller's read transaction.
fn read_snapshot(conn: &Connection, contact: ContactId) -> Result<ContactSnapshot> {
    Ok(ContactSnapshot {
        flags: hook_flags(conn, contact)?,
        consents: rows_of(conn, CONSENTS_OF, contact, consent_row)?,
        bases: rows_of(conn, BASES_OF, contact, basis_row)?,
        preferences: rows_of(conn, PREFERENCES_OF, contact, preference_row)?,
    })
}

/// All rows of one contact from a `... WHERE contact_id = ?1` query.
fn rows_of<T>(
    conn: &Connection,
    select: &str,
    contact: ContactId,
    map: fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(select)?;
    let rows = stmt
        .query_map([contact], map)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Walks a statement ordered by `contact_id` (column 0) alongside the sorted
/// `ids`, appending the rows of listed contacts to `out` and counting them in
/// `rows`. Rows of contacts not in `ids` (no email) are skipped.
fn merge<T>(
    stmt: &mut Statement<'_>,
    params: impl rusqlite::Params,
    ids: &[ContactId],
    rows: &mut [ContactRow],
    count: fn(&mut ContactRow) -> &mut u32,
    map: fn(&Row<'_>) -> rusqlite::Result<T>,
    out: &mut Vec<T>,
) -> Result<()> {
    let mut cursor = 0;
    let mut result = stmt.query(params)?;
    while let Some(row) = result.next()? {
        let contact: i64 = row.get(0)?;
        while cursor < ids.len() && ids[cursor].0 < contact {
            cursor += 1;
        }
        if cursor == ids.len() {
            break;
        }
        if ids[cursor].0 == contact {
            out.push(map(row)?);
            *count(&mut rows[cursor]) += 1;
        }
    }
    Ok(())
}

impl Store {
    /// One contact's flags, current consents, purpose bases and subscription
    /// choices, read consistently in one read transaction.
    pub fn contact_snapshot(&self, contact: ContactId) -> Result<ContactSnapshot> {
        let tx = self.snapshot()?;
        let snapshot = read_snapshot(&tx, contact)?;
        tx.finish()?;
        Ok(snapshot)
    }

    /// What a hook reads: the contact's state and the ledger head it was
    /// read under, in one read. A pooled connection reads the state from
    /// the pool's memory when it was read under the same head
    /// (`state_cache`), unless this connection is inside a write
    /// transaction: what it sees there is not committed, and may never be.
    pub(crate) fn hook_inputs(
        &self,
        contact: ContactId,
    ) -> Result<(Arc<ContactSnapshot>, LedgerHead)> {
        let committed = self.conn.is_autocommit() || self.reading.get();
        let states = self.states.as_deref().filter(|_| committed);
        let tx = self.snapshot()?;
        let head = chain::head(&tx)?;
        if let Some(state) = states.and_then(|s| s.get(&head, contact)) {
            tx.finish()?;
            return Ok((state, head));
        }
        let state = Arc::new(read_snapshot(&tx, contact)?);
        tx.finish()?;
        if let Some(states) = states {
            states.put(&head, contact, Arc::clone(&state));
        }
        Ok((state, head))
    }

    /// Every contact with an email, in contact id order, with its state in
    /// columns for the plugin's batch decision. With a subscription type,
    /// only the choices for that type are read.
    pub fn newsletter_columns(
        &self,
        subscription_type: Option<SubscriptionTypeId>,
    ) -> Result<Columns> {
        let tx = self.snapshot()?;
        if let Some(id) = subscription_type {
            check_subscription_type(&tx, id)?;
        }
        let mut columns = Columns::default();
        read_columns(&tx, subscription_type, &mut columns)?;
        tx.finish()?;
        Ok(columns)
    }
}

fn read_columns(
    tx: &Connection,
    subscription_type: Option<SubscriptionTypeId>,
    columns: &mut Columns,
) -> Result<()> {
    mailable_contacts(tx, columns)?;
    let Columns {
        contact_ids: ids,
        rows,
        consents,
        bases,
        preferences,
    } = columns;
    let mut stmt =
        tx.prepare_cached(&format!("{CONSENTS} ORDER BY contact_id, consent_type_id"))?;
    merge(
        &mut stmt,
        [],
        ids,
        rows,
        |r| &mut r.consents,
        consent_row,
        consents,
    )?;
    let mut stmt = tx.prepare_cached(&format!("{BASES} ORDER BY contact_id, purpose_id"))?;
    merge(&mut stmt, [], ids, rows, |r| &mut r.bases, basis_row, bases)?;
    match subscription_type {
        Some(id) => {
            let sql = format!("{PREFERENCES} WHERE subscription_type_id = ?1 ORDER BY contact_id");
            let mut stmt = tx.prepare_cached(&sql)?;
            merge(
                &mut stmt,
                [id],
                ids,
                rows,
                |r| &mut r.preferences,
                preference_row,
                preferences,
            )?;
        }
        None => {
            let sql = format!("{PREFERENCES} ORDER BY contact_id, subscription_type_id");
            let mut stmt = tx.prepare_cached(&sql)?;
            merge(
                &mut stmt,
                [],
                ids,
                rows,
                |r| &mut r.preferences,
                preference_row,
                preferences,
            )?;
        }
    }
    Ok(())
}

/// Fills ids and flags of every contact with an email: two scans in rowid
/// order merged here, which beats a join that looks each contact up.
fn mailable_contacts(conn: &Connection, columns: &mut Columns) -> Result<()> {
    let mut with_email = conn.prepare_cached(
        "SELECT contact_id FROM contact_personal WHERE email IS NOT NULL ORDER BY contact_id",
    )?;
    let mut emails = with_email.query([])?;
    let mut contacts = conn.prepare_cached(&format!(
        "SELECT id, restricted OR {BLOCKED}, objected OR {BLOCKED},
                 opted_out_of_all OR {BLOCKED} FROM contacts ORDER BY id"
    ))?;
    let mut all = contacts.query([])?;
    let mut next_email =
        || -> rusqlite::Result<Option<i64>> { emails.next()?.map(|row| row.get(0)).transpose() };
    let Some(mut wanted) = next_email()? else {
        return Ok(());
    };
    while let Some(row) = all.next()? {
        let id: i64 = row.get(0)?;
        // Both scans are ordered and every personal row has its contact
        // (foreign key), so `wanted` never falls behind for long.
        while wanted < id {
            match next_email()? {
                Some(next) => wanted = next,
                None => return Ok(()),
            }
        }
        if id < wanted {
            continue;
        }
        columns.contact_ids.push(ContactId(id));
        columns.rows.push(ContactRow {
            flags: ContactFlags {
                restricted: row.get(1)?,
                objected: row.get(2)?,
                opted_out_of_all: row.get(3)?,
            },
            ..ContactRow::default()
        });
    }
    Ok(())
}
