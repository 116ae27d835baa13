use super::*;

fn company(store: &mut Store) -> ContactId {
    let new = NewContact {
        kind: ContactKind::Company,
        name: "Acme sp. z o.o.".to_owned(),
        email: Some("office@acme.example".to_owned()),
        phone: Some("+48 22 000 00 00".to_owned()),
        flags: ContactFlags::default(),
    };
    store.add_contact(&new, "alice").unwrap().id
}

#[test]
fn an_added_contact_reads_back_with_its_personal_fields_and_flags() {
    let mut f = fixture();
    let new = NewContact {
        kind: ContactKind::Other("car".to_owned()),
        name: " Fleet car 7 ".to_owned(),
        email: Some("  ".to_owned()),
        phone: Some("+48 600 000 000".to_owned()),
        flags: ContactFlags {
            restricted: true,
            ..ContactFlags::default()
        },
    };
    let c = f.store.add_contact(&new, "alice").unwrap();
    assert_eq!(c.kind.as_str(), "car");
    assert_eq!(c.name, "Fleet car 7");
    assert_eq!(c.email, None, "a blank email is no email");
    assert_eq!(c.created_at, now(), "created at the recorded time");
    assert!(c.flags.restricted);
    assert_eq!(f.store.contact(c.id).unwrap(), c);
    let timeline = f.store.timeline(c.id).unwrap();
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0].kind, TimelineKind::Created);
}

#[test]
fn an_unknown_contact_is_named() {
    let f = fixture();
    let err = f.store.contact(ContactId(42)).unwrap_err();
    assert_eq!(err.to_string(), "unknown contact id `42`");
}

#[test]
fn an_email_without_an_at_sign_is_refused() {
    let mut f = fixture();
    let new = NewContact {
        kind: ContactKind::Person,
        name: "Jan".to_owned(),
        email: Some("jan.example.com".to_owned()),
        phone: None,
        flags: ContactFlags::default(),
    };
    let err = f.store.add_contact(&new, "alice").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid email: `jan.example.com` is not an email address; \
         give one like `name@example.com`"
    );
    assert_eq!(count(&f.store, "contacts"), 0);
}

#[test]
fn contacts_list_in_pages_and_are_found_by_email_ignoring_case() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", Some("Anna@Example.com"));
    let jan = person(&mut f.store, "Jan", Some("jan@example.com"));
    let acme = company(&mut f.store);
    let first = f.store.contacts(None, 2).unwrap();
    assert_eq!(first.iter().map(|c| c.id).collect::<Vec<_>>(), [anna, jan]);
    let rest = f.store.contacts(Some(jan), 2).unwrap();
    assert_eq!(rest.iter().map(|c| c.id).collect::<Vec<_>>(), [acme]);
    let found = f.store.find_contacts_by_email("anna@example.COM").unwrap();
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), [anna]);
    assert!(
        f.store
            .find_contacts_by_email("nobody@example.com")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn setting_flags_returns_the_old_ones_and_shows_on_the_timeline() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let objected = ContactFlags {
        objected: true,
        ..ContactFlags::default()
    };
    let old = f.store.set_flags(anna, objected, "dpo").unwrap();
    assert_eq!(old, ContactFlags::default());
    assert_eq!(f.store.contact(anna).unwrap().flags, objected);
    let last = f.store.timeline(anna).unwrap().pop().unwrap();
    assert_eq!(
        (last.kind, last.actor.as_str()),
        (TimelineKind::Flag, "dpo")
    );
    assert_eq!(last.summary, "flags: none → objected");
    // Setting the same flags again is no change and adds no entry.
    f.store.set_flags(anna, objected, "dpo").unwrap();
    assert_eq!(f.store.timeline(anna).unwrap().len(), 2);
}

#[test]
fn opting_out_of_all_sets_the_flag_once() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    f.store.opt_out_of_all(anna, "anna").unwrap();
    f.store.opt_out_of_all(anna, "anna").unwrap();
    assert!(f.store.contact(anna).unwrap().flags.opted_out_of_all);
    let kinds: Vec<_> = f
        .store
        .timeline(anna)
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [TimelineKind::Created, TimelineKind::Preference]);
}

#[test]
fn contacts_can_be_related_once_per_kind() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let acme = company(&mut f.store);
    let id = f
        .store
        .relate(anna, acme, &RelationKind::EmployeeCompany, "alice")
        .unwrap();
    let again = f
        .store
        .relate(anna, acme, &RelationKind::EmployeeCompany, "alice")
        .unwrap();
    assert_eq!(id, again);
    let relations = f.store.relations(acme).unwrap();
    assert_eq!(relations.len(), 1);
    assert_eq!((relations[0].from, relations[0].to), (anna, acme));
    assert_eq!(relations[0].kind, RelationKind::EmployeeCompany);
    let kinds: Vec<_> = f
        .store
        .timeline(anna)
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [TimelineKind::Created, TimelineKind::Relation]);
}

