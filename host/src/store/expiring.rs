//! Re-consent: the consents that stop being valid within a window, from
//! each type's `validity_days` (the `valid-until` every decision carries).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::filter::MAX_BULK;
use super::{ContactId, Result, Store, StoreError, secs, time};

/// A consent valid now that expires within the window asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExpiringConsent {
    /// The contact.
    pub contact: ContactId,
    /// The contact's email, if known (to send the re-consent link to).
    pub email: Option<String>,
    /// The consent type's code.
    pub consent_type: String,
    /// The status code.
    pub status: String,
    /// When the person gave it.
    pub given_at: DateTime<Utc>,
    /// When it stops being valid.
    pub valid_until: DateTime<Utc>,
}

impl Store {
    /// The consents valid at `now` whose validity ends before `now` plus
    /// `within_days`, soonest first (at most [`MAX_BULK`]).
    pub fn expiring_consents(
        &self,
        now: DateTime<Utc>,
        within_days: u32,
    ) -> Result<Vec<ExpiringConsent>> {
        if !(1..=3650).contains(&within_days) {
            return Err(StoreError::Invalid {
                field: "within",
                why: format!("`{within_days}` days is out of range; give 1 to 3650"),
            });
        }
        let until = now + Duration::days(within_days.into());
        // The same validity rule as the filter's `valid` and `consent show`.
        let mut stmt = self.conn.prepare_cached(
            "SELECT cs.contact_id, p.email, ct.code, s.code, cs.given_at,
                    cs.given_at + ct.validity_days * 86400 AS until
             FROM consent_state cs
             JOIN consent_types ct ON ct.id = cs.consent_type_id
             JOIN statuses s ON s.id = cs.status_id
             LEFT JOIN contact_personal p ON p.contact_id = cs.contact_id
             WHERE cs.meaning IN (1, 2) AND ct.validity_days IS NOT NULL
               AND cs.given_at <= ?1 AND ?1 < cs.given_at + ct.validity_days * 86400
               AND cs.given_at + ct.validity_days * 86400 < ?2
             ORDER BY until, cs.contact_id, ct.code LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(rusqlite::params![secs(now), secs(until), MAX_BULK], |row| {
                Ok(ExpiringConsent {
                    contact: row.get(0)?,
                    email: row.get(1)?,
                    consent_type: row.get(2)?,
                    status: row.get(3)?,
                    given_at: time(row.get(4)?)?,
                    valid_until: time(row.get(5)?)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
