//! Transactions that nest: a read snapshot, a recorded write, and the one
//! outer transaction of an idempotent HTTP request.
//!
//! Every write runs in its own `BEGIN IMMEDIATE` transaction. An HTTP request
//! with an `Idempotency-Key` must commit its write and its remembered answer
//! together, or a process killed between the two would write again on the
//! retry (Stripe's idempotency keys). So [`Store::begin_request`] opens one
//! outer transaction, the writes inside it become savepoints, and
//! [`Store::finish_request`] commits the answer with them.
//!
//! A request that reads several times (the key, the contact, the ledger's
//! head, a consent type) can read in one transaction, [`Store::begin_read`]:
//! SQLite starts each transaction by checking the WAL and, when any other
//! connection wrote, dropping its page cache, so one start instead of four
//! is a tenth of the dial hook's work. The first write ends it, so writes
//! keep their own transactions and never upgrade a stale read.

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::{Result, Store, StoreError, secs};

/// Runs one transaction-control statement (`BEGIN`, `COMMIT`, ...) from the
/// connection's statement cache. `execute_batch` (and rusqlite's
/// `Transaction`) parse it anew each time: under the dial hook's load, where
/// every request begins and ends a read and every refusal a write, that was
/// about 3% of the server's CPU.
pub(super) fn control(conn: &Connection, sql: &'static str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// An open transaction, rolled back unless committed, also when a panic
/// unwinds through it (as rusqlite's `Transaction`, with cached statements).
pub(super) struct Tx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> Tx<'c> {
    /// `BEGIN IMMEDIATE`: a write that takes SQLite's write lock first.
    pub(super) fn immediate(conn: &'c Connection) -> rusqlite::Result<Self> {
        control(conn, "BEGIN IMMEDIATE")?;
        Ok(Tx { conn, open: true })
    }

    /// `BEGIN`: a read, or a write that takes the lock at its first write.
    fn deferred(conn: &'c Connection) -> rusqlite::Result<Self> {
        control(conn, "BEGIN")?;
        Ok(Tx { conn, open: true })
    }

    /// Commits; on failure the transaction is rolled back.
    pub(super) fn commit(mut self) -> rusqlite::Result<()> {
        control(self.conn, "COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open && !self.conn.is_autocommit() {
            let _ = control(self.conn, "ROLLBACK");
        }
    }
}

/// A consistent read: its own transaction, or nothing when an outer one is
/// already open (its snapshot is already consistent).
pub(crate) struct Snapshot<'c> {
    conn: &'c Connection,
    tx: Option<Tx<'c>>,
}

impl std::ops::Deref for Snapshot<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Snapshot<'_> {
    /// Ends the read.
    pub(crate) fn finish(self) -> Result<()> {
        if let Some(tx) = self.tx {
            // It only read: committing it is ending it.
            tx.commit()?;
        }
        Ok(())
    }
}

impl Store {
    /// Opens one read transaction for the reads that follow, until the
    /// next write or [`Store::end_read`]; nothing when a transaction is
    /// already open.
    pub fn begin_read(&self) -> Result<()> {
        if self.conn.is_autocommit() {
            control(&self.conn, "BEGIN")?;
            self.reading.set(true);
        }
        Ok(())
    }

    /// Ends the read transaction of [`Store::begin_read`], if one is open.
    /// It only read, so committing it is ending it.
    pub fn end_read(&self) -> Result<()> {
        if self.reading.replace(false) && !self.conn.is_autocommit() {
            control(&self.conn, "COMMIT")?;
        }
        Ok(())
    }

