//! Access and portability (Art. 15 and 20): everything the store holds about
//! a contact, read in one transaction, as JSON-LD with W3C DPV terms and
//! ISO/IEC TS 27560 consent records, or as one CSV with a `kind` column.
//!
//! [`export_contact`] and [`export_contacts`] read the typed [`Export`];
//! [`render`] writes it in either [`ExportFormat`]. The CLI's `export` and
//! the API's `GET /contacts/{id}/export` call both; a filter's list of
//! contacts goes to [`export_contacts`] the same way.

mod csv;
mod dpv;
mod model;
mod read;

use std::fmt;
use std::str::FromStr;

pub use dpv::{DPV, SCHEMA_VERSION, basis_term, document, status_term};
pub use model::{ConsentEvent, ConsentRecord, CurrentState, Export, Justification};
pub use read::{export_contact, export_contacts, export_filtered};

pub use self::csv::COLUMNS as CSV_COLUMNS;
use crate::store::ParseError;

/// The formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// JSON-LD (Art. 20's structured, machine-readable format).
    Json,
    /// One CSV with a `kind` column, for a spreadsheet (Art. 15).
    Csv,
}

impl ExportFormat {
    /// Every format's name.
    pub const NAMES: &'static [&'static str] = &["json", "csv"];

    /// The name, as `--format` and `?format=` spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
        }
    }

    /// The media type of the rendered export.
    pub const fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Json => "application/ld+json",
            ExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }

    /// The file extension.
    pub const fn extension(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
        }
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExportFormat {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            _ => Err(ParseError {
                what: "export format",
                value: s.to_owned(),
                valid: ExportFormat::NAMES,
            }),
        }
    }
}

/// Renders exports: JSON is one document for one contact and an array of
/// documents for several; CSV is one file with a header row either way.
pub fn render(format: ExportFormat, exports: &[Export]) -> std::io::Result<Vec<u8>> {
    render_as(format, exports, exports.len() != 1)
}

/// [`render`] for the exports of a filter: JSON is always an array, of
/// however many contacts it selected (none or one too).
pub fn render_all(format: ExportFormat, exports: &[Export]) -> std::io::Result<Vec<u8>> {
    render_as(format, exports, true)
}

fn render_as(format: ExportFormat, exports: &[Export], array: bool) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    match format {
        ExportFormat::Json => {
            let value = match exports {
                [one] if !array => document(one),
                many => serde_json::Value::Array(many.iter().map(document).collect()),
            };
            serde_json::to_writer_pretty(&mut out, &value)?;
            out.push(b'\n');
        }
        ExportFormat::Csv => self::csv::write(exports, &mut out)?,
    }
    Ok(out)
}
