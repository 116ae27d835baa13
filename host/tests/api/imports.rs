//! Imports through the real binary: over HTTP (`POST /imports`), and a CLI
//! import killed with SIGKILL in the middle of writing, which must leave
//! the database exactly as it was.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crm_consent::Store;
use crm_consent::store::{ContactFlags, ContactKind, NewContact};
use serde_json::Value;

use crate::support::{Server, bin, expect, key, ok, ready};

/// What must not change: the ledger's head and the row counts of every
/// table an import writes.
fn state(db: &Path) -> (Value, Vec<i64>) {
    let verify: Value = serde_json::from_str(&ok(db, &["--json", "ledger", "verify"])).unwrap();
    let conn = rusqlite::Connection::open(db).unwrap();
    let counts = [
        "ledger",
        "ledger_head",
        "consent_state",
        "consent_evidence",
        "contact_timeline",
        "contacts",
    ]
    .iter()
    .map(|t| {
        conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    })
    .collect();
    (verify, counts)
}

fn add_contacts(db: &Path, n: usize) {
    let mut store = Store::open(db).unwrap();
    let new: Vec<NewContact> = (0..n)
        .map(|i| NewContact {
            kind: ContactKind::Person,
            name: format!("p{i}"),
            email: Some(format!("p{i}@example.com")),
            phone: None,
            flags: ContactFlags::default(),
        })
        .collect();
    store.add_contacts(&new, "test").unwrap();
}

#[test]
fn an_import_killed_while_writing_leaves_the_database_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    const CONTACTS: usize = 20_000;
    add_contacts(&db, CONTACTS);
    let mut csv = String::from("id,consent,status,way\n");
    for id in 2..=CONTACTS + 1 {
        csv.push_str(&format!(
            "{id},email,given,paper\n{id},newsletter,refused,\n"
        ));
    }
    let file = dir.path().join("big.csv");
    std::fs::write(&file, &csv).unwrap();
    let before = state(&db);

    let mut child = bin()
        .env("RUST_LOG", "crm_consent=info")
        .arg("--db")
        .arg(&db)
        .arg("import")
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it is writing: every row is checked, the first ledger
    // entries are in the open transaction.
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut writing = false;
    for line in stderr.lines() {
        if line.unwrap().contains("import: writing ledger entries") {
            writing = true;
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the import never started writing"
        );
    }
    assert!(writing, "the import ended before writing");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import finished before the kill"
    );
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");

    // Nothing of it is left: same head, same counts, and the ledger verifies.
    assert_eq!(state(&db), before);
    // The file itself was good: run to its end, it writes every row.
    let out = ok(&db, &["--json", "import", file.to_str().unwrap()]);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["written"], CONTACTS * 2);
    ok(&db, &["ledger", "verify"]);
}

#[test]
fn an_import_over_http_answers_the_report_and_a_bad_file_is_a_422_naming_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let server = Server::start(&db);
    let post = |query: &str, body: Vec<u8>| {
        server
            .client
            .post(server.url(&format!("/imports?{query}")))
            .bearer_auth(&op)
            .header("Content-Type", "text/csv")
            .body(body)
    };
    let csv = b"email,consent,status,way\nanna@example.com,email,given,phone\n".to_vec();

    // A dry run writes nothing.
    let dry = expect(
        post("format=csv&dry_run=true", csv.clone()).send().unwrap(),
        200,
    );
    assert_eq!(
        (dry["dry_run"].as_bool(), dry["new"].as_u64()),
        (Some(true), Some(1))
    );
    let history = |s: &Server| s.read(&op, "/contacts/1/consents/history");
    assert_eq!(history(&server).as_array().unwrap().len(), 0);

    // The import, retried with its idempotency key, writes once.
    let send = || {
        post("format=csv", csv.clone())
            .header("Idempotency-Key", "import-1")
            .send()
            .unwrap()
    };
    let report = expect(send(), 200);
    assert_eq!(report["written"], 1);
    let retry = send();
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(expect(retry, 200), report);
    let entries = history(&server);
    assert_eq!(entries.as_array().unwrap().len(), 1);
    assert_eq!(entries[0]["method"], "import");
    assert_eq!(entries[0]["actor"], "api:operator");

    // A bad file: one detail per bad row, naming the column and value.
    let bad = b"email,consent,status\nanna@example.com,emial,given\nanna@example.com,email,maybe\n";
    let error = expect(post("format=csv", bad.to_vec()).send().unwrap(), 422);
    assert_eq!(error["error"]["code"], "invalid_rows");
    let details = error["error"]["details"].as_array().unwrap();
    assert_eq!(details.len(), 2);
    assert_eq!(details[0]["row"], 2);
    assert_eq!(details[0]["cells"][0]["column"], "B");
    assert_eq!(details[0]["cells"][0]["header"], "consent");
    assert_eq!(details[0]["cells"][0]["field"], "consent");
    assert_eq!(details[0]["cells"][0]["value"], "emial");
    assert!(
        details[1]["line"]
            .as_str()
            .unwrap()
            .starts_with("row 3: column C `status` = `maybe`")
    );

    // Garbage as xlsx, and a missing format, are 422s too.
    let error = expect(
        post("format=xlsx", b"PK\x03\x04junk".to_vec())
            .send()
            .unwrap(),
        422,
    );
    assert_eq!(error["error"]["code"], "unreadable_file");
    let error = expect(post("", csv.clone()).send().unwrap(), 422);
    assert_eq!(error["error"]["field"], "format");

    // The route takes files larger than the 1 MiB JSON limit, up to 32 MiB.
    let mut large = csv.clone();
    large.extend(std::iter::repeat_n(b'\n', 3 * 1024 * 1024));
    let report = expect(post("format=csv", large).send().unwrap(), 200);
    assert_eq!(report["unchanged"], 1);
    let too_large = vec![b'\n'; 33 * 1024 * 1024];
    let error = expect(post("format=csv", too_large).send().unwrap(), 413);
    assert_eq!(error["error"]["code"], "body_too_large");
    assert_eq!(history(&server).as_array().unwrap().len(), 1);
}
