use serde_json::json;

use super::*;

fn add(store: &mut Store, kind: ContactKind, name: &str, email: Option<&str>) -> ContactId {
    let new = NewContact {
        kind,
        name: name.to_owned(),
        email: email.map(str::to_owned),
        // One phone per name: a shared one would meet the re-add block.
        phone: email.map(|_| {
            format!(
                "+48 600 {:03}",
                name.len() * 7 + name.as_bytes()[0] as usize
            )
        }),
        flags: ContactFlags::default(),
    };
    store.add_contact(&new, "alice").unwrap().id
}

fn erase(store: &mut Store, id: ContactId) -> ErasureReport {
    store
        .erase(
            id,
            &ErasureRequest::new(ErasureGround::ConsentWithdrawn, "dpo"),
        )
        .unwrap()
}

fn ids(report: &ErasureReport) -> Vec<ContactId> {
    report.erased.iter().map(|e| e.contact).collect()
}

/// grandparent → parent → child by parent_child, and the parent uses a device.
fn family(store: &mut Store) -> [ContactId; 4] {
    let grandparent = add(store, ContactKind::Person, "Gran", None);
    let parent = add(store, ContactKind::Person, "Pa", None);
    let child = add(store, ContactKind::Person, "Kid", None);
    let device = add(store, ContactKind::Device, "Phone of Pa", None);
    store
        .relate(grandparent, parent, &RelationKind::ParentChild, "alice")
        .unwrap();
    store
        .relate(parent, child, &RelationKind::ParentChild, "alice")
        .unwrap();
    store
        .relate(parent, device, &RelationKind::UserDevice, "alice")
        .unwrap();
    [grandparent, parent, child, device]
}

