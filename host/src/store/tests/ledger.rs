use std::collections::BTreeMap;

use super::*;

/// Rows in every table a consent change writes to.
fn written(store: &Store) -> [i64; 4] {
    [
        count(store, "consent_ledger"),
        count(store, "consent_state"),
        count(store, "consent_evidence"),
        count(store, "contact_timeline WHERE kind = 'consent_change'"),
    ]
}

#[test]
fn a_recorded_consent_is_chained_projected_and_on_the_timeline() {
    let (mut f, anna) = with_types();
    let first = f
        .store
        .record_consent_at(&consent(anna, "newsletter", "given", 2), day(3))
        .unwrap();
    assert_eq!(first.seq, LedgerSeq(1));
    assert_eq!(first.prev_hash, GENESIS_HASH);
    assert_eq!(
        (first.status, first.recorded_at, first.given_at),
        (ConsentStatus::Given, day(3), day(2))
    );
    assert_eq!(first.text_version, 1);
    let second = f
        .store
        .record_consent_at(&consent(anna, "phone", "refused", 3), day(3))
        .unwrap();
    assert_eq!(second.prev_hash, first.hash);
    assert_eq!(
        f.store.ledger_head().unwrap(),
        LedgerHead {
            seq: LedgerSeq(2),
            hash: second.hash.clone()
        }
    );

    let current = f.store.current_consents(anna).unwrap();
    assert_eq!(current.len(), 2);
    assert_eq!(
        (current[0].status, current[0].seq),
        (ConsentStatus::Given, LedgerSeq(1))
    );
    let change = f
        .store
        .timeline(anna)
        .unwrap()
        .into_iter()
        .find(|e| e.kind == TimelineKind::ConsentChange)
        .unwrap();
    assert_eq!(change.ledger_seq, Some(LedgerSeq(1)));
    assert_eq!(
        change.summary,
        "consent \"newsletter\": given (given), legal basis consent, via \"email\", text v1; source: web form"
    );
    assert_eq!(
        f.store.consent_history(anna).unwrap(),
        [first.clone(), second]
    );
    assert_eq!(f.store.ledger_entry(LedgerSeq(1)).unwrap(), Some(first));
}

#[test]
fn a_consent_can_be_named_by_type_id() {
    let (mut f, anna) = with_types();
    let phone = f.store.consent_type("phone").unwrap();
    let mut c = consent(anna, "ignored", "given", 2);
    c.consent_type = phone.id.into();
    assert_eq!(
        f.store.record_consent(&c).unwrap().consent_type_id,
        phone.id
    );
    c.consent_type = ConsentTypeId(77).into();
    let err = f.store.record_consent(&c).unwrap_err();
    assert_eq!(err.to_string(), "unknown consent type id 77");
}

#[test]
fn unknown_codes_are_named_and_nothing_is_written() {
    let (mut f, anna) = with_types();
    let cases = [
        (
            consent(anna, "x", "given", 2),
            "unknown consent type `x`; valid codes: newsletter, phone",
        ),
        (
            consent(anna, "newsletter", "maybe", 2),
            "unknown consent status `maybe`; valid codes: expired, given, refused, withdrawn",
        ),
        (
            NewConsent {
                method: "pigeon".to_owned(),
                ..consent(anna, "newsletter", "given", 2)
            },
            "unknown way of giving consent `pigeon`; \
             valid codes: crm_form, email, import, paper, phone, website",
        ),
        (
            consent(ContactId(404), "newsletter", "given", 2),
            "unknown contact id 404",
        ),
        (
            NewConsent {
                text_version: Some(9),
                ..consent(anna, "newsletter", "given", 2)
            },
            "consent type 1 has no text version 9",
        ),
        (
            NewConsent {
                actor: " ".to_owned(),
                ..consent(anna, "newsletter", "given", 2)
            },
            "actor must not be empty",
        ),
    ];
    for (bad, message) in cases {
        let err = f.store.record_consent_at(&bad, day(3)).unwrap_err();
        assert_eq!(err.to_string(), message);
    }
    assert_eq!(written(&f.store), [0, 0, 0, 0]);
}

#[test]
fn a_consent_given_in_the_future_is_a_bad_date() {
    let (mut f, anna) = with_types();
    let err = f
        .store
        .record_consent_at(&consent(anna, "newsletter", "given", 9), day(3))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::BadDate {
                field: "given_at",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("2024-01-09"), "{err}");
}

#[test]
fn a_failing_batch_leaves_nothing_behind() {
    let (mut f, anna) = with_types();
    let jan = person(&mut f.store, "Jan", Some("jan@example.com"));
    let mut with_evidence = consent(anna, "newsletter", "given", 2);
    with_evidence.evidence = Some(serde_json::json!({"ip": "192.0.2.1"}));
    let batch = [
        with_evidence,
        consent(jan, "newsletter", "given", 2),
        consent(jan, "phone", "nope", 2),
    ];
    let err = f.store.record_consents(&batch, day(3)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown consent status `nope`; valid codes: expired, given, refused, withdrawn"
    );
    assert_eq!(written(&f.store), [0, 0, 0, 0]);
    assert_eq!(f.store.ledger_head().unwrap().seq, LedgerSeq(0));

    let entries = f.store.record_consents(&batch[..2], day(3)).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(written(&f.store), [2, 2, 1, 2]);
}

