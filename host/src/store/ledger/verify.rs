//! `ledger verify`: recompute both hash chains, replay every ledger entry
//! into an empty schema, and compare each rebuilt projection with the stored
//! one, so that a plain-SQL change to anything a decision reads is named.
//!
//! Without a checkpoint, verify proves that the file is consistent with
//! itself: no entry was edited, removed or reordered in the middle, every
//! table the hooks read follows from the entries, every stored plugin is the
//! one its sha256 names, and the decision log has no gap. It cannot prove
//! that the *tail* was not rewritten by someone who recomputed every hash
//! from some point on, or cut off: that takes a checkpoint kept outside the
//! file (`checkpoint`).

use rusqlite::types::Value;
use rusqlite::{Connection, Row};
use serde::{Deserialize, Serialize};

use super::super::chain::{self, EntryFields, GENESIS_HASH, LedgerHead, sha256_hex, short};
use super::super::decisions;
use super::super::projection::project;
use super::super::schema::MIGRATIONS;
use super::super::{DecisionId, LedgerSeq, Result, Store, time};
use super::event::{Table, apply_row, table_of};
use super::{ConsentBody, LedgerEntry};

/// What `verify_ledger` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerReport {
    /// Entries in the ledger.
    pub entries: u64,
    /// Rows in the decision log.
    pub decisions: u64,
    /// `true` when nothing is wrong: what an auditor checks first.
    pub ok: bool,
    /// The first problem found.
    pub problem: Option<LedgerProblem>,
    /// The ledger head as stored.
    pub head: LedgerHead,
}

/// One thing verify found wrong, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerProblem {
    /// What kind of damage it is.
    pub kind: LedgerProblemKind,
    /// The ledger entry that is wrong, or the first one missing.
    pub seq: Option<LedgerSeq>,
    /// The decision-log row that is wrong, or the first one missing.
    pub decision: Option<DecisionId>,
    /// The table whose stored rows differ from the ledger.
    pub table: Option<String>,
    /// The finding in words, for the auditor.
    pub message: String,
}

/// What kind of damage verify found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LedgerProblemKind {
    /// An entry's fields no longer hash to its hash.
    Edited,
    /// An entry is missing: the seq numbers have a gap.
    Deleted,
    /// An entry does not link to the one before it.
    Relinked,
    /// Evidence still on file no longer hashes to its entry's evidence hash.
    EvidenceEdited,
    /// Entries are missing from the end (the head records more).
    Truncated,
    /// Entries were added without going through the store.
    Appended,
    /// An entry cannot be replayed: its body is malformed or contradicts the
    /// entries before it.
    Unreplayable,
    /// A table the hooks read differs from what the ledger says it holds.
    ProjectionDiffers,
    /// A stored plugin's bytes no longer hash to its sha256.
    PluginBytes,
    /// The decision log was changed: a row edited, removed or relinked.
    DecisionLog,
    /// The ledger does not extend the checkpoint it was checked against.
    Checkpoint,
}

impl LedgerProblemKind {
    /// The spelling of its JSON (serde `snake_case`).
    pub const fn as_str(self) -> &'static str {
        use LedgerProblemKind as K;
        match self {
            K::Edited => "edited",
            K::Deleted => "deleted",
            K::Relinked => "relinked",
            K::EvidenceEdited => "evidence_edited",
            K::Truncated => "truncated",
            K::Appended => "appended",
            K::Unreplayable => "unreplayable",
            K::ProjectionDiffers => "projection_differs",
            K::PluginBytes => "plugin_bytes",
            K::DecisionLog => "decision_log",
            K::Checkpoint => "checkpoint",
        }
    }
}

impl LedgerProblem {
    pub(crate) fn at_entry(seq: i64, kind: LedgerProblemKind, message: String) -> LedgerProblem {
        LedgerProblem {
            kind,
            seq: Some(LedgerSeq(seq)),
            decision: None,
            table: None,
            message,
        }
    }
}

/// What the chain pass leaves for the later checks.
struct Chain {
    entries: u64,
    last_seq: i64,
    last_hash: String,
    /// The hash of entry `want_seq`, when asked for (checkpoints).
    hash_at: Option<String>,
    problem: Option<LedgerProblem>,
}

