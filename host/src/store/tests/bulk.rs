//! Filters, bulk fill, re-consent and the SuperOffice upgrade, over a table
//! of contacts in different states.

use std::collections::BTreeSet;

use super::*;

/// The table: six contacts, each in a state the filters tell apart.
struct Table {
    fx: Fixture,
    /// Newsletter given day 900 by email (valid, ends day 1265); opted out of newsletters.
    a: ContactId,
    /// Newsletter given day 500 (expired day 865).
    b: ContactId,
    /// A company; newsletter withdrawn day 950.
    c: ContactId,
    /// Phone given day 990 by phone; restricted (Art. 18); e-marketing on legitimate interest.
    d: ContactId,
    /// A device, nothing recorded; objected and opted out of everything.
    e: ContactId,
    /// Newsletter given day 990 on paper (ends day 1355); opted in; e-marketing by consent.
    f: ContactId,
}

fn add(store: &mut Store, name: &str, kind: ContactKind) -> ContactId {
    let new = NewContact {
        kind,
        name: name.to_owned(),
        email: Some(format!("{}@example.com", name.to_lowercase())),
        phone: None,
        flags: ContactFlags::default(),
    };
    store.add_contact(&new, "alice").unwrap().id
}

fn table() -> Table {
    let mut f = fixture();
    let s = &mut f.store;
    s.add_consent_type(&newsletter_type(), "admin").unwrap();
    s.add_consent_type(&phone_type(), "admin").unwrap();
    s.add_purpose(
        &NewPurpose {
            code: "e_marketing".to_owned(),
            name: "E-marketing".to_owned(),
            legal_basis: LegalBasis::Consent,
            direct_marketing: true,
        },
        "admin",
    )
    .unwrap();
    let a = add(s, "Anna", ContactKind::Person);
    let b = add(s, "Bruno", ContactKind::Person);
    let c = add(s, "Acme", ContactKind::Company);
    let d = add(s, "Dora", ContactKind::Person);
    let e = add(s, "Phone7", ContactKind::Device);
    let ff = add(s, "Fred", ContactKind::Person);
    s.record_consent(&consent(a, "newsletter", "given", 900))
        .unwrap();
    s.record_consent(&consent(b, "newsletter", "given", 500))
        .unwrap();
    s.record_consent(&consent(c, "newsletter", "given", 900))
        .unwrap();
    s.record_consent(&consent(c, "newsletter", "withdrawn", 950))
        .unwrap();
    s.record_consent(&NewConsent {
        method: "phone".to_owned(),
        ..consent(d, "phone", "given", 990)
    })
    .unwrap();
    s.record_consent(&NewConsent {
        method: "paper".to_owned(),
        ..consent(ff, "newsletter", "given", 990)
    })
    .unwrap();
    let flags = |restricted, objected, opted_out_of_all| ContactFlags {
        restricted,
        objected,
        opted_out_of_all,
    };
    s.set_flags(d, flags(true, false, false), "alice").unwrap();
    s.set_flags(e, flags(false, true, true), "alice").unwrap();
    s.set_preference(a, "newsletter", SubscriptionState::OptedOut, "alice")
        .unwrap();
    s.set_preference(ff, "newsletter", SubscriptionState::OptedIn, "alice")
        .unwrap();
    s.set_purpose_basis(d, "e_marketing", LegalBasis::LegitimateInterest, "alice")
        .unwrap();
    s.set_purpose_basis(ff, "e_marketing", LegalBasis::Consent, "alice")
        .unwrap();
    Table {
        fx: f,
        a,
        b,
        c,
        d,
        e,
        f: ff,
    }
}

fn ids(store: &Store, filter: &ContactFilter) -> BTreeSet<ContactId> {
    let found = store.filter_contact_ids(filter, now(), None, 1000).unwrap();
    let listed: Vec<ContactId> = store
        .filter_contacts(filter, now(), None, 1000)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(found, listed, "ids and the listing agree");
    found.into_iter().collect()
}

fn set(ids: &[ContactId]) -> BTreeSet<ContactId> {
    ids.iter().copied().collect()
}

