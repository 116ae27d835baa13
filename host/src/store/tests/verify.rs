//! `ledger verify` against plain-SQL tampering: every table a decision reads
//! is rebuilt from the ledger, so a change behind the store's back is named.

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::*;

/// Two contacts with consents, a flag, a preference and a purpose basis,
/// and one denial in the decision log.
fn history() -> (Fixture, ContactId, ContactId) {
    let (mut f, anna) = with_types();
    let jan = person(&mut f.store, "Jan", Some("jan@example.com"));
    let mut third = consent(anna, "phone", "given", 3);
    third.evidence = Some(serde_json::json!({"ip": "192.0.2.7"}));
    for c in [
        consent(anna, "newsletter", "given", 1),
        consent(jan, "newsletter", "given", 2),
        third,
        consent(anna, "newsletter", "withdrawn", 4),
        consent(jan, "phone", "refused", 5),
    ] {
        f.store.record_consent(&c).unwrap();
    }
    let flags = ContactFlags {
        objected: true,
        ..ContactFlags::default()
    };
    f.store.set_flags(jan, flags, "alice").unwrap();
    f.store
        .set_preference(anna, "newsletter", SubscriptionState::OptedIn, "alice")
        .unwrap();
    let purpose = NewPurpose {
        code: "sales".into(),
        name: "Sales".into(),
        legal_basis: LegalBasis::LegitimateInterest,
        direct_marketing: false,
    };
    f.store.add_purpose(&purpose, "admin").unwrap();
    f.store
        .set_purpose_basis(anna, "sales", LegalBasis::Contract, "alice")
        .unwrap();
    f.store
        .log_decision(&decision_for(anna, Outcome::Deny))
        .unwrap();
    (f, anna, jan)
}

fn decision_for(contact: ContactId, outcome: Outcome) -> NewDecision {
    NewDecision {
        at: day(6),
        contact: Some(contact),
        channel: Channel::BulkEmail,
        outcome,
        reason_code: "consent_withdrawn".into(),
        subscription_type: None,
        summary: None,
        recipients: None,
        plugin_sha256: Some("ab".repeat(32)),
        request: serde_json::json!({}),
        actor: "alice".into(),
    }
}

/// A second connection to the file, as an attacker with file access would
/// open it: every protective trigger dropped, foreign keys off.
fn attacker(f: &Fixture) -> Connection {
    let conn = Connection::open(&f.path).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         DROP TRIGGER ledger_no_update;
         DROP TRIGGER ledger_no_delete;
         DROP TRIGGER consent_evidence_no_update;
         DROP TRIGGER consent_type_texts_no_update;
         DROP TRIGGER decisions_no_update;
         DROP TRIGGER decisions_no_delete;
         DROP TRIGGER contact_timeline_no_update;
         DROP TRIGGER contact_timeline_no_delete;",
    )
    .unwrap();
    conn
}

fn problem(f: &Fixture) -> LedgerProblem {
    let report = f.store.verify_ledger().unwrap();
    assert!(!report.ok, "verify passed after tampering: {report:?}");
    report.problem.unwrap()
}

/// Tampers with plain SQL, *without* dropping any trigger, as the issue's
/// auditor did, and returns what verify names.
fn after_plain_update(sql: &str) -> LedgerProblem {
    let (f, _, _) = history();
    assert!(f.store.verify_ledger().unwrap().ok);
    Connection::open(&f.path)
        .unwrap()
        .execute_batch(sql)
        .unwrap();
    problem(&f)
}

fn head_seq(f: &Fixture) -> i64 {
    f.store.ledger_head().unwrap().seq.0
}

#[test]
fn an_intact_history_verifies_and_counts_both_chains() {
    let (f, _, _) = history();
    let report = f.store.verify_ledger().unwrap();
    assert!(report.ok, "{:?}", report.problem);
    assert_eq!(report.entries as i64, head_seq(&f));
    assert_eq!(report.decisions, 1);
}

