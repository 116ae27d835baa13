//! Contact filters: which contacts a listing, an export, a bulk fill or a
//! batch of form links is about. One filter, evaluated as one SQL query over
//! the projections (`consent_state`, `contact_purposes`,
//! `subscription_preferences`, `contacts`), paged by contact id.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

use super::catalog::id_of;
use super::contacts::{CONTACT_COLUMNS, contact_from_row};
use super::{
    Catalog, ConsentStatus, Contact, ContactId, ContactKind, LegalBasis, Result, Store, StoreError,
    SubscriptionState, secs,
};

/// How many contacts one bulk operation (fill, form links) may cover: a
/// larger set is refused with a request to narrow the filter, so that one
/// call never holds the write lock for minutes.
pub const MAX_BULK: usize = 100_000;

/// Which contacts to select. Every criterion given must hold (AND); an
/// empty filter selects every contact.
///
/// The consent criteria (`status`, `meaning`, `valid: true`,
/// `expiring_before`, `method`, `consent_legal_basis`) must all hold for one
/// current consent: of `consent_type` if given, else of any type.
/// `valid: false` selects contacts with no valid consent (of `consent_type`,
/// or of any type), including contacts never asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ContactFilter {
    /// Consent type code the consent criteria are about.
    pub consent_type: Option<String>,
    /// Status code of the current consent, built in or custom.
    pub status: Option<String>,
    /// What the current consent's status means (DPV).
    pub meaning: Option<ConsentStatus>,
    /// Valid (given or renewed, not expired) at `at`, or not.
    pub valid: Option<bool>,
    /// The time `valid` is judged at [default: now].
    pub at: Option<DateTime<Utc>>,
    /// A given or renewed consent whose validity ends before this time.
    pub expiring_before: Option<DateTime<Utc>>,
    /// Code of the way the current consent was given (`crm_form`, `import`, ...).
    pub method: Option<String>,
    /// The legal basis the current consent was recorded under.
    pub consent_legal_basis: Option<LegalBasis>,
    /// Purpose code the contact has a legal basis for.
    pub purpose: Option<String>,
    /// The contact's legal basis for `purpose` (or for any purpose).
    pub legal_basis: Option<LegalBasis>,
    /// Subscription type code.
    pub subscription: Option<String>,
    /// The contact's state for `subscription` (`opted_in`, `opted_out`, `not_specified`).
    pub subscription_state: Option<SubscriptionState>,
    /// Person, company, device, or an admin's own kind.
    pub kind: Option<ContactKind>,
    /// Art. 18: processing restricted.
    pub restricted: Option<bool>,
    /// Art. 21: objected to direct marketing.
    pub objected: Option<bool>,
    /// Opted out of all subscriptions.
    pub opted_out_of_all: Option<bool>,
}

/// A filter as SQL: the WHERE clause over `contacts c` and its parameters.
struct Sql {
    clauses: Vec<String>,
    params: Vec<Value>,
}

impl Sql {
    fn push(&mut self, clause: &str, values: impl IntoIterator<Item = Value>) {
        self.clauses.push(clause.to_owned());
        self.params.extend(values);
    }
}

/// "Given or renewed, given by `?`, not expired at `?`": the same rule as
/// `consent show`'s `valid_now` and the plugin's.
const LIVE_AT: &str = "cs.meaning IN (1, 2) AND cs.given_at <= ? \
    AND (ct.validity_days IS NULL OR ? < cs.given_at + ct.validity_days * 86400)";

const CONSENT_ROWS: &str = "SELECT 1 FROM consent_state cs \
    JOIN consent_types ct ON ct.id = cs.consent_type_id WHERE cs.contact_id = c.id";

fn int(v: impl Into<i64>) -> Value {
    Value::Integer(v.into())
}

