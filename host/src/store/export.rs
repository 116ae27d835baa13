//! The reads an access and portability export (Art. 15 and 20) needs that
//! no other store module offers: a contact's purposes and subscriptions with
//! their names and dates, the bulk sends a contact was among the recipients
//! of, and the controller named in every export.
//!
//! `crate::export` assembles these with the other readers inside one read
//! transaction; nothing here writes, except the controller setting.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::catalog::bad_code;
use super::contacts::check_contact;
use super::decisions::decode_ids;
use super::limits::{self, check_len};
use super::vocabulary::parse_column;
use super::{
    Channel, ContactId, DecisionId, LegalBasis, Outcome, Result, Store, SubscriptionState,
    check_not_empty, time,
};

/// The `page_settings` row naming the controller (no migration: the table
/// holds any named setting).
const CONTROLLER: &str = "controller";

/// The legal basis a contact's data has for one purpose, by code and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPurpose {
    /// The purpose's code.
    pub code: String,
    /// The purpose's name.
    pub name: String,
    /// Whether the purpose is direct marketing (Art. 21(2) objections stop it).
    pub direct_marketing: bool,
    /// The basis the contact's data has for it.
    pub legal_basis: LegalBasis,
    /// When that basis was last set.
    pub changed_at: DateTime<Utc>,
}

/// A contact's choice for one subscription type, by code and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSubscription {
    /// The subscription type's code.
    pub code: String,
    /// The subscription type's name.
    pub name: String,
    /// Opted in or out; "not specified" has no row.
    pub state: SubscriptionState,
    /// When the choice was made.
    pub changed_at: DateTime<Utc>,
}

/// A bulk send that went to a contact, without the other recipients (their
/// ids are other people's data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkReceipt {
    /// The decision-log row of the send.
    pub decision: DecisionId,
    /// The time the plugin was asked about.
    pub at: DateTime<Utc>,
    /// When the send was logged.
    pub recorded_at: DateTime<Utc>,
    /// The channel, `bulk_email`.
    pub channel: Channel,
    /// The send's outcome: `allow` for a send that reached anyone.
    pub outcome: Outcome,
    /// The subscription type sent, by code; `None` for a send to everyone,
    /// or the id if the type has since been removed.
    pub subscription_type: Option<String>,
    /// The sha256 of the plugin that decided.
    pub plugin_sha256: Option<String>,
    /// Who ran the send.
    pub actor: String,
}

impl Store {
    /// The contact's legal basis per purpose, in purpose code order.
    pub fn contact_purposes(&self, contact: ContactId) -> Result<Vec<ContactPurpose>> {
        check_contact(&self.conn, contact)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.code, p.name, p.direct_marketing, cp.legal_basis, cp.changed_at
             FROM contact_purposes cp JOIN purposes p ON p.id = cp.purpose_id
             WHERE cp.contact_id = ?1 ORDER BY p.code",
        )?;
        let rows = stmt
            .query_map([contact], |row| {
                let basis: i64 = row.get(3)?;
                Ok(ContactPurpose {
                    code: row.get(0)?,
                    name: row.get(1)?,
                    direct_marketing: row.get(2)?,
                    legal_basis: LegalBasis::from_code(basis).ok_or_else(|| bad_code(3, basis))?,
                    changed_at: time(row.get(4)?)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The contact's subscription choices, in subscription code order.
    pub fn contact_subscriptions(&self, contact: ContactId) -> Result<Vec<ContactSubscription>> {
        check_contact(&self.conn, contact)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.code, t.name, sp.state, sp.changed_at
             FROM subscription_preferences sp
             JOIN subscription_types t ON t.id = sp.subscription_type_id
             WHERE sp.contact_id = ?1 ORDER BY t.code",
        )?;
        let rows = stmt
            .query_map([contact], |row| {
                let state: i64 = row.get(2)?;
                Ok(ContactSubscription {
                    code: row.get(0)?,
                    name: row.get(1)?,
                    state: SubscriptionState::from_code(state).ok_or_else(|| bad_code(2, state))?,
                    changed_at: time(row.get(3)?)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// For each of `contacts`, the bulk sends it was a recipient of, oldest
    /// first: one list per contact, in the order given. One pass over the
    /// log's bulk rows serves every contact, so a filter's thousand contacts
    /// cost one scan, not a thousand.
    pub fn bulk_sends_to(&self, contacts: &[ContactId]) -> Result<Vec<Vec<BulkReceipt>>> {
        let mut found: Vec<Vec<BulkReceipt>> = vec![Vec::new(); contacts.len()];
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.id, d.at, d.recorded_at, d.channel, d.outcome,
                    coalesce(t.code, CAST(d.subscription_type_id AS TEXT)),
                    d.plugin_sha256, d.actor, d.recipients
             FROM decisions d LEFT JOIN subscription_types t ON t.id = d.subscription_type_id
             WHERE d.recipients IS NOT NULL ORDER BY d.id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let blob = row.get_ref(8)?.as_blob()?;
            let recipients = decode_ids(blob).map_err(|why| {
                rusqlite::Error::FromSqlConversionFailure(
                    8,
                    rusqlite::types::Type::Blob,
                    why.into(),
                )
            })?;
            let hits: Vec<usize> = contacts
                .iter()
                .enumerate()
                // Recipients are stored sorted (`encode_ids`).
                .filter(|(_, c)| recipients.binary_search(c).is_ok())
                .map(|(i, _)| i)
                .collect();
            if hits.is_empty() {
                continue;
            }
            let receipt = receipt_of(row)?;
            for i in hits {
                found[i].push(receipt.clone());
            }
        }
        Ok(found)
    }

    /// The controller named in exports (ISO/IEC TS 27560's controller
    /// field), as the admin set it; `None` until then.
    pub fn controller(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM page_settings WHERE name = ?1")?
            .query_row([CONTROLLER], |row| row.get(0))
            .optional()?)
    }

    /// Sets the controller named in exports: who decides on the processing,
    /// and how to reach them, e.g. `Example Ltd, privacy@example.com`.
    pub fn set_controller(&mut self, controller: &str, actor: &str) -> Result<()> {
        check_not_empty("controller", controller)?;
        check_len("controller", controller, limits::MAX_LABEL)?;
        self.put_page_setting(CONTROLLER, controller.trim(), actor)
    }
}

fn receipt_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<BulkReceipt> {
    Ok(BulkReceipt {
        decision: row.get(0)?,
        at: time(row.get(1)?)?,
        recorded_at: time(row.get(2)?)?,
        channel: parse_column(row, 3)?,
        outcome: parse_column(row, 4)?,
        subscription_type: row.get(5)?,
        plugin_sha256: row.get(6)?,
        actor: row.get(7)?,
    })
}
