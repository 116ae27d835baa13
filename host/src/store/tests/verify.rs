use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::*;

/// A ledger of five entries for two contacts, the third with evidence.
fn five_entries() -> (Fixture, ContactId) {
    let (mut f, anna) = with_types();
    let jan = person(&mut f.store, "Jan", Some("jan@example.com"));
    let mut third = consent(anna, "phone", "given", 3);
    third.evidence = Some(serde_json::json!({"ip": "192.0.2.7"}));
    let changes = [
        consent(anna, "newsletter", "given", 1),
        consent(jan, "newsletter", "given", 2),
        third,
        consent(anna, "newsletter", "withdrawn", 4),
        consent(jan, "phone", "refused", 5),
    ];
    for c in &changes {
        f.store.record_consent_at(c, day(6)).unwrap();
    }
    (f, anna)
}

/// A second connection to the file, as an attacker with file access would
/// open it: triggers dropped and foreign keys off.
fn attacker(f: &Fixture) -> Connection {
    let conn = Connection::open(&f.path).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         DROP TRIGGER consent_ledger_no_update;
         DROP TRIGGER consent_ledger_no_delete;
         DROP TRIGGER consent_evidence_no_update;",
    )
    .unwrap();
    conn
}

fn problem(f: &Fixture) -> LedgerProblem {
    let report = f.store.verify_ledger().unwrap();
    assert!(!report.ok);
    report.problem.unwrap()
}

#[test]
fn an_intact_ledger_verifies() {
    let (f, _) = five_entries();
    let report = f.store.verify_ledger().unwrap();
    assert_eq!((report.entries, report.ok, report.problem), (5, true, None));
    assert_eq!(report.head.seq, LedgerSeq(5));
}

#[test]
fn an_empty_ledger_verifies() {
    let f = fixture();
    let report = f.store.verify_ledger().unwrap();
    assert!(report.ok);
    assert_eq!(
        (report.entries, report.head.hash.as_str()),
        (0, GENESIS_HASH)
    );
}

#[test]
fn verify_names_an_entry_edited_in_plain_sql() {
    let (f, _) = five_entries();
    attacker(&f)
        .execute(
            "UPDATE consent_ledger SET meaning = 'given', status_id = 1 WHERE seq = 4",
            [],
        )
        .unwrap();
    let p = problem(&f);
    assert_eq!((p.seq, p.kind), (LedgerSeq(4), LedgerProblemKind::Edited));
    assert!(p.message.starts_with("entry 4 was edited"), "{}", p.message);
}

#[test]
fn verify_names_an_entry_deleted_in_plain_sql() {
    let (f, _) = five_entries();
    attacker(&f)
        .execute("DELETE FROM consent_ledger WHERE seq = 2", [])
        .unwrap();
    let p = problem(&f);
    assert_eq!((p.seq, p.kind), (LedgerSeq(2), LedgerProblemKind::Deleted));
    assert_eq!(p.message, "entry 2 is missing: the ledger goes from 1 to 3");
}

#[test]
fn verify_names_entries_cut_off_the_end() {
    let (f, _) = five_entries();
    attacker(&f)
        .execute("DELETE FROM consent_ledger WHERE seq >= 4", [])
        .unwrap();
    let p = problem(&f);
    assert_eq!(
        (p.seq, p.kind),
        (LedgerSeq(4), LedgerProblemKind::Truncated)
    );
}

#[test]
fn an_entry_rewritten_with_a_fresh_hash_breaks_the_link_of_the_next() {
    let (f, _) = five_entries();
    let conn = attacker(&f);
    let entry = f.store.ledger_entry(LedgerSeq(2)).unwrap().unwrap();
    let forged = LedgerEntry {
        status_id: StatusId(2),
        status: ConsentStatus::Refused,
        ..entry
    };
    let hash = chain::entry_hash(&forged_fields(&forged));
    conn.execute(
        "UPDATE consent_ledger SET status_id = 2, meaning = 'refused', hash = ?1 WHERE seq = 2",
        [&hash],
    )
    .unwrap();
    let p = problem(&f);
    assert_eq!((p.seq, p.kind), (LedgerSeq(3), LedgerProblemKind::Relinked));
    assert!(
        p.message.contains("does not follow entry 2"),
        "{}",
        p.message
    );
}

fn forged_fields(e: &LedgerEntry) -> chain::Fields<'_> {
    chain::Fields {
        seq: e.seq.0,
        contact_id: e.contact_id.0,
        consent_type_id: e.consent_type_id.0.into(),
        text_version: e.text_version.into(),
        status_id: e.status_id.0.into(),
        meaning: e.status.as_str(),
        legal_basis: e.legal_basis.as_str(),
        method_id: e.method_id.0.into(),
        source: &e.source,
        actor: &e.actor,
        recorded_at: e.recorded_at.timestamp(),
        given_at: e.given_at.timestamp(),
        evidence_hash: e.evidence_hash.as_deref(),
        prev_hash: &e.prev_hash,
    }
}

#[test]
fn verify_names_edited_evidence() {
    let (f, _) = five_entries();
    attacker(&f)
        .execute(
            "UPDATE consent_evidence SET evidence = '{\"ip\":\"198.51.100.1\"}'",
            [],
        )
        .unwrap();
    let p = problem(&f);
    assert_eq!(
        (p.seq, p.kind),
        (LedgerSeq(3), LedgerProblemKind::EvidenceEdited)
    );
}

#[test]
fn erasing_personal_data_and_evidence_keeps_the_chain_valid() {
    let (mut f, anna) = five_entries();
    // What an Art. 17 erasure deletes; the ledger and contacts rows stay.
    f.store
        .raw()
        .execute_batch(&format!(
            "DELETE FROM consent_evidence WHERE contact_id = {anna};
             DELETE FROM contact_personal WHERE contact_id = {anna};
             DELETE FROM contact_timeline WHERE contact_id = {anna};"
        ))
        .unwrap();
    assert!(f.store.verify_ledger().unwrap().ok);
    assert_eq!(f.store.contact(anna).unwrap().email, None);
    assert_eq!(f.store.evidence(LedgerSeq(3)).unwrap(), None);
    // And the ledger goes on after the erasure.
    f.store
        .record_consent_at(&consent(anna, "phone", "withdrawn", 7), day(7))
        .unwrap();
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn the_hash_follows_the_documented_canonical_encoding() {
    let fields = chain::Fields {
        seq: 7,
        contact_id: 42,
        consent_type_id: 3,
        text_version: 2,
        status_id: 1,
        meaning: "given",
        legal_basis: "consent",
        method_id: 2,
        source: "web form",
        actor: "alice",
        recorded_at: 1_704_067_200,
        given_at: 1_704_060_000,
        evidence_hash: None,
        prev_hash: GENESIS_HASH,
    };
    let text = format!(
        "crm-consent ledger v1\nseq=1:7\ncontact_id=2:42\nconsent_type_id=1:3\ntext_version=1:2\n\
         status_id=1:1\nmeaning=5:given\nlegal_basis=7:consent\nmethod_id=1:2\nsource=8:web form\n\
         actor=5:alice\nrecorded_at=10:1704067200\ngiven_at=10:1704060000\nevidence_hash=-\n\
         prev_hash=64:{GENESIS_HASH}\n"
    );
    assert_eq!(
        chain::entry_hash(&fields),
        hex::encode(Sha256::digest(text.as_bytes()))
    );
}