#[test]
fn a_new_database_verifies_its_built_in_catalog() {
    let f = fixture();
    let report = f.store.verify_ledger().unwrap();
    assert!(report.ok, "{:?}", report.problem);
    // 1 switches row, 4 statuses, 6 methods, 4 reasons, 4 subscription types.
    assert_eq!(report.entries, 19);
}

#[test]
fn a_withdrawal_set_back_to_given_in_the_projection_is_named() {
    let p =
        after_plain_update("UPDATE consent_state SET meaning = 1, status_id = 1 WHERE meaning = 4");
    assert_eq!(p.kind, LedgerProblemKind::ProjectionDiffers);
    assert_eq!(p.table.as_deref(), Some("consent_state"));
    assert!(p.message.contains("status_id"), "{}", p.message);
}

#[test]
fn a_contacts_restriction_objection_or_opt_out_flag_changed_in_sql_is_named() {
    for column in ["restricted", "objected", "opted_out_of_all"] {
        let p = after_plain_update(&format!("UPDATE contacts SET {column} = 1 - {column}"));
        assert_eq!(p.table.as_deref(), Some("contacts"), "{column}");
        assert!(p.message.contains(column), "{}", p.message);
    }
}

#[test]
fn a_consent_types_channels_or_validity_changed_in_sql_is_named() {
    for set in [
        "allow_bulk = 1 - allow_bulk",
        "allow_contact = 0",
        "validity_days = 9999",
    ] {
        let p = after_plain_update(&format!(
            "UPDATE consent_types SET {set} WHERE code = 'phone'"
        ));
        assert_eq!(p.table.as_deref(), Some("consent_types"), "{set}");
    }
}

#[test]
fn a_preference_a_purpose_basis_a_switch_or_a_reason_changed_in_sql_is_named() {
    for (sql, table) in [
        (
            "UPDATE subscription_preferences SET state = 2",
            "subscription_preferences",
        ),
        (
            "UPDATE contact_purposes SET legal_basis = 6",
            "contact_purposes",
        ),
        ("DELETE FROM contact_purposes", "contact_purposes"),
        ("UPDATE switches SET mailing_list = 1", "switches"),
        (
            "INSERT INTO reasons (code, label) VALUES ('forged', 'Forged')",
            "reasons",
        ),
        ("UPDATE purposes SET direct_marketing = 1", "purposes"),
        (
            "UPDATE methods SET name = 'By pigeon' WHERE code = 'email'",
            "methods",
        ),
    ] {
        let p = after_plain_update(sql);
        assert_eq!(p.table.as_deref(), Some(table), "{sql}: {}", p.message);
    }
}

#[test]
fn the_text_people_agreed_to_changed_in_sql_is_named() {
    let (f, _, _) = history();
    attacker(&f)
        .execute(
            "UPDATE consent_type_texts SET text = 'I agree to anything.'",
            [],
        )
        .unwrap();
    let p = problem(&f);
    assert_eq!(p.table.as_deref(), Some("consent_type_texts"));
    assert!(p.message.contains("text"), "{}", p.message);
}

#[test]
fn the_text_itself_is_in_the_chain_not_only_its_version() {
    let (f, _, _) = history();
    let bodies: Vec<String> = f
        .store
        .raw()
        .prepare("SELECT body FROM ledger WHERE body LIKE '%consent_type_texts%'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("I want the monthly newsletter.")),
        "{bodies:?}"
    );
}

#[test]
fn a_deleted_denial_in_the_decision_log_is_named() {
    let (f, _, _) = history();
    attacker(&f)
        .execute("DELETE FROM decisions WHERE outcome = 'deny'", [])
        .unwrap();
    let p = problem(&f);
    assert_eq!(p.kind, LedgerProblemKind::DecisionLog);
    assert_eq!(p.decision, Some(DecisionId(1)));
}

#[test]
fn an_edited_decision_is_named() {
    let (f, _, _) = history();
    attacker(&f)
        .execute("UPDATE decisions SET outcome = 'allow'", [])
        .unwrap();
    assert_eq!(problem(&f).kind, LedgerProblemKind::DecisionLog);
}

