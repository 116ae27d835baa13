//! The SuperOffice GDPR upgrade of an existing contact base:
//! - every contact gets the purpose "Sales and service" on legitimate interest;
//! - contacts marked as already mailed get "E-marketing" on legitimate
//!   interest (e-marketing switched on);
//! - contacts marked "no mailings" get "E-marketing" with the basis `withdrawn`;
//! - contacts never mailed get no e-marketing basis at all.
//!
//! The marks come from the caller (a CSV of the old CRM's marks) and from
//! the store: a contact who opted out of all subscriptions counts as "no
//! mailings". "Opted in" is the purpose basis, not a consent entry: these
//! people never gave consent, and a `given` entry would be a false proof
//! (Art. 7(1)). A contact's existing basis for a purpose is kept (it was
//! set since, on purpose), except that "no mailings" always ends as
//! `withdrawn`. Running the upgrade again changes nothing.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::catalog::{NewPurpose, insert_purpose};
use super::contacts::{check_contact, put_purpose_basis};
use super::{ContactId, LegalBasis, Result, Store, StoreError};

/// The purpose every contact gets (SuperOffice: "Sales and service").
pub const SALES_AND_SERVICE: &str = "sales_and_service";
/// The e-marketing purpose (SuperOffice: "E-marketing").
pub const E_MARKETING: &str = "e_marketing";

/// A contact named in the marks: by id, or by email (every contact with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum MarkRef {
    /// The contact's id.
    Id(ContactId),
    /// An email address; matches every contact with it, ignoring case.
    Email(String),
}

/// What the old CRM knew about one contact's mailings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuperOfficeMark {
    /// The contact.
    pub contact: MarkRef,
    /// E-marketing was sent to them.
    #[serde(default)]
    pub mailed: bool,
    /// They asked for no mailings; wins over `mailed`.
    #[serde(default)]
    pub no_mailings: bool,
}

/// One basis the upgrade set (or would set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MigrationChange {
    /// The contact.
    pub contact: ContactId,
    /// `sales_and_service` or `e_marketing`.
    pub purpose: String,
    /// The basis set.
    pub legal_basis: LegalBasis,
    /// The basis it had before, if any.
    pub previous: Option<LegalBasis>,
}

/// What the upgrade did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MigrationReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// How many contacts the store holds.
    pub contacts: usize,
    /// Purpose codes created because they were missing.
    pub purposes_created: Vec<String>,
    /// Contacts given "Sales and service" on legitimate interest.
    pub sales_and_service: usize,
    /// Contacts given "E-marketing" on legitimate interest (mailed).
    pub e_marketing_on: usize,
    /// Contacts given "E-marketing" with the basis `withdrawn` (no mailings).
    pub e_marketing_withdrawn: usize,
    /// Every basis set, per contact.
    pub changes: Vec<MigrationChange>,
}

impl MigrationReport {
    /// How many things it changed: purposes created and bases set.
    pub fn total(&self) -> usize {
        self.purposes_created.len() + self.changes.len()
    }
}

fn purposes() -> [NewPurpose; 2] {
    [
        NewPurpose {
            code: SALES_AND_SERVICE.to_owned(),
            name: "Sales and service".to_owned(),
            legal_basis: LegalBasis::LegitimateInterest,
            direct_marketing: false,
        },
        NewPurpose {
            code: E_MARKETING.to_owned(),
            name: "E-marketing".to_owned(),
            legal_basis: LegalBasis::Consent,
            direct_marketing: true,
        },
    ]
}

