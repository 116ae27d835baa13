//! The decision log: every allow, deny and justify the plugin answered, and
//! every justification an operator gave to go on without consent (Italian CRM
//! plugin). Each row keeps the request and contact state as the caller sent
//! them and the plugin's sha256, so a decision can be replayed against the
//! same plugin bytes.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::contacts::check_contact;
use super::timeline::{Note, add_note};
use super::vocabulary::parse_column;
use super::{
    Channel, ContactId, DecisionId, Outcome, ReasonId, Result, Store, StoreError,
    SubscriptionTypeId, TimelineKind, check_not_empty, secs, time,
};

/// A plugin decision to log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDecision {
    /// The `now` the plugin was asked with.
    pub at: DateTime<Utc>,
    /// `None` for the summary row of a bulk send.
    pub contact: Option<ContactId>,
    pub channel: Channel,
    /// `Allow`, `Deny` or `Justify`; justifications go through
    /// [`Store::log_justification`].
    pub outcome: Outcome,
    /// The plugin's reason code, e.g. `no_consent`.
    pub reason_code: String,
    pub subscription_type: Option<SubscriptionTypeId>,
    /// Counts of a bulk send, e.g. `{"allow": 9120, "deny": 880}`.
    pub summary: Option<serde_json::Value>,
    pub plugin_sha256: Option<String>,
    /// Enough to replay: the contact state and request as sent to the plugin.
    pub request: serde_json::Value,
    pub actor: String,
}

/// An operator going on after a `Justify` decision, with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJustification {
    pub at: DateTime<Utc>,
    pub contact: ContactId,
    pub channel: Channel,
    pub reason: ReasonId,
    /// The operator's own words; may be empty.
    pub text: String,
    /// Why consent was missing (`no_consent`, `consent_expired`).
    pub reason_code: String,
    pub plugin_sha256: Option<String>,
    pub request: serde_json::Value,
    pub actor: String,
}

/// A logged decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub id: DecisionId,
    pub at: DateTime<Utc>,
    pub contact: Option<ContactId>,
    pub channel: Channel,
    pub outcome: Outcome,
    pub reason_code: String,
    pub reason: Option<ReasonId>,
    pub justification: Option<String>,
    pub subscription_type: Option<SubscriptionTypeId>,
    pub summary: Option<serde_json::Value>,
    pub plugin_sha256: Option<String>,
    pub request: serde_json::Value,
    pub actor: String,
}

const COLUMNS: &str = "SELECT id, at, contact_id, channel, outcome, reason_code, reason_id,
        justification, subscription_type_id, summary, plugin_sha256, request, actor
    FROM decisions";

fn json_column(row: &Row<'_>, column: usize) -> rusqlite::Result<Option<serde_json::Value>> {
    let text: Option<String> = row.get(column)?;
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, e.into())
        })
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Decision> {
    Ok(Decision {
        id: row.get(0)?,
        at: time(row.get(1)?)?,
        contact: row.get(2)?,
        channel: parse_column(row, 3)?,
        outcome: parse_column(row, 4)?,
        reason_code: row.get(5)?,
        reason: row.get(6)?,
        justification: row.get(7)?,
        subscription_type: row.get(8)?,
        summary: json_column(row, 9)?,
        plugin_sha256: row.get(10)?,
        request: json_column(row, 11)?.unwrap_or_default(),
        actor: row.get(12)?,
    })
}

/// The parts of a decision row both kinds of log entry share.
struct LogRow<'a> {
    at: DateTime<Utc>,
    contact: Option<ContactId>,
    channel: Channel,
    outcome: Outcome,
    reason_code: &'a str,
    reason: Option<ReasonId>,
    justification: Option<&'a str>,
    subscription_type: Option<SubscriptionTypeId>,
    summary: Option<String>,
    plugin_sha256: Option<&'a str>,
    request: String,
    actor: &'a str,
}

