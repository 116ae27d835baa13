//! Retention runs: two at once decide each member once.

use super::*;

#[test]
fn two_runs_at_once_decide_and_erase_each_member_once() {
    let (mut f, anna) = with_types();
    let mut members = vec![anna];
    for i in 0..20 {
        members.push(person(
            &mut f.store,
            &format!("P{i}"),
            Some(&format!("p{i}@example.com")),
        ));
    }
    f.store
        .add_campaign(
            &NewCampaign {
                consent_type: "newsletter".to_owned(),
                asked_at: day(1),
                window_days: 30,
                contacts: members.clone(),
                filter: None,
            },
            "admin",
        )
        .unwrap();
    f.store
        .record_consent(&consent(anna, "newsletter", "given", 5))
        .unwrap();
    let runs: Vec<RetentionRun> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let path = f.path.clone();
                s.spawn(move || {
                    let mut store = Store::open(&path).unwrap();
                    store.run_retention(day(100), false, "scheduler").unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut decided: Vec<ContactId> = runs
        .iter()
        .flat_map(|r| r.decided.iter().map(|d| d.contact))
        .collect();
    decided.sort();
    assert_eq!(decided, members, "each member decided by exactly one run");
    let erased: usize = runs.iter().map(|r| r.erased.len()).sum();
    assert_eq!(erased, 20, "everyone but Anna, once");
    let c = f.store.campaigns().unwrap();
    assert_eq!((c[0].kept, c[0].erased, c[0].open), (1, 20, 0));
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn nothing_is_due_before_the_window_ends() {
    let (mut f, anna) = with_types();
    f.store
        .add_campaign(
            &NewCampaign {
                consent_type: "newsletter".to_owned(),
                asked_at: day(1),
                window_days: 30,
                contacts: vec![anna],
                filter: None,
            },
            "admin",
        )
        .unwrap();
    assert!(f.store.retention_due(day(30)).unwrap().is_empty());
    let due = f.store.retention_due(day(31)).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].fate, Fate::Erased);
}

#[test]
fn an_erased_contact_is_out_of_filters_and_the_superoffice_migration() {
    let (mut f, anna) = with_types();
    let bob = person(&mut f.store, "Bob", Some("bob@example.com"));
    f.store
        .erase(
            bob,
            &ErasureRequest::new(ErasureGround::ConsentWithdrawn, "dpo"),
        )
        .unwrap();
    let everyone = ContactFilter::default();
    assert_eq!(
        f.store.all_filtered_contact_ids(&everyone, now()).unwrap(),
        vec![anna]
    );
    let report = f.store.migrate_superoffice(&[], false, "admin").unwrap();
    assert_eq!(report.contacts, 1);
    assert!(
        report.changes.iter().all(|c| c.contact == anna),
        "{report:?}"
    );
    assert!(f.store.verify_ledger().unwrap().ok);
}
