//! Reading an import file into cells: csv with the `csv` crate, xls, xlsx
//! and ods with calamine. Every cell keeps its position, so that problems
//! name the row and column a person sees.

use std::io::Cursor;

use calamine::{Data, Ods, Reader, Xls, Xlsx, open_workbook_from_rs};
use chrono::NaiveDateTime;

use super::{ImportError, ImportFormat};

/// One cell's value, as the file holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// Nothing, or only spaces.
    Blank,
    /// Text.
    Text(String),
    /// A number that is not a date.
    Number(f64),
    /// A date cell (a spreadsheet's serial date, converted).
    Date(NaiveDateTime),
    /// Anything else (a formula error, a boolean, a duration), as text.
    Other(String),
}

impl Cell {
    /// The value as a person would read it back in a report.
    pub(crate) fn shown(&self) -> String {
        match self {
            Cell::Blank => String::new(),
            Cell::Text(t) | Cell::Other(t) => t.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
        }
    }
}

/// A row of cells and its number as a spreadsheet shows it (from 1).
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub number: u32,
    /// The first cell's column, from 0 (a sheet may start right of A).
    pub first_column: u32,
    pub cells: Vec<Cell>,
}

/// Reads `bytes` as `format`: every non-blank row, in order.
pub(crate) fn read(bytes: &[u8], format: ImportFormat) -> Result<Vec<Line>, ImportError> {
    match format {
        ImportFormat::Csv => read_csv(bytes),
        ImportFormat::Xlsx => workbook::<Xlsx<_>>(bytes, format),
        ImportFormat::Xls => workbook::<Xls<_>>(bytes, format),
        ImportFormat::Ods => workbook::<Ods<_>>(bytes, format),
    }
}

fn unreadable(format: ImportFormat, why: impl std::fmt::Display) -> ImportError {
    ImportError::Unreadable {
        format,
        why: why.to_string(),
    }
}

fn workbook<R>(bytes: &[u8], format: ImportFormat) -> Result<Vec<Line>, ImportError>
where
    R: Reader<Cursor<Vec<u8>>>,
    R::Error: std::fmt::Display,
{
    let mut book: R =
        open_workbook_from_rs(Cursor::new(bytes.to_vec())).map_err(|e| unreadable(format, e))?;
    let range = match book.worksheet_range_at(0) {
        Some(range) => range.map_err(|e| unreadable(format, e))?,
        None => return Err(unreadable(format, "it has no sheet")),
    };
    let Some((top, left)) = range.start() else {
        return Ok(Vec::new());
    };
    let lines = range
        .rows()
        .enumerate()
        .map(|(i, cells)| Line {
            number: top + 1 + u32::try_from(i).unwrap_or(u32::MAX - top - 1),
            first_column: left,
            cells: cells.iter().map(cell_of).collect(),
        })
        .filter(|line| !line.cells.iter().all(|c| *c == Cell::Blank))
        .collect();
    Ok(lines)
}

fn cell_of(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Blank,
        Data::String(s) | Data::DateTimeIso(s) => text(s),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        // Excel and LibreOffice store dates as serial days; calamine turns
        // them into a time (1900 and 1904 epochs, and Excel's 1900 leap bug).
        Data::DateTime(d) if d.is_datetime() => match d.as_datetime() {
            Some(at) => Cell::Date(at),
            None => Cell::Other(d.as_f64().to_string()),
        },
        Data::DateTime(d) => Cell::Other(format!("a duration ({})", d.as_f64())),
        Data::DurationIso(s) => Cell::Other(s.clone()),
        Data::Bool(b) => Cell::Other(b.to_string()),
        Data::Error(e) => Cell::Other(format!("#{e:?}")),
    }
}

fn text(s: &str) -> Cell {
    let t = s.trim();
    if t.is_empty() {
        Cell::Blank
    } else {
        Cell::Text(t.to_owned())
    }
}

/// The separator of a csv file: `;` when the header has more of them than
/// commas (spreadsheets in many locales save csv so), else `,`.
fn delimiter(bytes: &[u8]) -> u8 {
    let header = bytes.split(|b| *b == b'\n').next().unwrap_or(bytes);
    let count = |c: u8| header.iter().filter(|b| **b == c).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Line>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(bytes))
        .from_reader(bytes);
    let mut lines = Vec::new();
    let mut record = csv::ByteRecord::new();
    // Line numbers counted from the bytes: the csv reader skips blank
    // lines without counting them, and a spreadsheet shows them as rows.
    let (mut line, mut counted_to) = (1_usize, 0_usize);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(unreadable(ImportFormat::Csv, e)),
        }
        let start = record.position().map_or(counted_to, |p| {
            usize::try_from(p.byte()).unwrap_or(counted_to)
        });
        let mut start = start.clamp(counted_to, bytes.len());
        // The reported start is before the blank lines it skipped.
        while matches!(bytes.get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        line += bytes[counted_to..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        counted_to = start;
        let number = u32::try_from(line).unwrap_or(u32::MAX);
        let cells = record
            .iter()
            .map(|field| match std::str::from_utf8(field) {
                Ok(s) => Ok(text(s)),
                Err(_) => Err(unreadable(
                    ImportFormat::Csv,
                    format!("row {number} is not UTF-8 text; save the file as UTF-8 csv"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !cells.iter().all(|c| *c == Cell::Blank) {
            lines.push(Line {
                number,
                first_column: 0,
                cells,
            });
        }
    }
    Ok(lines)
}
