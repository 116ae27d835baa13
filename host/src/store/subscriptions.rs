//! Subscription types (SuperOffice: four defaults the admin can edit or
//! remove) and each contact's choice per type (HubSpot: opted in, not
//! specified, opted out), plus "opt out of all".

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::catalog::{check_entry, check_new_code, id_of, unknown_code};
use super::contacts::{check_actor, flags_of, write_flags};
use super::ledger::event::{Table, delete_row, put_row};
use super::timeline::{Note, add_note};
use super::{
    Catalog, ContactId, Result, Store, StoreError, SubscriptionState, SubscriptionTypeId,
    TimelineKind, secs,
};

/// A newsletter list a contact can opt in to or out of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionType {
    /// Its id, as preferences, requests and the plugin name it.
    pub id: SubscriptionTypeId,
    /// Stable code, e.g. `newsletter`.
    pub code: String,
    /// Shown to contacts and admins.
    pub name: String,
    /// Only contacts who opted in receive it.
    pub requires_opt_in: bool,
}

const COLUMNS: &str = "SELECT id, code, name, requires_opt_in FROM subscription_types";

fn from_row(row: &Row<'_>) -> rusqlite::Result<SubscriptionType> {
    Ok(SubscriptionType {
        id: row.get(0)?,
        code: row.get(1)?,
        name: row.get(2)?,
        requires_opt_in: row.get(3)?,
    })
}

fn by_code(conn: &Connection, code: &str) -> Result<SubscriptionType> {
    conn.prepare_cached(&format!("{COLUMNS} WHERE code = ?1"))?
        .query_row([code], from_row)
        .optional()?
        .ok_or_else(|| unknown_code(conn, Catalog::SubscriptionType, code))
}

pub(super) fn all_subscription_types(conn: &Connection) -> Result<Vec<SubscriptionType>> {
    let mut stmt = conn.prepare_cached(&format!("{COLUMNS} ORDER BY id"))?;
    let types = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(types)
}

/// Fails with [`StoreError::UnknownId`] unless the subscription type exists.
pub(super) fn check_subscription_type(conn: &Connection, id: SubscriptionTypeId) -> Result<()> {
    conn.prepare_cached("SELECT 1 FROM subscription_types WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .ok_or(StoreError::UnknownId {
            kind: Catalog::SubscriptionType,
            id: id.0.into(),
        })
}

impl Store {
    /// Every subscription type, in id order.
    pub fn subscription_types(&self) -> Result<Vec<SubscriptionType>> {
        all_subscription_types(&self.conn)
    }

    /// The subscription type with `code`.
    pub fn subscription_type(&self, code: &str) -> Result<SubscriptionType> {
        by_code(&self.conn, code)
    }

    /// Adds a subscription type; a ledger entry, since decisions read it.
    pub fn add_subscription_type(
        &mut self,
        code: &str,
        name: &str,
        requires_opt_in: bool,
        actor: &str,
    ) -> Result<SubscriptionType> {
        check_entry("subscription type name", name, actor)?;
        self.write_recorded(|tx, now| {
            check_new_code(tx, Catalog::SubscriptionType, code)?;
            tx.execute(
                "INSERT INTO subscription_types (code, name, requires_opt_in) VALUES (?1, ?2, ?3)",
                params![code, name.trim(), requires_opt_in],
            )?;
            let added = by_code(tx, code)?;
            let key = [i64::from(added.id.0)];
            put_row(tx, Table::SubscriptionTypes, &key, None, actor, secs(now))?;
            Ok(added)
        })
    }

    /// Renames a subscription type and sets whether it needs an opt-in
    /// (SuperOffice lets the admin edit the defaults).
    pub fn edit_subscription_type(
        &mut self,
        code: &str,
        name: &str,
        requires_opt_in: bool,
        actor: &str,
    ) -> Result<SubscriptionType> {
        check_entry("subscription type name", name, actor)?;
        self.write_recorded(|tx, now| {
            let id = id_of(tx, Catalog::SubscriptionType, code)?;
            tx.execute(
                "UPDATE subscription_types SET name = ?2, requires_opt_in = ?3 WHERE id = ?1",
                params![id, name.trim(), requires_opt_in],
            )?;
            put_row(
                tx,
                Table::SubscriptionTypes,
                &[id.into()],
                None,
                actor,
                secs(now),
            )?;
            by_code(tx, code)
        })
    }