    /// A consistent read of several tables.
    pub(crate) fn snapshot(&self) -> Result<Snapshot<'_>> {
        let tx = if self.conn.is_autocommit() {
            Some(Tx::deferred(&self.conn)?)
        } else {
            None
        };
        Ok(Snapshot {
            conn: &self.conn,
            tx,
        })
    }

    /// Runs `f` in an immediate transaction, or in a savepoint of the open
    /// outer one, and keeps its writes only if it succeeds.
    pub(super) fn in_write<T>(&mut self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.in_write_with(f)
    }

    /// [`Store::in_write`] for work that fails with its own error type.
    pub(super) fn in_write_with<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Connection) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let sql = |e: rusqlite::Error| E::from(StoreError::from(e));
        self.end_read()?;
        if self.conn.is_autocommit() {
            // Not inside a request's outer transaction: that one already
            // holds SQLite's lock, and waiting here for the gate could
            // wait for a writer that waits for that lock.
            let lazy = std::mem::take(&mut self.next_write_lazy);
            self.sync(lazy)?;
            let gate = self.write_gate.clone();
            let _turn = gate.as_deref().map(super::WriteGate::turn);
            let tx = Tx::immediate(&self.conn).map_err(sql)?;
            let value = f(&tx)?;
            tx.commit().map_err(sql)?;
            return Ok(value);
        }
        control(&self.conn, "SAVEPOINT write").map_err(sql)?;
        match f(&self.conn) {
            Ok(value) => {
                control(&self.conn, "RELEASE write").map_err(sql)?;
                Ok(value)
            }
            Err(e) => {
                control(&self.conn, "ROLLBACK TO write").map_err(sql)?;
                control(&self.conn, "RELEASE write").map_err(sql)?;
                Err(e)
            }
        }
    }

    /// Runs `f` as one transaction: every store write inside it commits
    /// together or not at all (its writes nest as savepoints). Inside an
    /// open transaction, `f` runs in a savepoint of it. For a change and
    /// what it triggers, such as a page's change and its staff notification.
    pub fn atomically<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let sql = |e: rusqlite::Error| E::from(StoreError::from(e));
        if self.read_only {
            return Err(StoreError::ReadOnly(self.path.clone()).into());
        }
        self.end_read()?;
        let (begin, commit, rollback): (_, _, &[_]) = if self.conn.is_autocommit() {
            self.sync(false)?;
            ("BEGIN IMMEDIATE", "COMMIT", &["ROLLBACK"])
        } else {
            (
                "SAVEPOINT atomically",
                "RELEASE atomically",
                &["ROLLBACK TO atomically", "RELEASE atomically"],
            )
        };
        let gate = self
            .write_gate
            .clone()
            .filter(|_| self.conn.is_autocommit());
        let _turn = gate.as_deref().map(super::WriteGate::turn);
        control(&self.conn, begin).map_err(sql)?;
        match f(self) {
            Ok(value) => {
                control(&self.conn, commit).map_err(sql)?;
                Ok(value)
            }
            Err(e) => {
                for undo in rollback {
                    control(&self.conn, undo).map_err(sql)?;
                }
                Err(e)
            }
        }
    }

    /// Sets whether the next commit waits for the disk; a pragma only when
    /// it changes (a prepared statement each time otherwise).
    pub(super) fn sync(&mut self, lazy: bool) -> Result<()> {
        if lazy != self.sync_normal {
            let level = if lazy { "NORMAL" } else { "FULL" };
            self.conn.pragma_update(None, "synchronous", level)?;
            self.sync_normal = lazy;
        }
        Ok(())
    }

    /// Opens the outer transaction of a request with an idempotency key.
    ///
    /// `scope` is who asks (an API key's id): keys of different callers never
    /// meet. `fingerprint` is what was asked (method, path and body). If the
    /// key was used before with the same fingerprint, the transaction is
    /// closed and the first answer comes back; with another fingerprint the
    /// request is refused. Otherwise the transaction stays open until
    /// [`Store::finish_request`] or [`Store::abandon_request`].
    pub fn begin_request(
        &mut self,
        scope: i64,
        key: &str,
        fingerprint: &[u8],
    ) -> Result<Option<StoredAnswer>> {
        if self.read_only {
            return Err(StoreError::ReadOnly(self.path.clone()));
        }
        super::limits::check_len("idempotency key", key, super::limits::MAX_IDEMPOTENCY_KEY)?;
        self.abandon_request()?;
        self.sync(false)?;
        control(&self.conn, "BEGIN IMMEDIATE")?;
        let found = self.remembered(scope, key);
        let found = match found {
            Ok(found) => found,
            Err(e) => {
                self.abandon_request()?;
                return Err(e);
            }
        };
        let Some((stored_fingerprint, answer)) = found else {
            return Ok(None);
        };
        self.abandon_request()?;
        if stored_fingerprint != Sha256::digest(fingerprint).as_slice() {
            return Err(StoreError::IdempotencyKeyReused(key.to_owned()));
        }
        Ok(Some(answer))
    }

    /// Remembers `answer` under the key of [`Store::begin_request`] and
    /// commits it with every write made since.
    pub fn finish_request(
        &mut self,
        scope: i64,
        key: &str,
        fingerprint: &[u8],
        answer: &StoredAnswer,
    ) -> Result<()> {
        let now = secs((self.clock)());
        let stored = self.conn.execute(
            "INSERT INTO idempotency (key_id, idempotency_key, fingerprint, status, body, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![
                scope,
                key,
                Sha256::digest(fingerprint).as_slice(),
                answer.status,
                answer.body,
                now
            ],
        );
        if let Err(e) = stored {
            self.abandon_request()?;
            return Err(e.into());
        }
        control(&self.conn, "COMMIT")?;
        if self.wipe_after_commit {
            // An erasure ran inside this request: empty the WAL now.
            self.wipe_wal()?;
        }
        Ok(())
    }

    /// Rolls back an open request transaction (a failed write, or a
    /// connection given back to a pool mid-request), or ends a read of
    /// [`Store::begin_read`]; does nothing otherwise.
    pub fn abandon_request(&mut self) -> Result<()> {
        self.end_read()?;
        if !self.conn.is_autocommit() {
            control(&self.conn, "ROLLBACK")?;
        }
        Ok(())
    }

    fn remembered(&self, scope: i64, key: &str) -> Result<Option<(Vec<u8>, StoredAnswer)>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row(
                "SELECT fingerprint, status, body FROM idempotency
                 WHERE key_id = ?1 AND idempotency_key = ?2",
                rusqlite::params![scope, key],
                |r| {
                    Ok((
                        r.get(0)?,
                        StoredAnswer {
                            status: r.get(1)?,
                            body: r.get(2)?,
                        },
                    ))
                },
            )
            .optional()?)
    }
}

/// The answer a request with an idempotency key gave, returned again to
/// every retry with the same key and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The response body.
    pub body: Vec<u8>,
}