#[test]
fn each_criterion_selects_exactly_its_contacts() {
    let t = table();
    let (a, b, c, d, e, f) = (t.a, t.b, t.c, t.d, t.e, t.f);
    let s = &t.fx.store;
    let newsletter = || ContactFilter {
        consent_type: Some("newsletter".to_owned()),
        ..ContactFilter::default()
    };
    let cases: Vec<(&str, ContactFilter, Vec<ContactId>)> = vec![
        ("empty", ContactFilter::default(), vec![a, b, c, d, e, f]),
        ("type", newsletter(), vec![a, b, c, f]),
        (
            "status",
            ContactFilter {
                status: Some("withdrawn".into()),
                ..Default::default()
            },
            vec![c],
        ),
        (
            "meaning",
            ContactFilter {
                meaning: Some(ConsentStatus::Given),
                ..Default::default()
            },
            vec![a, b, d, f],
        ),
        (
            "valid",
            ContactFilter {
                valid: Some(true),
                ..newsletter()
            },
            vec![a, f],
        ),
        (
            "valid any type",
            ContactFilter {
                valid: Some(true),
                ..Default::default()
            },
            vec![a, d, f],
        ),
        (
            "not valid",
            ContactFilter {
                valid: Some(false),
                ..newsletter()
            },
            vec![b, c, d, e],
        ),
        // At day 1300, Anna's (ends 1265) has expired too.
        (
            "valid at",
            ContactFilter {
                valid: Some(true),
                at: Some(day(1300)),
                ..newsletter()
            },
            vec![f],
        ),
        (
            "expiring",
            ContactFilter {
                expiring_before: Some(day(1300)),
                ..Default::default()
            },
            vec![a, b],
        ),
        (
            "expiring and valid",
            ContactFilter {
                expiring_before: Some(day(1300)),
                valid: Some(true),
                ..Default::default()
            },
            vec![a],
        ),
        (
            "method",
            ContactFilter {
                method: Some("paper".into()),
                ..Default::default()
            },
            vec![f],
        ),
        (
            "consent basis",
            ContactFilter {
                consent_legal_basis: Some(LegalBasis::Consent),
                ..newsletter()
            },
            vec![a, b, c, f],
        ),
        (
            "purpose",
            ContactFilter {
                purpose: Some("e_marketing".into()),
                ..Default::default()
            },
            vec![d, f],
        ),
        (
            "purpose basis",
            ContactFilter {
                purpose: Some("e_marketing".into()),
                legal_basis: Some(LegalBasis::LegitimateInterest),
                ..Default::default()
            },
            vec![d],
        ),
        (
            "opted in",
            ContactFilter {
                subscription: Some("newsletter".into()),
                subscription_state: Some(SubscriptionState::OptedIn),
                ..Default::default()
            },
            vec![f],
        ),
        (
            "opted out",
            ContactFilter {
                subscription: Some("newsletter".into()),
                subscription_state: Some(SubscriptionState::OptedOut),
                ..Default::default()
            },
            vec![a],
        ),
        (
            "not specified",
            ContactFilter {
                subscription: Some("newsletter".into()),
                subscription_state: Some(SubscriptionState::NotSpecified),
                ..Default::default()
            },
            vec![b, c, d, e],
        ),
        (
            "kind",
            ContactFilter {
                kind: Some(ContactKind::Company),
                ..Default::default()
            },
            vec![c],
        ),
        (
            "kind device",
            ContactFilter {
                kind: Some(ContactKind::Device),
                ..Default::default()
            },
            vec![e],
        ),
        (
            "restricted",
            ContactFilter {
                restricted: Some(true),
                ..Default::default()
            },
            vec![d],
        ),
        (
            "objected",
            ContactFilter {
                objected: Some(true),
                ..Default::default()
            },
            vec![e],
        ),
        (
            "opted out of all",
            ContactFilter {
                opted_out_of_all: Some(true),
                ..Default::default()
            },
            vec![e],
        ),
        (
            "not restricted, person",
            ContactFilter {
                restricted: Some(false),
                kind: Some(ContactKind::Person),
                ..Default::default()
            },
            vec![a, b, f],
        ),
    ];
    for (name, filter, want) in cases {
        assert_eq!(ids(s, &filter), set(&want), "{name}");
    }
}

#[test]
fn filters_page_by_id_and_name_unknown_codes() {
    let t = table();
    let s = &t.fx.store;
    let page = s
        .filter_contact_ids(&ContactFilter::default(), now(), Some(t.b), 2)
        .unwrap();
    assert_eq!(page, vec![t.c, t.d]);
    let err = s
        .filter_contact_ids(
            &ContactFilter {
                status: Some("gone".into()),
                ..Default::default()
            },
            now(),
            None,
            10,
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("`gone`") && text.contains("withdrawn"),
        "{text}"
    );
    let err = s
        .filter_contact_ids(
            &ContactFilter {
                subscription_state: Some(SubscriptionState::NotSpecified),
                ..Default::default()
            },
            now(),
            None,
            10,
        )
        .unwrap_err();
    assert!(err.to_string().contains("subscription"), "{err}");
}

fn fill_people(status: &str) -> FillRequest {
    FillRequest {
        filter: ContactFilter {
            kind: Some(ContactKind::Person),
            ..Default::default()
        },
        consent_type: "newsletter".to_owned(),
        status: status.to_owned(),
        method: "email".to_owned(),
        legal_basis: LegalBasis::Consent,
        source: None,
        dry_run: false,
    }
}

