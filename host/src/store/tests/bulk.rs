//! Filters, bulk fill, re-consent and the SuperOffice upgrade, over a table
//! of contacts in different states.

use std::collections::BTreeSet;

use super::*;

/// The table: six contacts, each in a state the filters tell apart.
pub(super) struct Table {
    pub fx: Fixture,
    /// Newsletter given day 900 by email (valid, ends day 1265); opted out of newsletters.
    pub a: ContactId,
    /// Newsletter given day 500 (expired day 865).
    pub b: ContactId,
    /// A company; newsletter withdrawn day 950.
    pub c: ContactId,
    /// Phone given day 990 by phone; restricted (Art. 18); e-marketing on legitimate interest.
    pub d: ContactId,
    /// A device, nothing recorded; objected and opted out of everything.
    pub e: ContactId,
    /// Newsletter given day 990 on paper (ends day 1355); opted in; e-marketing by consent.
    pub f: ContactId,
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

pub(super) fn table() -> Table {
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
