//! Reading the log back: one decision, or every decision about a contact,
//! with the config each cites put back into its request.

use rusqlite::{OptionalExtension, Row};

use super::super::contacts::check_contact;
use super::super::decision_configs;
use super::super::vocabulary::parse_column;
use super::super::{ContactId, DecisionId, Result, Store, time};
use super::{LoggedDecision, decode_ids};

/// A row's request comes with the config it cites (`decision_configs`).
const COLUMNS: &str = "SELECT d.id, d.at, d.contact_id, d.channel, d.outcome, d.reason_code,
        d.reason_id, d.justification, d.subscription_type_id, d.summary, d.plugin_sha256,
        d.request, d.actor, d.recipients, d.recorded_at, c.config
    FROM decisions d LEFT JOIN decision_configs c
        ON c.sha256 = json_extract(d.request, '$.config_sha256')";

fn json_column(row: &Row<'_>, column: usize) -> rusqlite::Result<Option<serde_json::Value>> {
    let text: Option<String> = row.get(column)?;
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, e.into())
        })
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<LoggedDecision> {
    Ok(LoggedDecision {
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
        request: decision_configs::restore(
            json_column(row, 11)?.unwrap_or_default(),
            row.get_ref(15)?.as_str_or_null()?,
        )
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(15, rusqlite::types::Type::Text, e.into())
        })?,
        actor: row.get(12)?,
        recipients: row
            .get_ref(13)?
            .as_blob_or_null()?
            .map(|b| {
                decode_ids(b).map_err(|why| {
                    rusqlite::Error::FromSqlConversionFailure(
                        13,
                        rusqlite::types::Type::Blob,
                        why.into(),
                    )
                })
            })
            .transpose()?,
        recorded_at: time(row.get(14)?)?,
    })
}

impl Store {
    /// The logged decision with `id`, if there is one.
    pub fn decision(&self, id: DecisionId) -> Result<Option<LoggedDecision>> {
        let decision = self
            .conn
            .prepare_cached(&format!("{COLUMNS} WHERE d.id = ?1"))?
            .query_row([id], from_row)
            .optional()?;
        Ok(decision)
    }

    /// Every decision about one contact, oldest first.
    pub fn decisions(&self, contact: ContactId) -> Result<Vec<LoggedDecision>> {
        check_contact(&self.conn, contact)?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "{COLUMNS} WHERE d.contact_id = ?1 ORDER BY d.at, d.id"
        ))?;
        let rows = stmt
            .query_map([contact], from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
