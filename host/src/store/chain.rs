//! The ledger's hash chain: how an entry is hashed and how the chain is
//! checked.
//!
//! Canonical encoding, version 1. The hash is SHA-256 over the line
//! `crm-consent ledger v1\n` followed, for each field in the order of
//! [`Fields`], by `name=<byte length>:<value>\n`, with integers in decimal and
//! a missing evidence hash written as `evidence_hash=-\n`. The length prefix
//! keeps free text (source, actor) from ever spilling into the next field.
//! Enum fields are hashed as the text stored in the row, so `verify` needs no
//! parsing to detect an edit.
//!
//! An unkeyed chain proves that nothing was changed *unless the whole tail
//! was rewritten*; [`LedgerHead`] is what a CRM publishes (in receipts,
//! exports, backups) to anchor it outside the file.

use std::fmt::Write as _;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{LedgerSeq, Result, Store};

/// The `prev_hash` of entry 1.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Everything the hash of one entry covers: pseudonymous ids, codes, times
/// and hashes, never personal data.
pub(super) struct Fields<'a> {
    pub seq: i64,
    pub contact_id: i64,
    pub consent_type_id: i64,
    pub text_version: i64,
    pub status_id: i64,
    pub meaning: &'a str,
    pub legal_basis: &'a str,
    pub method_id: i64,
    pub source: &'a str,
    pub actor: &'a str,
    pub recorded_at: i64,
    pub given_at: i64,
    pub evidence_hash: Option<&'a str>,
    pub prev_hash: &'a str,
}

pub(super) fn entry_hash(f: &Fields<'_>) -> String {
    let mut text = String::with_capacity(512);
    text.push_str("crm-consent ledger v1\n");
    put(&mut text, "seq", &f.seq.to_string());
    put(&mut text, "contact_id", &f.contact_id.to_string());
    put(&mut text, "consent_type_id", &f.consent_type_id.to_string());
    put(&mut text, "text_version", &f.text_version.to_string());
    put(&mut text, "status_id", &f.status_id.to_string());
    put(&mut text, "meaning", f.meaning);
    put(&mut text, "legal_basis", f.legal_basis);
    put(&mut text, "method_id", &f.method_id.to_string());
    put(&mut text, "source", f.source);
    put(&mut text, "actor", f.actor);
    put(&mut text, "recorded_at", &f.recorded_at.to_string());
    put(&mut text, "given_at", &f.given_at.to_string());
    match f.evidence_hash {
        Some(hash) => put(&mut text, "evidence_hash", hash),
        None => text.push_str("evidence_hash=-\n"),
    }
    put(&mut text, "prev_hash", f.prev_hash);
    sha256_hex(text.as_bytes())
}

fn put(text: &mut String, name: &str, value: &str) {
    // Writing to a String cannot fail.
    let _ = writeln!(text, "{name}={}:{value}", value.len());
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The last entry of the ledger, kept in its own row and written in the same
/// transaction as every entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerHead {
    /// 0 while the ledger is empty.
    pub seq: LedgerSeq,
    pub hash: String,
}

pub(super) fn head(conn: &Connection) -> Result<LedgerHead> {
    let head = conn
        .prepare_cached("SELECT seq, hash FROM ledger_head WHERE id = 1")?
        .query_row([], |row| {
            Ok(LedgerHead {
                seq: row.get(0)?,
                hash: row.get(1)?,
            })
        })?;
    Ok(head)
}

pub(super) fn set_head(conn: &Connection, head: &LedgerHead) -> Result<()> {
    conn.prepare_cached("UPDATE ledger_head SET seq = ?1, hash = ?2 WHERE id = 1")?
        .execute(params![head.seq, head.hash])?;
    Ok(())
}

