//! Consent campaigns and retention (iPresso's "delete contact" step): a
//! campaign asks a set of contacts for one consent on a date and gives them
//! a window of days; after it, the contacts who do not hold that consent are
//! erased (Art. 5(1)(e): kept no longer than necessary). This module stores
//! campaigns and says who is due and why; `retention run` acts on it.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;

use super::catalog::id_of;
use super::contacts::{check_actor, check_contact};
use super::filter::all_matching_ids;
use super::{
    Catalog, ContactFilter, ContactId, ErasedContact, ErasureGround, ErasureRequest, Result, Store,
    StoreError, WalWipe, secs, time,
};

/// The longest window a campaign may give, in days (ten years).
pub const MAX_WINDOW_DAYS: u32 = 3650;

/// A campaign to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    /// The code of the consent type asked for.
    pub consent_type: String,
    /// When the contacts were asked.
    pub asked_at: DateTime<Utc>,
    /// How many days they have to give it.
    pub window_days: u32,
    /// Who was asked, by id.
    pub contacts: Vec<ContactId>,
    /// And every contact this filter selects at `asked_at` (read in the
    /// campaign's own transaction).
    pub filter: Option<ContactFilter>,
}

/// A campaign and how its members stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    /// Its id.
    pub id: i64,
    /// The code of the consent type asked for.
    pub consent_type: String,
    /// When the contacts were asked.
    pub asked_at: DateTime<Utc>,
    /// How many days they have.
    pub window_days: u32,
    /// `asked_at` plus the window: from then on, `retention run` decides.
    pub window_ends_at: DateTime<Utc>,
    /// Who started it.
    pub created_by: String,
    /// How many contacts were asked.
    pub members: u64,
    /// Members not decided yet.
    pub open: u64,
    /// Members who gave the consent and were kept.
    pub kept: u64,
    /// Members erased by a run (or erased before it).
    pub erased: u64,
}

/// What a run does with one member of a campaign whose window is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// It holds the consent: kept.
    Kept,
    /// It does not: erased, with the one-level cascade.
    Erased,
    /// Erased before the run, by a request or another campaign.
    AlreadyErased,
}

impl Fate {
    /// The spelling stored and shown: `kept`, `erased`, `already_erased`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Fate::Kept => "kept",
            Fate::Erased => "erased",
            Fate::AlreadyErased => "already_erased",
        }
    }
}

/// One member of a campaign whose window is over, and why it goes or stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Due {
    /// The campaign.
    pub campaign: i64,
    /// The member.
    pub contact: ContactId,
    /// What happens to it.
    pub fate: Fate,
    /// Why, for people: the consent and the window's end.
    pub why: String,
}

impl Store {
    /// Starts a campaign. Every contact must exist; a contact listed twice
    /// is asked once.
    pub fn add_campaign(&mut self, new: &NewCampaign, actor: &str) -> Result<Campaign> {
        check_actor(actor)?;
        if !(1..=MAX_WINDOW_DAYS).contains(&new.window_days) {
            return Err(StoreError::Invalid {
                field: "window_days",
                why: format!(
                    "a campaign's window is {} days; give between 1 and {MAX_WINDOW_DAYS}",
                    new.window_days
                ),
            });
        }
        let id = self.write_recorded(|tx, now| {
            let type_id = id_of(tx, Catalog::ConsentType, &new.consent_type)?;
            let mut members = new.contacts.clone();
            if let Some(filter) = &new.filter {
                members.extend(all_matching_ids(tx, filter, new.asked_at)?);
            }
            if members.is_empty() {
                return Err(StoreError::Invalid {
                    field: "contacts",
                    why: "the campaign asks no one: name contacts, or give a filter that \
                          selects some"
                        .to_owned(),
                });
            }
            tx.execute(
                "INSERT INTO consent_campaigns
                     (consent_type_id, asked_at, window_days, created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    type_id,
                    secs(new.asked_at),
                    new.window_days,
                    secs(now),
                    actor
                ],
            )?;
            let id = tx.last_insert_rowid();
            let mut add = tx.prepare_cached(
                "INSERT OR IGNORE INTO consent_campaign_members (campaign_id, contact_id)
                 VALUES (?1, ?2)",
            )?;
            for &contact in &members {
                check_contact(tx, contact)?;
                add.execute(params![id, contact])?;
            }
            Ok(id)
        })?;
        self.campaign(id)
    }

