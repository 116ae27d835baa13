//! SQLite: schema, ledger, projections, timeline and decision log.
//!
//! One SQLite file holds everything a CRM needs to prove and apply consent.
//! The store has its own domain enums ([`ConsentStatus`], [`LegalBasis`], ...)
//! and knows nothing of wasmtime or the WIT types: `hooks` maps between them.
//!
//! Writes take `&mut self` and run in one `BEGIN IMMEDIATE` transaction each,
//! so a failing multi-row write leaves nothing behind and two processes on the
//! same file never deadlock upgrading a read lock. Reads take `&self` and use
//! cached prepared statements. Timestamps are stored as Unix seconds (UTC);
//! every write that stamps a time takes `now` from the caller, so hooks can
//! record the same instant they passed to the plugin.

mod catalog;
mod chain;
mod checkpoint_key;
mod columns;
mod config;
mod consent_types;
mod contacts;
mod decision_configs;
mod decisions;
mod erasure;
mod error;
mod expiring;
mod export;
mod fill;
mod filter;
mod group_commit;
mod ids;
mod imports;
mod keys;
mod kinds;
mod ledger;
pub mod limits;
mod methods;
mod notifications;
mod opening;
mod packs;
mod pages;
mod plugins;
mod projection;
mod rectify;
mod relations;
mod retention;
mod schema;
mod scope;
mod seed;
mod state_cache;
mod statuses;
mod subscriptions;
mod superoffice;
mod timeline;
mod tombstones;
mod views;
mod vocabulary;
mod wal;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use opening::Mode;

pub use catalog::{NewPurpose, Purpose, Reason};
pub use chain::{GENESIS_HASH, LedgerHead};
pub use columns::{Columns, ConsentRow, ContactRow, ContactSnapshot, Preference, PurposeBasis};
pub use config::{StoredConfig, Switches};
pub use consent_types::{ConsentType, ConsentTypeEdit, ConsentTypeText, NewConsentType};
pub use contacts::{Contact, NewContact};
pub(crate) use decision_configs::{CitedConfig, cited_text};
pub(crate) use decisions::CitedDecision;
pub use decisions::{LoggedDecision, NewDecision, NewJustification};
pub use erasure::{ErasedContact, ErasureReport, ErasureRequest};
pub use error::{Catalog, Result, StoreError};
pub use expiring::ExpiringConsent;
pub use export::{BulkReceipt, ContactPurpose, ContactSubscription};
pub use fill::{FillChange, FillReport, FillRequest};
pub use filter::{ContactFilter, MAX_BULK};
pub(crate) use group_commit::WriteGate;
pub use ids::{
    ConsentTypeId, ContactId, DecisionId, LedgerSeq, MethodId, OutboxId, PluginId, PurposeId,
    ReasonId, RelationId, StatusId, SubscriptionTypeId,
};
pub use imports::{
    ContactKey, IMPORT_METHOD, ImportBatch, ImportFailure, ImportField, ImportRow, ImportStage,
    RowChange, RowOutcome, RowProblem,
};
pub use keys::{ApiKey, KeyRefused, NewApiKey};
pub use kinds::{ContactType, NewRelationType, RelationType};
pub use ledger::{
    Checkpoint, ConsentTypeRef, LedgerEntry, LedgerProblem, LedgerProblemKind, LedgerReport,
    NewConsent,
};
pub use methods::Method;
pub use notifications::{Notification, Webhook, backoff as notification_backoff};
pub use packs::MAX_PACKS;
pub use pages::{
    CONFIRMATION_DAYS, DEFAULT_BASE_URL, DEFAULT_PREFERENCE_LINK_DAYS, FormChange, FormChoice,
    FormSubmission, LinkSettings, MAX_PREFERENCE_LINK_DAYS, NewOutboxMessage, NewTranslation,
    OutboxKind, OutboxMessage, PendingConfirmation, Translation,
};
pub(crate) use pages::{CRM_FORM, Confirmation, awaits_confirmation, counts_as_given};
pub use plugins::{InstalledPlugin, PluginInfo};
pub use projection::CurrentConsent;
pub use rectify::{Rectification, RectificationReport};
pub use relations::Relation;
pub use retention::{Campaign, Due, Fate, MAX_WINDOW_DAYS, NewCampaign, RetentionRun};
pub use scope::StoredAnswer;
pub(crate) use state_cache::StateCache;
pub use statuses::Status;
pub use subscriptions::SubscriptionType;
pub use superoffice::{
    E_MARKETING, MarkRef, MigrationChange, MigrationReport, SALES_AND_SERVICE, SuperOfficeMark,
    read_marks,
};
pub use timeline::TimelineEntry;
pub use tombstones::TombstoneMatch;
pub use views::{ConsentView, HistoryEntry};
pub use vocabulary::{
    Cascade, Channel, ConsentStatus, ContactFlags, ContactKind, ErasureGround, LegalBasis, Outcome,
    ParseError, RelationKind, Role, SubscriptionState, TimelineKind,
};
pub use wal::WalWipe;
pub(crate) use wal::{WAL_CHECKPOINT_EVERY, WAL_RESTART_FRAMES};

