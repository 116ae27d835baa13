//! Refusals committed in groups (`group_commit`).

use std::sync::Arc;

use super::*;

#[test]
fn refusals_committed_in_groups_chain_and_verify() {
    let mut f = fixture();
    let contacts: Vec<ContactId> = (0..4)
        .map(|i| person(&mut f.store, &format!("c{i}"), None))
        .collect();
    let gate = Arc::new(WriteGate::default());
    let threads: Vec<_> = contacts
        .iter()
        .map(|&c| {
            let mut store = Store::open(&f.path).unwrap();
            store.join_pool(Arc::clone(&gate)).unwrap();
            std::thread::spawn(move || {
                (0..50)
                    .map(|i| {
                        store
                            .log_refusal(&refusal(c, logged_config(i % 3)))
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut ids: Vec<DecisionId> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    ids.sort_unstable_by_key(|d| d.0);
    ids.dedup();
    assert_eq!(ids.len(), 200);
    assert_eq!(count(&f.store, "decisions"), 200);
    // Each config stored once, whichever connection's group met it first.
    assert_eq!(count(&f.store, "decision_configs"), 3);
    let report = f.store.verify_ledger().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.decisions, 200);
    for c in contacts {
        assert_eq!(f.store.decisions(c).unwrap().len(), 50);
    }
}

#[test]
fn a_grouped_refusal_about_an_unknown_contact_fails_alone() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    f.store.join_pool(Arc::new(WriteGate::default())).unwrap();
    let err = f
        .store
        .log_refusal(&refusal(ContactId(999), logged_config(1)))
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownContact(_)), "{err}");
    let id = f
        .store
        .log_refusal(&refusal(anna, logged_config(1)))
        .unwrap();
    assert_eq!(id, DecisionId(1));
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn pooled_writes_leave_the_wal_to_the_checkpoint_thread() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let mut pooled = Store::open(&f.path).unwrap();
    pooled.join_pool(Arc::new(WriteGate::default())).unwrap();
    // More than SQLite's 1000-page autocheckpoint, written by the pool.
    for i in 0..1500 {
        pooled
            .log_refusal(&refusal(anna, logged_config(i % 3)))
            .unwrap();
    }
    let done = f.store.checkpoint_wal().unwrap();
    // A commit's checkpoint would have restarted the WAL under 1000 frames.
    assert!(done.wal_frames > 1000, "{done:?}");
    assert_eq!(done.copied, done.wal_frames, "{done:?}");
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn a_reader_in_the_wal_holds_a_restart_up_until_it_leaves() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let reader = Store::open(&f.path).unwrap();
    reader.begin_read().unwrap();
    reader.api_keys().unwrap();
    // Written after the reader's snapshot: the WAL holds what it reads.
    f.store
        .log_refusal(&refusal(anna, logged_config(1)))
        .unwrap();
    let checkpointer = Store::open(&f.path).unwrap();
    assert!(checkpointer.restart_wal().unwrap().is_none());
    reader.end_read().unwrap();
    let restarted = checkpointer
        .restart_wal()
        .unwrap()
        .expect("no reader is left");
    assert_eq!(restarted.copied, restarted.wal_frames, "{restarted:?}");
    // The next write starts the WAL again from its beginning.
    f.store
        .log_refusal(&refusal(anna, logged_config(1)))
        .unwrap();
    let after = checkpointer.checkpoint_wal().unwrap();
    assert!(
        after.wal_frames < restarted.wal_frames,
        "{after:?} after {restarted:?}"
    );
    assert!(f.store.verify_ledger().unwrap().ok);
}
