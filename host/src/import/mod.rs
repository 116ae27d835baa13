//! Import of consents from a file (Livespace: consents for many people from
//! an xls file): csv, xls, xlsx and ods, with a header row naming the
//! columns.
//!
//! The CLI (`crm-consent import`) and the HTTP route (`POST /imports`) both
//! call [`import`]: it reads the file, checks every row, and hands the rows
//! to [`Store::import_consents`], which writes all of them in one
//! transaction or none.
//!
//! The rules, in one place:
//! - a row is `contact` (id or email), `consent` (type code), `status`
//!   (status code), and optionally `date` and `way` (method code);
//! - a blank cell never erases a stored value: a blank status keeps the
//!   stored status (nothing is written), a blank date means "now", a blank
//!   way records no way of giving in the evidence;
//! - every entry records the way `import`, and as evidence the file's
//!   SHA-256, the row number and the file's way of giving.

mod columns;
mod report;
mod sheet;

use std::fmt;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use report::{BadCell, BadRow, ImportReport};

use crate::store::{
    ImportBatch, ImportFailure, ImportRow, ImportStage, RowProblem, Store, StoreError,
};

/// The file formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// Comma- or semicolon-separated UTF-8 text with a header line.
    Csv,
    /// Excel 97-2003.
    Xls,
    /// Excel 2007 and later.
    Xlsx,
    /// OpenDocument spreadsheet (LibreOffice).
    Ods,
}

impl ImportFormat {
    /// The format's name, as in `--format` and `?format=`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Csv => "csv",
            ImportFormat::Xls => "xls",
            ImportFormat::Xlsx => "xlsx",
            ImportFormat::Ods => "ods",
        }
    }

    /// The format a file name's extension names.
    pub fn of_path(path: &Path) -> Result<ImportFormat, ImportError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        ext.parse()
    }
}

impl fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ImportFormat {
    type Err = ImportError;

    fn from_str(s: &str) -> Result<Self, ImportError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(ImportFormat::Csv),
            "xls" => Ok(ImportFormat::Xls),
            "xlsx" | "xlsm" => Ok(ImportFormat::Xlsx),
            "ods" => Ok(ImportFormat::Ods),
            _ => Err(ImportError::UnknownFormat(s.to_owned())),
        }
    }
}

/// Why a file was not imported. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A format name or extension that is not csv, xls, xlsx or ods.
    #[error("unknown import format `{0}`; use one of `csv`, `xls`, `xlsx`, `ods`")]
    UnknownFormat(String),
    /// The bytes are not a file of the format (garbage, truncated, another
    /// format).
    #[error(
        "the file cannot be read as {format}: {why}; check that the file is complete and that its format is {format} (or pass the right --format)"
    )]
    Unreadable {
        /// The format it was read as.
        format: ImportFormat,
        /// What the reader said.
        why: String,
    },
    /// The file has no rows at all.
    #[error(
        "the file is empty; its first row must name the columns ({})",
        columns::accepted_names()
    )]
    Empty,
    /// The header row names unknown or repeated columns, or lacks one.
    #[error("the header row (row {row}) cannot be used: {}; the columns are named {}", .problems.join("; "), columns::accepted_names())]
    BadHeader {
        /// The header's row number.
        row: u32,
        /// Each problem, naming the column.
        problems: Vec<String>,
    },
    /// Rows that cannot be imported: one line per row.
    #[error("{} row(s) cannot be imported, so nothing was imported:\n{}", .0.len(), report::lines(.0))]
    InvalidRows(Vec<BadRow>),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ImportError {
    /// A stable snake_case name for the kind of error.
    pub const fn code(&self) -> &'static str {
        match self {
            ImportError::UnknownFormat(_) => "unknown_format",
            ImportError::Unreadable { .. } => "unreadable_file",
            ImportError::Empty => "empty_file",
            ImportError::BadHeader { .. } => "bad_header",
            ImportError::InvalidRows(_) => "invalid_rows",
            ImportError::Store(e) => e.code(),
        }
    }
}

/// What to import and how.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions<'a> {
    /// How to read the bytes.
    pub format: ImportFormat,
    /// Report what would change; write nothing.
    pub dry_run: bool,
    /// Who imports (recorded in the ledger).
    pub actor: &'a str,
}

/// The file's SHA-256, hex.
fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Reads `bytes`, checks every row, and imports them all or none (see the
/// module's rules). `progress` hears the stage and rows done so far.
pub fn import(
    store: &mut Store,
    bytes: &[u8],
    opts: ImportOptions<'_>,
    progress: &mut dyn FnMut(ImportStage, usize, usize),
) -> Result<ImportReport, ImportError> {
    let file_sha256 = sha256(bytes);
    let lines = sheet::read(bytes, opts.format)?;
    let (head, data) = lines.split_first().ok_or(ImportError::Empty)?;
    let header = columns::header(head)?;
    let mut rows: Vec<ImportRow> = Vec::with_capacity(data.len());
    let mut problems: Vec<RowProblem> = Vec::new();
    for line in data {
        let (row, p) = header.row(line);
        rows.extend(row);
        problems.extend(p);
    }
    let total = rows.len();
    let batch = ImportBatch {
        rows: &rows,
        file_sha256: &file_sha256,
        actor: opts.actor,
        // Rows that cannot be read still get the rest checked, so that one
        // report names every problem; but nothing is written then.
        dry_run: opts.dry_run || !problems.is_empty(),
    };
    let outcome = store.import_consents(&batch, &mut |stage, done| progress(stage, done, total));
    let outcomes = match outcome {
        Ok(outcomes) => outcomes,
        Err(ImportFailure::Store(e)) => return Err(e.into()),
        Err(ImportFailure::Rows(more)) => {
            problems.extend(more);
            Vec::new()
        }
    };
    if !problems.is_empty() {
        // Report each value as the file holds it, not as it was parsed.
        let by_number: std::collections::HashMap<u32, &sheet::Line> =
            data.iter().map(|l| (l.number, l)).collect();
        for p in &mut problems {
            if let (Some(field), Some(line)) = (p.field, by_number.get(&p.line)) {
                let shown = header.cell(line, field).shown();
                if !shown.is_empty() {
                    p.value = shown;
                }
            }
        }
        return Err(ImportError::InvalidRows(report::bad_rows(
            &header, problems,
        )));
    }
    Ok(ImportReport::new(
        opts.format,
        file_sha256,
        opts.dry_run,
        outcomes,
    ))
}
