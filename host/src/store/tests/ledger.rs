use std::collections::BTreeMap;

use super::*;

/// Rows in every table a consent change writes to.
fn written(store: &Store) -> [i64; 4] {
    [
        count(store, "ledger WHERE kind = 'consent'"),
        count(store, "consent_state"),
        count(store, "consent_evidence"),
        count(store, "contact_timeline WHERE kind = 'consent_change'"),
    ]
}

#[test]
fn a_recorded_consent_is_chained_projected_and_on_the_timeline() {
    let (mut f, anna) = with_types();
    let before = f.store.ledger_head().unwrap();
    let first = f
        .store
        .record_consent(&consent(anna, "newsletter", "given", 2))
        .unwrap();
    assert_eq!(first.seq, LedgerSeq(before.seq.0 + 1));
    assert_eq!(first.prev_hash, before.hash);
    assert_eq!(
        (first.status, first.recorded_at, first.given_at),
        (ConsentStatus::Given, now(), day(2))
    );
    assert_eq!(first.text_version, 1);
    let second = f
        .store
        .record_consent(&consent(anna, "phone", "refused", 3))
        .unwrap();
    assert_eq!(second.prev_hash, first.hash);
    assert_eq!(
        f.store.ledger_head().unwrap(),
        LedgerHead {
            seq: LedgerSeq(before.seq.0 + 2),
            hash: second.hash.clone()
        }
    );

    let current = f.store.current_consents(anna).unwrap();
    assert_eq!(current.len(), 2);
    assert_eq!(
        (current[0].status, current[0].seq),
        (ConsentStatus::Given, first.seq)
    );
    let change = f
        .store
        .timeline(anna)
        .unwrap()
        .into_iter()
        .find(|e| e.kind == TimelineKind::ConsentChange)
        .unwrap();
    assert_eq!(change.ledger_seq, Some(first.seq));
    assert_eq!(
        change.summary,
        "consent `newsletter`: given (given), legal basis consent, via `email`, text v1; source: web form"
    );
    assert_eq!(
        f.store.consent_history(anna).unwrap(),
        [first.clone(), second]
    );
    assert_eq!(f.store.ledger_entry(first.seq).unwrap(), Some(first));
    assert_eq!(
        f.store.ledger_entry(before.seq).unwrap(),
        None,
        "not a consent entry"
    );
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
    assert_eq!(err.to_string(), "unknown consent type id `77`");
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
            "unknown contact id `404`",
        ),
        (
            NewConsent {
                text_version: Some(9),
                ..consent(anna, "newsletter", "given", 2)
            },
            "consent type #1 has no text version `9`; \
             name one of the versions `crm-consent types show` lists",
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
        let err = f.store.record_consent(&bad).unwrap_err();
        assert_eq!(err.to_string(), message);
    }
    assert_eq!(written(&f.store), [0, 0, 0, 0]);
}

#[test]
fn a_consent_given_in_the_future_is_a_bad_date() {
    let (mut f, anna) = with_types();
    let tomorrow = NewConsent {
        given_at: now() + chrono::Duration::days(1),
        ..consent(anna, "newsletter", "given", 1)
    };
    let err = f.store.record_consent(&tomorrow).unwrap_err();
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
    assert!(err.to_string().contains("2026-09-27"), "{err}");
    // Four minutes ahead is more than clock skew, too.
    let soon = NewConsent {
        given_at: now() + chrono::Duration::minutes(4),
        ..tomorrow
    };
    assert!(f.store.record_consent(&soon).is_err());
}

/// Art. 7(3): the reproduction. A grant dated a little ahead, then a
/// withdrawal: the withdrawal was recorded later and wins.
#[test]
fn a_withdrawal_recorded_after_a_future_dated_grant_wins() {
    let (mut f, anna) = with_types();
    let grant = NewConsent {
        given_at: now() + chrono::Duration::minutes(1),
        ..consent(anna, "newsletter", "given", 1)
    };
    f.store.record_consent(&grant).unwrap();
    let withdraw = NewConsent {
        given_at: now(),
        ..consent(anna, "newsletter", "withdrawn", 1)
    };
    f.store.record_consent(&withdraw).unwrap();
    let current = f.store.current_consents(anna).unwrap();
    assert_eq!(current[0].status, ConsentStatus::Withdrawn);
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn recorded_times_come_from_the_clock_and_never_go_backwards() {
    let (mut f, anna) = with_types();
    let first = f
        .store
        .record_consent(&consent(anna, "newsletter", "given", 1))
        .unwrap();
    f.store.set_clock(|| day(10));
    let second = f
        .store
        .record_consent(&consent(anna, "phone", "given", 1))
        .unwrap();
    assert_eq!(first.recorded_at, now());
    assert_eq!(
        second.recorded_at,
        now(),
        "a clock set back does not move it back"
    );
}

#[test]
fn a_consent_given_before_its_text_existed_is_refused_unless_a_historical_text_is_added() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create_with_clock(dir.path().join("c.db"), now).unwrap();
    let new = NewConsentType {
        text_valid_from: None,
        ..newsletter_type()
    };
    store.add_consent_type(&new, "admin").unwrap();
    let anna = person(&mut store, "Anna", None);
    let old = consent(anna, "newsletter", "given", 5);
    let err = store.record_consent(&old).unwrap_err().to_string();
    assert!(
        err.contains("before the consent type's text version existed"),
        "{err}"
    );
    let text = store
        .add_historical_text("newsletter", "The 2023 newsletter terms.", day(0), "import")
        .unwrap();
    assert_eq!(text.valid_from, day(0));
    assert_eq!(
        store.consent_type("newsletter").unwrap().text_version,
        1,
        "a historical text does not become the current one"
    );
    let entry = store
        .record_consent(&NewConsent {
            text_version: Some(text.version),
            ..old
        })
        .unwrap();
    assert_eq!(entry.text_version, 2);
}

