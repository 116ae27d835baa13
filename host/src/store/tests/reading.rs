//! One read transaction for a request's reads (`Store::begin_read`), ended
//! by the first write.

use std::sync::Arc;

use super::*;

/// An operator's API key: the scope of a request's idempotency key.
fn operator_key(store: &mut Store) -> i64 {
    store
        .create_api_key("crm", Role::Operator, "test")
        .unwrap()
        .key
        .id
}

/// The answer a request remembers in these tests.
fn created() -> StoredAnswer {
    StoredAnswer {
        status: 201,
        body: vec![],
    }
}

#[test]
fn reads_in_one_transaction_see_one_snapshot() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let mut other = Store::open(&f.path).unwrap();
    f.store.begin_read().unwrap();
    assert_eq!(f.store.contact(anna).unwrap().name, "Anna");
    // Another connection's write after the first read is not seen ...
    let bea = person(&mut other, "Bea", None);
    assert!(f.store.contact(bea).is_err());
    // ... until the read ends.
    f.store.end_read().unwrap();
    assert_eq!(f.store.contact(bea).unwrap().name, "Bea");
}

#[test]
fn a_write_after_a_stale_read_ends_it_and_commits() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let mut other = Store::open(&f.path).unwrap();
    f.store.begin_read().unwrap();
    f.store.contact(anna).unwrap();
    // The snapshot is now behind: writing inside it would fail (SQLite's
    // BUSY_SNAPSHOT). The write ends the read first, and commits.
    person(&mut other, "Bea", None);
    let cara = person(&mut f.store, "Cara", None);
    assert_eq!(other.contact(cara).unwrap().name, "Cara");
    // A grouped refusal too (the HTTP pool's path).
    f.store.join_pool(Arc::new(WriteGate::default())).unwrap();
    f.store.begin_read().unwrap();
    f.store.contact(anna).unwrap();
    person(&mut other, "Dora", None);
    let id = f
        .store
        .log_refusal(&refusal(anna, logged_config(1)))
        .unwrap();
    assert_eq!(other.decision(id).unwrap().unwrap().contact, Some(anna));
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn a_pool_giving_back_a_connection_ends_its_read() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let mut other = Store::open(&f.path).unwrap();
    f.store.begin_read().unwrap();
    f.store.contact(anna).unwrap();
    f.store.abandon_request().unwrap();
    let bea = person(&mut other, "Bea", None);
    assert_eq!(f.store.contact(bea).unwrap().name, "Bea");
    // A read begun inside a request's open write changes nothing of it: the
    // write inside does not commit the request's transaction early.
    let key = operator_key(&mut f.store);
    let mut tx = f.store.begin_request(key, "k", b"f").unwrap();
    assert!(tx.take().is_none());
    f.store.begin_read().unwrap();
    let cara = person(&mut f.store, "Cara", None);
    assert!(other.contact(cara).is_err(), "committed before the answer");
    f.store.finish_request(1, "k", b"f", &created()).unwrap();
    assert_eq!(other.contact(cara).unwrap().name, "Cara");
}

#[test]
fn a_write_that_panics_is_rolled_back_and_leaves_no_transaction_open() {
    let mut f = fixture();
    let before = count(&f.store, "contacts");
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: Result<()> = f.store.in_write(|c| {
            c.execute(
                "INSERT INTO contacts (kind, created_at) VALUES ('person', 0)",
                [],
            )?;
            panic!("a bug in the middle of a write");
        });
    }));
    assert!(panicked.is_err());
    assert!(
        f.store.raw().is_autocommit(),
        "the panicking write left its transaction open"
    );
    assert_eq!(count(&f.store, "contacts"), before, "half a write was kept");
    // The connection writes on.
    person(&mut f.store, "Anna", None);
    assert_eq!(count(&f.store, "contacts"), before + 1);
}

#[test]
fn a_failed_write_inside_a_request_undoes_only_itself() {
    let mut f = fixture();
    let key = operator_key(&mut f.store);
    let before = count(&f.store, "contacts");
    assert!(f.store.begin_request(key, "k", b"f").unwrap().is_none());
    let insert = "INSERT INTO contacts (kind, created_at) VALUES ('person', 0)";
    // A write that fails after its insert: its savepoint is rolled back.
    let failed: Result<()> = f.store.in_write(|c| {
        c.execute(insert, [])?;
        Err(StoreError::UnknownContact(ContactId(0)))
    });
    assert!(failed.is_err());
    // So is a failing `atomically` with a store write inside.
    let failed: Result<()> = f.store.atomically(|s| {
        s.in_write(|c| Ok(c.execute(insert, [])?))?;
        Err(StoreError::UnknownContact(ContactId(0)))
    });
    assert!(failed.is_err());
    assert!(
        !f.store.raw().is_autocommit(),
        "the request's transaction ended"
    );
    let anna = person(&mut f.store, "Anna", None);
    f.store.finish_request(key, "k", b"f", &created()).unwrap();
    assert_eq!(
        count(&f.store, "contacts"),
        before + 1,
        "a failed write was kept"
    );
    assert_eq!(f.store.contact(anna).unwrap().name, "Anna");
}
