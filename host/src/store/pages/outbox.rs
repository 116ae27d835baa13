//! The outbox: messages crm-consent wrote for the CRM to deliver (a form
//! link, a double opt-in confirmation). Durable, so a crash loses none: the
//! CRM lists the unacknowledged ones, sends them, then acknowledges each.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::super::contacts::{check_contact, check_email};
use super::super::limits::{self, check_len};
use super::super::{ContactId, OutboxId, Result, Store, StoreError, check_not_empty, secs, time};

/// What a message in the outbox is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    /// Livespace: the consent form link, sent by email.
    FormLink,
    /// Double opt-in: the link that confirms a consent given on a form.
    Confirmation,
}

impl OutboxKind {
    /// The snake_case name, as stored and printed.
    pub const fn as_str(self) -> &'static str {
        match self {
            OutboxKind::FormLink => "form_link",
            OutboxKind::Confirmation => "confirmation",
        }
    }

    fn parse(text: &str) -> Option<OutboxKind> {
        [OutboxKind::FormLink, OutboxKind::Confirmation]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// A message to put in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOutboxMessage {
    /// Whom it is about.
    pub contact: ContactId,
    /// The address to send it to.
    pub to: String,
    /// The subject line: one line.
    pub subject: String,
    /// The body, plain text.
    pub body: String,
    /// What it is for.
    pub kind: OutboxKind,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxMessage {
    /// Its id, which the CRM acknowledges.
    pub id: OutboxId,
    /// Whom it is about.
    pub contact_id: ContactId,
    /// The address to send it to.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The body, plain text.
    pub body: String,
    /// What it is for.
    pub kind: OutboxKind,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When the CRM said it was sent; `None` while it waits.
    pub acknowledged_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "SELECT id, contact_id, to_address, subject, body, kind, created_at,
        acknowledged_at FROM outbox";

fn from_row(row: &Row<'_>) -> rusqlite::Result<OutboxMessage> {
    let kind: String = row.get(5)?;
    Ok(OutboxMessage {
        id: row.get(0)?,
        contact_id: row.get(1)?,
        to: row.get(2)?,
        subject: row.get(3)?,
        body: row.get(4)?,
        kind: OutboxKind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                5,
                rusqlite::types::Type::Text,
                format!("unknown outbox kind `{kind}`").into(),
            )
        })?,
        created_at: time(row.get(6)?)?,
        acknowledged_at: row.get::<_, Option<i64>>(7)?.map(time).transpose()?,
    })
}

fn check_message(m: &NewOutboxMessage) -> Result<()> {
    check_not_empty("recipient address", &m.to)?;
    check_len("recipient address", &m.to, limits::MAX_NAME)?;
    check_email(Some(m.to.trim()))?;
    check_not_empty("subject", &m.subject)?;
    check_len("subject", &m.subject, limits::MAX_LABEL)?;
    // A line break in a subject would let a name add mail headers.
    if m.subject.contains(['\r', '\n']) {
        return Err(StoreError::Invalid {
            field: "subject",
            why: "a subject is one line; remove the line breaks".to_owned(),
        });
    }
    check_not_empty("message body", &m.body)?;
    check_len("message body", &m.body, limits::MAX_TEXT)
}

/// Puts a message in the outbox inside the caller's transaction.
pub(super) fn enqueue(
    tx: &Connection,
    m: &NewOutboxMessage,
    now: DateTime<Utc>,
) -> Result<OutboxId> {
    check_message(m)?;
    check_contact(tx, m.contact)?;
    tx.prepare_cached(
        "INSERT INTO outbox (contact_id, to_address, subject, body, kind, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        m.contact,
        m.to.trim(),
        m.subject.trim(),
        m.body,
        m.kind.as_str(),
        secs(now)
    ])?;
    Ok(OutboxId(tx.last_insert_rowid()))
}

fn message_by_id(conn: &Connection, id: OutboxId) -> Result<OutboxMessage> {
    conn.prepare_cached(&format!("{COLUMNS} WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or(StoreError::UnknownMessage(id))
}

impl Store {
    /// Puts one message in the outbox.
    pub fn enqueue_message(&mut self, message: &NewOutboxMessage) -> Result<OutboxMessage> {
        check_message(message)?;
        self.write_recorded(|tx, now| {
            let id = enqueue(tx, message, now)?;
            message_by_id(tx, id)
        })
    }

    /// Up to `limit` messages the CRM has not acknowledged yet, oldest
    /// first, with ids above `after` (keyset paging).
    pub fn pending_messages(
        &self,
        after: Option<OutboxId>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>> {
        self.messages_where("acknowledged_at IS NULL AND", after, limit)
    }

    /// Up to `limit` messages, acknowledged or not, oldest first.
    pub fn outbox_messages(
        &self,
        after: Option<OutboxId>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>> {
        self.messages_where("", after, limit)
    }

    fn messages_where(
        &self,
        filter: &str,
        after: Option<OutboxId>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>> {
        let sql = format!("{COLUMNS} WHERE {filter} id > ?1 ORDER BY id LIMIT ?2");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(params![after.map_or(0, |a| a.0), limit], from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// One message of the outbox.
    pub fn outbox_message(&self, id: OutboxId) -> Result<OutboxMessage> {
        message_by_id(&self.conn, id)
    }

    /// Marks a message as sent. Acknowledging it again changes nothing and
    /// keeps the first time, so a CRM that retries is safe.
    pub fn acknowledge_message(&mut self, id: OutboxId) -> Result<OutboxMessage> {
        self.write_recorded(|tx, now| {
            message_by_id(tx, id)?;
            tx.prepare_cached(
                "UPDATE outbox SET acknowledged_at = ?2 WHERE id = ?1 AND acknowledged_at IS NULL",
            )?
            .execute(params![id, secs(now)])?;
            message_by_id(tx, id)
        })
    }
}