#[test]
fn an_actor_longer_than_the_limit_is_refused_before_it_enters_the_chain() {
    let (mut f, anna) = with_types();
    let big = NewConsent {
        actor: "x".repeat(100_000),
        ..consent(anna, "newsletter", "given", 1)
    };
    let err = f.store.record_consent(&big).unwrap_err();
    assert!(
        matches!(err, StoreError::TooLong { field: "actor", .. }),
        "{err}"
    );
    assert_eq!(written(&f.store), [0, 0, 0, 0]);
}

#[test]
fn a_failing_batch_leaves_nothing_behind() {
    let (mut f, anna) = with_types();
    let jan = person(&mut f.store, "Jan", Some("jan@example.com"));
    let mut with_evidence = consent(anna, "newsletter", "given", 2);
    with_evidence.evidence = Some(serde_json::json!({"ip": "192.0.2.1"}));
    let before = f.store.ledger_head().unwrap().seq;
    let batch = [
        with_evidence,
        consent(jan, "newsletter", "given", 2),
        consent(jan, "phone", "nope", 2),
    ];
    let err = f.store.record_consents(&batch).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown consent status `nope`; valid codes: expired, given, refused, withdrawn"
    );
    assert_eq!(written(&f.store), [0, 0, 0, 0]);
    assert_eq!(f.store.ledger_head().unwrap().seq, before);

    let entries = f.store.record_consents(&batch[..2]).unwrap();
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
    for c in &changes {
        f.store.record_consent(c).unwrap();
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
        .record_consent(&consent(anna, "newsletter", "withdrawn", 5))
        .unwrap();
    // An import of a consent the person gave before withdrawing it.
    let old = NewConsent {
        method: "import".to_owned(),
        source: "import: old-crm.xlsx".to_owned(),
        ..consent(anna, "newsletter", "given", 1)
    };
    let entry = f.store.record_consent(&old).unwrap();
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
        .record_consent(&consent(anna, "newsletter", "given", 2))
        .unwrap();
    let edit = ConsentTypeEdit {
        text: Some("New terms.".to_owned()),
        ..ConsentTypeEdit::default()
    };
    f.store
        .edit_consent_type("newsletter", &edit, "admin")
        .unwrap();
    // The new text exists from now on: a consent to it is given now.
    let renewed = f
        .store
        .record_consent(&NewConsent {
            given_at: now(),
            ..consent(anna, "newsletter", "given", 4)
        })
        .unwrap();
    let imported = NewConsent {
        contact: person(&mut f.store, "Jan", None),
        text_version: Some(1),
        ..consent(anna, "newsletter", "given", 4)
    };
    let old_text = f.store.record_consent(&imported).unwrap();
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
    let entry = f.store.record_consent(&c).unwrap();
    let stored: String = f
        .store
        .raw()
        .query_row(
            "SELECT evidence FROM consent_evidence WHERE seq = ?1",
            [entry.seq],
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
        .query_row(
            "SELECT count(*) FROM ledger WHERE body LIKE '%192.0.2.1%' OR actor LIKE '%192.0.2.1%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(in_ledger, 0);
}

#[test]
fn the_ledger_refuses_updates_and_deletes_in_plain_sql() {
    let (mut f, anna) = with_types();
    f.store
        .record_consent(&consent(anna, "newsletter", "given", 2))
        .unwrap();
    let entries = count(&f.store, "ledger");
    for sql in ["UPDATE ledger SET body = '{}'", "DELETE FROM ledger"] {
        let err = f.store.raw().execute(sql, []).unwrap_err();
        assert!(
            err.to_string().contains("the ledger is append-only"),
            "{err}"
        );
    }
    assert_eq!(count(&f.store, "ledger"), entries);
}