#[test]
fn the_decision_log_and_the_timeline_refuse_updates_and_deletes() {
    let (f, _, _) = history();
    let conn = Connection::open(&f.path).unwrap();
    for sql in [
        "UPDATE decisions SET outcome = 'allow'",
        "DELETE FROM decisions",
        "UPDATE contact_timeline SET summary = 'nothing happened'",
        "DELETE FROM contact_timeline",
        "UPDATE ledger SET actor = 'mallory'",
        "DELETE FROM ledger WHERE seq = 1",
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
}

#[test]
fn an_entry_edited_in_plain_sql_is_named() {
    let (f, _, _) = history();
    let seq = head_seq(&f) - 2;
    attacker(&f)
        .execute("UPDATE ledger SET actor = 'mallory' WHERE seq = ?1", [seq])
        .unwrap();
    let p = problem(&f);
    assert_eq!(
        (p.seq, p.kind),
        (Some(LedgerSeq(seq)), LedgerProblemKind::Edited)
    );
}

#[test]
fn an_entry_deleted_in_plain_sql_is_named() {
    let (f, _, _) = history();
    attacker(&f)
        .execute("DELETE FROM ledger WHERE seq = 21", [])
        .unwrap();
    let p = problem(&f);
    assert_eq!(
        (p.seq, p.kind),
        (Some(LedgerSeq(21)), LedgerProblemKind::Deleted)
    );
}

/// Appends an entry the way an attacker with the source code would: a
/// correct hash, linked to the head, and the head moved.
fn forge_append(conn: &Connection, kind: &str, contact: Option<i64>, body: &str) {
    let (seq, prev): (i64, String) = conn
        .query_row("SELECT seq, hash FROM ledger_head", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let hash = chain::entry_hash(&chain::EntryFields {
        seq: seq + 1,
        kind,
        contact_id: contact,
        actor: "mallory",
        recorded_at: day(1000).timestamp(),
        body,
        prev_hash: &prev,
    });
    conn.execute(
        "INSERT INTO ledger VALUES (?1, ?2, ?3, ?4, 'mallory', ?5, ?6, ?7)",
        rusqlite::params![
            seq + 1,
            kind,
            contact,
            body,
            day(1000).timestamp(),
            prev,
            hash
        ],
    )
    .unwrap();
    conn.execute(
        "UPDATE ledger_head SET seq = ?1, hash = ?2",
        rusqlite::params![seq + 1, hash],
    )
    .unwrap();
}

#[test]
fn a_forged_entry_with_a_correct_hash_is_caught_by_the_rebuild() {
    let (f, anna, _) = history();
    let body = format!(
        r#"{{"table":"contacts","row":{{"created_at":0,"id":{anna},"kind":"person","objected":0,"opted_out_of_all":0,"restricted":1}}}}"#
    );
    forge_append(&attacker(&f), "row_put", Some(anna.0), &body);
    let p = problem(&f);
    assert_eq!(p.kind, LedgerProblemKind::ProjectionDiffers);
    assert_eq!(p.table.as_deref(), Some("contacts"));
}

/// Deletes the last entry and moves the head back to the one before, as an
/// attacker who knows about the head row would.
fn drop_last_entry(conn: &Connection, last: i64) {
    let prev: String = conn
        .query_row("SELECT prev_hash FROM ledger WHERE seq = ?1", [last], |r| {
            r.get(0)
        })
        .unwrap();
    conn.execute("DELETE FROM ledger WHERE seq = ?1", [last])
        .unwrap();
    conn.execute(
        "UPDATE ledger_head SET seq = ?1, hash = ?2",
        rusqlite::params![last - 1, prev],
    )
    .unwrap();
}

#[test]
fn the_last_entry_deleted_with_the_head_moved_back_is_caught() {
    let (f, _, _) = history();
    let conn = attacker(&f);
    let last = head_seq(&f);
    drop_last_entry(&conn, last);
    // The last entry set a purpose basis that is still in the table.
    let p = problem(&f);
    assert_eq!(
        p.table.as_deref(),
        Some("contact_purposes"),
        "{}",
        p.message
    );
}

#[test]
fn edited_evidence_is_named() {
    let (f, _, _) = history();
    attacker(&f)
        .execute(
            "UPDATE consent_evidence SET evidence = '{\"ip\":\"198.51.100.1\"}'",
            [],
        )
        .unwrap();
    assert_eq!(problem(&f).kind, LedgerProblemKind::EvidenceEdited);
}

#[test]
fn erasing_personal_data_and_evidence_keeps_the_ledger_valid() {
    let (mut f, anna, _) = history();
    // What an Art. 17 erasure deletes; the ledger and contacts rows stay.
    attacker(&f)
        .execute_batch(&format!(
            "DELETE FROM consent_evidence WHERE contact_id = {anna};
             DELETE FROM contact_personal WHERE contact_id = {anna};"
        ))
        .unwrap();
    assert!(f.store.verify_ledger().unwrap().ok);
    assert_eq!(f.store.contact(anna).unwrap().email, None);
    f.store
        .record_consent(&consent(anna, "phone", "withdrawn", 7))
        .unwrap();
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn stored_plugin_bytes_that_no_longer_match_their_sha256_are_named_and_never_loaded() {
    let (mut f, _, _) = history();
    let info = f
        .store
        .install_plugin(b"\0asm fake", "crm:consent@0.2.0", "admin")
        .unwrap();
    let conn = Connection::open(&f.path).unwrap();
    conn.execute_batch("DROP TRIGGER plugins_bytes_immutable")
        .unwrap();
    conn.execute(
        "UPDATE plugins SET bytes = x'00736d' WHERE id = ?1",
        [info.id],
    )
    .unwrap();
    let p = problem(&f);
    assert_eq!(p.kind, LedgerProblemKind::PluginBytes, "{}", p.message);
    let err = f.store.active_plugin().unwrap_err();
    assert!(
        matches!(err, StoreError::PluginBytesChanged { .. }),
        "{err}"
    );
}

#[test]
fn a_checkpoint_verifies_against_the_ledger_that_extends_it() {
    let (mut f, anna, _) = history();
    let cp = f.store.checkpoint().unwrap();
    assert_eq!(cp.ledger_entries as i64, head_seq(&f));
    f.store
        .record_consent(&consent(anna, "phone", "withdrawn", 8))
        .unwrap();
    f.store
        .log_decision(&decision_for(anna, Outcome::Justify))
        .unwrap();
    let report = f.store.verify_ledger_against(&cp).unwrap();
    assert!(report.ok, "{:?}", report.problem);
}

/// Re-hashes every entry from `from` on, as an attacker who rewrote
/// history and recomputed the chain would; the head follows.
fn rehash_from(conn: &Connection, from: i64) {
    let rows: Vec<(i64, String, Option<i64>, String, i64, String)> = conn
        .prepare("SELECT seq, kind, contact_id, actor, recorded_at, body FROM ledger WHERE seq >= ?1 ORDER BY seq")
        .unwrap()
        .query_map([from], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut prev: String = conn
        .query_row("SELECT hash FROM ledger WHERE seq = ?1", [from - 1], |r| {
            r.get(0)
        })
        .unwrap();
    for (seq, kind, contact, actor, at, body) in rows {
        let hash = chain::entry_hash(&chain::EntryFields {
            seq,
            kind: &kind,
            contact_id: contact,
            actor: &actor,
            recorded_at: at,
            body: &body,
            prev_hash: &prev,
        });
        conn.execute(
            "UPDATE ledger SET prev_hash = ?2, hash = ?3 WHERE seq = ?1",
            rusqlite::params![seq, prev, hash],
        )
        .unwrap();
        prev = hash;
    }
    conn.execute("UPDATE ledger_head SET hash = ?1", [prev])
        .unwrap();
}

#[test]
fn a_rewritten_and_rehashed_history_passes_alone_but_fails_against_a_checkpoint() {
    let (f, _, _) = history();
    let cp = f.store.checkpoint().unwrap();
    let conn = attacker(&f);
    // Rewrite who recorded entry 21 and re-hash everything after it.
    conn.execute("UPDATE ledger SET actor = 'mallory' WHERE seq = 21", [])
        .unwrap();
    rehash_from(&conn, 21);
    assert!(
        f.store.verify_ledger().unwrap().ok,
        "a fully re-hashed chain is consistent with itself"
    );
    let report = f.store.verify_ledger_against(&cp).unwrap();
    let p = report.problem.expect("the checkpoint catches the rewrite");
    assert_eq!(p.kind, LedgerProblemKind::Checkpoint);
    assert!(p.message.contains("rewritten"), "{}", p.message);
}

#[test]
fn a_truncated_ledger_fails_against_a_checkpoint() {
    let (f, _, _) = history();
    let cp = f.store.checkpoint().unwrap();
    let conn = attacker(&f);
    let last = head_seq(&f);
    drop_last_entry(&conn, last);
    conn.execute("DELETE FROM contact_purposes", []).unwrap();
    let p = f.store.verify_ledger_against(&cp).unwrap().problem.unwrap();
    assert_eq!(p.kind, LedgerProblemKind::Checkpoint);
    assert!(p.message.contains("truncated"), "{}", p.message);
}

#[test]
fn an_altered_or_foreign_checkpoint_is_refused() {
    let (f, _, _) = history();
    let mut cp = f.store.checkpoint().unwrap();
    cp.ledger_entries -= 1;
    let p = f.store.verify_ledger_against(&cp).unwrap().problem.unwrap();
    assert!(p.message.contains("signature"), "{}", p.message);
    let other = fixture();
    let foreign = other.store.checkpoint().unwrap();
    let p = f
        .store
        .verify_ledger_against(&foreign)
        .unwrap()
        .problem
        .unwrap();
    assert!(
        p.message.contains("not by this database's key"),
        "{}",
        p.message
    );
}

#[test]
fn a_damaged_ledger_gets_no_checkpoint() {
    let (f, _, _) = history();
    attacker(&f)
        .execute("UPDATE ledger SET actor = 'mallory' WHERE seq = 21", [])
        .unwrap();
    let err = f.store.checkpoint().unwrap_err().to_string();
    assert!(err.contains("does not verify"), "{err}");
}

#[test]
fn the_hash_follows_the_documented_canonical_encoding() {
    let fields = chain::EntryFields {
        seq: 7,
        kind: "consent",
        contact_id: Some(42),
        actor: "alice",
        recorded_at: 1_704_067_200,
        body: "{}",
        prev_hash: GENESIS_HASH,
    };
    let text = format!(
        "crm-consent ledger v2\nseq=1:7\nkind=7:consent\ncontact_id=2:42\nactor=5:alice\n\
         recorded_at=10:1704067200\nbody=2:{{}}\nprev_hash=64:{GENESIS_HASH}\n"
    );
    assert_eq!(
        chain::entry_hash(&fields),
        hex::encode(Sha256::digest(text.as_bytes()))
    );
}

#[test]
fn removing_a_subscription_type_records_each_choice_it_takes_with_it() {
    let (mut f, anna, _) = history();
    f.store
        .delete_subscription_type("newsletter", "admin")
        .unwrap();
    let left: i64 = count(&f.store, "subscription_preferences");
    assert_eq!(left, 0, "anna's choice went with the type");
    let report = f.store.verify_ledger().unwrap();
    assert!(report.ok, "{:?}", report.problem);
    let removals = count(
        &f.store,
        &format!("ledger WHERE kind = 'row_delete' AND contact_id = {anna}"),
    );
    assert_eq!(removals, 1);
}