#[test]
fn the_projection_matches_a_fold_of_the_ledger_after_several_changes() {
    let (mut f, anna) = with_types();
    let jan = person(&mut f.store, "Jan", Some("jan@example.com"));
    let changes = [
        consent(anna, "newsletter", "given", 2),
        consent(jan, "newsletter", "refused", 2),
        consent(anna, "phone", "given", 3),
        consent(anna, "newsletter", "withdrawn", 4),
        consent(jan, "newsletter", "given", 5),
        NewConsent {
            legal_basis: LegalBasis::LegitimateInterest,
            method: "phone".to_owned(),
            ..consent(anna, "phone", "given", 6)
        },
        consent(anna, "newsletter", "given", 7),
    ];
    for (i, c) in changes.iter().enumerate() {
        f.store.record_consent_at(c, day(10 + i as i64)).unwrap();
    }
    for contact in [anna, jan] {
        let mut folded = BTreeMap::new();
        for e in f.store.consent_history(contact).unwrap() {
            folded.insert(e.consent_type_id, e);
        }
        let projected = f.store.current_consents(contact).unwrap();
        assert_eq!(projected.len(), folded.len());
        for p in projected {
            let e = &folded[&p.consent_type_id];
            assert_eq!(
                (
                    p.status_id,
                    p.status,
                    p.legal_basis,
                    p.given_at,
                    p.method_id,
                    p.text_version,
                    p.seq
                ),
                (
                    e.status_id,
                    e.status,
                    e.legal_basis,
                    e.given_at,
                    e.method_id,
                    e.text_version,
                    e.seq
                )
            );
        }
    }
    let anna_now = f.store.current_consents(anna).unwrap();
    assert_eq!(anna_now[0].status, ConsentStatus::Given);
    assert_eq!(anna_now[1].legal_basis, LegalBasis::LegitimateInterest);
}

#[test]
fn an_older_consent_recorded_later_does_not_undo_a_withdrawal() {
    let (mut f, anna) = with_types();
    f.store
        .record_consent_at(&consent(anna, "newsletter", "withdrawn", 5), day(5))
        .unwrap();
    // An import of a consent the person gave before withdrawing it.
    let old = NewConsent {
        method: "import".to_owned(),
        source: "import: old-crm.xlsx".to_owned(),
        ..consent(anna, "newsletter", "given", 1)
    };
    let entry = f.store.record_consent_at(&old, day(6)).unwrap();
    let current = f.store.current_consents(anna).unwrap();
    assert_eq!(current[0].status, ConsentStatus::Withdrawn);
    assert_eq!(f.store.consent_history(anna).unwrap().len(), 2);
    let note = f.store.timeline(anna).unwrap().pop().unwrap();
    assert_eq!(note.ledger_seq, Some(entry.seq));
    assert!(
        note.summary
            .ends_with("older than the current state, kept as history"),
        "{}",
        note.summary
    );
}

#[test]
fn a_consent_keeps_the_text_version_it_was_given_on() {
    let (mut f, anna) = with_types();
    f.store
        .record_consent_at(&consent(anna, "newsletter", "given", 2), day(2))
        .unwrap();
    let edit = ConsentTypeEdit {
        text: Some("New terms.".to_owned()),
        ..ConsentTypeEdit::default()
    };
    f.store
        .edit_consent_type("newsletter", &edit, day(3))
        .unwrap();
    let renewed = f
        .store
        .record_consent_at(&consent(anna, "newsletter", "given", 4), day(4))
        .unwrap();
    let imported = NewConsent {
        contact: person(&mut f.store, "Jan", None),
        text_version: Some(1),
        ..consent(anna, "newsletter", "given", 4)
    };
    let old_text = f.store.record_consent_at(&imported, day(4)).unwrap();
    let history = f.store.consent_history(anna).unwrap();
    assert_eq!(
        (
            history[0].text_version,
            renewed.text_version,
            old_text.text_version
        ),
        (1, 2, 1)
    );
    let text = f
        .store
        .consent_type_text(history[0].consent_type_id, 1)
        .unwrap();
    assert_eq!(text.text, "I want the monthly newsletter.");
}

#[test]
fn evidence_is_stored_apart_and_its_hash_is_in_the_chain() {
    let (mut f, anna) = with_types();
    let evidence =
        serde_json::json!({"ip": "192.0.2.1", "user_agent": "Firefox", "form": {"ticked": true}});
    let c = NewConsent {
        evidence: Some(evidence.clone()),
        ..consent(anna, "newsletter", "given", 2)
    };
    let entry = f.store.record_consent_at(&c, day(2)).unwrap();
    let stored: String = f
        .store
        .raw()
        .query_row(
            "SELECT evidence FROM consent_evidence WHERE seq = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        entry.evidence_hash.as_deref(),
        Some(chain::sha256_hex(stored.as_bytes()).as_str())
    );
    assert_eq!(f.store.evidence(entry.seq).unwrap(), Some(evidence));
    let in_ledger: i64 = f
        .store
        .raw()
        .query_row("SELECT count(*) FROM consent_ledger WHERE source LIKE '%192.0.2.1%' OR actor LIKE '%192.0.2.1%'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(in_ledger, 0);
}

#[test]
fn the_ledger_refuses_updates_and_deletes_in_plain_sql() {
    let (mut f, anna) = with_types();
    f.store
        .record_consent_at(&consent(anna, "newsletter", "given", 2), day(2))
        .unwrap();
    for sql in [
        "UPDATE consent_ledger SET status_id = 2",
        "DELETE FROM consent_ledger",
    ] {
        let err = f.store.raw().execute(sql, []).unwrap_err();
        assert!(
            err.to_string().contains("consent ledger is append-only"),
            "{err}"
        );
    }
    assert_eq!(count(&f.store, "consent_ledger"), 1);
}
