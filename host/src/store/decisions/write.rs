//! Writing the log: a plugin decision, a refusal committed without waiting
//! for the disk, and an operator's justification with its timeline note.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;

use super::super::contacts::check_contact;
use super::super::decision_configs::{self, CitedConfig};
use super::super::limits::{self, check_len};
use super::super::timeline::{Note, add_note};
use super::super::{
    Channel, ContactId, DecisionId, Outcome, ReasonId, Result, Store, StoreError,
    SubscriptionTypeId, TimelineKind, check_not_empty,
};
use super::{NewDecision, NewJustification, encode_ids, insert};

/// The parts of a decision row both kinds of log entry share, checked and
/// serialized before the writers' turn is taken.
pub(crate) struct LogRow {
    pub(super) at: DateTime<Utc>,
    pub(crate) contact: Option<ContactId>,
    pub(super) channel: Channel,
    pub(super) outcome: Outcome,
    pub(super) reason_code: String,
    pub(super) reason: Option<ReasonId>,
    pub(super) justification: Option<String>,
    pub(super) subscription_type: Option<SubscriptionTypeId>,
    pub(super) summary: Option<String>,
    pub(super) recipients: Option<Vec<u8>>,
    pub(super) plugin_sha256: Option<String>,
    /// As stored: with `config_sha256` in place of the config.
    pub(super) request: String,
    /// The config taken out of `request`, stored once (`decision_configs`).
    pub(crate) config: Option<Arc<CitedConfig>>,
    pub(super) actor: String,
}

/// A hook's deny or justify whose request is already in its stored form
/// (`decision_configs::cited_text`): the hook cites the config it loaded
/// once, instead of every row serializing and hashing it again.
pub(crate) struct CitedDecision<'a> {
    /// The decision, whose `request` is not read: `request` stands for it.
    pub(crate) decision: &'a NewDecision,
    /// The request as stored, citing `config`.
    pub(crate) request: String,
    /// The config the request cites.
    pub(crate) config: Arc<CitedConfig>,
}

impl LogRow {
    /// A plugin decision's row; refuses what [`Store::log_decision`] refuses.
    fn decision(d: &NewDecision) -> Result<LogRow> {
        let (request, config) = decision_configs::cite(&d.request)?;
        LogRow::cited(d, request, config)
    }

    /// A plugin decision's row, its request cited already.
    fn cited(d: &NewDecision, request: String, config: Option<Arc<CitedConfig>>) -> Result<LogRow> {
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

impl Store {
    /// Logs one plugin decision (or the summary of a bulk send).
    pub fn log_decision(&mut self, d: &NewDecision) -> Result<DecisionId> {
        self.log_row(LogRow::decision(d)?)
    }

    fn log_row(&mut self, row: LogRow) -> Result<DecisionId> {
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
        self.log_refusal_row(|| LogRow::decision(d))
    }

    /// [`Store::log_refusal`] for a hook that cited its request already.
    pub(crate) fn log_cited_refusal(&mut self, d: &CitedDecision<'_>) -> Result<DecisionId> {
        self.log_refusal_row(|| {
            LogRow::cited(d.decision, d.request.clone(), Some(Arc::clone(&d.config)))
        })
    }

    /// Logs the row `row` builds, in a group if the store has a write gate;
    /// a row the group did not log is built again and logged alone.
    fn log_refusal_row(&mut self, row: impl Fn() -> Result<LogRow>) -> Result<DecisionId> {
        self.end_read()?;
        if let Some(gate) = self.write_gate.clone()
            && self.conn.is_autocommit()
            && let Some(id) = self.log_in_group(&gate, row()?)?
        {
            return Ok(id);
        }
        // Taken by the write's own transaction; an open outer one ignores it.
        self.next_write_lazy = self.conn.is_autocommit();
        let logged = row().and_then(|row| self.log_row(row));
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
}

#[cfg(test)]
impl Store {
    /// Logs `d` with its config inline, as releases before
    /// `decision_configs` did.
    pub(crate) fn log_decision_inline(&mut self, d: &NewDecision) -> Result<DecisionId> {
        let mut row = LogRow::decision(d)?;
        row.request = serde_json::to_string(&d.request)?;
        row.config = None;
        self.write_recorded(|tx, now| insert(tx, &row, now))
    }
}
