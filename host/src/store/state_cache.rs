//! The contact states that the hooks read, remembered for the server's
//! pool as long as the ledger's head stays where it was.
//!
//! Every table a contact's state is read from (`contacts`' flags,
//! `consent_state`, `contact_purposes`, `subscription_preferences`) is a
//! projection of the ledger: each change to it appends a ledger entry in the
//! same transaction, and `ledger verify` rebuilds the tables from the ledger
//! and reports any row that differs. So two reads under the same head (its
//! sequence number and hash, which binds the whole history) read the same
//! state, and a state read under one head answers for it until the head
//! moves. Refusals go to the decision log, not the ledger, so under a
//! calling campaign's load the head stays put and most hooks skip four
//! statements and the pages they read: every read transaction that starts
//! after another connection's commit finds SQLite's page cache emptied.
//!
//! The memory adds no table, so `ledger verify` has nothing new to cover. A
//! row changed behind the ledger's back (raw SQL) is not seen by pooled
//! hooks until the head moves; verify reports it either way. An erasure is
//! a ledger entry too, so the erased contact's remembered state (ids and
//! flags only) goes with the next hook.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{ContactId, ContactSnapshot, LedgerHead};

/// How many contacts' states are remembered under one head. A state is a
/// few hundred bytes of ids and flags (no personal data beyond them), so
/// this bounds the memory at tens of MB; when it is full, the memory starts
/// again empty rather than tracking which states are used least, which
/// would cost every hook a write under the lock.
const STATES_KEPT: usize = 100_000;

/// Shared by the connections of one process (`Store::share_states`).
#[derive(Default)]
pub(crate) struct StateCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The head the states were read under.
    head: Option<LedgerHead>,
    states: HashMap<ContactId, Arc<ContactSnapshot>>,
}

impl StateCache {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state of `contact` read under `head`, if one is remembered.
    pub(crate) fn get(
        &self,
        head: &LedgerHead,
        contact: ContactId,
    ) -> Option<Arc<ContactSnapshot>> {
        let inner = self.inner();
        if inner.head.as_ref() != Some(head) {
            return None;
        }
        inner.states.get(&contact).cloned()
    }

    /// Remembers the state of `contact` read under `head`, a committed head.
    /// A newer head forgets every state read under the old one; a state
    /// read under an older head (a reader that began before a commit) is
    /// not kept.
    pub(crate) fn put(&self, head: &LedgerHead, contact: ContactId, state: Arc<ContactSnapshot>) {
        let mut inner = self.inner();
        let newer = match &inner.head {
            None => true,
            Some(kept) if kept == head => false,
            Some(kept) if head.seq > kept.seq => true,
            // An older reader, or (never, for committed heads of one file)
            // another hash at the same number: keep what is there.
            Some(_) => return,
        };
        let mut forgotten = None;
        if newer || inner.states.len() >= STATES_KEPT {
            forgotten = Some(std::mem::take(&mut inner.states));
            inner.head = Some(head.clone());
        }
        inner.states.insert(contact, state);
        drop(inner);
        // Freed after the lock: up to `STATES_KEPT` states, which every
        // other hook would otherwise wait on.
        drop(forgotten);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LedgerSeq;

    fn head(seq: i64) -> LedgerHead {
        LedgerHead {
            seq: LedgerSeq(seq),
            hash: format!("{seq:064x}"),
        }
    }

    #[test]
    fn a_full_memory_starts_again_empty() {
        let cache = StateCache::default();
        let state = Arc::new(ContactSnapshot::default());
        for id in 0..STATES_KEPT as i64 {
            cache.put(&head(1), ContactId(id), Arc::clone(&state));
        }
        assert!(cache.get(&head(1), ContactId(0)).is_some());
        cache.put(&head(1), ContactId(-1), Arc::clone(&state));
        assert!(cache.get(&head(1), ContactId(0)).is_none());
        assert!(cache.get(&head(1), ContactId(-1)).is_some());
        assert_eq!(cache.inner().states.len(), 1);
    }

    #[test]
    fn only_a_newer_head_replaces_the_states() {
        let cache = StateCache::default();
        let state = Arc::new(ContactSnapshot::default());
        cache.put(&head(2), ContactId(1), Arc::clone(&state));
        cache.put(&head(1), ContactId(2), Arc::clone(&state));
        assert!(cache.get(&head(2), ContactId(1)).is_some());
        assert!(cache.get(&head(1), ContactId(2)).is_none());
        cache.put(&head(3), ContactId(3), Arc::clone(&state));
        assert!(cache.get(&head(2), ContactId(1)).is_none());
        assert!(cache.get(&head(3), ContactId(3)).is_some());
    }
}
