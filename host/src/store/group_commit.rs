//! Group commit of refusals: the connections of one process (the HTTP pool)
//! log their denies and justifies together, one transaction for all the rows
//! that arrived while the previous one was committing.
//!
//! SQLite has one writer. Committed one at a time, each logged decision paid
//! a `BEGIN IMMEDIATE`, the head reads and a WAL commit of its own behind the
//! writers' mutex, which capped the dial hook at about 4,400 decisions/s with
//! a p99 of 70 ms. Here a request queues its row; the first one that finds no
//! committer running becomes it: it waits for the writers' turn, takes every
//! queued row, appends them to the chain in order in one transaction, and
//! hands each waiter its id. A request still answers only once its row is
//! committed, so an acknowledged deny is logged, as before.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};

use super::contacts::check_contact;
use super::decisions::{LogRow, append};
use super::scope::Tx;
use super::{DecisionId, Result, Store, StoreError, chain, decision_configs, time};

/// Shared by the connections of one process: their writes queue on one
/// mutex instead of in SQLite's busy handler (which sleeps 1, 2, 5, 10, ...
/// ms between tries), and their refusals commit in groups.
#[derive(Default)]
pub(crate) struct WriteGate {
    turn: Mutex<()>,
    queue: Mutex<Queue>,
    committed: Condvar,
}

#[derive(Default)]
struct Queue {
    next_ticket: u64,
    waiting: Vec<(u64, LogRow)>,
    /// What became of each taken row, until its request collects it.
    done: HashMap<u64, Fate>,
    /// A connection is committing a group now.
    committing: bool,
}

/// What became of a queued row.
#[derive(Clone, Copy)]
enum Fate {
    Logged(DecisionId),
    /// Not logged: the request logs it on its own, which reports the error
    /// (an unknown contact, a failing disk) as its own.
    Alone,
}

impl WriteGate {
    /// The writers' turn: one write of this process at a time.
    pub(crate) fn turn(&self) -> MutexGuard<'_, ()> {
        self.turn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Resets the committer's flag and answers every taken row, even if the
/// commit panicked, so no waiter waits forever.
struct Committing<'g> {
    gate: &'g WriteGate,
    taken: Vec<u64>,
    fates: Vec<Fate>,
}

impl Drop for Committing<'_> {
    fn drop(&mut self) {
        let mut queue = self.gate.queue();
        for (i, ticket) in self.taken.iter().enumerate() {
            let fate = self.fates.get(i).copied().unwrap_or(Fate::Alone);
            queue.done.insert(*ticket, fate);
        }
        queue.committing = false;
        drop(queue);
        self.gate.committed.notify_all();
    }
}

/// How many config hashes a connection remembers as stored. A config
/// changes only with setup, so a handful is plenty; the bound keeps a
/// server whose admin edits the config all day from growing without end.
const STORED_CONFIGS_KEPT: usize = 64;

impl Store {
    /// Logs `row` in the next group commit of this process's refusals.
    /// `None`: it was not logged, and the caller logs it on its own.
    pub(super) fn log_in_group(
        &mut self,
        gate: &WriteGate,
        row: LogRow,
    ) -> Result<Option<DecisionId>> {
        let mut queue = gate.queue();
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        queue.waiting.push((ticket, row));
        loop {
            if let Some(fate) = queue.done.remove(&ticket) {
                return Ok(match fate {
                    Fate::Logged(id) => Some(id),
                    Fate::Alone => None,
                });
            }
            if !queue.committing {
                break;
            }
            queue = gate
                .committed
                .wait(queue)
                .unwrap_or_else(|p| p.into_inner());
        }
        // No one is committing: this request does, for everyone queued.
        queue.committing = true;
        drop(queue);
        let mut committing = Committing {
            gate,
            taken: Vec::new(),
            fates: Vec::new(),
        };
        {
            // Rows that queue while this one waits for the turn join it.
            let _turn = gate.turn();
            let rows = std::mem::take(&mut gate.queue().waiting);
            committing.taken = rows.iter().map(|(t, _)| *t).collect();
            committing.fates = match self.commit_group(&rows) {
                Ok(fates) => fates,
                Err(e) => {
                    tracing::warn!("a group of {} refusals did not commit: {e}", rows.len());
                    vec![Fate::Alone; rows.len()]
                }
            };
        }
        let mine = committing
            .taken
            .iter()
            .position(|t| *t == ticket)
            .and_then(|i| committing.fates.get(i).copied());
        drop(committing);
        // Answered for the others; this request's own answer is `mine`,
        // taken back out of `done` where the guard put it.
        gate.queue().done.remove(&ticket);
        Ok(match mine {
            Some(Fate::Logged(id)) => Some(id),
            _ => None,
        })
    }

    /// Appends `rows` to the decision log in one transaction that commits
    /// without waiting for the disk (see [`Store::log_refusal`]). A row
    /// about an unknown contact is left out for its request to report.
    fn commit_group(&mut self, rows: &[(u64, LogRow)]) -> Result<Vec<Fate>> {
        if self.read_only {
            return Err(StoreError::ReadOnly(self.path.clone()));
        }
        self.sync(true)?;
        let clock = (self.clock)().timestamp();
        let tx = Tx::immediate(&self.conn)?;
        let last = chain::head_recorded_at(&tx)?;
        let now = time(clock.max(last))?;
        let mut fates = Vec::with_capacity(rows.len());
        let mut new_configs = Vec::new();
        for (_, row) in rows {
            if let Some(contact) = row.contact
                && check_contact(&tx, contact).is_err()
            {
                fates.push(Fate::Alone);
                continue;
            }
            if let Some(config) = &row.config
                && !self.stored_configs.contains(&config.sha256)
                && !new_configs.contains(&&config.sha256)
            {
                decision_configs::store(&tx, config)?;
                new_configs.push(&config.sha256);
            }
            fates.push(Fate::Logged(append(&tx, row, now)?));
        }
        tx.commit()?;
        // Known only once committed: a group rolled back stored nothing.
        if self.stored_configs.len() + new_configs.len() > STORED_CONFIGS_KEPT {
            self.stored_configs.clear();
        }
        self.stored_configs.extend(new_configs.into_iter().cloned());
        Ok(fates)
    }
}
