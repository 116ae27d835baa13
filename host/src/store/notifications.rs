//! Staff notifications: a durable queue of changes contacts made, posted to
//! the admin's webhook.
//!
//! A change and its notification commit in one transaction, so a crash
//! loses none; the sender marks each delivered only after a 2xx, so a
//! receiver may see one twice after a crash (at least once: it dedups by the
//! delivery id). Each delivery and each failed attempt is on the contact's
//! timeline. Neither the queue nor the webhook changes a decision, so
//! neither is projected.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::timeline::{Note, add_note};
use super::{ContactId, Result, Store, StoreError, TimelineKind, secs};

/// Attempts before a notification is given up: with the backoff doubling
/// from [`FIRST_RETRY`] to [`LAST_RETRY`], about a day of retries.
pub const MAX_ATTEMPTS: u32 = 30;
/// The wait after the first failure.
pub const FIRST_RETRY: Duration = Duration::seconds(1);
/// The longest wait between two attempts.
pub const LAST_RETRY: Duration = Duration::hours(1);

/// Where notifications go, and the key that signs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Webhook {
    /// The receiver's URL.
    pub url: String,
    /// The HMAC-SHA256 key the receiver checks signatures with (hex).
    pub secret: String,
}

/// A notification due to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Its id: the receiver's deduplication key.
    pub id: i64,
    /// The contact who made the change.
    pub contact: ContactId,
    /// The JSON body to post.
    pub body: String,
    /// Attempts made so far.
    pub attempts: u32,
}

impl Store {
    /// Sets the webhook URL and makes a new signing key, returned once.
    pub fn set_webhook(&mut self, url: &str, actor: &str) -> Result<Webhook> {
        let url = url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(StoreError::Invalid {
                field: "url",
                why: format!("`{url}` is not an http:// or https:// URL"),
            });
        }
        let mut key = [0_u8; 32];
        getrandom::fill(&mut key).map_err(|e| StoreError::Invalid {
            field: "webhook key",
            why: format!("the system's random source failed: {e}"),
        })?;
        let secret = hex::encode(key);
        let now = secs((self.clock)());
        self.in_write(|tx| {
            tx.execute(
                "INSERT INTO webhook (id, url, secret, set_at, set_by) VALUES (1, ?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET url = ?1, secret = ?2, set_at = ?3, set_by = ?4",
                params![url, secret, now, actor],
            )?;
            Ok(())
        })?;
        Ok(Webhook {
            url: url.to_owned(),
            secret,
        })
    }

    /// The webhook, if one is set.
    pub fn webhook(&self) -> Result<Option<Webhook>> {
        Ok(self
            .conn
            .query_row("SELECT url, secret FROM webhook WHERE id = 1", [], |r| {
                Ok(Webhook {
                    url: r.get(0)?,
                    secret: r.get(1)?,
                })
            })
            .optional()?)
    }

    /// Queues a notification in its own transaction. Changes made by the
    /// library queue theirs inside their own transaction instead.
    pub fn notify(&mut self, contact: ContactId, event: &serde_json::Value) -> Result<i64> {
        let now = (self.clock)();
        self.in_write(|tx| enqueue(tx, contact, event, now))
    }

    /// Up to `limit` notifications due at `now`, oldest first.
    pub fn due_notifications(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Notification>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, contact_id, body, attempts FROM notifications
             WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?1
             ORDER BY next_attempt_at, id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![secs(now), limit], |r| {
            Ok(Notification {
                id: r.get(0)?,
                contact: r.get(1)?,
                body: r.get(2)?,
                attempts: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records a delivery (a 2xx from the receiver) on the queue and the
    /// contact's timeline.
    pub fn notification_delivered(&mut self, id: i64) -> Result<()> {
        let now = (self.clock)();
        self.in_write(|tx| {
            let contact = pending_contact(tx, id)?;
            tx.execute(
                "UPDATE notifications SET delivered_at = ?2, attempts = attempts + 1 WHERE id = ?1",
                params![id, secs(now)],
            )?;
            note(
                tx,
                contact,
                now,
                format!("staff notification #{id} delivered"),
            )
        })
    }

    /// Records a failed attempt and when to try again, or, after
    /// `MAX_ATTEMPTS` (30), that it was given up; both go on the timeline.
    pub fn notification_failed(&mut self, id: i64, error: &str) -> Result<()> {
        let now = (self.clock)();
        let error: String = error.chars().take(500).collect();
        self.in_write(|tx| {
            let contact = pending_contact(tx, id)?;
            let attempts: u32 = tx.query_row(
                "SELECT attempts + 1 FROM notifications WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?;
            if attempts >= MAX_ATTEMPTS {
                tx.execute(
                    "UPDATE notifications SET attempts = ?2, gave_up_at = ?3, last_error = ?4 WHERE id = ?1",
                    params![id, attempts, secs(now), error],
                )?;
                return note(
                    tx,
                    contact,
                    now,
                    format!("staff notification #{id} given up after {attempts} attempts: {error}"),
                );
            }
            let next = now + backoff(attempts);
            tx.execute(
                "UPDATE notifications SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE id = ?1",
                params![id, attempts, secs(next), error],
            )?;
            note(
                tx,
                contact,
                now,
                format!("staff notification #{id} attempt {attempts} failed: {error}"),
            )
        })
    }
}

/// The wait after `attempts` failures: doubling, capped.
pub fn backoff(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(20);
    (FIRST_RETRY * 2_i32.pow(doublings)).min(LAST_RETRY)
}

/// Queues a notification inside the caller's transaction.
pub(crate) fn enqueue(
    tx: &Connection,
    contact: ContactId,
    event: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO notifications (contact_id, body, created_at, next_attempt_at, attempts)
         VALUES (?1, ?2, ?3, ?3, 0)",
        params![contact, event.to_string(), secs(now)],
    )?;
    Ok(tx.last_insert_rowid())
}

fn pending_contact(tx: &Connection, id: i64) -> Result<ContactId> {
    tx.query_row(
        "SELECT contact_id FROM notifications WHERE id = ?1",
        [id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(StoreError::UnknownNotification(id))
}

fn note(tx: &Connection, contact: ContactId, at: DateTime<Utc>, summary: String) -> Result<()> {
    add_note(
        tx,
        &Note {
            contact,
            at,
            kind: TimelineKind::Notification,
            summary,
            actor: "webhook",
            ledger_seq: None,
            decision: None,
        },
    )
}
