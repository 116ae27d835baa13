//! Bulk fill (Livespace): set one consent (status and way of giving) for
//! every contact a filter selects, in one transaction. Each change is an
//! ordinary consent entry (`ledger::append`), so the rules of a single
//! grant apply to each, and each gets its ledger and timeline entry.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::catalog::id_of;
use super::consent_types::type_by_code;
use super::filter::{ContactFilter, all_matching_ids};
use super::ledger::{NewConsent, append, status_of};
use super::{Catalog, ContactId, LedgerSeq, LegalBasis, Result, Store};

/// Where fill entries say they came from unless told.
const FILL_SOURCE: &str = "bulk fill";

/// A bulk fill: which contacts, and the consent to set for each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FillRequest {
    /// The contacts to fill.
    #[serde(default)]
    pub filter: ContactFilter,
    /// The consent type's code.
    pub consent_type: String,
    /// The status code to set, built in or custom.
    pub status: String,
    /// The way of giving's code (`crm_form`, `email`, `paper`, `import`, ...).
    pub method: String,
    /// The basis the consents are recorded under [default: consent].
    #[serde(default = "consent_basis")]
    pub legal_basis: LegalBasis,
    /// Where the consents came from [default: "bulk fill"]; no personal data.
    #[serde(default)]
    pub source: Option<String>,
    /// Only report what would change.
    #[serde(default)]
    pub dry_run: bool,
}

fn consent_basis() -> LegalBasis {
    LegalBasis::Consent
}

/// One contact a fill changed (or would change, in a dry run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FillChange {
    /// The contact.
    pub contact: ContactId,
    /// The ledger entry written; `None` in a dry run.
    pub seq: Option<LedgerSeq>,
}

/// What a bulk fill did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FillReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// The contacts whose consent was set.
    pub changed: Vec<FillChange>,
    /// The contacts already in that state (status, way and basis): left alone.
    pub skipped: Vec<ContactId>,
}

/// The fill's contacts, split into those to change and those already there.
/// Resolves every code first, so an unknown one fails before any write.
fn plan(
    conn: &Connection,
    req: &FillRequest,
    now: DateTime<Utc>,
) -> Result<(Vec<ContactId>, Vec<ContactId>)> {
    let ty = type_by_code(conn, req.consent_type.trim())?;
    let (status_id, _) = status_of(conn, req.status.trim())?;
    let method_id = id_of(conn, Catalog::Method, req.method.trim())?;
    let ids = all_matching_ids(conn, &req.filter, now)?;
    let mut stmt = conn.prepare_cached(
        "SELECT status_id = ?3 AND method_id = ?4 AND legal_basis = ?5 FROM consent_state
         WHERE contact_id = ?1 AND consent_type_id = ?2",
    )?;
    let (mut change, mut skip) = (Vec::new(), Vec::new());
    for id in ids {
        let same: Option<bool> = stmt
            .query_row(
                rusqlite::params![id, ty.id, status_id, method_id, req.legal_basis.code()],
                |row| row.get(0),
            )
            .optional()?;
        if same == Some(true) {
            skip.push(id);
        } else {
            change.push(id);
        }
    }
    Ok((change, skip))
}

impl Store {
    /// Sets the consent `req` names for every contact its filter selects,
    /// all in one transaction: if one change is refused, none is written.
    /// Contacts already in that state are skipped and reported. `now` is
    /// the time the filter judges validity at; the consents are given at
    /// the store's clock.
    pub fn fill_consents(
        &mut self,
        req: &FillRequest,
        now: DateTime<Utc>,
        actor: &str,
    ) -> Result<FillReport> {
        let source = req.source.clone().unwrap_or_else(|| FILL_SOURCE.to_owned());
        if req.dry_run {
            let (change, skipped) = plan(&self.conn, req, now)?;
            return Ok(FillReport {
                dry_run: true,
                changed: change
                    .into_iter()
                    .map(|contact| FillChange { contact, seq: None })
                    .collect(),
                skipped,
            });
        }
        self.write_recorded(|tx, recorded| {
            let (change, skipped) = plan(tx, req, now)?;
            let mut changed = Vec::with_capacity(change.len());
            for contact in change {
                let entry = append(
                    tx,
                    &NewConsent {
                        contact,
                        consent_type: req.consent_type.trim().into(),
                        status: req.status.trim().to_owned(),
                        method: req.method.trim().to_owned(),
                        legal_basis: req.legal_basis,
                        given_at: recorded,
                        source: source.clone(),
                        actor: actor.to_owned(),
                        evidence: None,
                        text_version: None,
                    },
                    recorded,
                )?;
                changed.push(FillChange {
                    contact,
                    seq: Some(entry.seq),
                });
            }
            Ok(FillReport {
                dry_run: false,
                changed,
                skipped,
            })
        })
    }
}