fn insert(conn: &Connection, d: &LogRow<'_>) -> Result<DecisionId> {
    conn.prepare_cached(
        "INSERT INTO decisions (at, contact_id, channel, outcome, reason_code, reason_id,
             justification, subscription_type_id, summary, plugin_sha256, request, actor)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        secs(d.at),
        d.contact,
        d.channel.as_str(),
        d.outcome.as_str(),
        d.reason_code,
        d.reason,
        d.justification,
        d.subscription_type,
        d.summary,
        d.plugin_sha256,
        d.request,
        d.actor
    ])?;
    Ok(DecisionId(conn.last_insert_rowid()))
}

impl Store {
    /// Logs one plugin decision (or the summary of a bulk send).
    pub fn log_decision(&mut self, d: &NewDecision) -> Result<DecisionId> {
        check_not_empty("reason code", &d.reason_code)?;
        check_not_empty("actor", &d.actor)?;
        if d.outcome == Outcome::Justified {
            return Err(StoreError::Invalid {
                field: "outcome",
                why: "a justification needs a reason: use log_justification".to_owned(),
            });
        }
        let summary = d.summary.as_ref().map(serde_json::to_string).transpose()?;
        let request = serde_json::to_string(&d.request)?;
        self.write(|tx| {
            if let Some(contact) = d.contact {
                check_contact(tx, contact)?;
            }
            insert(
                tx,
                &LogRow {
                    at: d.at,
                    contact: d.contact,
                    channel: d.channel,
                    outcome: d.outcome,
                    reason_code: &d.reason_code,
                    reason: None,
                    justification: None,
                    subscription_type: d.subscription_type,
                    summary,
                    plugin_sha256: d.plugin_sha256.as_deref(),
                    request,
                    actor: &d.actor,
                },
            )
        })
    }

    /// Logs an operator's justification and adds it to the contact's
    /// timeline, in one transaction. Fails with [`StoreError::UnknownReason`]
    /// if the reason does not exist.
    pub fn log_justification(&mut self, j: &NewJustification) -> Result<DecisionId> {
        check_not_empty("reason code", &j.reason_code)?;
        check_not_empty("actor", &j.actor)?;
        let request = serde_json::to_string(&j.request)?;
        self.write(|tx| {
            check_contact(tx, j.contact)?;
            let reason: Option<(String, String)> = tx
                .prepare_cached("SELECT code, label FROM reasons WHERE id = ?1")?
                .query_row([j.reason], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            let (code, label) = reason.ok_or(StoreError::UnknownReason(j.reason))?;
            let text = j.text.trim();
            let id = insert(
                tx,
                &LogRow {
                    at: j.at,
                    contact: Some(j.contact),
                    channel: j.channel,
                    outcome: Outcome::Justified,
                    reason_code: &j.reason_code,
                    reason: Some(j.reason),
                    justification: Some(text),
                    subscription_type: None,
                    summary: None,
                    plugin_sha256: j.plugin_sha256.as_deref(),
                    request,
                    actor: &j.actor,
                },
            )?;
            let mut summary = format!(
                "{} without valid consent ({}): reason \"{code}\" ({label})",
                j.channel, j.reason_code
            );
            if !text.is_empty() {
                summary.push_str(": ");
                summary.push_str(text);
            }
            add_note(
                tx,
                &Note {
                    contact: j.contact,
                    at: j.at,
                    kind: TimelineKind::Justification,
                    summary,
                    actor: &j.actor,
                    ledger_seq: None,
                    decision: Some(id),
                },
            )?;
            Ok(id)
        })
    }

    pub fn decision(&self, id: DecisionId) -> Result<Option<Decision>> {
        let decision = self
            .conn
            .prepare_cached(&format!("{COLUMNS} WHERE id = ?1"))?
            .query_row([id], from_row)
            .optional()?;
        Ok(decision)
    }

    /// Every decision about one contact, oldest first.
    pub fn decisions(&self, contact: ContactId) -> Result<Vec<Decision>> {
        check_contact(&self.conn, contact)?;
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{COLUMNS} WHERE contact_id = ?1 ORDER BY at, id"))?;
        let rows = stmt
            .query_map([contact], from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
