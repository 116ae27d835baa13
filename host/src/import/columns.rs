//! The header row: which column holds what, under the names people write;
//! and each data row turned into an [`ImportRow`], or the problems of its
//! cells.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::ImportError;
use super::sheet::{Cell, Line};
use crate::store::{ContactId, ContactKey, ImportField, ImportRow, RowProblem, parse_date};

/// The header names each column is known by (compared ignoring case, with
/// spaces and dashes read as `_`). The first name is the one reports use.
const NAMES: &[(ImportField, &[&str])] = &[
    (
        ImportField::Contact,
        &["contact", "contact_id", "id", "email", "e_mail"],
    ),
    (
        ImportField::Consent,
        &["consent", "consent_type", "consent_code"],
    ),
    (ImportField::Status, &["status", "status_code"]),
    (
        ImportField::Date,
        &["date", "given_at", "consent_date", "changed_at"],
    ),
    (ImportField::Way, &["way", "method", "way_of_giving"]),
];

/// The columns a file must have; `date` and `way` may be left out.
const REQUIRED: [ImportField; 3] = [
    ImportField::Contact,
    ImportField::Consent,
    ImportField::Status,
];

/// Every accepted header name, for messages.
pub(crate) fn accepted_names() -> String {
    NAMES
        .iter()
        .flat_map(|(_, names)| names.iter())
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where one field is: its index in the row, its letter, its header.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub field: ImportField,
    pub index: usize,
    pub letter: String,
    pub header: String,
}

/// The header row, read.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub columns: Vec<Column>,
}

/// `A`, `B`, ..., `Z`, `AA`, ... for a 0-based column.
pub(crate) fn letter(mut index: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + u8::try_from(index % 26).unwrap_or(0));
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn normalize(name: &str) -> String {
    name.trim().to_lowercase().replace([' ', '-'], "_")
}

/// Maps the header row; names every unknown, repeated or missing column.
pub(crate) fn header(line: &Line) -> Result<Header, ImportError> {
    let mut columns: Vec<Column> = Vec::new();
    let mut problems = Vec::new();
    for (index, cell) in line.cells.iter().enumerate() {
        let letter = letter(line.first_column + u32::try_from(index).unwrap_or(0));
        let name = match cell {
            Cell::Blank => continue,
            other => other.shown(),
        };
        let found = NAMES
            .iter()
            .find(|(_, names)| names.contains(&normalize(&name).as_str()));
        match found {
            None => problems.push(format!("column {letter} `{name}` is not a known column")),
            Some((field, _)) => {
                if let Some(first) = columns.iter().find(|c| c.field == *field) {
                    problems.push(format!(
                        "columns {} `{}` and {letter} `{name}` both give the {}",
                        first.letter,
                        first.header,
                        field_name(*field)
                    ));
                } else {
                    columns.push(Column {
                        field: *field,
                        index,
                        letter,
                        header: name,
                    });
                }
            }
        }
    }
    for field in REQUIRED {
        if !columns.iter().any(|c| c.field == field) {
            problems.push(format!("no column gives the {}", field_name(field)));
        }
    }
    if problems.is_empty() {
        Ok(Header { columns })
    } else {
        Err(ImportError::BadHeader {
            row: line.number,
            problems,
        })
    }
}

/// What a column holds, in words.
pub(crate) fn field_name(field: ImportField) -> &'static str {
    match field {
        ImportField::Contact => "contact (id or email)",
        ImportField::Consent => "consent (a consent type code)",
        ImportField::Status => "status (a status code)",
        ImportField::Date => "date (when it was given or changed)",
        ImportField::Way => "way of giving (a method code)",
    }
}

impl Header {
    /// The column of `field`, if the file has one.
    pub(crate) fn column(&self, field: ImportField) -> Option<&Column> {
        self.columns.iter().find(|c| c.field == field)
    }

