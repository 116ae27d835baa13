//! The decision log: every allow, deny and justify the plugin answered, and
//! every justification an operator gave to go on without consent (Italian CRM
//! plugin). Each row keeps the request and contact state as the caller sent
//! them and the plugin's sha256, so a decision can be replayed against the
//! same plugin bytes.
//!
//! The log is append-only (triggers) and hash-chained like the ledger, so a
//! deleted deny or justification is detected by `ledger verify`, and a
//! checkpoint anchors its length. The operator's justification text is
//! personal data: the chain holds its SHA-256, so an erasure can remove it.
//! A bulk send keeps who was sent to (`recipients`), compactly.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::chain::{Canon, GENESIS_HASH, sha256_hex, short};
use super::contacts::check_contact;
use super::decision_configs::{self, CitedConfig};
use super::ledger::{LedgerProblem, LedgerProblemKind};
use super::limits::{self, check_len};
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
    /// The channel the operator was about to use.
    pub channel: Channel,
    /// `Allow`, `Deny` or `Justify`; justifications go through
    /// [`Store::log_justification`].
    pub outcome: Outcome,
    /// The plugin's reason code, e.g. `no_consent`.
    pub reason_code: String,
    /// For a newsletter: the subscription type sent.
    pub subscription_type: Option<SubscriptionTypeId>,
    /// Counts of a bulk send, e.g. `{"allow": 9120, "deny": 880}`.
    pub summary: Option<serde_json::Value>,
    /// Who a bulk send went to, so it can later be shown why each person
    /// received it. Stored delta-encoded: about a byte per recipient.
    pub recipients: Option<Vec<ContactId>>,
    /// The sha256 of the plugin that answered, to replay the decision.
    pub plugin_sha256: Option<String>,
    /// Enough to replay: the contact state and request as sent to the plugin.
    pub request: serde_json::Value,
    /// Who asked: a CRM user, or the process that ran the check.
    pub actor: String,
}

/// An operator going on after a `Justify` decision, with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJustification {
    /// The `now` the plugin was asked with.
    pub at: DateTime<Utc>,
    /// The contact about to be contacted.
    pub contact: ContactId,
    /// The channel the operator is using.
    pub channel: Channel,
    /// The reason the operator picked from the catalog.
    pub reason: ReasonId,
    /// The operator's own words; may be empty.
    pub text: String,
    /// Why consent was missing (`no_consent`, `consent_expired`).
    pub reason_code: String,
    /// The sha256 of the plugin whose `Justify` this answers.
    pub plugin_sha256: Option<String>,
    /// The contact state and request as sent to the plugin.
    pub request: serde_json::Value,
    /// The operator.
    pub actor: String,
}

/// A logged decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LoggedDecision {
    /// Its position in the log.
    pub id: DecisionId,
    /// The `now` the plugin was asked with.
    pub at: DateTime<Utc>,
    /// `None` for the summary row of a bulk send.
    pub contact: Option<ContactId>,
    /// The channel asked about.
    pub channel: Channel,
    /// What the plugin answered, or `Justified`.
    pub outcome: Outcome,
    /// The plugin's reason code, e.g. `no_consent`.
    pub reason_code: String,
    /// For a justification: the reason the operator picked.
    pub reason: Option<ReasonId>,
    /// For a justification: the operator's own words. Personal data that an
    /// erasure can remove; the chain holds only its hash.
    pub justification: Option<String>,
    /// For a newsletter: the subscription type sent.
    pub subscription_type: Option<SubscriptionTypeId>,
    /// Counts of a bulk send.
    pub summary: Option<serde_json::Value>,
    /// Who a bulk send went to.
    pub recipients: Option<Vec<ContactId>>,
    /// The sha256 of the plugin that answered.
    pub plugin_sha256: Option<String>,
    /// The contact state and request as sent to the plugin.
    pub request: serde_json::Value,
    /// Who asked: a CRM user, or the process that ran the check.
    pub actor: String,
    /// When it was written (the clock); `at` is the time it was asked about.
    pub recorded_at: DateTime<Utc>,
}

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

