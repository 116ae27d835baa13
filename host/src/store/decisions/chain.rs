//! Each row's place in the hash chain: the fields it hashes, the head of the
//! log, and appending a row after it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::super::chain::{Canon, GENESIS_HASH, sha256_hex};
use super::super::decision_configs;
use super::super::{DecisionId, Result, secs};
use super::LogRow;

/// The hashed fields of one decision row, as stored.
pub(super) struct Chained<'a> {
    pub(super) id: i64,
    pub(super) at: i64,
    pub(super) recorded_at: i64,
    pub(super) contact_id: Option<i64>,
    pub(super) channel: &'a str,
    pub(super) outcome: &'a str,
    pub(super) reason_code: &'a str,
    pub(super) reason_id: Option<i64>,
    pub(super) justification_sha256: Option<&'a str>,
    pub(super) subscription_type_id: Option<i64>,
    pub(super) summary: Option<&'a str>,
    pub(super) recipients_sha256: Option<String>,
    pub(super) plugin_sha256: Option<&'a str>,
    pub(super) request: &'a str,
    pub(super) actor: &'a str,
    pub(super) prev_hash: &'a str,
}

pub(super) fn decision_hash(d: &Chained<'_>) -> String {
    Canon::new("crm-consent decisions v1")
        .int("id", d.id)
        .int("at", d.at)
        .int("recorded_at", d.recorded_at)
        .opt_int("contact_id", d.contact_id)
        .text("channel", d.channel)
        .text("outcome", d.outcome)
        .text("reason_code", d.reason_code)
        .opt_int("reason_id", d.reason_id)
        .opt("justification_sha256", d.justification_sha256)
        .opt_int("subscription_type_id", d.subscription_type_id)
        .opt("summary", d.summary)
        .opt("recipients_sha256", d.recipients_sha256.as_deref())
        .opt("plugin_sha256", d.plugin_sha256)
        .text("request", d.request)
        .text("actor", d.actor)
        .text("prev_hash", d.prev_hash)
        .hash()
}

/// The number of rows in the log and the hash of the last one.
pub(crate) fn head(conn: &Connection) -> Result<(u64, String)> {
    let (n, hash): (i64, String) = conn
        .prepare_cached("SELECT id_last, hash FROM decision_head WHERE id = 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok((n as u64, hash))
}

/// The hash of row `n` (the genesis hash for 0); `None` if there is no such row.
pub(crate) fn hash_at(conn: &Connection, n: u64) -> Result<Option<String>> {
    if n == 0 {
        return Ok(Some(GENESIS_HASH.to_owned()));
    }
    Ok(conn
        .prepare_cached("SELECT hash FROM decisions WHERE id = ?1")?
        .query_row([n as i64], |row| row.get(0))
        .optional()?)
}

/// Appends `d` to the log, its cited config stored first if it is new.
pub(crate) fn insert(
    conn: &Connection,
    d: &LogRow,
    recorded_at: DateTime<Utc>,
) -> Result<DecisionId> {
    if let Some(config) = &d.config {
        decision_configs::store(conn, config)?;
    }
    append(conn, d, recorded_at)
}

/// Appends `d` to the log; the config it cites is stored already.
pub(crate) fn append(
    conn: &Connection,
    d: &LogRow,
    recorded_at: DateTime<Utc>,
) -> Result<DecisionId> {
    let (last, prev) = head(conn)?;
    let id = last as i64 + 1;
    let justification_sha256 = d.justification.as_deref().map(|t| sha256_hex(t.as_bytes()));
    let hash = decision_hash(&Chained {
        id,
        at: secs(d.at),
        recorded_at: secs(recorded_at),
        contact_id: d.contact.map(|c| c.0),
        channel: d.channel.as_str(),
        outcome: d.outcome.as_str(),
        reason_code: &d.reason_code,
        reason_id: d.reason.map(|r| i64::from(r.0)),
        justification_sha256: justification_sha256.as_deref(),
        subscription_type_id: d.subscription_type.map(|s| i64::from(s.0)),
        summary: d.summary.as_deref(),
        recipients_sha256: d.recipients.as_deref().map(sha256_hex),
        plugin_sha256: d.plugin_sha256.as_deref(),
        request: &d.request,
        actor: &d.actor,
        prev_hash: &prev,
    });
    conn.prepare_cached(
        "INSERT INTO decisions (id, at, recorded_at, contact_id, channel, outcome, reason_code,
             reason_id, justification, justification_sha256, subscription_type_id, summary,
             recipients, plugin_sha256, request, actor, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?
    .execute(params![
        id,
        secs(d.at),
        secs(recorded_at),
        d.contact,
        d.channel.as_str(),
        d.outcome.as_str(),
        d.reason_code,
        d.reason,
        d.justification,
        justification_sha256,
        d.subscription_type,
        d.summary,
        d.recipients,
        d.plugin_sha256,
        d.request,
        d.actor,
        prev,
        hash
    ])?;
    conn.prepare_cached("UPDATE decision_head SET id_last = ?1, hash = ?2 WHERE id = 1")?
        .execute(params![id, hash])?;
    Ok(DecisionId(id))
}