impl Store {
    /// Recomputes both chains, rebuilds every projection from the ledger and
    /// compares it with the stored tables; reports the first problem.
    /// Erased evidence and personal data do not break it: only the evidence
    /// still on file is checked against its hash.
    pub fn verify_ledger(&self) -> Result<LedgerReport> {
        self.verify_extending(None).map(|(report, _)| report)
    }

    /// Verifies, and also returns the hash of entry `seq` (for checkpoints).
    pub(super) fn verify_extending(
        &self,
        want_seq: Option<u64>,
    ) -> Result<(LedgerReport, Option<String>)> {
        // One read transaction: the chains and the tables agree with each other.
        let tx = self.snapshot()?;
        let head = chain::head(&tx)?;
        let rebuild = Connection::open_in_memory()?;
        for sql in MIGRATIONS {
            rebuild.execute_batch(sql)?;
        }
        // The rebuild replays history, updates included; the triggers that
        // guard the real tables against edits have no place in it.
        let triggers: Vec<String> = rebuild
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger'")?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for t in triggers {
            rebuild.execute_batch(&format!("DROP TRIGGER {t}"))?;
        }
        // A scratch database that lives for one verify: no journal, no
        // foreign-key checks (the entries record every removal themselves,
        // and the comparison catches any row that should not be there).
        rebuild.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             PRAGMA foreign_keys = OFF; PRAGMA cache_size = -262144; BEGIN",
        )?;
        let mut pass = replay(&tx, &rebuild, want_seq)?;
        if pass.problem.is_none() {
            pass.problem = check_head(&head, pass.last_seq, &pass.last_hash);
        }
        if pass.problem.is_none() {
            pass.problem = compare_all(&tx, &rebuild)?;
        }
        if pass.problem.is_none() {
            pass.problem = check_plugin_bytes(&tx)?;
        }
        let (decisions, decision_problem) = decisions::verify_chain(&tx)?;
        let problem = pass.problem.or(decision_problem);
        tx.finish()?;
        Ok((
            LedgerReport {
                entries: pass.entries,
                decisions,
                ok: problem.is_none(),
                problem,
                head,
            },
            pass.hash_at,
        ))
    }
}

const ROWS: &str = "SELECT l.seq, l.kind, l.contact_id, l.actor, l.recorded_at, l.body,
        l.prev_hash, l.hash, e.evidence
    FROM ledger l LEFT JOIN consent_evidence e ON e.seq = l.seq
    ORDER BY l.seq";

/// The chain pass: checks every entry's hash and link, and replays it into
/// `rebuild`. Stops replaying at the first problem but keeps counting.
fn replay(tx: &Connection, rebuild: &Connection, want_seq: Option<u64>) -> Result<Chain> {
    let mut stmt = tx.prepare(ROWS)?;
    let mut rows = stmt.query([])?;
    let mut pass = Chain {
        entries: 0,
        last_seq: 0,
        last_hash: GENESIS_HASH.to_owned(),
        hash_at: None,
        problem: None,
    };
    while let Some(row) = rows.next()? {
        pass.entries += 1;
        if pass.problem.is_some() {
            continue;
        }
        let seq: i64 = row.get(0)?;
        let stored: String = row.get(7)?;
        pass.problem = check_and_apply(row, rebuild, pass.last_seq + 1, &pass.last_hash)?;
        if want_seq == Some(seq as u64) {
            pass.hash_at = Some(stored.clone());
        }
        pass.last_seq = seq;
        pass.last_hash = stored;
    }
    Ok(pass)
}