    /// One campaign, with its counts.
    pub fn campaign(&self, id: i64) -> Result<Campaign> {
        campaign_row(&self.conn, Some(id))?
            .pop()
            .ok_or(StoreError::UnknownCampaign(id))
    }

    /// The members of a campaign not decided yet and not erased: who a
    /// form link asking for its consent goes to.
    pub fn campaign_open_members(&self, id: i64) -> Result<Vec<ContactId>> {
        self.campaign(id)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.contact_id FROM consent_campaign_members m
             JOIN contacts c ON c.id = m.contact_id
             WHERE m.campaign_id = ?1 AND m.outcome IS NULL AND c.erased_at IS NULL
             ORDER BY m.contact_id",
        )?;
        let ids = stmt.query_map([id], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }

    /// Every campaign, oldest first.
    pub fn campaigns(&self) -> Result<Vec<Campaign>> {
        campaign_row(&self.conn, None)
    }

    /// The undecided members of every campaign whose window ended by `now`,
    /// each with what a run would do and why. Read-only: a dry run.
    pub fn retention_due(&self, now: DateTime<Utc>) -> Result<Vec<Due>> {
        due(&self.conn, now)
    }
}

fn campaign_row(conn: &Connection, id: Option<i64>) -> Result<Vec<Campaign>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, t.code, c.asked_at, c.window_days, c.created_by,
                count(m.contact_id),
                count(m.contact_id) FILTER (WHERE m.outcome IS NULL),
                count(m.contact_id) FILTER (WHERE m.outcome = 'kept'),
                count(m.contact_id) FILTER (WHERE m.outcome IN ('erased', 'already_erased'))
         FROM consent_campaigns c
         JOIN consent_types t ON t.id = c.consent_type_id
         LEFT JOIN consent_campaign_members m ON m.campaign_id = c.id
         WHERE ?1 IS NULL OR c.id = ?1
         GROUP BY c.id ORDER BY c.id",
    )?;
    let rows = stmt.query_map([id], |r| {
        let asked_at = time(r.get(2)?)?;
        let window_days: u32 = r.get(3)?;
        Ok(Campaign {
            id: r.get(0)?,
            consent_type: r.get(1)?,
            asked_at,
            window_days,
            window_ends_at: asked_at + Duration::days(window_days.into()),
            created_by: r.get(4)?,
            members: r.get(5)?,
            open: r.get(6)?,
            kept: r.get(7)?,
            erased: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A member holds the consent when its current state for the type counts
/// as given (DPV given or renewed) and has not run past the type's validity.
const DUE: &str = "
    SELECT m.campaign_id, m.contact_id, t.code, c.asked_at + c.window_days * 86400,
           EXISTS (SELECT 1 FROM contacts k WHERE k.id = m.contact_id AND k.erased_at IS NOT NULL),
           EXISTS (SELECT 1 FROM consent_state s
                   WHERE s.contact_id = m.contact_id AND s.consent_type_id = c.consent_type_id
                     AND s.meaning IN (1, 2)
                     AND (t.validity_days IS NULL OR s.given_at + t.validity_days * 86400 > ?1))
    FROM consent_campaigns c
    JOIN consent_types t ON t.id = c.consent_type_id
    JOIN consent_campaign_members m ON m.campaign_id = c.id AND m.outcome IS NULL
    WHERE c.asked_at + c.window_days * 86400 <= ?1
    ORDER BY m.campaign_id, m.contact_id";

pub(super) fn due(conn: &Connection, now: DateTime<Utc>) -> Result<Vec<Due>> {
    let mut stmt = conn.prepare_cached(DUE)?;
    let rows = stmt.query_map([secs(now)], |r| {
        let campaign: i64 = r.get(0)?;
        let code: String = r.get(2)?;
        let ended = time(r.get(3)?)?.format("%Y-%m-%d");
        let (erased, holds): (bool, bool) = (r.get(4)?, r.get(5)?);
        let (fate, why) = if erased {
            (Fate::AlreadyErased, "erased before this run".to_owned())
        } else if holds {
            (Fate::Kept, format!("holds the `{code}` consent"))
        } else {
            let why = format!(
                "did not give the `{code}` consent asked for by campaign {campaign}, \
                 whose window ended {ended}"
            );
            (Fate::Erased, why)
        };
        Ok(Due {
            campaign,
            contact: r.get(1)?,
            fate,
            why,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What `retention run` did, or in a dry run would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RetentionRun {
    /// Nothing was written.
    pub dry_run: bool,
    /// The time the windows were judged at.
    pub at: DateTime<Utc>,
    /// Every undecided member of a campaign whose window is over, with its
    /// fate and why.
    pub decided: Vec<Due>,
    /// Every contact erased: the members who did not give the consent, then
    /// the contacts their cascading relations took, one level down.
    pub erased: Vec<ErasedContact>,
    /// Whether the WAL was emptied after the erasures.
    pub wal: WalWipe,
}

impl Store {
    /// Decides every member of every campaign whose window ended by `now`:
    /// keeps those who hold the consent and erases the others, with the
    /// one-level cascade, in one transaction. Idempotent: a decided member
    /// is never decided again, so a scheduled run that finds nothing new
    /// writes nothing. A dry run returns exactly what the run would do.
    pub fn run_retention(
        &mut self,
        now: DateTime<Utc>,
        dry_run: bool,
        actor: &str,
    ) -> Result<RetentionRun> {
        check_actor(actor)?;
        // Art. 17(1)(a): with no consent given, keeping the data for the
        // purpose it was asked for is no longer necessary.
        let mut req = ErasureRequest::new(ErasureGround::NoLongerNecessary, actor);
        req.requested_by = "retention run".to_owned();
        if dry_run {
            let mut decided = self.retention_due(now)?;
            let erased = self.erase_many(&to_erase(&decided), &req.dry_run())?.erased;
            taken_along(&mut decided, &erased);
            return Ok(RetentionRun {
                dry_run,
                at: now,
                decided,
                erased,
                wal: WalWipe::NotNeeded,
            });
        }
        let (decided, erased) = self.atomically(|store| {
            // Read inside the transaction: a concurrent run waits, then
            // finds these members decided.
            let mut decided = store.retention_due(now)?;
            let targets = to_erase(&decided);
            let erased = if targets.is_empty() {
                Vec::new()
            } else {
                store.erase_many(&targets, &req)?.erased
            };
            taken_along(&mut decided, &erased);
            let recorded = store.clock_now();
            store.in_write(|tx| {
                for due in &decided {
                    decide(tx, due, recorded, actor)?;
                }
                Ok(())
            })?;
            Ok::<_, StoreError>((decided, erased))
        })?;
        let wal = if erased.is_empty() {
            WalWipe::NotNeeded
        } else {
            self.wipe_wal()?
        };
        Ok(RetentionRun {
            dry_run,
            at: now,
            decided,
            erased,
            wal,
        })
    }
}

fn to_erase(decided: &[Due]) -> Vec<ContactId> {
    decided
        .iter()
        .filter(|d| d.fate == Fate::Erased)
        .map(|d| d.contact)
        .collect()
}

/// A member that held the consent but was taken along by the cascade of
/// another member's erasure is erased too: say so, not `kept`.
fn taken_along(decided: &mut [Due], erased: &[ErasedContact]) {
    for due in decided.iter_mut().filter(|d| d.fate == Fate::Kept) {
        if let Some(e) = erased.iter().find(|e| e.contact == due.contact) {
            due.fate = Fate::Erased;
            due.why = format!(
                "held the consent, but was taken along by the erasure of contact {} ({})",
                e.cascaded_from
                    .map_or_else(|| "?".to_owned(), |c| c.to_string()),
                e.relation.as_deref().unwrap_or("relation")
            );
        }
    }
}

/// Records a run's decision about a member; a decided member is final.
pub(super) fn decide(tx: &Connection, due: &Due, now: DateTime<Utc>, actor: &str) -> Result<()> {
    let changed = tx.execute(
        "UPDATE consent_campaign_members SET outcome = ?3, decided_at = ?4, decided_by = ?5
         WHERE campaign_id = ?1 AND contact_id = ?2 AND outcome IS NULL",
        params![
            due.campaign,
            due.contact,
            due.fate.as_str(),
            secs(now),
            actor
        ],
    )?;
    debug_assert!(changed <= 1);
    Ok(())
}
