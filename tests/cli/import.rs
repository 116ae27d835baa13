//! `import`: consents from csv and xlsx files, all rows or none, with the
//! file's SHA-256 and row as evidence, and a blank cell that never erases.
//! (The kill -9 test runs the real binary: host/tests/api/imports.rs.)

use std::path::PathBuf;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::Crm;

impl Crm {
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn import(&self, path: &std::path::Path, more: &[&str]) -> Value {
        let mut args = vec!["import", path.to_str().unwrap()];
        args.extend(more);
        self.json(&args)
    }

    fn head(&self) -> Value {
        self.json(&["ledger", "verify"])
    }

    /// The stored evidence of a ledger entry.
    fn evidence(&self, seq: &Value) -> Value {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        let text: String = conn
            .query_row(
                "SELECT evidence FROM consent_evidence WHERE seq = ?1",
                [seq.as_i64().unwrap()],
                |r| r.get(0),
            )
            .unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn last(history: &Value) -> &Value {
    history.as_array().unwrap().last().unwrap()
}

#[test]
fn a_csv_import_records_each_row_with_the_files_sha256_as_evidence() {
    let crm = Crm::ready();
    let ann = crm.contact("Ann", &[]);
    let bob = crm.contact("Bob", &[]);
    let csv = "Email,Consent,Status,Date,Way\n\
         ann@example.com,newsletter,given,2024-05-01,paper\n\
         BOB@example.com,email,refused,2024-06-01T10:30:00Z,\n\
         \n\
         ann@example.com,phone,given,2024-07-01 08:15,phone\n";
    let path = crm.file("consents.csv", csv.as_bytes());
    let report = crm.import(&path, &[]);
    assert_eq!(report["format"], "csv");
    assert_eq!(
        (report["rows"].as_u64(), report["new"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(report["written"], 3);
    assert_eq!(report["file_sha256"], sha256(csv.as_bytes()));
    // Row numbers as a spreadsheet shows them: the blank line 4 is skipped.
    let lines: Vec<u64> = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3, 5]);

    let history = crm.json(&["consent", "history", &ann]);
    let entry = &history.as_array().unwrap()[0];
    assert_eq!(entry["consent_type"], "newsletter");
    assert_eq!(entry["status_code"], "given");
    assert_eq!(entry["method"], "import");
    assert_eq!(entry["given_at"], "2024-05-01T00:00:00Z");
    assert_eq!(
        entry["source"],
        format!("import {}", &sha256(csv.as_bytes())[..16])
    );
    assert_eq!(
        crm.evidence(&entry["seq"]),
        serde_json::json!({"file_sha256": sha256(csv.as_bytes()), "row": 2, "way_of_giving": "paper"})
    );
    assert_eq!(last(&history)["given_at"], "2024-07-01T08:15:00Z");
    let bob_entry = last(&crm.json(&["consent", "history", &bob])).clone();
    assert_eq!(bob_entry["status_code"], "refused");
    assert_eq!(bob_entry["given_at"], "2024-06-01T10:30:00Z");
    assert_eq!(
        crm.evidence(&bob_entry["seq"])["way_of_giving"],
        Value::Null
    );
    assert_eq!(crm.evidence(&bob_entry["seq"])["row"], 3);
    crm.ok(&["ledger", "verify"]);

    // The same file again changes nothing and writes nothing.
    let head = crm.head();
    let again = crm.import(&path, &[]);
    assert_eq!(
        (again["unchanged"].as_u64(), again["written"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(crm.head(), head);
}

#[test]
fn a_blank_cell_never_erases_a_stored_value() {
    let crm = Crm::ready();
    let ann = crm.contact("Ann", &["newsletter"]);
    let before = crm.json(&["consent", "show", &ann]);
    let history = crm.history_len(&ann);
    // A blank status keeps the stored one (the row is unchanged, nothing is
    // written, so the stored way and date stay too).
    let path = crm.file(
        "blank.csv",
        b"contact,consent,status,date,way\nann@example.com,newsletter,,2024-01-01,paper\n",
    );
    let report = crm.import(&path, &[]);
    assert_eq!(report["outcomes"][0]["change"], "unchanged");
    assert_eq!(report["written"], 0);
    assert_eq!(crm.json(&["consent", "show", &ann]), before);
    assert_eq!(crm.history_len(&ann), history);

    // A row that would change nothing is still checked: no future dates.
    let path = crm.file(
        "future.csv",
        b"contact,consent,status,date\nann@example.com,newsletter,given,2099-01-01\n",
    );
    let message = crm.err(&["import", path.to_str().unwrap()]);
    assert!(
        message.contains("row 2: column D `date` = `2099-01-01`: it is later than now"),
        "{message}"
    );

    // A blank status with nothing stored to keep is a bad row, not a guess.
    let path = crm.file(
        "nothing.csv",
        b"contact,consent,status\nann@example.com,email,\n",
    );
    let message = crm.err(&["import", path.to_str().unwrap()]);
    assert!(
        message.contains("row 2: column C `status` = blank: the status is blank and contact"),
        "{message}"
    );

    // A blank date is the time of the import; a blank way records none.
    let path = crm.file(
        "withdraw.csv",
        b"contact,consent,status,date,way\nann@example.com,newsletter,withdrawn,,\n",
    );
    let report = crm.import(&path, &[]);
    assert_eq!(report["outcomes"][0]["change"], "changed");
    let entry = last(&crm.json(&["consent", "history", &ann])).clone();
    assert_eq!(entry["given_at"], entry["recorded_at"]);
    assert_eq!(crm.evidence(&entry["seq"])["way_of_giving"], Value::Null);
}

#[test]
fn an_import_is_all_or_nothing_and_names_every_bad_row() {
    let crm = Crm::ready();
    let ann = crm.contact("Ann", &[]);
    crm.contact("Bob", &[]);
    let head = crm.head();
    let path = crm.file(
        "mixed.csv",
        format!(
            "contact;consent;status;date;way\n\
             {ann};newsletter;given;2024-01-01;paper\n\
             bob@example.com;newslettr;giv;2024-01-01;fax\n\
             {ann};email;given;2099-01-01;\n\
             nobody@example.com;email;given;;\n\
             ;phone;given;;\n"
        )
        .as_bytes(),
    );
    let (status, error) = crm.json_err(&["import", path.to_str().unwrap()]);
    assert_eq!(status, 1);
    assert_eq!(error["error"]["code"], "invalid_rows");
    let message = error["error"]["message"].as_str().unwrap();
    let lines: Vec<&str> = message.lines().skip(1).collect();
    assert_eq!(lines.len(), 4, "one line per bad row:\n{message}");
    assert!(message.contains("4 row(s) cannot be imported, so nothing was imported"));
    // Unknown codes name the column, the value and the valid codes.
    assert!(lines[0].starts_with("row 3: column B `consent` = `newslettr`: unknown consent type `newslettr`; did you mean `newsletter`? valid codes: email, newsletter, phone"), "{}", lines[0]);
    assert!(lines[0].contains("column C `status` = `giv`: unknown consent status `giv`; did you mean `given`? valid codes: expired, given, refused, withdrawn"), "{}", lines[0]);
    assert!(
        lines[0].contains("column E `way` = `fax`: unknown way of giving consent `fax`"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("row 4: column D `date` = `2099-01-01`: it is later than now"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with(
            "row 5: column A `contact` = `nobody@example.com`: no contact has the email"
        ),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("row 6: column A `contact` = blank: give the contact's id or email"),
        "{}",
        lines[3]
    );
    // The good row 2 was not written either.
    assert_eq!(crm.head(), head);
    assert_eq!(crm.history_len(&ann), 0);
}

#[test]
fn a_dry_run_reports_each_rows_change_and_writes_nothing() {
    let crm = Crm::ready();
    let ann = crm.contact("Ann", &["newsletter", "email"]);
    let head = crm.head();
    let path = crm.file(
        "dry.csv",
        format!(
            "id,consent,status\n{ann},newsletter,given\n{ann},email,withdrawn\n{ann},phone,given\n"
        )
        .as_bytes(),
    );
    let report = crm.import(&path, &["--dry-run"]);
    assert_eq!(report["dry_run"], true);
    let changes: Vec<&str> = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["unchanged", "changed", "new"]);
    assert_eq!(report["written"], 0);
    assert_eq!(crm.head(), head);
    let text = crm.ok(&["import", path.to_str().unwrap(), "--dry-run"]);
    assert!(
        text.contains("row 3: changed: contact 1 `email` withdrawn"),
        "{text}"
    );
    assert!(text.contains("would write 2 ledger entries"), "{text}");
    assert!(text.contains("dry run: nothing was written"), "{text}");
    assert_eq!(crm.head(), head);
    // The real run does what the dry run said.
    let real = crm.import(&path, &[]);
    assert_eq!(real["written"], 2);
    assert_eq!(real["outcomes"][1]["change"], "changed");
}

#[test]
fn the_header_names_unknown_and_missing_columns_with_the_valid_ones() {
    let crm = Crm::ready();
    let path = crm.file("header.csv", b"Contact,Consent,Colour\n1,newsletter,red\n");
    let message = crm.err(&["import", path.to_str().unwrap()]);
    assert!(
        message.contains("column C `Colour` is not a known column"),
        "{message}"
    );
    assert!(message.contains("no column gives the status"), "{message}");
    assert!(
        message.contains("`contact`, `contact_id`, `id`, `email`"),
        "{message}"
    );
    let empty = crm.file("empty.csv", b"");
    let (_, error) = crm.json_err(&["import", empty.to_str().unwrap()]);
    assert_eq!(error["error"]["code"], "empty_file");
    let (_, error) = crm.json_err(&["import", "consents.txt"]);
    assert_eq!(error["error"]["code"], "unknown_format");
}

fn xlsx(rows: &[(&str, &str, &str, Option<&str>)], date_cell: Option<ExcelDateTime>) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (col, name) in ["Contact", "Consent", "Status", "Date"].iter().enumerate() {
        sheet.write_string(0, col as u16, *name).unwrap();
    }
    for (i, (contact, consent, status, date)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        match contact.parse::<f64>() {
            Ok(n) => sheet.write_number(r, 0, n).unwrap(),
            Err(_) => sheet.write_string(r, 0, *contact).unwrap(),
        };
        sheet.write_string(r, 1, *consent).unwrap();
        sheet.write_string(r, 2, *status).unwrap();
        if let Some(d) = date {
            sheet.write_string(r, 3, *d).unwrap();
        }
    }
    if let Some(at) = date_cell {
        let format = Format::new().set_num_format("yyyy-mm-dd hh:mm");
        sheet
            .write_datetime_with_format(1, 3, &at, &format)
            .unwrap();
    }
    book.save_to_buffer().unwrap()
}

#[test]
fn xlsx_date_cells_are_read_as_dates() {
    let crm = Crm::ready();
    let ann = crm.contact("Ann", &[]);
    let at = ExcelDateTime::from_ymd(2024, 3, 15)
        .unwrap()
        .and_hms(9, 30, 0)
        .unwrap();
    let bytes = xlsx(
        &[
            (&ann, "newsletter", "given", None),
            (&ann, "email", "given", Some("2024-04-01")),
        ],
        Some(at),
    );
    let path = crm.file("consents.xlsx", &bytes);
    let report = crm.import(&path, &[]);
    assert_eq!(
        (report["format"].as_str(), report["written"].as_u64()),
        (Some("xlsx"), Some(2))
    );
    let history = crm.json(&["consent", "history", &ann]);
    assert_eq!(history[0]["given_at"], "2024-03-15T09:30:00Z");
    assert_eq!(history[1]["given_at"], "2024-04-01T00:00:00Z");
    assert_eq!(
        crm.evidence(&history[0]["seq"])["file_sha256"],
        sha256(&bytes)
    );
}

#[test]
fn an_xlsx_with_a_bad_date_names_the_row_and_the_column() {
    let crm = Crm::ready();
    let ann = crm.contact("Ann", &[]);
    let head = crm.head();
    let bytes = xlsx(
        &[
            (&ann, "newsletter", "given", Some("2024-01-01")),
            (&ann, "email", "given", Some("2024-02-30")),
            (&ann, "phone", "given", Some("last tuesday")),
        ],
        None,
    );
    let path = crm.file("bad-date.xlsx", &bytes);
    let message = crm.err(&["import", path.to_str().unwrap()]);
    assert!(message.contains("2 row(s) cannot be imported"), "{message}");
    assert!(
        message.contains("row 3: column D `Date` = `2024-02-30`: no such day in the calendar"),
        "{message}"
    );
    assert!(
        message.contains("row 4: column D `Date` = `last tuesday`: not a date; write YYYY-MM-DD"),
        "{message}"
    );
    assert_eq!(crm.head(), head);
}

#[test]
fn a_malformed_or_truncated_spreadsheet_is_named_as_such() {
    let crm = Crm::ready();
    crm.contact("Ann", &[]);
    let head = crm.head();
    // No .xls writer exists for Rust: an xls is tested with bad bytes only.
    let garbage = crm.file(
        "consents.xls",
        b"this is not a spreadsheet at all\n\x00\x01",
    );
    let (status, error) = crm.json_err(&["import", garbage.to_str().unwrap()]);
    assert_eq!(status, 1);
    assert_eq!(error["error"]["code"], "unreadable_file");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`") && message.contains("consents.xls` was not imported"),
        "{message}"
    );
    assert!(message.contains("cannot be read as xls"), "{message}");
    assert!(
        message.contains("check that the file is complete"),
        "{message}"
    );
    let good = xlsx(&[("1", "newsletter", "given", None)], None);
    let truncated = crm.file("cut.xlsx", &good[..good.len() / 2]);
    let message = crm.err(&["import", truncated.to_str().unwrap()]);
    assert!(message.contains("cannot be read as xlsx"), "{message}");
    // The right bytes under the wrong format are named too.
    let renamed = crm.file("real.xlsx", &good);
    let message = crm.err(&["import", renamed.to_str().unwrap(), "--format", "xls"]);
    assert!(message.contains("cannot be read as xls"), "{message}");
    assert_eq!(crm.head(), head);
}

#[test]
fn an_import_brings_no_erased_contact_back_by_id_or_by_email() {
    let crm = Crm::ready();
    let ann = crm.contact("Ann", &[]);
    let bob = crm.contact("Bob", &[]);
    crm.ok(&["erase", &bob, "--ground", "consent_withdrawn"]);
    let head = crm.head();
    let path = crm.file(
        "erased.csv",
        format!(
            "contact,consent,status\n\
             {ann},newsletter,given\n\
             {bob},newsletter,given\n\
             bob@example.com,newsletter,given\n"
        )
        .as_bytes(),
    );
    let (_, error) = crm.json_err(&["import", path.to_str().unwrap()]);
    assert_eq!(error["error"]["code"], "invalid_rows");
    let message = error["error"]["message"].as_str().unwrap();
    let lines: Vec<&str> = message.lines().skip(1).collect();
    assert_eq!(lines.len(), 2, "{message}");
    assert!(
        lines[0].starts_with("row 3:") && lines[0].contains("was erased on"),
        "{message}"
    );
    assert!(
        lines[1].starts_with("row 4:")
            && lines[1].contains("`bob@example.com` belongs to a person whose data was erased"),
        "{message}"
    );
    assert_eq!(crm.head(), head, "nothing written");
}