    /// The cell of `field` in `line`; blank when there is none.
    pub(crate) fn cell<'a>(&self, line: &'a Line, field: ImportField) -> &'a Cell {
        self.column(field)
            .and_then(|c| line.cells.get(c.index))
            .unwrap_or(&Cell::Blank)
    }

    /// One data row as an [`ImportRow`], and the problems of its cells.
    /// A row comes back whenever its contact and consent can be read (a
    /// bad date reads as blank), so the store still checks its codes and
    /// the report names every problem of the row at once.
    pub(crate) fn row(&self, line: &Line) -> (Option<ImportRow>, Vec<RowProblem>) {
        let mut problems = Vec::new();
        let mut bad = |field, cell: &Cell, why: String| {
            problems.push(RowProblem {
                line: line.number,
                field: Some(field),
                value: cell.shown(),
                problem: why,
            });
        };
        let contact_cell = self.cell(line, ImportField::Contact);
        let by_email = self
            .column(ImportField::Contact)
            .is_some_and(|c| normalize(&c.header).contains("mail"));
        let contact = contact_key(contact_cell, by_email)
            .map_err(|why| bad(ImportField::Contact, contact_cell, why))
            .ok();
        let consent_cell = self.cell(line, ImportField::Consent);
        let consent = code(consent_cell)
            .ok_or(())
            .map_err(|()| {
                bad(
                    ImportField::Consent,
                    consent_cell,
                    "give the consent type's code (`crm-consent types list` shows them)".to_owned(),
                )
            })
            .ok();
        let status = code(self.cell(line, ImportField::Status));
        let way = code(self.cell(line, ImportField::Way));
        let date_cell = self.cell(line, ImportField::Date);
        let given_at = date(date_cell)
            .map_err(|why| bad(ImportField::Date, date_cell, why))
            .ok();
        let row = match (contact, consent) {
            (Some(contact), Some(consent_type)) => Some(ImportRow {
                line: line.number,
                contact,
                consent_type,
                status,
                given_at: given_at.flatten(),
                way,
            }),
            _ => None,
        };
        (row, problems)
    }
}

/// A code cell: text as written, a whole number as its digits.
fn code(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Blank => None,
        Cell::Number(n) if n.fract() == 0.0 => Some(format!("{n:.0}")),
        other => Some(other.shown()),
    }
}

fn contact_key(cell: &Cell, by_email: bool) -> Result<ContactKey, String> {
    let id = |n: f64| {
        if n.fract() == 0.0 && (1.0..=9.0e15).contains(&n) {
            Ok(ContactKey::Id(ContactId(n as i64)))
        } else {
            Err("not a contact id; give a whole number or an email".to_owned())
        }
    };
    match cell {
        Cell::Blank => Err("give the contact's id or email".to_owned()),
        Cell::Number(n) if !by_email => id(*n),
        Cell::Text(t) if t.contains('@') => Ok(ContactKey::Email(t.clone())),
        Cell::Text(t) if !by_email => match t.parse::<i64>() {
            Ok(n) if n > 0 => Ok(ContactKey::Id(ContactId(n))),
            _ => Err("neither a contact id nor an email; give a whole number or an email".into()),
        },
        _ if by_email => Err("not an email address; give one like `name@example.com`".into()),
        _ => Err("neither a contact id nor an email; give a whole number or an email".into()),
    }
}

/// A date cell: a real date cell, or text as RFC 3339 (`2024-05-01T10:00:00Z`),
/// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM[:SS]` (UTC). `Ok(None)` when blank.
fn date(cell: &Cell) -> Result<Option<DateTime<Utc>>, String> {
    const EXPECTED: &str = "write YYYY-MM-DD, `YYYY-MM-DD HH:MM` (UTC) or an RFC 3339 time, \
                            or format the cell as a date";
    match cell {
        Cell::Blank => Ok(None),
        Cell::Date(at) => Ok(Some(at.and_utc())),
        Cell::Text(t) => {
            if let Ok(at) = parse_date("date", t) {
                return Ok(Some(at));
            }
            for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
                if let Ok(at) = NaiveDateTime::parse_from_str(t, format) {
                    return Ok(Some(at.and_utc()));
                }
            }
            // A day that does not exist (2024-02-30) gets its own word.
            if t.len() == 10
                && NaiveDate::parse_from_str(t, "%Y-%m-%d").is_err()
                && t.as_bytes()[4] == b'-'
            {
                return Err(format!("no such day in the calendar; {EXPECTED}"));
            }
            Err(format!("not a date; {EXPECTED}"))
        }
        Cell::Number(_) => Err(format!("a number, not a date; {EXPECTED}")),
        Cell::Other(_) => Err(format!("not a date; {EXPECTED}")),
    }
}