#[test]
fn relating_to_an_unknown_contact_or_to_itself_is_refused() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let err = f
        .store
        .relate(anna, ContactId(99), &RelationKind::ParentChild, "alice")
        .unwrap_err();
    assert_eq!(err.to_string(), "unknown contact id `99`");
    let err = f
        .store
        .relate(anna, anna, &RelationKind::ParentChild, "alice")
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                field: "relation",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_purpose_basis_for_everyone_is_set_in_one_go() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let jan = person(&mut f.store, "Jan", None);
    let sales = NewPurpose {
        code: "sales".to_owned(),
        name: "Sales and service".to_owned(),
        legal_basis: LegalBasis::LegitimateInterest,
        direct_marketing: false,
    };
    let purpose = f.store.add_purpose(&sales, "admin").unwrap();
    f.store
        .set_purpose_basis(anna, "sales", LegalBasis::Contract, "alice")
        .unwrap();
    let touched = f
        .store
        .set_purpose_basis_for_all("sales", LegalBasis::LegitimateInterest, "upgrade")
        .unwrap();
    assert_eq!(touched, 2);
    for contact in [anna, jan] {
        let bases = f.store.contact_snapshot(contact).unwrap().bases;
        assert_eq!(
            bases,
            [PurposeBasis {
                purpose_id: purpose.id,
                legal_basis: LegalBasis::LegitimateInterest
            }]
        );
        assert_eq!(
            f.store.timeline(contact).unwrap().last().unwrap().kind,
            TimelineKind::Purpose
        );
    }
    let err = f
        .store
        .set_purpose_basis(anna, "nope", LegalBasis::Consent, "alice")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown purpose `nope`; valid codes: sales"
    );
}

#[test]
fn adding_many_contacts_is_all_or_nothing() {
    let mut f = fixture();
    let person = |name: &str, email: &str| NewContact {
        kind: ContactKind::Person,
        name: name.to_owned(),
        email: Some(email.to_owned()),
        phone: None,
        flags: ContactFlags::default(),
    };
    let ids = f
        .store
        .add_contacts(
            &[
                person("Ann", "ann@example.com"),
                person("Bo", "bo@example.com"),
            ],
            "alice",
        )
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(f.store.contact(ids[1]).unwrap().name, "Bo");
    let err = f
        .store
        .add_contacts(
            &[person("Cy", "cy@example.com"), person("Di", "not an email")],
            "alice",
        )
        .unwrap_err();
    assert!(err.to_string().contains("email"), "{err}");
    assert_eq!(
        f.store.contacts(None, 100).unwrap().len(),
        2,
        "nothing of the failed batch was written"
    );
}

#[test]
fn a_contact_added_with_its_consents_is_all_or_nothing() {
    let mut fx = fixture();
    fx.store
        .add_consent_type(&newsletter_type(), "admin")
        .unwrap();
    let new = NewContact {
        kind: ContactKind::Person,
        name: "Ewa Nowak".to_owned(),
        email: Some("ewa@example.com".to_owned()),
        phone: None,
        flags: ContactFlags::default(),
    };
    // The contact field is the store's to fill in.
    let given = consent(ContactId(0), "newsletter", "given", 1);
    let typo = consent(ContactId(0), "newsleter", "given", 1);

    let error = fx
        .store
        .add_contact_with_consents(&new, &[given.clone(), typo], "alice")
        .unwrap_err();
    assert!(error.to_string().contains("newsleter"), "{error}");
    assert!(fx.store.contacts(None, 10).unwrap().is_empty());

    let (contact, entries) = fx
        .store
        .add_contact_with_consents(&new, &[given], "alice")
        .unwrap();
    assert_eq!(fx.store.contacts(None, 10).unwrap(), vec![contact.clone()]);
    assert_eq!(entries.len(), 1);
    assert_eq!(fx.store.consent_history(contact.id).unwrap(), entries);
}

#[test]
fn atomically_keeps_a_change_and_its_notification_together() {
    let (mut f, anna) = with_types();
    let event = serde_json::json!({"source": "test"});
    let restricted = ContactFlags {
        restricted: true,
        ..ContactFlags::default()
    };
    let before = (count(&f.store, "ledger"), count(&f.store, "notifications"));
    // The notification fails after the change: neither stays.
    let failed: Result<()> = f.store.atomically(|store| {
        store.set_flags(anna, restricted, "alice")?;
        store.notify(anna, &event)?;
        Err(StoreError::UnknownNotification(7))
    });
    assert!(failed.is_err());
    assert_eq!(
        (count(&f.store, "ledger"), count(&f.store, "notifications")),
        before
    );
    assert!(!f.store.contact(anna).unwrap().flags.restricted);
    // Both succeed: both stay, and the ledger still verifies.
    f.store
        .atomically(|store| {
            store.set_flags(anna, restricted, "alice")?;
            store.notify(anna, &event).map(|_| ())
        })
        .unwrap();
    assert_eq!(count(&f.store, "notifications"), before.1 + 1);
    assert!(f.store.contact(anna).unwrap().flags.restricted);
    assert!(f.store.verify_ledger().unwrap().ok);
}