/// What `verify_ledger` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerReport {
    /// Entries in the ledger.
    pub entries: u64,
    pub ok: bool,
    /// The first problem, in seq order.
    pub problem: Option<LedgerProblem>,
    pub head: LedgerHead,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerProblem {
    /// The entry that is wrong, or the first one that is missing.
    pub seq: LedgerSeq,
    pub kind: LedgerProblemKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerProblemKind {
    /// The entry's fields no longer hash to its hash.
    Edited,
    /// An entry is missing: the seq numbers have a gap.
    Deleted,
    /// The entry does not link to the one before it: that one was rewritten
    /// with a fresh hash, or entries were deleted and renumbered or reordered.
    Relinked,
    /// Evidence still on file no longer hashes to the entry's evidence hash.
    EvidenceEdited,
    /// Entries are missing from the end (the head records more).
    Truncated,
    /// Entries were added without going through the store.
    Appended,
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

impl Store {
    /// The last entry's seq and hash: publish it to anchor the chain.
    pub fn ledger_head(&self) -> Result<LedgerHead> {
        head(&self.conn)
    }

    /// Recomputes the whole chain and reports the first broken entry.
    /// Erased evidence and personal data do not break it: only the evidence
    /// still on file is checked against its hash.
    pub fn verify_ledger(&self) -> Result<LedgerReport> {
        let head = head(&self.conn)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.seq, l.contact_id, l.consent_type_id, l.text_version, l.status_id,
                    l.meaning, l.legal_basis, l.method_id, l.source, l.actor, l.recorded_at,
                    l.given_at, l.evidence_hash, l.prev_hash, l.hash, e.evidence
             FROM consent_ledger l LEFT JOIN consent_evidence e ON e.seq = l.seq
             ORDER BY l.seq",
        )?;
        let mut rows = stmt.query([])?;
        let mut entries = 0_u64;
        let mut expected = 1_i64;
        let mut prev = GENESIS_HASH.to_owned();
        let mut problem = None;
        while let Some(row) = rows.next()? {
            entries += 1;
            if problem.is_some() {
                continue;
            }
            let seq: i64 = row.get(0)?;
            let fields = Fields {
                seq,
                contact_id: row.get(1)?,
                consent_type_id: row.get(2)?,
                text_version: row.get(3)?,
                status_id: row.get(4)?,
                meaning: row.get_ref(5)?.as_str()?,
                legal_basis: row.get_ref(6)?.as_str()?,
                method_id: row.get(7)?,
                source: row.get_ref(8)?.as_str()?,
                actor: row.get_ref(9)?.as_str()?,
                recorded_at: row.get(10)?,
                given_at: row.get(11)?,
                evidence_hash: row.get_ref(12)?.as_str_or_null()?,
                prev_hash: row.get_ref(13)?.as_str()?,
            };
            let stored: &str = row.get_ref(14)?.as_str()?;
            let evidence: Option<&str> = row.get_ref(15)?.as_str_or_null()?;
            problem = check_entry(&fields, stored, evidence, expected, &prev);
            prev = stored.to_owned();
            expected = seq + 1;
        }
        let last = expected - 1;
        if problem.is_none() {
            problem = check_head(&head, last, &prev);
        }
        Ok(LedgerReport {
            entries,
            ok: problem.is_none(),
            problem,
            head,
        })
    }
}

fn check_entry(
    f: &Fields<'_>,
    stored: &str,
    evidence: Option<&str>,
    expected: i64,
    prev: &str,
) -> Option<LedgerProblem> {
    let problem = |seq: i64, kind, message| {
        Some(LedgerProblem {
            seq: LedgerSeq(seq),
            kind,
            message,
        })
    };
    if f.seq != expected {
        let missing = if f.seq - expected == 1 {
            format!("entry {expected} is missing")
        } else {
            format!("entries {expected} to {} are missing", f.seq - 1)
        };
        let message = format!(
            "{missing}: the ledger goes from {} to {}",
            expected - 1,
            f.seq
        );
        return problem(expected, LedgerProblemKind::Deleted, message);
    }
    let computed = entry_hash(f);
    if computed != stored {
        let message = format!(
            "entry {} was edited: its fields hash to {} but it records {}",
            f.seq,
            short(&computed),
            short(stored)
        );
        return problem(f.seq, LedgerProblemKind::Edited, message);
    }
    if f.prev_hash != prev {
        let message = format!(
            "entry {} does not follow entry {}: it links to {} but entry {} hashes to {}",
            f.seq,
            f.seq - 1,
            short(f.prev_hash),
            f.seq - 1,
            short(prev)
        );
        return problem(f.seq, LedgerProblemKind::Relinked, message);
    }
    if let Some(evidence) = evidence
        && f.evidence_hash != Some(sha256_hex(evidence.as_bytes()).as_str())
    {
        let message = format!("the evidence of entry {} was edited", f.seq);
        return problem(f.seq, LedgerProblemKind::EvidenceEdited, message);
    }
    None
}

fn check_head(head: &LedgerHead, last: i64, last_hash: &str) -> Option<LedgerProblem> {
    let (seq, kind, message) = if head.seq.0 > last {
        (
            last + 1,
            LedgerProblemKind::Truncated,
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
            LedgerProblemKind::Appended,
            format!(
                "entry {} was appended outside the store: the head records {}",
                head.seq.0 + 1,
                head.seq
            ),
        )
    } else if head.hash != last_hash {
        (
            last,
            LedgerProblemKind::Edited,
            format!("entry {last} was rewritten: its hash no longer matches the ledger head"),
        )
    } else {
        return None;
    };
    Some(LedgerProblem {
        seq: LedgerSeq(seq),
        kind,
        message,
    })
}