fn check_and_apply(
    row: &Row<'_>,
    rebuild: &Connection,
    expected: i64,
    prev: &str,
) -> Result<Option<LedgerProblem>> {
    use LedgerProblemKind as K;
    let seq: i64 = row.get(0)?;
    let kind = row.get_ref(1)?.as_str()?;
    let contact_id: Option<i64> = row.get(2)?;
    let actor = row.get_ref(3)?.as_str()?;
    let recorded_at: i64 = row.get(4)?;
    let body = row.get_ref(5)?.as_str()?;
    let prev_hash = row.get_ref(6)?.as_str()?;
    let stored = row.get_ref(7)?.as_str()?;
    let evidence = row.get_ref(8)?.as_str_or_null()?;
    if seq != expected {
        let message = if seq - expected == 1 {
            format!(
                "entry {expected} is missing: the ledger goes from {} to {seq}",
                expected - 1
            )
        } else {
            format!(
                "entries {expected} to {} are missing: the ledger goes from {} to {seq}",
                seq - 1,
                expected - 1
            )
        };
        return Ok(Some(LedgerProblem::at_entry(expected, K::Deleted, message)));
    }
    let computed = chain::entry_hash(&EntryFields {
        seq,
        kind,
        contact_id,
        actor,
        recorded_at,
        body,
        prev_hash,
    });
    if computed != stored {
        let message = format!(
            "entry {seq} was edited: its fields hash to {} but it records {}",
            short(&computed),
            short(stored)
        );
        return Ok(Some(LedgerProblem::at_entry(seq, K::Edited, message)));
    }
    if prev_hash != prev {
        let message = format!(
            "entry {seq} does not follow entry {}: it links to {} but entry {} hashes to {}",
            seq - 1,
            short(prev_hash),
            seq - 1,
            short(prev)
        );
        return Ok(Some(LedgerProblem::at_entry(seq, K::Relinked, message)));
    }
    let replayed = if kind == "consent" {
        replay_consent(rebuild, row, body, evidence)
    } else {
        apply_row(rebuild, kind, body).map(|()| None)
    };
    match replayed {
        Ok(problem) => Ok(problem),
        Err(e) => {
            let what = table_of(body).map_or(String::new(), |t| format!(" of `{}`", t.name()));
            let message = format!("entry {seq}{what} cannot be replayed: {e}");
            Ok(Some(LedgerProblem::at_entry(seq, K::Unreplayable, message)))
        }
    }
}

fn replay_consent(
    rebuild: &Connection,
    row: &Row<'_>,
    body: &str,
    evidence: Option<&str>,
) -> Result<Option<LedgerProblem>> {
    let parsed: ConsentBody = serde_json::from_str(body)?;
    let seq: i64 = row.get(0)?;
    if let Some(evidence) = evidence
        && parsed.evidence_hash.as_deref() != Some(sha256_hex(evidence.as_bytes()).as_str())
    {
        let message = format!("the evidence of entry {seq} was edited");
        return Ok(Some(LedgerProblem::at_entry(
            seq,
            LedgerProblemKind::EvidenceEdited,
            message,
        )));
    }
    let entry = LedgerEntry::from_parts(
        LedgerSeq(seq),
        row.get(2)?,
        row.get(3)?,
        time(row.get(4)?)?,
        parsed,
        row.get(6)?,
        row.get(7)?,
    )?;
    project(rebuild, &entry)?;
    Ok(None)
}

fn check_head(head: &LedgerHead, last: i64, last_hash: &str) -> Option<LedgerProblem> {
    use LedgerProblemKind as K;
    let (seq, kind, message) = if head.seq.0 > last {
        (
            last + 1,
            K::Truncated,
            format!(
                "entries {} to {} are missing from the end: the head records {}",
                last + 1,
                head.seq,
                head.seq
            ),
        )
    } else if head.seq.0 < last {
        (
            head.seq.0 + 1,
            K::Appended,
            format!(
                "entry {} was appended outside the store: the head records {}",
                head.seq.0 + 1,
                head.seq
            ),
        )
    } else if head.hash != last_hash {
        (
            last,
            K::Edited,
            format!("entry {last} was rewritten: its hash no longer matches the ledger head"),
        )
    } else {
        return None;
    };
    Some(LedgerProblem::at_entry(seq, kind, message))
}

/// A projected table: its name, the columns compared and the key columns.
struct Projected {
    name: &'static str,
    key: &'static [&'static str],
    skip: Vec<&'static str>,
}

fn projected() -> Vec<Projected> {
    let mut all: Vec<Projected> = Table::ALL
        .into_iter()
        .map(|t| Projected {
            name: t.name(),
            key: t.key(),
            skip: t.outside().iter().map(|(c, _)| *c).collect(),
        })
        .collect();
    all.push(Projected {
        name: "consent_state",
        key: &["contact_id", "consent_type_id"],
        skip: Vec::new(),
    });
    all
}