/// Resolves the filter's codes (an unknown one lists the valid ones) and
/// builds its SQL.
fn compile(conn: &Connection, f: &ContactFilter, now: DateTime<Utc>) -> Result<Sql> {
    // Art. 17: an erased contact is no one to list, fill or send a link to.
    let mut sql = Sql {
        clauses: vec!["c.erased_at IS NULL".to_owned()],
        params: Vec::new(),
    };
    let code = |kind, code: &Option<String>| -> Result<Option<i64>> {
        code.as_deref()
            .map(|c| id_of(conn, kind, c.trim()).map(i64::from))
            .transpose()
    };
    let type_id = code(Catalog::ConsentType, &f.consent_type)?;
    let at = secs(f.at.unwrap_or(now));
    consent_clauses(&mut sql, conn, f, type_id, at)?;
    if f.purpose.is_some() || f.legal_basis.is_some() {
        let mut clause =
            "EXISTS (SELECT 1 FROM contact_purposes cp WHERE cp.contact_id = c.id".to_owned();
        let mut params = Vec::new();
        if let Some(id) = code(Catalog::Purpose, &f.purpose)? {
            clause.push_str(" AND cp.purpose_id = ?");
            params.push(int(id));
        }
        if let Some(basis) = f.legal_basis {
            clause.push_str(" AND cp.legal_basis = ?");
            params.push(int(basis.code()));
        }
        clause.push(')');
        sql.push(&clause, params);
    }
    subscription_clauses(
        &mut sql,
        f,
        code(Catalog::SubscriptionType, &f.subscription)?,
    )?;
    if let Some(kind) = &f.kind {
        sql.push("c.kind = ?", [Value::Text(kind.as_str().to_owned())]);
    }
    for (value, column) in [
        (f.restricted, "restricted"),
        (f.objected, "objected"),
        (f.opted_out_of_all, "opted_out_of_all"),
    ] {
        if let Some(on) = value {
            sql.push(&format!("c.{column} = ?"), [int(on)]);
        }
    }
    Ok(sql)
}

fn consent_clauses(
    sql: &mut Sql,
    conn: &Connection,
    f: &ContactFilter,
    type_id: Option<i64>,
    at: i64,
) -> Result<()> {
    let mut clause = CONSENT_ROWS.to_owned();
    let mut params = Vec::new();
    let mut any = false;
    if let Some(id) = type_id {
        clause.push_str(" AND cs.consent_type_id = ?");
        params.push(int(id));
        // A type alone means "has a consent of this type"; with
        // `valid: false` it only scopes the NOT EXISTS below.
        any = f.valid != Some(false);
    }
    if let Some(status) = &f.status {
        let id = id_of(conn, Catalog::Status, status.trim())?;
        clause.push_str(" AND cs.status_id = ?");
        params.push(int(id));
        any = true;
    }
    if let Some(meaning) = f.meaning {
        clause.push_str(" AND cs.meaning = ?");
        params.push(int(meaning.code()));
        any = true;
    }
    if let Some(method) = &f.method {
        let id = id_of(conn, Catalog::Method, method.trim())?;
        clause.push_str(" AND cs.method_id = ?");
        params.push(int(id));
        any = true;
    }
    if let Some(basis) = f.consent_legal_basis {
        clause.push_str(" AND cs.legal_basis = ?");
        params.push(int(basis.code()));
        any = true;
    }
    if let Some(before) = f.expiring_before {
        clause.push_str(
            " AND cs.meaning IN (1, 2) AND ct.validity_days IS NOT NULL \
              AND cs.given_at + ct.validity_days * 86400 < ?",
        );
        params.push(int(secs(before)));
        any = true;
    }
    if f.valid == Some(true) {
        clause.push_str(&format!(" AND {LIVE_AT}"));
        params.extend([int(at), int(at)]);
        any = true;
    }
    if any {
        sql.push(&format!("EXISTS ({clause})"), params);
    }
    if f.valid == Some(false) {
        // Only the type scopes "no valid consent"; the other criteria were
        // pushed as their own EXISTS above.
        let (mut none, mut params) = (CONSENT_ROWS.to_owned(), Vec::new());
        if let Some(id) = type_id {
            none.push_str(" AND cs.consent_type_id = ?");
            params.push(int(id));
        }
        none.push_str(&format!(" AND {LIVE_AT}"));
        params.extend([int(at), int(at)]);
        sql.push(&format!("NOT EXISTS ({none})"), params);
    }
    Ok(())
}

