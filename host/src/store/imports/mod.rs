//! The store's half of an import (Livespace: consents for many people from a
//! file): every row is checked and classified against what is stored, then,
//! only if every row passed, all of them are written in the same
//! transaction. A crash or a kill in the middle leaves nothing: SQLite
//! rolls the open transaction back.
//!
//! Reading the file and its columns is `crate::import`; this module gets
//! rows already parsed and says, per row, what would change.

mod check;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ledger::write;
use super::{ContactId, LedgerSeq, Store, StoreError};
use check::{Lookups, Staged, check_row};

/// The way of giving every imported entry records in the ledger; the way
/// the file names is kept in the entry's evidence.
pub const IMPORT_METHOD: &str = "import";

/// How a row names its contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactKey {
    /// By id.
    Id(ContactId),
    /// By email address, ignoring case; it must name exactly one contact.
    Email(String),
}

/// The columns an import reads, for naming the one at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportField {
    /// The contact's id or email.
    Contact,
    /// The consent type's code.
    Consent,
    /// The status code.
    Status,
    /// When the consent was given or changed.
    Date,
    /// The way it was given (method code).
    Way,
}

/// One parsed row of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The row's number as a spreadsheet shows it (the header is row 1).
    pub line: u32,
    /// Who it is about.
    pub contact: ContactKey,
    /// The consent type's code.
    pub consent_type: String,
    /// The status code; `None` (a blank cell) keeps the stored status.
    pub status: Option<String>,
    /// When it was given; `None` (a blank cell) means the time of the import.
    pub given_at: Option<DateTime<Utc>>,
    /// The way it was given, as the file says; kept in the evidence.
    pub way: Option<String>,
}

/// What one import writes, and how it proves where it came from.
#[derive(Debug, Clone, Copy)]
pub struct ImportBatch<'a> {
    /// The rows, in file order.
    pub rows: &'a [ImportRow],
    /// SHA-256 of the file, hex: in every entry's evidence and its source.
    pub file_sha256: &'a str,
    /// Who imports.
    pub actor: &'a str,
    /// Check and classify only; write nothing.
    pub dry_run: bool,
}

/// What a row does to the stored consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowChange {
    /// The contact had no consent of this type: one is recorded.
    New,
    /// Another status was stored: the new one is recorded.
    Changed,
    /// The same status is stored, or the status cell is blank: nothing is
    /// written, so importing a file twice records it once.
    Unchanged,
    /// The stored consent is newer than the row's date: nothing is written
    /// (an older fact never overrides a later one).
    Outdated,
}

/// What one valid row does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowOutcome {
    /// The row's number in the file.
    pub line: u32,
    /// The contact it names.
    pub contact: ContactId,
    /// The consent type's code.
    pub consent_type: String,
    /// The status the row records or keeps; empty when blank and kept.
    pub status: String,
    /// What it changes.
    pub change: RowChange,
    /// The ledger entry written; `None` in a dry run or when nothing changes.
    pub seq: Option<LedgerSeq>,
}

/// What is wrong with one cell of a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// The row's number in the file.
    pub line: u32,
    /// The column at fault, when one is.
    pub field: Option<ImportField>,
    /// The cell's value as read.
    pub value: String,
    /// What is wrong and what to do.
    pub problem: String,
}

/// Which half of the work a progress count is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStage {
    /// Checking and classifying rows.
    Checking,
    /// Writing ledger entries.
    Writing,
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// Rows that cannot be imported, in file order.
    #[error("{} row(s) cannot be imported", .0.len())]
    Rows(Vec<RowProblem>),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Imports consents: checks and classifies every row, then, unless
    /// `batch.dry_run` or a row failed, writes one ledger entry (way
    /// [`IMPORT_METHOD`], the file's SHA-256 and the row in the evidence)
    /// per row that changes something. All in one transaction: all rows or
    /// none. `progress` hears how many rows of each stage are done.
    pub fn import_consents(
        &mut self,
        batch: &ImportBatch<'_>,
        progress: &mut dyn FnMut(ImportStage, usize),
    ) -> Result<Vec<RowOutcome>, ImportFailure> {
        super::contacts::check_actor(batch.actor)?;
        self.write_recorded_with(|tx, now| {
            let mut cache = Lookups::default();
            let mut staged = Staged::new();
            let mut problems = Vec::new();
            let mut outcomes = Vec::with_capacity(batch.rows.len());
            for index in 0..batch.rows.len() {
                let row = check_row(
                    tx,
                    index,
                    batch,
                    now,
                    &mut cache,
                    &mut staged,
                    &mut problems,
                )?;
                outcomes.extend(row);
                if index % 1024 == 1023 {
                    progress(ImportStage::Checking, index + 1);
                }
            }
            progress(ImportStage::Checking, batch.rows.len());
            if !problems.is_empty() {
                return Err(ImportFailure::Rows(problems));
            }
            if batch.dry_run {
                return Ok(outcomes);
            }
            let mut seqs = HashMap::with_capacity(staged.len());
            let total = staged.len();
            for (done, (index, consent, resolved)) in staged.into_iter().enumerate() {
                let entry = write(tx, &consent, resolved, now)?;
                seqs.insert(batch.rows[index].line, entry.seq);
                if done % 1024 == 1023 {
                    progress(ImportStage::Writing, done + 1);
                }
            }
            progress(ImportStage::Writing, total);
            for outcome in &mut outcomes {
                outcome.seq = seqs.get(&outcome.line).copied();
            }
            Ok(outcomes)
        })
    }
}