fn compare_all(stored: &Connection, rebuilt: &Connection) -> Result<Option<LedgerProblem>> {
    for table in projected() {
        if let Some(problem) = compare(stored, rebuilt, &table)? {
            return Ok(Some(problem));
        }
    }
    Ok(None)
}

fn columns(conn: &Connection, table: &Projected) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT name FROM pragma_table_info('{}')",
        table.name
    ))?;
    let names = stmt
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names
        .into_iter()
        .filter(|n| !table.skip.contains(&n.as_str()))
        .collect())
}

type Rows<'a> = Box<dyn Iterator<Item = rusqlite::Result<Vec<Value>>> + 'a>;

fn compare(
    stored: &Connection,
    rebuilt: &Connection,
    table: &Projected,
) -> Result<Option<LedgerProblem>> {
    let cols = columns(rebuilt, table)?;
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        cols.join(", "),
        table.name,
        table.key.join(", ")
    );
    let n = cols.len();
    let key_at: Vec<usize> = table
        .key
        .iter()
        .map(|k| cols.iter().position(|c| c == k).unwrap_or(0))
        .collect();
    let mut a_stmt = stored.prepare(&sql)?;
    let mut b_stmt = rebuilt.prepare(&sql)?;
    let read = |row: &Row<'_>| (0..n).map(|i| row.get::<_, Value>(i)).collect();
    let mut a: Rows<'_> = Box::new(a_stmt.query_map([], read)?);
    let mut b: Rows<'_> = Box::new(b_stmt.query_map([], read)?);
    let key = |row: &[Value]| -> Vec<i64> {
        key_at
            .iter()
            .map(|&i| match row[i] {
                Value::Integer(v) => v,
                _ => i64::MIN,
            })
            .collect()
    };
    let (mut x, mut y) = (a.next().transpose()?, b.next().transpose()?);
    loop {
        let differs = match (&x, &y) {
            (None, None) => return Ok(None),
            (Some(s), None) => Some(describe(table, &key(s), "is not in the ledger")),
            (None, Some(r)) => Some(describe(
                table,
                &key(r),
                "is missing, but the ledger has it",
            )),
            (Some(s), Some(r)) => {
                let (ks, kr) = (key(s), key(r));
                if ks < kr {
                    Some(describe(table, &ks, "is not in the ledger"))
                } else if kr < ks {
                    Some(describe(table, &kr, "is missing, but the ledger has it"))
                } else if s != r {
                    let at = (0..n).find(|&i| s[i] != r[i]).unwrap_or(0);
                    let why = format!(
                        "holds {} = {} but the ledger gives {}",
                        cols[at],
                        show(&s[at]),
                        show(&r[at])
                    );
                    Some(describe(table, &ks, &why))
                } else {
                    None
                }
            }
        };
        if let Some(message) = differs {
            return Ok(Some(LedgerProblem {
                kind: LedgerProblemKind::ProjectionDiffers,
                seq: None,
                decision: None,
                table: Some(table.name.to_owned()),
                message,
            }));
        }
        x = a.next().transpose()?;
        y = b.next().transpose()?;
    }
}

fn describe(table: &Projected, key: &[i64], why: &str) -> String {
    let key = table
        .key
        .iter()
        .zip(key)
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("`{}` row ({key}) {why}", table.name)
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(t) => format!("`{}`", t.chars().take(60).collect::<String>()),
        Value::Blob(b) => format!("{} bytes", b.len()),
    }
}

/// Every stored plugin is the one its sha256 names: decisions cite it.
fn check_plugin_bytes(conn: &Connection) -> Result<Option<LedgerProblem>> {
    let mut stmt = conn.prepare("SELECT id, sha256, bytes FROM plugins ORDER BY id")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let sha: String = row.get(1)?;
        let bytes = row.get_ref(2)?.as_blob()?;
        if sha256_hex(bytes) != sha {
            return Ok(Some(LedgerProblem {
                kind: LedgerProblemKind::PluginBytes,
                seq: None,
                decision: None,
                table: Some("plugins".to_owned()),
                message: format!(
                    "plugin {id}'s stored bytes no longer hash to its sha256 {}",
                    short(&sha)
                ),
            }));
        }
    }
    Ok(None)
}