fn subscription_clauses(sql: &mut Sql, f: &ContactFilter, type_id: Option<i64>) -> Result<()> {
    let scoped = |clause: &mut String, params: &mut Vec<Value>| {
        if let Some(id) = type_id {
            clause.push_str(" AND sp.subscription_type_id = ?");
            params.push(int(id));
        }
    };
    let rows = "SELECT 1 FROM subscription_preferences sp WHERE sp.contact_id = c.id";
    match f.subscription_state {
        // "Not specified" is the absence of a row (or a row saying so).
        Some(SubscriptionState::NotSpecified) => {
            if type_id.is_none() {
                return Err(StoreError::Invalid {
                    field: "subscription_state",
                    why: "`not_specified` needs a subscription type; name one with `subscription`"
                        .to_owned(),
                });
            }
            let (mut clause, mut params) = (rows.to_owned(), Vec::new());
            scoped(&mut clause, &mut params);
            clause.push_str(" AND sp.state <> 1");
            sql.push(&format!("NOT EXISTS ({clause})"), params);
        }
        Some(state) => {
            let (mut clause, mut params) = (rows.to_owned(), Vec::new());
            scoped(&mut clause, &mut params);
            clause.push_str(" AND sp.state = ?");
            params.push(int(state.code()));
            sql.push(&format!("EXISTS ({clause})"), params);
        }
        None if type_id.is_some() => {
            let (mut clause, mut params) = (rows.to_owned(), Vec::new());
            scoped(&mut clause, &mut params);
            clause.push_str(" AND sp.state <> 1");
            sql.push(&format!("EXISTS ({clause})"), params);
        }
        None => {}
    }
    Ok(())
}

/// Runs `select` (a SELECT over `contacts c` ...) with the filter's WHERE,
/// keyset-paged by contact id.
fn query<T>(
    conn: &Connection,
    select: &str,
    f: &ContactFilter,
    now: DateTime<Utc>,
    after: Option<ContactId>,
    limit: u32,
    map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut sql = compile(conn, f, now)?;
    sql.push("c.id > ?", [int(after.map_or(i64::MIN, |id| id.0))]);
    let text = format!(
        "{select} WHERE {} ORDER BY c.id LIMIT {limit}",
        sql.clauses.join(" AND ")
    );
    let mut stmt = conn.prepare(&text)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(sql.params), map)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Up to `limit` ids of matching contacts above `after`, in id order.
pub(super) fn matching_ids(
    conn: &Connection,
    f: &ContactFilter,
    now: DateTime<Utc>,
    after: Option<ContactId>,
    limit: u32,
) -> Result<Vec<ContactId>> {
    query(
        conn,
        "SELECT c.id FROM contacts c",
        f,
        now,
        after,
        limit,
        |row| row.get(0),
    )
}

/// Every matching id, at most [`MAX_BULK`]: what a bulk operation covers.
pub(super) fn all_matching_ids(
    conn: &Connection,
    f: &ContactFilter,
    now: DateTime<Utc>,
) -> Result<Vec<ContactId>> {
    let limit = u32::try_from(MAX_BULK + 1).unwrap_or(u32::MAX);
    let ids = matching_ids(conn, f, now, None, limit)?;
    if ids.len() > MAX_BULK {
        return Err(StoreError::Invalid {
            field: "filter",
            why: format!(
                "the filter selects more than {MAX_BULK} contacts; narrow it \
                 (for example by `kind` or `consent_type`) and run it in parts"
            ),
        });
    }
    Ok(ids)
}

impl Store {
    /// Ids of up to `limit` contacts matching `filter`, above `after`, in id
    /// order (keyset paging, as [`Store::contacts`]). `now` is the time
    /// validity is judged at unless the filter's `at` says otherwise.
    pub fn filter_contact_ids(
        &self,
        filter: &ContactFilter,
        now: DateTime<Utc>,
        after: Option<ContactId>,
        limit: u32,
    ) -> Result<Vec<ContactId>> {
        matching_ids(&self.conn, filter, now, after, limit)
    }

    /// [`Store::filter_contact_ids`], with each contact's personal fields.
    pub fn filter_contacts(
        &self,
        filter: &ContactFilter,
        now: DateTime<Utc>,
        after: Option<ContactId>,
        limit: u32,
    ) -> Result<Vec<Contact>> {
        query(
            &self.conn,
            CONTACT_COLUMNS,
            filter,
            now,
            after,
            limit,
            contact_from_row,
        )
    }

    /// Every contact matching `filter` (at most [`MAX_BULK`], else an
    /// error asking to narrow it): what an export or a bulk operation takes.
    pub fn all_filtered_contact_ids(
        &self,
        filter: &ContactFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<ContactId>> {
        all_matching_ids(&self.conn, filter, now)
    }
}
