//! Signed checkpoints: a small statement of how long both chains are and
//! what their last hashes are, signed with the installation's Ed25519 key.
//!
//! This is how Certificate Transparency monitors and immudb clients keep a
//! trusted state outside the server. An operator stores the checkpoint
//! somewhere the database's writers cannot reach (or the service posts it to
//! a webhook); `ledger verify --checkpoint FILE` then proves that today's
//! ledger *extends* it: entry N still has the hash it had then. A truncated,
//! rewritten or re-hashed history fails, even if every hash after the change
//! was recomputed.

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::super::chain::{self, Canon, short};
use super::super::checkpoint_key::{public_key, signing_key};
use super::super::decisions;
use super::super::{Result, Store, StoreError};
use super::verify::{LedgerProblem, LedgerProblemKind, LedgerReport};

/// The format name inside every checkpoint.
const FORMAT: &str = "crm-consent checkpoint v1";

/// A signed statement of both chains' length and head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always `crm-consent checkpoint v1`; names the signed layout.
    pub format: String,
    /// Entries in the ledger, and the hash of the last one.
    pub ledger_entries: u64,
    /// The hash of the last ledger entry.
    pub ledger_head: String,
    /// Rows in the decision log, and the hash of the last one.
    pub decision_entries: u64,
    /// The hash of the last decision-log row.
    pub decision_head: String,
    /// When the checkpoint was made.
    pub at: DateTime<Utc>,
    /// The installation's Ed25519 public key, hex.
    pub public_key: String,
    /// Ed25519 signature over the fields above, hex.
    pub signature: String,
}

impl Checkpoint {
    fn signed_text(&self) -> String {
        let canon = Canon::new(&self.format)
            .int("ledger_entries", self.ledger_entries as i64)
            .text("ledger_head", &self.ledger_head)
            .int("decision_entries", self.decision_entries as i64)
            .text("decision_head", &self.decision_head)
            .int("at", self.at.timestamp())
            .text("public_key", &self.public_key);
        canon.into_text()
    }

    /// Checks the signature against the key the checkpoint names.
    fn signature_ok(&self) -> bool {
        let Ok(key) = hex::decode(&self.public_key) else {
            return false;
        };
        let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) else {
            return false;
        };
        let Ok(key) = VerifyingKey::from_bytes(&key) else {
            return false;
        };
        let Ok(sig) = hex::decode(&self.signature) else {
            return false;
        };
        let Ok(sig) = Signature::from_slice(&sig) else {
            return false;
        };
        key.verify(self.signed_text().as_bytes(), &sig).is_ok()
    }
}

fn problem(message: String) -> Option<LedgerProblem> {
    Some(LedgerProblem {
        kind: LedgerProblemKind::Checkpoint,
        seq: None,
        decision: None,
        table: None,
        message,
    })
}

impl Store {
    /// Signs a checkpoint of the ledger and the decision log as they are now.
    /// Verify first: a checkpoint of a damaged ledger would vouch for it.
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        let report = self.verify_ledger()?;
        if let Some(p) = report.problem {
            return Err(StoreError::Invalid {
                field: "ledger",
                why: format!(
                    "it does not verify, so no checkpoint was signed: {}",
                    p.message
                ),
            });
        }
        let (decision_entries, decision_head) = decisions::head(&self.conn)?;
        let key = signing_key(&self.conn)?;
        let mut cp = Checkpoint {
            format: FORMAT.to_owned(),
            ledger_entries: report.head.seq.0 as u64,
            ledger_head: report.head.hash,
            decision_entries,
            decision_head,
            at: Utc::now(),
            public_key: hex::encode(key.verifying_key().as_bytes()),
            signature: String::new(),
        };
        cp.signature = hex::encode(key.sign(cp.signed_text().as_bytes()).to_bytes());
        Ok(cp)
    }

    /// Verifies the ledger and proves that it extends `cp`: the checkpoint is
    /// genuine (signed by this installation's key), and both chains still
    /// hold, at the checkpoint's length, the hashes it recorded.
    pub fn verify_ledger_against(&self, cp: &Checkpoint) -> Result<LedgerReport> {
        let (mut report, hash_at) = self.verify_extending(Some(cp.ledger_entries))?;
        let found = self.checkpoint_problem(cp, hash_at.as_deref(), &report)?;
        if report.problem.is_none() {
            report.problem = found;
            report.ok = report.problem.is_none();
        }
        Ok(report)
    }

    fn checkpoint_problem(
        &self,
        cp: &Checkpoint,
        hash_at: Option<&str>,
        report: &LedgerReport,
    ) -> Result<Option<LedgerProblem>> {
        if cp.format != FORMAT {
            return Ok(problem(format!(
                "the checkpoint's format is `{}`, expected `{FORMAT}`",
                cp.format
            )));
        }
        if !cp.signature_ok() {
            return Ok(problem(
                "the checkpoint's signature does not match its contents: it was altered".to_owned(),
            ));
        }
        if cp.public_key != public_key(&self.conn)? {
            return Ok(problem(format!(
                "the checkpoint was signed by key {}, not by this database's key: \
                 the database was replaced, or the checkpoint is another installation's",
                short(&cp.public_key)
            )));
        }
        let ledger_entries = report.head.seq.0 as u64;
        if ledger_entries < cp.ledger_entries {
            return Ok(problem(format!(
                "the ledger has {ledger_entries} entries but the checkpoint saw {}: it was truncated",
                cp.ledger_entries
            )));
        }
        let expected = if cp.ledger_entries == 0 {
            Some(chain::GENESIS_HASH)
        } else {
            hash_at
        };
        if cp.ledger_entries > 0 && expected != Some(cp.ledger_head.as_str()) {
            return Ok(problem(format!(
                "entry {} now hashes to {} but the checkpoint recorded {}: the history was rewritten",
                cp.ledger_entries,
                short(expected.unwrap_or("-")),
                short(&cp.ledger_head)
            )));
        }
        let decision_at = decisions::hash_at(&self.conn, cp.decision_entries)?;
        if decision_at.as_deref() != Some(cp.decision_head.as_str()) {
            return Ok(problem(format!(
                "the decision log no longer holds, at row {}, the hash the checkpoint recorded ({}): \
                 it was truncated or rewritten",
                cp.decision_entries,
                short(&cp.decision_head)
            )));
        }
        Ok(None)
    }
}