#[test]
fn fill_writes_an_entry_per_change_skips_the_same_and_is_all_or_nothing() {
    let mut t = table();
    let s = &mut t.fx.store;
    let head = s.ledger_head().unwrap();
    // An unknown status writes nothing.
    let err = s
        .fill_consents(&fill_people("gvien"), now(), "bob")
        .unwrap_err();
    assert!(err.to_string().contains("`gvien`"), "{err}");
    assert_eq!(s.ledger_head().unwrap(), head);
    let dry = s
        .fill_consents(
            &FillRequest {
                dry_run: true,
                ..fill_people("given")
            },
            now(),
            "bob",
        )
        .unwrap();
    assert_eq!(s.ledger_head().unwrap(), head);
    let timeline_before = count(s, "contact_timeline");
    let report = s
        .fill_consents(&fill_people("given"), now(), "bob")
        .unwrap();
    assert_eq!(report.changed.len(), dry.changed.len());
    // Persons a, b, d, f: Anna and Bruno hold "given by email" already
    // (the state, whatever its date), Dora has none and Fred's is on paper.
    let changed: Vec<ContactId> = report.changed.iter().map(|c| c.contact).collect();
    assert_eq!(changed, vec![t.d, t.f]);
    assert_eq!(report.skipped, vec![t.a, t.b]);
    assert_eq!(s.ledger_head().unwrap().seq.0, head.seq.0 + 2);
    assert_eq!(count(s, "contact_timeline"), timeline_before + 2);
    for c in &report.changed {
        let last = s.consent_history(c.contact).unwrap().pop().unwrap();
        assert_eq!(Some(last.seq), c.seq);
        assert_eq!(last.source, "bulk fill");
    }
    // Again: everyone is in that state now.
    let again = s
        .fill_consents(&fill_people("given"), now(), "bob")
        .unwrap();
    assert!(again.changed.is_empty());
    assert_eq!(again.skipped, vec![t.a, t.b, t.d, t.f]);
    assert!(s.verify_ledger().unwrap().ok, "the ledger still verifies");
}

#[test]
fn expiring_lists_consents_ending_in_the_window() {
    let t = table();
    let s = &t.fx.store;
    let soon = s.expiring_consents(now(), 300).unwrap();
    let got: Vec<(ContactId, &str)> = soon
        .iter()
        .map(|c| (c.contact, c.consent_type.as_str()))
        .collect();
    assert_eq!(got, vec![(t.a, "newsletter")]);
    assert_eq!(soon[0].valid_until, day(1265));
    let later = s.expiring_consents(now(), 400).unwrap();
    let got: Vec<ContactId> = later.iter().map(|c| c.contact).collect();
    assert_eq!(got, vec![t.a, t.f]);
    assert!(s.expiring_consents(now(), 0).is_err());
}

#[test]
fn superoffice_upgrade_sets_the_bases_and_a_second_run_changes_nothing() {
    let mut t = table();
    let s = &mut t.fx.store;
    let marks = vec![
        SuperOfficeMark {
            contact: MarkRef::Id(t.a),
            mailed: true,
            no_mailings: false,
        },
        SuperOfficeMark {
            contact: MarkRef::Email("BRUNO@example.com".into()),
            mailed: true,
            no_mailings: true,
        },
    ];
    let dry = s.migrate_superoffice(&marks, true, "admin").unwrap();
    let head = s.ledger_head().unwrap();
    let report = s.migrate_superoffice(&marks, false, "admin").unwrap();
    assert_eq!(report.changes, dry.changes, "the dry run equals the run");
    assert_eq!(report.purposes_created, vec![SALES_AND_SERVICE.to_owned()]);
    assert_eq!(report.sales_and_service, 6);
    // Anna mailed: on; Bruno "no mailings" and the opted-out device:
    // withdrawn; Dora and Fred keep the bases they had; Acme never mailed.
    let e_marketing: Vec<(ContactId, LegalBasis)> = report
        .changes
        .iter()
        .filter(|c| c.purpose == E_MARKETING)
        .map(|c| (c.contact, c.legal_basis))
        .collect();
    assert_eq!(
        e_marketing,
        vec![
            (t.a, LegalBasis::LegitimateInterest),
            (t.b, LegalBasis::Withdrawn),
            (t.e, LegalBasis::Withdrawn)
        ]
    );
    assert!(s.ledger_head().unwrap().seq.0 > head.seq.0);
    let head = s.ledger_head().unwrap();
    let again = s.migrate_superoffice(&marks, false, "admin").unwrap();
    assert_eq!(again.total(), 0, "{again:?}");
    assert_eq!(s.ledger_head().unwrap(), head);
    assert!(s.verify_ledger().unwrap().ok);
}

#[test]
fn marks_are_read_from_csv_and_a_bad_cell_is_named() {
    let marks =
        read_marks("contact,mailed,no_mailings\n3,yes,\nanna@example.com,,x\n".as_bytes()).unwrap();
    assert_eq!(marks[0].contact, MarkRef::Id(ContactId(3)));
    assert!(marks[0].mailed && !marks[0].no_mailings);
    assert_eq!(marks[1].contact, MarkRef::Email("anna@example.com".into()));
    assert!(marks[1].no_mailings);
    let err = read_marks("contact,mailed\n3,maybe\n".as_bytes()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("line 2") && text.contains("`mailed`") && text.contains("`maybe`"),
        "{text}"
    );
}
