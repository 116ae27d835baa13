//! Bulk fill and the re-consent list, over the filters' table of contacts.

use super::bulk::table;
use super::*;

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

/// A measurement, not a check: `cargo test --release -p crm-consent --lib
/// -- --ignored filter_and_fill_figures --nocapture`.
#[test]
#[ignore = "a measurement; run by hand"]
fn filter_and_fill_figures() {
    let mut f = fixture();
    f.store
        .add_consent_type(&newsletter_type(), "admin")
        .unwrap();
    let n = 20_000;
    let new: Vec<NewContact> = (0..n)
        .map(|i| NewContact {
            kind: if i % 2 == 0 {
                ContactKind::Person
            } else {
                ContactKind::Company
            },
            name: format!("c{i}"),
            email: Some(format!("c{i}@example.com")),
            phone: None,
            flags: ContactFlags::default(),
        })
        .collect();
    let ids = f.store.add_contacts(&new, "admin").unwrap();
    let given: Vec<NewConsent> = ids
        .iter()
        .step_by(3)
        .map(|&id| consent(id, "newsletter", "given", 900))
        .collect();
    f.store.record_consents(&given).unwrap();
    let filter = ContactFilter {
        consent_type: Some("newsletter".into()),
        valid: Some(false),
        kind: Some(ContactKind::Person),
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let found = f.store.all_filtered_contact_ids(&filter, now()).unwrap();
    let filtered = t.elapsed();
    let t = std::time::Instant::now();
    let report = f
        .store
        .fill_consents(
            &FillRequest {
                filter,
                consent_type: "newsletter".into(),
                status: "given".into(),
                method: "paper".into(),
                legal_basis: LegalBasis::Consent,
                source: None,
                dry_run: false,
            },
            now(),
            "admin",
        )
        .unwrap();
    println!(
        "{n} contacts: filter selected {} in {filtered:?}; fill wrote {} entries in {:?}",
        found.len(),
        report.changed.len(),
        t.elapsed()
    );
}
