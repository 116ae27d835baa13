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
/// it: the dial hook's p99. A fifth of a second keeps the WAL to a few MB
/// at thousands of logged refusals a second, and an idle check costs
/// microseconds.
pub(crate) const WAL_CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

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
            match self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    r.get::<_, i64>(0)
                }) {
                Ok(0) => done = true,
                Ok(_) => continue,
                Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {
                    continue;
                }
                Err(e) => failed = Some(e),
            }
            break;
        }
        self.conn.busy_timeout(super::opening::BUSY_TIMEOUT)?;
        if let Some(e) = failed {
            return Err(e.into());
        }
        if done {
            self.wipe_after_commit = false;
            return Ok(WalWipe::Done);
        }
        self.wipe_after_commit = true;
        Ok(WalWipe::Busy)
    }
}
