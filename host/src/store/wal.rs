//! Emptying the WAL after an erasure or a rectification: SQLite keeps old
//! page images in the `-wal` file until a checkpoint copies the pages back
//! and `TRUNCATE` cuts the file to nothing. And the server's checkpoints,
//! which run beside the requests instead of inside one.

use serde::{Deserialize, Serialize};

use super::{Result, Store};

/// How often a checkpoint held up by readers is tried, waiting up to
/// [`CHECKPOINT_WAIT`] each time: about a second in all.
const CHECKPOINT_TRIES: u32 = 20;
const CHECKPOINT_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// Whether the WAL was emptied after the erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WalWipe {
    /// Checkpointed and truncated: no old page image is left in the WAL.
    Done,
    /// Readers kept the checkpoint from finishing for about a second. The
    /// next erasure or rectification empties it, and so does SQLite when the
    /// last connection to the file closes.
    Busy,
    /// Inside a caller's transaction: the checkpoint runs after its commit.
    Deferred,
    /// A dry run wrote nothing.
    NotNeeded,
}

/// How often the server copies the WAL back into the database file
/// ([`Store::checkpoint_wal`]). SQLite's own checkpoint runs inside whichever
/// commit crosses 1000 pages, so one request in a few hundred waited for
/// it: the dial hook's p99. A fifth of a second keeps each copy to a few MB
/// at thousands of logged refusals a second, and an idle check costs
/// microseconds. (The WAL's length is bounded by [`WAL_RESTART_FRAMES`].)
pub(crate) const WAL_CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// The WAL's length, in frames (one page each), past which the server's
/// checkpoint thread pauses the pool's writers to start the WAL again
/// ([`Store::restart_wal`]). SQLite starts it again from the beginning only
/// when a writer finds it wholly copied and no reader in it. Under a steady
/// load some request is always reading and every commit appends, so a
/// `PASSIVE` checkpoint never gets there: the dial hook at 22k/s grew the
/// WAL by 85 MB a second, without end. 32,768 frames (128 MiB at 4 KiB
/// pages) puts that load's pauses, each 2 to 4 ms on a busy 2-core VM, a
/// second or two apart; at everyday loads readers leave gaps, and the WAL
/// restarts on its own first.
pub(crate) const WAL_RESTART_FRAMES: i64 = 32_768;

/// How long a restart waits for a writer of another process or for readers
/// on an old snapshot, while this process's writers wait for it. Requests
/// read for well under this; a long reader (an export) makes the restart
/// give up, to be tried again later.
const RESTART_WAIT: std::time::Duration = std::time::Duration::from_millis(10);

thread_local! {
    /// When the running restart gave up waiting (its busy handler is a
    /// plain function).
    static RESTART_UNTIL: std::cell::Cell<Option<std::time::Instant>> =
        const { std::cell::Cell::new(None) };
}

/// The busy handler of [`Store::restart_wal`]: yield the core and try again
/// until [`RESTART_WAIT`] has passed. SQLite's own handler sleeps 1, 2, then
/// 5 ms between tries, and on a busy machine a sleeping thread waits again
/// for a core when it wakes, with this process's writers held meanwhile.
fn restart_busy(_tries: i32) -> bool {
    let until = RESTART_UNTIL.get();
    if until.is_none_or(|until| std::time::Instant::now() >= until) {
        return false;
    }
    std::thread::yield_now();
    true
}

/// The frames in the WAL, and how many of them are in the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WalCheckpoint {
    pub(crate) wal_frames: i64,
    pub(crate) copied: i64,
}