/// The parts of a decision row both kinds of log entry share, checked and
/// serialized before the writers' turn is taken.
pub(super) struct LogRow {
    at: DateTime<Utc>,
    pub(super) contact: Option<ContactId>,
    channel: Channel,
    outcome: Outcome,
    reason_code: String,
    reason: Option<ReasonId>,
    justification: Option<String>,
    subscription_type: Option<SubscriptionTypeId>,
    summary: Option<String>,
    recipients: Option<Vec<u8>>,
    plugin_sha256: Option<String>,
    /// As stored: with `config_sha256` in place of the config.
    request: String,
    /// The config taken out of `request`, stored once (`decision_configs`).
    config: Option<CitedConfig>,
    actor: String,
}

impl LogRow {
    /// A plugin decision's row; refuses what [`Store::log_decision`] refuses.
    fn decision(d: &NewDecision) -> Result<LogRow> {
        check_not_empty("reason code", &d.reason_code)?;
        check_not_empty("actor", &d.actor)?;
        check_len("actor", &d.actor, limits::MAX_ACTOR)?;
        if d.outcome == Outcome::Justified {
            return Err(StoreError::Invalid {
                field: "outcome",
                why: "a justification needs a reason: record it with `log_justification`"
                    .to_owned(),
            });
        }
        let (request, config) = decision_configs::cite(&d.request)?;
        Ok(LogRow {
            at: d.at,
            contact: d.contact,
            channel: d.channel,
            outcome: d.outcome,
            reason_code: d.reason_code.clone(),
            reason: None,
            justification: None,
            subscription_type: d.subscription_type,
            summary: d.summary.as_ref().map(serde_json::to_string).transpose()?,
            recipients: d.recipients.as_deref().map(encode_ids),
            plugin_sha256: d.plugin_sha256.clone(),
            request,
            config,
            actor: d.actor.clone(),
        })
    }
}

/// The hashed fields of one decision row, as stored.
struct Chained<'a> {
    id: i64,
    at: i64,
    recorded_at: i64,
    contact_id: Option<i64>,
    channel: &'a str,
    outcome: &'a str,
    reason_code: &'a str,
    reason_id: Option<i64>,
    justification_sha256: Option<&'a str>,
    subscription_type_id: Option<i64>,
    summary: Option<&'a str>,
    recipients_sha256: Option<String>,
    plugin_sha256: Option<&'a str>,
    request: &'a str,
    actor: &'a str,
    prev_hash: &'a str,
}

