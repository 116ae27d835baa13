//! The hash chains: how a ledger entry and a decision-log row are hashed,
//! and the heads that record where each chain ends.
//!
//! Canonical encoding. A hash is SHA-256 over a header line (`crm-consent
//! ledger v2\n` or `crm-consent decisions v1\n`) followed, for each field in
//! a fixed order, by `name=<byte length>:<value>\n`, with integers in decimal
//! and a missing value written as `name=-\n`. The length prefix keeps free
//! text (actor, body) from ever spilling into the next field. Fields are
//! hashed as the text stored in the row, so verify needs no parsing to detect
//! an edit.
//!
//! An unkeyed chain proves that nothing was changed *unless the whole tail
//! was rewritten*; a signed checkpoint (`checkpoint`) kept outside the
//! database is what anchors it.

use std::fmt::Write as _;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{LedgerSeq, Result};

/// The `prev_hash` of the first entry of either chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Builds the canonical text of one chained row.
pub(super) struct Canon(String);

impl Canon {
    pub fn new(header: &str) -> Canon {
        let mut text = String::with_capacity(512);
        text.push_str(header);
        text.push('\n');
        Canon(text)
    }

    pub fn text(mut self, name: &str, value: &str) -> Canon {
        // Writing to a String cannot fail.
        let _ = writeln!(self.0, "{name}={}:{value}", value.len());
        self
    }

    pub fn int(self, name: &str, value: i64) -> Canon {
        self.text(name, &value.to_string())
    }

    pub fn opt(mut self, name: &str, value: Option<&str>) -> Canon {
        match value {
            Some(v) => self.text(name, v),
            None => {
                let _ = writeln!(self.0, "{name}=-");
                self
            }
        }
    }

    pub fn opt_int(self, name: &str, value: Option<i64>) -> Canon {
        let text = value.map(|v| v.to_string());
        self.opt(name, text.as_deref())
    }

    pub fn hash(self) -> String {
        sha256_hex(self.0.as_bytes())
    }

    pub fn into_text(self) -> String {
        self.0
    }
}

/// Everything the hash of one ledger entry covers: pseudonymous ids, codes,
/// admin-written catalog text, times and hashes, never a person's data.
pub(super) struct EntryFields<'a> {
    pub seq: i64,
    pub kind: &'a str,
    pub contact_id: Option<i64>,
    pub actor: &'a str,
    pub recorded_at: i64,
    pub body: &'a str,
    pub prev_hash: &'a str,
}

pub(super) fn entry_hash(f: &EntryFields<'_>) -> String {
    Canon::new("crm-consent ledger v2")
        .int("seq", f.seq)
        .text("kind", f.kind)
        .opt_int("contact_id", f.contact_id)
        .text("actor", f.actor)
        .int("recorded_at", f.recorded_at)
        .text("body", f.body)
        .text("prev_hash", f.prev_hash)
        .hash()
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The last entry of the ledger, kept in its own row and written in the same
/// transaction as every entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerHead {
    /// 0 while the ledger is empty.
    pub seq: LedgerSeq,
    /// The last entry's hash; [`GENESIS_HASH`] while the ledger is empty.
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

/// The last recorded time: recorded times never go backwards.
pub(super) fn head_recorded_at(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT recorded_at FROM ledger_head WHERE id = 1")?
        .query_row([], |row| row.get(0))?)
}

pub(super) fn set_head(conn: &Connection, head: &LedgerHead, recorded_at: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE ledger_head SET seq = ?1, hash = ?2, recorded_at = max(recorded_at, ?3) WHERE id = 1",
    )?
    .execute(params![head.seq, head.hash, recorded_at])?;
    Ok(())
}

/// Shortens a hash for messages.
pub(super) fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