impl Store {
    /// Copies what it can of the WAL into the database file without waiting
    /// for readers or writers (SQLite's `PASSIVE` checkpoint). For the
    /// server's checkpoint thread: its pooled connections never checkpoint
    /// inside a commit (`Store::join_pool`).
    pub(crate) fn checkpoint_wal(&self) -> Result<WalCheckpoint> {
        let (wal_frames, copied) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get(1)?, r.get(2)?))
                })?;
        Ok(WalCheckpoint { wal_frames, copied })
    }

    /// Copies the rest of the WAL into the database file and waits, up to
    /// [`RESTART_WAIT`], for every reader to leave it (SQLite's
    /// `RESTART` checkpoint), so that the next write starts the WAL again
    /// from its beginning. For the server's checkpoint thread, which holds
    /// the pool's write gate meanwhile. `None`: a reader or a writer held it
    /// up, and the WAL goes on growing until a later try.
    pub(crate) fn restart_wal(&self) -> Result<Option<WalCheckpoint>> {
        RESTART_UNTIL.set(Some(std::time::Instant::now() + RESTART_WAIT));
        self.conn.busy_handler(Some(restart_busy))?;
        let done = self.wal_checkpoint("RESTART");
        self.conn.busy_timeout(super::opening::BUSY_TIMEOUT)?;
        done
    }

    /// One `PRAGMA wal_checkpoint(mode)` under the busy handler the caller
    /// set: what it did, or `None` if a reader or writer held it up (SQLite
    /// says so either in its row or as a busy error).
    fn wal_checkpoint(&self, mode: &str) -> Result<Option<WalCheckpoint>> {
        let sql = format!("PRAGMA wal_checkpoint({mode})");
        let done = self.conn.query_row(&sql, [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?))
        });
        match done {
            Ok((0, wal_frames, copied)) => Ok(Some(WalCheckpoint { wal_frames, copied })),
            Ok(_) => Ok(None),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes what the checkpoints copied into the database file to disk
    /// ahead of [`Store::restart_wal`], whose own sync then has little left
    /// to write while the writers wait: 7 to 14 ms of each pause became 2 to
    /// 3. On Linux it syncs the file system the database is on (`syncfs` on
    /// its directory); elsewhere it does nothing. It never opens the database
    /// file itself: closing a second descriptor of it would drop SQLite's
    /// POSIX locks on it. A failure only leaves the restart's sync longer.
    pub(crate) fn flush_ahead_of_restart(&self) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let dir = match self.path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => std::path::Path::new("."),
            };
            let synced = std::fs::File::open(dir).and_then(|dir| {
                // SAFETY: syncfs only reads the descriptor, which `dir` owns.
                match unsafe { libc::syncfs(dir.as_raw_fd()) } {
                    0 => Ok(()),
                    _ => Err(std::io::Error::last_os_error()),
                }
            });
            if let Err(e) = synced {
                tracing::debug!(
                    "cannot sync `{}` ahead of a WAL restart: {e}",
                    dir.display()
                );
            }
        }
    }

    /// Checkpoints the WAL into the database file and truncates it, so no
    /// old page image of erased data stays in it. Readers can hold it up:
    /// then it is tried again briefly, and reported busy.
    pub fn wipe_wal(&mut self) -> Result<WalWipe> {
        if !self.conn.is_autocommit() {
            self.wipe_after_commit = true;
            return Ok(WalWipe::Deferred);
        }
        // The checkpoint waits for readers through the busy handler: wait
        // briefly per try instead of the connection's 5 seconds.
        self.conn.busy_timeout(CHECKPOINT_WAIT)?;
        let mut done = false;
        let mut failed = None;
        for _ in 0..CHECKPOINT_TRIES {
            match self.wal_checkpoint("TRUNCATE") {
                Ok(Some(_)) => done = true,
                Ok(None) => continue,
                Err(e) => failed = Some(e),
            }
            break;
        }
        self.conn.busy_timeout(super::opening::BUSY_TIMEOUT)?;
        if let Some(e) = failed {
            return Err(e);
        }
        if done {
            self.wipe_after_commit = false;
            return Ok(WalWipe::Done);
        }
        self.wipe_after_commit = true;
        Ok(WalWipe::Busy)
    }
}
