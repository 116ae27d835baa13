//! What an import says: per row, what changed; or, per bad row, one line
//! naming the row, the column (letter and header) and the value, and what
//! to do.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::ImportFormat;
use super::columns::{Header, field_name};
use crate::store::{ImportField, RowChange, RowOutcome, RowProblem};

/// The result of an import or a dry run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// How the file was read.
    pub format: ImportFormat,
    /// SHA-256 of the file, hex: in every entry's evidence.
    pub file_sha256: String,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Data rows read.
    pub rows: usize,
    /// Rows that record a consent the contact did not have.
    pub new: usize,
    /// Rows that record another status than the stored one.
    pub changed: usize,
    /// Rows with the stored status or a blank one: nothing written.
    pub unchanged: usize,
    /// Rows older than the stored consent: nothing written.
    pub outdated: usize,
    /// Ledger entries written (0 in a dry run).
    pub written: usize,
    /// Each row, in file order.
    pub outcomes: Vec<RowOutcome>,
}

impl ImportReport {
    pub(crate) fn new(
        format: ImportFormat,
        file_sha256: String,
        dry_run: bool,
        outcomes: Vec<RowOutcome>,
    ) -> Self {
        let count = |c: RowChange| outcomes.iter().filter(|o| o.change == c).count();
        ImportReport {
            format,
            file_sha256,
            dry_run,
            rows: outcomes.len(),
            new: count(RowChange::New),
            changed: count(RowChange::Changed),
            unchanged: count(RowChange::Unchanged),
            outdated: count(RowChange::Outdated),
            written: outcomes.iter().filter(|o| o.seq.is_some()).count(),
            outcomes,
        }
    }
}

/// One cell at fault.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BadCell {
    /// Its column's letter, e.g. `C`; absent when the whole row is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Its column's header as written in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// What the column holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<ImportField>,
    /// The value as read.
    pub value: String,
    /// What is wrong and what to do.
    pub problem: String,
}

/// A row that cannot be imported, with every cell at fault.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BadRow {
    /// The row's number as a spreadsheet shows it (the header is row 1).
    pub row: u32,
    /// The cells at fault.
    pub cells: Vec<BadCell>,
    /// The same as one line of text.
    pub line: String,
}

/// Groups problems by row, in row order, each row's cells in column order.
pub(crate) fn bad_rows(header: &Header, problems: Vec<RowProblem>) -> Vec<BadRow> {
    let mut by_row: BTreeMap<u32, Vec<BadCell>> = BTreeMap::new();
    for p in problems {
        let column = p.field.and_then(|f| header.column(f));
        let cell = BadCell {
            column: column.map(|c| c.letter.clone()),
            header: column.map(|c| c.header.clone()),
            field: p.field,
            value: p.value,
            problem: p.problem,
        };
        by_row.entry(p.line).or_default().push(cell);
    }
    by_row
        .into_iter()
        .map(|(row, mut cells)| {
            cells.sort_by(|a, b| {
                (a.column.as_ref().map(String::len), &a.column)
                    .cmp(&(b.column.as_ref().map(String::len), &b.column))
            });
            let line = line(row, &cells);
            BadRow { row, cells, line }
        })
        .collect()
}

fn line(row: u32, cells: &[BadCell]) -> String {
    let parts: Vec<String> = cells
        .iter()
        .map(|c| {
            let value = if c.value.is_empty() {
                "blank".to_owned()
            } else {
                format!("`{}`", c.value)
            };
            match (&c.column, &c.header, c.field) {
                (Some(col), Some(header), _) => {
                    format!("column {col} `{header}` = {value}: {}", c.problem)
                }
                (_, _, Some(field)) => {
                    format!(
                        "the {} (no such column) = {value}: {}",
                        field_name(field),
                        c.problem
                    )
                }
                _ => c.problem.clone(),
            }
        })
        .collect();
    format!("row {row}: {}", parts.join("; "))
}

/// The report's lines, one per bad row.
pub(crate) fn lines(rows: &[BadRow]) -> String {
    rows.iter()
        .map(|r| r.line.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}