#[test]
fn erasing_takes_one_level_down_and_never_the_grandchild() {
    let mut f = fixture();
    let [grandparent, parent, child, device] = family(&mut f.store);
    let req = ErasureRequest::new(ErasureGround::Objection, "dpo");
    let dry = f.store.erase(grandparent, &req.clone().dry_run()).unwrap();
    assert_eq!(ids(&dry), [grandparent, parent]);
    assert!(
        f.store.contact(parent).unwrap().erased_at.is_none(),
        "a dry run writes nothing"
    );
    let real = f.store.erase(grandparent, &req).unwrap();
    assert_eq!(
        real.erased, dry.erased,
        "the dry run lists exactly who goes"
    );
    assert_eq!(real.erased[1].cascaded_from, Some(grandparent));
    assert_eq!(real.erased[1].relation.as_deref(), Some("parent_child"));
    for id in [grandparent, parent] {
        assert!(f.store.contact(id).unwrap().erased_at.is_some());
    }
    for id in [child, device] {
        let c = f.store.contact(id).unwrap();
        assert!(c.erased_at.is_none(), "contact {id} is two levels down");
        assert!(!c.name.is_empty());
    }
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn the_university_takes_its_faculty_but_not_the_students() {
    let mut f = fixture();
    let uni = add(&mut f.store, ContactKind::Company, "Uni", None);
    let faculty = add(&mut f.store, ContactKind::Company, "Faculty", None);
    let student = add(&mut f.store, ContactKind::Person, "Student", None);
    let kind = |c: &str| RelationKind::Other(c.to_owned());
    f.store
        .relate(faculty, uni, &kind("faculty_university"), "alice")
        .unwrap();
    f.store
        .relate(student, faculty, &kind("student_faculty"), "alice")
        .unwrap();
    assert_eq!(ids(&erase(&mut f.store, uni)), [uni, faculty]);
    assert!(f.store.contact(student).unwrap().erased_at.is_none());
    // The faculty's own erasure would have taken the student: one level.
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn erasing_an_erased_contact_is_refused_and_verify_holds_after_many() {
    let mut f = fixture();
    for round in 0..5 {
        let [g, _, c, _] = family(&mut f.store);
        erase(&mut f.store, g);
        erase(&mut f.store, c);
        let err = f
            .store
            .erase(g, &ErasureRequest::new(ErasureGround::Objection, "dpo"))
            .unwrap_err();
        assert!(matches!(err, StoreError::Erased { .. }), "{round}: {err}");
    }
    let report = f.store.verify_ledger().unwrap();
    assert!(report.ok, "{report:?}");
}

#[test]
fn hooks_read_an_erased_contact_as_blocked() {
    let (mut f, anna) = with_types();
    f.store
        .record_consent(&consent(anna, "newsletter", "given", 1))
        .unwrap();
    erase(&mut f.store, anna);
    let snapshot = f.store.contact_snapshot(anna).unwrap();
    assert!(snapshot.flags.restricted && snapshot.flags.objected);
    let why = f.store.blocked_because(anna).unwrap().unwrap();
    assert!(
        why.contains("was erased on") && why.contains("consent_withdrawn"),
        "{why}"
    );
    let err = f
        .store
        .record_consent(&consent(anna, "newsletter", "given", 2))
        .unwrap_err();
    assert!(matches!(err, StoreError::Erased { .. }), "{err}");
}

fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let wal = path.with_file_name("consent.db-wal");
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn nothing_erased_can_be_read_back_from_the_file_or_the_wal() {
    let (mut f, _) = with_types();
    let new = NewContact {
        kind: ContactKind::Person,
        name: "Zofia Quarkowska".to_owned(),
        email: Some("zofia.quark@example.org".to_owned()),
        phone: Some("+48 777 888 999".to_owned()),
        flags: ContactFlags::default(),
    };
    let zofia = f.store.add_contact(&new, "alice").unwrap().id;
    let mut c = consent(zofia, "newsletter", "given", 1);
    c.evidence = Some(json!({"ip": "203.0.113.77", "user_agent": "QuarkBrowser/9.9"}));
    f.store.record_consent(&c).unwrap();
    let reason = f.store.reasons().unwrap()[0].id;
    f.store
        .log_justification(&NewJustification {
            at: day(3),
            contact: zofia,
            channel: Channel::Phone,
            reason,
            text: "Zofia asked for a callback about Quarkmobile".to_owned(),
            reason_code: "no_consent".to_owned(),
            plugin_sha256: None,
            request: json!({}),
            actor: "bob".to_owned(),
        })
        .unwrap();
    f.store
        .rectify(
            zofia,
            &Rectification {
                email: Some("zofia.q2@example.org".to_owned()),
                ..Rectification::default()
            },
            "alice",
        )
        .unwrap();
    let secrets = [
        "Zofia Quarkowska",
        "zofia.quark@example.org",
        "zofia.q2@example.org",
        "777 888 999",
        "203.0.113.77",
        "QuarkBrowser",
        "Quarkmobile",
    ];
    let before = file_bytes(&f.path);
    assert!(
        contains(&before, "Quarkmobile"),
        "the test must see the data first"
    );
    let report = erase(&mut f.store, zofia);
    assert_eq!(report.wal, WalWipe::Done);
    let after = file_bytes(&f.path);
    for s in secrets {
        assert!(!contains(&after, s), "`{s}` is still in the file");
    }
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn a_tombstone_blocks_a_re_add_until_the_person_consents_on_a_form() {
    let mut f = fixture();
    let anna = add(
        &mut f.store,
        ContactKind::Person,
        "Anna",
        Some("anna@example.com"),
    );
    erase(&mut f.store, anna);
    let again = NewContact {
        kind: ContactKind::Person,
        name: "Anna N.".to_owned(),
        email: Some("  ANNA@example.com ".to_owned()),
        phone: None,
        flags: ContactFlags::default(),
    };
    let err = f.store.add_contact(&again, "bob").unwrap_err();
    assert_eq!(err.code(), "erased_before");
    assert!(err.to_string().contains("--awaiting-own-consent"), "{err}");
    let phone_only = NewContact {
        email: None,
        phone: Some(format!("+48600{:03}", 4 * 7 + b'A' as usize)),
        ..again.clone()
    };
    let err = f.store.add_contacts(&[phone_only], "bob").unwrap_err();
    assert!(err.to_string().starts_with("this phone"), "{err}");
    let pending = f
        .store
        .add_contact_awaiting_own_consent(&again, "bob")
        .unwrap();
    assert!(pending.awaiting_own_consent);
    assert!(f.store.blocked_because(pending.id).unwrap().is_some());
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn rectifying_notes_the_fields_and_refuses_an_erased_address() {
    let mut f = fixture();
    let gone = add(
        &mut f.store,
        ContactKind::Person,
        "Gone",
        Some("gone@example.com"),
    );
    erase(&mut f.store, gone);
    let anna = add(
        &mut f.store,
        ContactKind::Person,
        "Anna",
        Some("anna@example.com"),
    );
    let r = Rectification {
        name: Some("Anna Nowak".to_owned()),
        phone: Some(String::new()),
        ..Rectification::default()
    };
    let report = f.store.rectify(anna, &r, "alice").unwrap();
    assert_eq!(report.changed, ["name", "phone"]);
    assert_eq!(report.contact.name, "Anna Nowak");
    assert_eq!(report.contact.phone, None);
    let last = f.store.timeline(anna).unwrap().pop().unwrap();
    assert_eq!(last.kind, TimelineKind::Rectification);
    assert_eq!(last.summary, "rectified (Art. 16): name, phone");
    let to_gone = Rectification {
        email: Some("Gone@Example.com".to_owned()),
        ..Rectification::default()
    };
    let err = f.store.rectify(anna, &to_gone, "alice").unwrap_err();
    assert_eq!(err.code(), "erased_before");
    assert_eq!(
        f.store.contact(anna).unwrap().email.as_deref(),
        Some("anna@example.com")
    );
    let err = f.store.rectify(gone, &r, "alice").unwrap_err();
    assert_eq!(err.code(), "contact_erased");
}

#[test]
fn an_erasure_is_announced_on_the_webhook_without_personal_data() {
    let mut f = fixture();
    f.store
        .set_webhook("https://hooks.example/x", "admin")
        .unwrap();
    let [g, p, ..] = family(&mut f.store);
    let report = erase(&mut f.store, g);
    assert_eq!(report.notifications.len(), 2);
    let due = f
        .store
        .due_notifications(now() + chrono::Duration::days(1), 10)
        .unwrap();
    let bodies: Vec<serde_json::Value> = due
        .iter()
        .map(|n| serde_json::from_str(&n.body).unwrap())
        .collect();
    assert_eq!(bodies[0]["event"], "erasure");
    assert_eq!(bodies[0]["contact"], g.0);
    assert_eq!(bodies[1]["contact"], p.0);
    assert_eq!(bodies[1]["cascaded_from"], g.0);
    assert_eq!(bodies[1]["ground"], "consent_withdrawn");
    assert!(!due.iter().any(|n| n.body.contains("Gran")));
}

#[test]
fn relating_checks_the_catalog_and_an_admin_can_extend_it() {
    let mut f = fixture();
    let a = add(&mut f.store, ContactKind::Person, "A", None);
    let b = add(&mut f.store, ContactKind::Person, "B", None);
    let err = f
        .store
        .relate(a, b, &RelationKind::Other("sibling".to_owned()), "alice")
        .unwrap_err();
    assert!(
        err.to_string().contains("valid codes: employee_company"),
        "{err}"
    );
    let err = f
        .store
        .relate(a, b, &RelationKind::UserDevice, "alice")
        .unwrap_err();
    assert!(err.to_string().contains("is a person"), "{err}");
    f.store
        .add_relation_type(
            &NewRelationType {
                code: "sibling".to_owned(),
                name: "Sibling".to_owned(),
                from_type: Some("person".to_owned()),
                to_type: Some("person".to_owned()),
                cascade: Cascade::None,
            },
            "admin",
        )
        .unwrap();
    f.store
        .relate(a, b, &RelationKind::Other("sibling".to_owned()), "alice")
        .unwrap();
    assert_eq!(ids(&erase(&mut f.store, a)), [a]);
    let boat = NewContact {
        kind: ContactKind::Other("boat".to_owned()),
        name: "Boat".to_owned(),
        email: None,
        phone: None,
        flags: ContactFlags::default(),
    };
    let err = f.store.add_contact(&boat, "alice").unwrap_err();
    assert!(
        err.to_string().contains("unknown contact type `boat`"),
        "{err}"
    );
    f.store.add_contact_type("boat", "Boat", "admin").unwrap();
    f.store.add_contact(&boat, "alice").unwrap();
}

#[test]
fn the_logs_stay_append_only_except_for_scrubbing_an_erased_contact() {
    let mut f = fixture();
    let anna = add(&mut f.store, ContactKind::Person, "Anna", None);
    let bob = add(&mut f.store, ContactKind::Person, "Bob", None);
    let reason = f.store.reasons().unwrap()[0].id;
    for contact in [anna, bob] {
        f.store
            .log_justification(&NewJustification {
                at: day(3),
                contact,
                channel: Channel::Phone,
                reason,
                text: "called back".to_owned(),
                reason_code: "no_consent".to_owned(),
                plugin_sha256: None,
                request: json!({}),
                actor: "bob".to_owned(),
            })
            .unwrap();
    }
    erase(&mut f.store, anna);
    let raw = f.store.raw();
    let refused = |sql: &str, id: ContactId| {
        let err = raw.execute(sql, [id]).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    };
    // Bob was not erased: nothing of his may change.
    refused(
        "UPDATE decisions SET justification = NULL WHERE contact_id = ?1",
        bob,
    );
    refused("DELETE FROM contact_timeline WHERE contact_id = ?1", bob);
    // Anna was: her text may only go, never be rewritten, and nothing else moves.
    refused(
        "UPDATE decisions SET justification = 'new' WHERE contact_id = ?1",
        anna,
    );
    refused(
        "UPDATE decisions SET actor = 'x' WHERE contact_id = ?1",
        anna,
    );
    let err = raw
        .execute("DELETE FROM tombstones WHERE contact_id = ?1", [anna])
        .unwrap_err();
    assert!(err.to_string().contains("tombstones are kept"), "{err}");
}

#[test]
fn a_checkpoint_held_up_by_a_reader_is_reported_busy_and_done_later() {
    let mut f = fixture();
    let anna = add(
        &mut f.store,
        ContactKind::Person,
        "Anna",
        Some("anna@example.com"),
    );
    let bob = add(
        &mut f.store,
        ContactKind::Person,
        "Bob",
        Some("bob@example.com"),
    );
    let reader = rusqlite::Connection::open(&f.path).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader
        .query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(erase(&mut f.store, anna).wal, WalWipe::Busy);
    reader.execute_batch("COMMIT").unwrap();
    assert_eq!(f.store.wipe_wal().unwrap(), WalWipe::Done);
    assert_eq!(erase(&mut f.store, bob).wal, WalWipe::Done);
    assert!(!contains(&file_bytes(&f.path), "anna@example.com"));
}
