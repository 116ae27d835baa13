//! Checking the log for `ledger verify`: recomputes every row's hash and
//! names the first row edited, removed or relinked.

use rusqlite::{Connection, Row};

use super::super::chain::{GENESIS_HASH, sha256_hex, short};
use super::super::decision_configs;
use super::super::ledger::{LedgerProblem, LedgerProblemKind};
use super::super::{DecisionId, Result};
use super::chain::{Chained, decision_hash, head};

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
pub(crate) fn verify_chain(conn: &Connection) -> Result<(u64, Option<LedgerProblem>)> {
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