    /// Removes a subscription type and every contact's choice for it
    /// (SuperOffice lets the admin remove the defaults). Past decisions keep
    /// its id.
    pub fn delete_subscription_type(&mut self, code: &str, actor: &str) -> Result<()> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            let id = id_of(tx, Catalog::SubscriptionType, code)?;
            // The contacts' choices for it go with it. Each removal is its
            // own entry, so verify replays them without relying on the
            // schema's cascade.
            let choosers: Vec<ContactId> = tx
                .prepare(
                    "SELECT contact_id FROM subscription_preferences
                     WHERE subscription_type_id = ?1 ORDER BY contact_id",
                )?
                .query_map([id], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for contact in choosers {
                tx.execute(
                    "DELETE FROM subscription_preferences
                     WHERE contact_id = ?1 AND subscription_type_id = ?2",
                    params![contact, id],
                )?;
                let key = [contact.0, i64::from(id)];
                let table = Table::SubscriptionPreferences;
                delete_row(tx, table, &key, Some(contact), actor, secs(now))?;
            }
            tx.execute("DELETE FROM subscription_types WHERE id = ?1", [id])?;
            delete_row(
                tx,
                Table::SubscriptionTypes,
                &[id.into()],
                None,
                actor,
                secs(now),
            )?;
            Ok(())
        })
    }

    /// Sets a contact's choice for one subscription type and notes it on the
    /// timeline. `NotSpecified` forgets the choice.
    pub fn set_preference(
        &mut self,
        contact: ContactId,
        subscription_type: &str,
        state: SubscriptionState,
        actor: &str,
    ) -> Result<()> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            super::erasure::check_not_erased(tx, contact)?;
            let type_id =
                SubscriptionTypeId(id_of(tx, Catalog::SubscriptionType, subscription_type)?);
            let seq = if state == SubscriptionState::NotSpecified {
                tx.prepare_cached(
                    "DELETE FROM subscription_preferences
                     WHERE contact_id = ?1 AND subscription_type_id = ?2",
                )?
                .execute(params![contact, type_id])?;
                let key = [contact.0, i64::from(type_id.0)];
                delete_row(
                    tx,
                    Table::SubscriptionPreferences,
                    &key,
                    Some(contact),
                    actor,
                    secs(now),
                )?
            } else {
                tx.prepare_cached(
                    "INSERT INTO subscription_preferences
                         (contact_id, subscription_type_id, state, changed_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (contact_id, subscription_type_id)
                     DO UPDATE SET state = excluded.state, changed_at = excluded.changed_at",
                )?
                .execute(params![
                    contact,
                    type_id,
                    state.code(),
                    now.timestamp()
                ])?;
                let key = [contact.0, i64::from(type_id.0)];
                put_row(
                    tx,
                    Table::SubscriptionPreferences,
                    &key,
                    Some(contact),
                    actor,
                    secs(now),
                )?
            };
            add_note(
                tx,
                &Note {
                    contact,
                    at: now,
                    kind: TimelineKind::Preference,
                    summary: format!("subscription `{subscription_type}`: {state}"),
                    actor,
                    ledger_seq: Some(seq),
                    decision: None,
                },
            )
        })
    }

    /// HubSpot's "opt out of all": sets the contact's flag, which the rules
    /// read before any subscription, and notes it on the timeline. The
    /// per-type choices are kept, so opting back in restores them.
    pub fn opt_out_of_all(&mut self, contact: ContactId, actor: &str) -> Result<()> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            super::erasure::check_not_erased(tx, contact)?;
            let mut flags = flags_of(tx, contact)?;
            if flags.opted_out_of_all {
                return Ok(());
            }
            flags.opted_out_of_all = true;
            write_flags(tx, contact, flags)?;
            let seq = put_row(
                tx,
                Table::Contacts,
                &[contact.0],
                Some(contact),
                actor,
                secs(now),
            )?;
            add_note(
                tx,
                &Note {
                    contact,
                    at: now,
                    kind: TimelineKind::Preference,
                    summary: "opted out of all subscriptions".to_owned(),
                    actor,
                    ledger_seq: Some(seq),
                    decision: None,
                },
            )
        })
    }
}