fn decision_hash(d: &Chained<'_>) -> String {
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
pub(super) fn head(conn: &Connection) -> Result<(u64, String)> {
    let (n, hash): (i64, String) = conn
        .prepare_cached("SELECT id_last, hash FROM decision_head WHERE id = 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok((n as u64, hash))
}

/// The hash of row `n` (the genesis hash for 0); `None` if there is no such row.
pub(super) fn hash_at(conn: &Connection, n: u64) -> Result<Option<String>> {
    if n == 0 {
        return Ok(Some(GENESIS_HASH.to_owned()));
    }
    Ok(conn
        .prepare_cached("SELECT hash FROM decisions WHERE id = ?1")?
        .query_row([n as i64], |row| row.get(0))
        .optional()?)
}

pub(super) fn insert(
    conn: &Connection,
    d: &LogRow,
    recorded_at: DateTime<Utc>,
) -> Result<DecisionId> {
    if let Some(config) = &d.config {
        decision_configs::store(conn, config)?;
    }
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

/// Delta-varint encoding of sorted contact ids: a newsletter to a million
/// contacts with dense ids costs about a megabyte.
pub(super) fn encode_ids(ids: &[ContactId]) -> Vec<u8> {
    let mut sorted: Vec<i64> = ids.iter().map(|c| c.0).collect();
    sorted.sort_unstable();
    let mut out = Vec::with_capacity(sorted.len() + 8);
    let mut prev = 0_i64;
    for id in sorted {
        let mut delta = id.wrapping_sub(prev) as u64;
        prev = id;
        loop {
            let byte = (delta & 0x7f) as u8;
            delta >>= 7;
            if delta == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }
    out
}

pub(super) fn decode_ids(bytes: &[u8]) -> Result<Vec<ContactId>, &'static str> {
    let mut ids = Vec::new();
    let (mut prev, mut delta, mut shift) = (0_i64, 0_u64, 0_u32);
    for &byte in bytes {
        if shift > 63 {
            return Err("a recipient id is longer than 64 bits");
        }
        delta |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            prev = prev.wrapping_add(delta as i64);
            ids.push(ContactId(prev));
            (delta, shift) = (0, 0);
        } else {
            shift += 7;
        }
    }
    if shift != 0 {
        return Err("the recipient list ends in the middle of an id");
    }
    Ok(ids)
}

fn chain_problem(id: i64, message: String) -> Option<LedgerProblem> {
    Some(LedgerProblem {
        kind: LedgerProblemKind::DecisionLog,
        seq: None,
        decision: Some(DecisionId(id)),
        table: Some("decisions".to_owned()),
        message,
    })
}

const CHAIN_ROWS: &str = "SELECT id, at, recorded_at, contact_id, channel, outcome, reason_code,
        reason_id, justification, justification_sha256, subscription_type_id, summary,
        recipients, plugin_sha256, request, actor, prev_hash, hash
    FROM decisions ORDER BY id";

/// Recomputes the decision log's chain: counts its rows and names the first
/// one edited, removed or relinked, and a justification text that changed.
pub(super) fn verify_chain(conn: &Connection) -> Result<(u64, Option<LedgerProblem>)> {
    let mut stmt = conn.prepare(CHAIN_ROWS)?;
    let mut rows = stmt.query([])?;
    let (mut count, mut expected, mut prev) = (0_u64, 1_i64, GENESIS_HASH.to_owned());
    let mut problem = None;
    while let Some(row) = rows.next()? {
        count += 1;
        if problem.is_some() {
            continue;
        }
        let id: i64 = row.get(0)?;
        let stored: String = row.get(17)?;
        problem = check_decision(row, expected, &prev)?;
        expected = id + 1;
        prev = stored;
    }
    if problem.is_none() {
        let (last, hash) = head(conn)?;
        let last = last as i64;
        if last > expected - 1 {
            problem = chain_problem(
                expected,
                format!(
                    "decisions {} to {last} are missing from the end of the decision log",
                    expected
                ),
            );
        } else if last < expected - 1 {
            problem = chain_problem(
                last + 1,
                format!("decision {} was added outside the store", last + 1),
            );
        } else if hash != prev {
            problem = chain_problem(last, format!("decision {last} was rewritten"));
        }
    }
    if problem.is_none() {
        // The chain covers each cited config's hash; this covers the text.
        problem = decision_configs::verify(conn)?;
    }
    Ok((count, problem))
}

fn check_decision(row: &Row<'_>, expected: i64, prev: &str) -> Result<Option<LedgerProblem>> {
    let id: i64 = row.get(0)?;
    if id != expected {
        return Ok(chain_problem(
            expected,
            format!(
                "decision {expected} is missing: the log goes from {} to {id}",
                expected - 1
            ),
        ));
    }
    let justification = row.get_ref(8)?.as_str_or_null()?;
    let justification_sha256 = row.get_ref(9)?.as_str_or_null()?;
    let recipients = row.get_ref(12)?.as_blob_or_null()?;
    let stored = row.get_ref(17)?.as_str()?;
    let prev_hash = row.get_ref(16)?.as_str()?;
    let computed = decision_hash(&Chained {
        id,
        at: row.get(1)?,
        recorded_at: row.get(2)?,
        contact_id: row.get(3)?,
        channel: row.get_ref(4)?.as_str()?,
        outcome: row.get_ref(5)?.as_str()?,
        reason_code: row.get_ref(6)?.as_str()?,
        reason_id: row.get(7)?,
        justification_sha256,
        subscription_type_id: row.get(10)?,
        summary: row.get_ref(11)?.as_str_or_null()?,
        recipients_sha256: recipients.map(sha256_hex),
        plugin_sha256: row.get_ref(13)?.as_str_or_null()?,
        request: row.get_ref(14)?.as_str()?,
        actor: row.get_ref(15)?.as_str()?,
        prev_hash,
    });
    if computed != stored {
        return Ok(chain_problem(
            id,
            format!(
                "decision {id} was edited: its fields hash to {} but it records {}",
                short(&computed),
                short(stored)
            ),
        ));
    }
    if prev_hash != prev {
        return Ok(chain_problem(
            id,
            format!("decision {id} does not follow decision {}", id - 1),
        ));
    }
    if let Some(text) = justification
        && justification_sha256 != Some(sha256_hex(text.as_bytes()).as_str())
    {
        return Ok(chain_problem(
            id,
            format!("the justification text of decision {id} was edited"),
        ));
    }
    Ok(None)
}

impl Store {
    /// Logs one plugin decision (or the summary of a bulk send).
    pub fn log_decision(&mut self, d: &NewDecision) -> Result<DecisionId> {
        let row = LogRow::decision(d)?;
        self.write_recorded(|tx, now| {
            if let Some(contact) = row.contact {
                check_contact(tx, contact)?;
            }
            insert(tx, &row, now)
        })
    }

    /// Logs a single hook's deny or justify as [`Store::log_decision`] does,
    /// but commits without waiting for the disk (SQLite's
    /// `synchronous=NORMAL` in WAL mode). The row survives a crash of the
    /// process; a power loss can drop the last such rows, which the next
    /// synced commit or checkpoint makes durable. Only refusals are logged
    /// this way: they permit no contact, while everything that does (a
    /// consent, a justification) still waits for the disk. Waiting for it
    /// here (about 5 ms per commit on a busy VM) capped the dial hook at
    /// about 1,500 decisions/s. Inside an open request transaction it is
    /// [`Store::log_decision`], whose commit is synced.
    ///
    /// The connections of one process that share a write gate (the HTTP
    /// pool) commit their refusals in groups (`group_commit`); each call
    /// still returns only once its row is committed.
    pub fn log_refusal(&mut self, d: &NewDecision) -> Result<DecisionId> {
        if let Some(gate) = self.write_gate.clone()
            && self.conn.is_autocommit()
            && let Some(id) = self.log_in_group(&gate, LogRow::decision(d)?)?
        {
            return Ok(id);
        }
        // Taken by the write's own transaction; an open outer one ignores it.
        self.next_write_lazy = self.conn.is_autocommit();
        let logged = self.log_decision(d);
        self.next_write_lazy = false;
        logged
    }

    /// Logs an operator's justification and adds it to the contact's
    /// timeline, in one transaction. Fails with [`StoreError::UnknownReason`]
    /// if the reason does not exist.
    pub fn log_justification(&mut self, j: &NewJustification) -> Result<DecisionId> {
        check_not_empty("reason code", &j.reason_code)?;
        check_not_empty("actor", &j.actor)?;
        check_len("actor", &j.actor, limits::MAX_ACTOR)?;
        check_len("justification", &j.text, limits::MAX_JUSTIFICATION)?;
        let (request, config) = decision_configs::cite(&j.request)?;
        self.write_recorded(|tx, now| {
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
                    reason_code: j.reason_code.clone(),
                    reason: Some(j.reason),
                    justification: Some(text.to_owned()),
                    subscription_type: None,
                    summary: None,
                    recipients: None,
                    plugin_sha256: j.plugin_sha256.clone(),
                    request,
                    config,
                    actor: j.actor.clone(),
                },
                now,
            )?;
            let plugin = j.plugin_sha256.as_deref().unwrap_or("none");
            let mut summary = format!(
                "{} without valid consent ({}): reason `{code}` ({label}); plugin sha256 {plugin}",
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
                    at: now,
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

#[cfg(test)]
impl Store {
    /// Logs `d` with its config inline, as releases before
    /// `decision_configs` did.
    pub(super) fn log_decision_inline(&mut self, d: &NewDecision) -> Result<DecisionId> {
        let mut row = LogRow::decision(d)?;
        row.request = serde_json::to_string(&d.request)?;
        row.config = None;
        self.write_recorded(|tx, now| insert(tx, &row, now))
    }
}
