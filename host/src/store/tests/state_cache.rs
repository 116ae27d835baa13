//! The contact states a pool's hooks share while the ledger's head stays
//! put (`state_cache`). Each test deletes a contact's consents behind the
//! ledger's back, with raw SQL, to tell a remembered state (which still
//! has them) from one read again (which has none).

use std::sync::Arc;

use super::*;

/// Anna with one newsletter consent, and two pooled connections to her
/// store that share one memory.
fn pooled() -> (Fixture, ContactId, Store, Store) {
    let (mut f, anna) = with_types();
    f.store
        .record_consent(&consent(anna, "newsletter", "given", 2))
        .unwrap();
    let states = Arc::new(StateCache::default());
    let pooled = || {
        let mut store = Store::open(&f.path).unwrap();
        store.share_states(Arc::clone(&states));
        store
    };
    let (a, b) = (pooled(), pooled());
    (f, anna, a, b)
}

/// Deletes the contact's consents without a ledger entry.
fn delete_behind_the_ledger(store: &Store, contact: ContactId) {
    store
        .raw()
        .execute("DELETE FROM consent_state WHERE contact_id = ?1", [contact])
        .unwrap();
}

fn consents(store: &Store, contact: ContactId) -> usize {
    store.hook_inputs(contact).unwrap().0.consents.len()
}

#[test]
fn pooled_hooks_read_a_contact_once_per_ledger_head() {
    let (mut f, anna, a, b) = pooled();
    assert_eq!(consents(&a, anna), 1);
    delete_behind_the_ledger(&f.store, anna);
    // The other pooled connection gets the state `a` read: the head is
    // where it was.
    assert_eq!(consents(&b, anna), 1);
    // A connection outside the pool (another process) records a change:
    // the head moves, and the pool reads the contact again.
    f.store
        .set_preference(anna, "newsletter", SubscriptionState::OptedIn, "anna")
        .unwrap();
    let (state, head) = b.hook_inputs(anna).unwrap();
    assert_eq!(head, f.store.ledger_head().unwrap());
    assert_eq!(state.consents.len(), 0);
    assert_eq!(state.preferences.len(), 1);
}

#[test]
fn a_connection_outside_the_pool_reads_every_time() {
    let (f, anna, _, _) = pooled();
    assert_eq!(consents(&f.store, anna), 1);
    delete_behind_the_ledger(&f.store, anna);
    assert_eq!(consents(&f.store, anna), 0);
}

#[test]
fn a_hook_inside_a_write_that_rolls_back_leaves_the_memory_at_the_committed_head() {
    let (f, anna, mut a, b) = pooled();
    let key = a.create_api_key("crm", Role::Operator, "test").unwrap();
    assert_eq!(consents(&b, anna), 1);
    delete_behind_the_ledger(&f.store, anna);
    // A request with an idempotency key writes, reads its own uncommitted
    // head, and fails: nothing it read may be remembered.
    a.begin_request(key.key.id, "k1", b"first").unwrap();
    a.set_preference(anna, "newsletter", SubscriptionState::OptedOut, "anna")
        .unwrap();
    let (inside, _) = a.hook_inputs(anna).unwrap();
    assert_eq!(inside.preferences.len(), 1);
    a.abandon_request().unwrap();
    // Still remembered under the committed head, which never moved.
    let (state, _) = b.hook_inputs(anna).unwrap();
    assert_eq!(state.consents.len(), 1);
    assert_eq!(state.preferences.len(), 0);
}

#[test]
fn a_reader_that_began_before_a_commit_does_not_replace_the_newer_state() {
    let (mut f, anna, a, b) = pooled();
    a.begin_read().unwrap();
    let (old, old_head) = a.hook_inputs(anna).unwrap();
    f.store
        .set_preference(anna, "newsletter", SubscriptionState::OptedIn, "anna")
        .unwrap();
    let (new, new_head) = b.hook_inputs(anna).unwrap();
    assert!(new_head.seq > old_head.seq);
    assert_eq!((old.preferences.len(), new.preferences.len()), (0, 1));
    // `a`'s snapshot is still the old one: it reads, and keeps nothing.
    assert_eq!(a.hook_inputs(anna).unwrap().1, old_head);
    a.end_read().unwrap();
    delete_behind_the_ledger(&f.store, anna);
    assert_eq!(consents(&a, anna), 1, "the newer state is still remembered");
}