/// The marks per contact id: `(mailed, no_mailings)`. An unknown id or an
/// email no contact has is refused, naming it.
fn resolve(
    conn: &Connection,
    marks: &[SuperOfficeMark],
) -> Result<BTreeMap<ContactId, (bool, bool)>> {
    let mut by_id: BTreeMap<ContactId, (bool, bool)> = BTreeMap::new();
    let mut by_email = conn.prepare_cached(
        "SELECT contact_id FROM contact_personal WHERE email = ?1 ORDER BY contact_id",
    )?;
    for mark in marks {
        let ids = match &mark.contact {
            MarkRef::Id(id) => {
                check_contact(conn, *id)?;
                vec![*id]
            }
            MarkRef::Email(email) => {
                let ids: Vec<ContactId> = by_email
                    .query_map([email.trim()], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                if ids.is_empty() {
                    return Err(StoreError::Invalid {
                        field: "marks",
                        why: format!(
                            "no contact has the email `{}`; fix the mark or add the contact first",
                            email.trim()
                        ),
                    });
                }
                ids
            }
        };
        for id in ids {
            let entry = by_id.entry(id).or_default();
            entry.0 |= mark.mailed;
            entry.1 |= mark.no_mailings;
        }
    }
    Ok(by_id)
}

/// What the upgrade would do, read from `conn`.
fn plan(conn: &Connection, marks: &[SuperOfficeMark]) -> Result<MigrationReport> {
    let marks = resolve(conn, marks)?;
    let mut report = MigrationReport::default();
    let mut exists = conn.prepare_cached("SELECT 1 FROM purposes WHERE code = ?1")?;
    for p in purposes() {
        if exists
            .query_row([&p.code], |_| Ok(()))
            .optional()?
            .is_none()
        {
            report.purposes_created.push(p.code);
        }
    }
    // Art. 17: an erased contact gets no purpose back.
    let contacts: Vec<(ContactId, bool)> = conn
        .prepare("SELECT id, opted_out_of_all FROM contacts WHERE erased_at IS NULL ORDER BY id")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    report.contacts = contacts.len();
    let mut basis_of = conn.prepare_cached(
        "SELECT cp.legal_basis FROM contact_purposes cp JOIN purposes p ON p.id = cp.purpose_id
         WHERE cp.contact_id = ?1 AND p.code = ?2",
    )?;
    for (id, opted_out) in contacts {
        let (mailed, no_mailings) = marks.get(&id).copied().unwrap_or_default();
        let e_marketing = if no_mailings || opted_out {
            Some(LegalBasis::Withdrawn)
        } else if mailed {
            Some(LegalBasis::LegitimateInterest)
        } else {
            None
        };
        let wanted = [
            (SALES_AND_SERVICE, Some(LegalBasis::LegitimateInterest)),
            (E_MARKETING, e_marketing),
        ];
        for (purpose, basis) in wanted {
            let Some(basis) = basis else { continue };
            let previous: Option<i64> = basis_of
                .query_row(rusqlite::params![id, purpose], |row| row.get(0))
                .optional()?;
            let previous = previous.and_then(LegalBasis::from_code);
            // A basis set since (a real consent, a contract) is kept; only
            // "no mailings" overrides, as an objection would.
            let keep =
                previous == Some(basis) || (previous.is_some() && basis != LegalBasis::Withdrawn);
            if keep {
                continue;
            }
            match (purpose, basis) {
                (SALES_AND_SERVICE, _) => report.sales_and_service += 1,
                (_, LegalBasis::Withdrawn) => report.e_marketing_withdrawn += 1,
                _ => report.e_marketing_on += 1,
            }
            report.changes.push(MigrationChange {
                contact: id,
                purpose: purpose.to_owned(),
                legal_basis: basis,
                previous,
            });
        }
    }
    Ok(report)
}

impl Store {
    /// Runs the SuperOffice upgrade over every contact, in one transaction,
    /// and reports what it changed; with `dry_run`, what it would change.
    /// A second run reports nothing and writes nothing.
    pub fn migrate_superoffice(
        &mut self,
        marks: &[SuperOfficeMark],
        dry_run: bool,
        actor: &str,
    ) -> Result<MigrationReport> {
        super::contacts::check_actor(actor)?;
        if dry_run {
            let mut report = plan(&self.conn, marks)?;
            report.dry_run = true;
            return Ok(report);
        }
        self.write_recorded(|tx, now| {
            let report = plan(tx, marks)?;
            for p in purposes() {
                if report.purposes_created.contains(&p.code) {
                    insert_purpose(tx, &p, actor, now)?;
                }
            }
            for c in &report.changes {
                put_purpose_basis(tx, c.contact, &c.purpose, c.legal_basis, actor, now)?;
            }
            Ok(report)
        })
    }
}

/// Reads marks from CSV with a header row naming the columns `contact` (an
/// id or an email), `mailed` and `no_mailings` (`yes`/`no`, `true`/`false`,
/// `1`/`0`, `x`, or blank for no). A bad row is refused, naming its line
/// and column.
pub fn read_marks(input: impl std::io::Read) -> Result<Vec<SuperOfficeMark>> {
    let bad = |line: u64, column: &str, why: String| StoreError::Invalid {
        field: "marks",
        why: format!("line {line}, column `{column}`: {why}"),
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| bad(1, "header", e.to_string()))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let contact_col = column("contact").ok_or_else(|| {
        bad(
            1,
            "contact",
            "the header row has no `contact` column; name the columns contact,mailed,no_mailings"
                .to_owned(),
        )
    })?;
    let (mailed_col, none_col) = (column("mailed"), column("no_mailings"));
    let mut marks = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(0, "row", e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let flag = |col: Option<usize>, name: &str| -> Result<bool> {
            let text = col.and_then(|c| record.get(c)).unwrap_or("");
            match text.to_ascii_lowercase().as_str() {
                "" | "no" | "false" | "0" => Ok(false),
                "yes" | "true" | "1" | "x" => Ok(true),
                other => Err(bad(line, name, format!("`{other}` is not yes or no"))),
            }
        };
        let who = record.get(contact_col).unwrap_or("");
        let contact = if who.is_empty() {
            return Err(bad(
                line,
                "contact",
                "empty; give a contact id or an email".to_owned(),
            ));
        } else if let Ok(id) = who.parse::<i64>() {
            MarkRef::Id(ContactId(id))
        } else {
            MarkRef::Email(who.to_owned())
        };
        marks.push(SuperOfficeMark {
            contact,
            mailed: flag(mailed_col, "mailed")?,
            no_mailings: flag(none_col, "no_mailings")?,
        });
    }
    Ok(marks)
}