/// Where the store takes the time it records from. Recorded times come from
/// this clock and never go backwards; a caller's `now` (the time a decision
/// is asked about) never becomes one.
type Clock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The consent database: one SQLite file in WAL mode with foreign keys on.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    clock: Clock,
    read_only: bool,
    /// Shared by the connections of one process (the HTTP pool), so that
    /// their writers queue on a mutex instead of in SQLite's busy handler,
    /// which sleeps 1, 2, 5, 10, ... ms between tries.
    write_gate: Option<std::sync::Arc<WriteGate>>,
    /// The connection commits without fsync (`synchronous=NORMAL`) now.
    sync_normal: bool,
    /// The next write may commit so (`Store::log_refusal`); every other
    /// write waits for the disk.
    next_write_lazy: bool,
    /// An erasure committed (or will) while the WAL could not be emptied:
    /// the next chance empties it (`Store::wipe_wal`).
    wipe_after_commit: bool,
    /// A read transaction of [`Store::begin_read`] is open; the next write
    /// ends it first.
    reading: std::cell::Cell<bool>,
    /// The SHA-256 of the decision configs this connection saw committed
    /// (`group_commit`): configs are append-only, so a group need not
    /// offer one of them to `decision_configs` again.
    stored_configs: std::collections::HashSet<String>,
    /// The contact states the process's pool remembers (`state_cache`).
    states: Option<std::sync::Arc<StateCache>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl Store {
    /// Creates a new database file, its schema, the built-in catalog (as
    /// ledger entries) and the key that signs checkpoints. Fails if the file
    /// exists, so a typo in a path never silently starts an empty ledger
    /// next to the real one. This is the only way a schema is created.
    pub fn create(path: impl AsRef<Path>) -> Result<Store> {
        Store::create_with_clock(path, Utc::now)
    }

    /// [`Store::create`] with the clock recorded times come from (tests,
    /// simulations); the built-in catalog is recorded at its time too.
    #[doc(hidden)]
    pub fn create_with_clock(
        path: impl AsRef<Path>,
        clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static,
    ) -> Result<Store> {
        let path = path.as_ref();
        // create_new is atomic: no window between "does it exist" and "create".
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(StoreError::DatabaseExists(path.to_owned()));
            }
            Err(e) => {
                return Err(StoreError::Invalid {
                    field: "database path",
                    why: format!("`{}`: {e}", path.display()),
                });
            }
        }
        let mut store = match Store::connect(path, Mode::Create) {
            Ok(mut store) => {
                store.set_clock(clock);
                store
            }
            Err(e) => {
                // Leave no half-made file that later opens would refuse.
                let _ = std::fs::remove_file(path);
                return Err(e);
            }
        };
        store.write_recorded(|tx, now| {
            seed::seed(tx, now)?;
            checkpoint_key::create(tx, now)
        })?;
        Ok(store)
    }

    /// Opens an existing crm-consent database and brings its schema up to
    /// date. Refuses a missing file, an empty one, and any SQLite file that
    /// is not ours.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::connect(path.as_ref(), Mode::ReadWrite)
    }

    /// Opens an existing database for reading only: verify, export, show.
    /// Works on a read-only file or directory (a backup on read-only media)
    /// and leaves no `-wal` or `-shm` file behind there.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store> {
        Store::connect(path.as_ref(), Mode::ReadOnly)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this store was opened with [`Store::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Replaces the clock recorded times come from (tests, simulations).
    /// Recorded times still never go backwards.
    #[doc(hidden)]
    pub fn set_clock(&mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) {
        self.clock = Box::new(clock);
    }

    fn connect(path: &Path, mode: Mode) -> Result<Store> {
        let conn = opening::connect(path, mode)?;
        Ok(Store {
            conn,
            path: path.to_owned(),
            clock: Box::new(Utc::now),
            read_only: mode == Mode::ReadOnly,
            write_gate: None,
            sync_normal: false,
            next_write_lazy: false,
            stored_configs: std::collections::HashSet::new(),
            states: None,
            wipe_after_commit: false,
            reading: std::cell::Cell::new(false),
        })
    }

    /// Runs `f` in one immediate transaction and commits only if it
    /// succeeds. `f` gets the time to record: the clock, or the last
    /// recorded time if the clock went backwards.
    fn write_recorded<T>(
        &mut self,
        f: impl FnOnce(&Connection, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        self.write_recorded_with(f)
    }

    /// [`Store::write_recorded`] for a caller whose own work inside the
    /// transaction (rendering an email) fails with its own error type.
    fn write_recorded_with<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Connection, DateTime<Utc>) -> Result<T, E>,
    ) -> Result<T, E> {
        if self.read_only {
            return Err(StoreError::ReadOnly(self.path.clone()).into());
        }
        let clock = (self.clock)().timestamp();
        self.in_write_with(|tx| {
            let last = chain::head_recorded_at(tx)?;
            let now = time(clock.max(last)).map_err(StoreError::from)?;
            f(tx, now)
        })
    }

    /// The store's clock: what links are issued and checked against, so a
    /// caller cannot revive an expired link by passing another time.
    pub(crate) fn clock_now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Makes this connection one of a process's pool (the HTTP server).
    /// Its writes take `gate` first, so the pool's connections write one
    /// after another without SQLite's busy sleeps (other processes still
    /// meet SQLite's lock), and its refusals commit in groups
    /// (`group_commit`). It reads with `pread` instead of a memory map:
    /// SQLite unmaps the whole map when a read starts after another
    /// connection wrote (`unixUnfetch`), which under the dial hook's load
    /// was about 2,000 munmaps of the file a second, each a TLB shootdown on
    /// every core followed by page faults.
    pub(crate) fn join_pool(&mut self, gate: std::sync::Arc<WriteGate>) -> Result<()> {
        self.conn.pragma_update(None, "mmap_size", 0)?;
        // The pool's checkpoint thread copies the WAL back (`checkpoint_wal`),
        // so no request's commit waits for it.
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        self.write_gate = Some(gate);
        Ok(())
    }

    /// Makes this connection read contact states through `states`, the
    /// memory the connections of the process's pool share.
    pub(crate) fn share_states(&mut self, states: std::sync::Arc<StateCache>) {
        self.states = Some(states);
    }

    #[cfg(test)]
    fn raw(&self) -> &Connection {
        &self.conn
    }
}

/// Unix seconds, the storage form of every timestamp.
fn secs(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

/// Turns stored Unix seconds back into a time; out of range means a corrupt row.
fn time(secs: i64) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Integer,
            format!("timestamp {secs} is out of range").into(),
        )
    })
}

/// Parses a date typed by a person or read from an import: RFC 3339
/// (`2024-05-01T10:00:00Z`) or a plain day (`2024-05-01`, midnight UTC).
pub fn parse_date(field: &'static str, value: &str) -> Result<DateTime<Utc>> {
    let text = value.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(midnight) = day.and_hms_opt(0, 0, 0)
    {
        return Ok(midnight.and_utc());
    }
    Err(StoreError::BadDate {
        field,
        value: value.to_owned(),
        why: "expected YYYY-MM-DD or an RFC 3339 time",
    })
}

/// Codes are stable identifiers used in imports, URLs and the CLI: keep them
/// to a safe alphabet so they never need quoting.
fn check_code(kind: Catalog, code: &str) -> Result<()> {
    if code.is_empty() {
        return Err(StoreError::EmptyField("code"));
    }
    let ok = code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: "code",
            why: format!(
                "{kind} code `{code}` may hold at most 64 letters, digits, `_`, `-` or `.`; \
                 choose one without other characters"
            ),
        })
    }
}

fn check_not_empty(field: &'static str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        Err(StoreError::EmptyField(field))
    } else {
        Ok(())
    }
}
