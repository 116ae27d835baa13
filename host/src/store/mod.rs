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
mod columns;
mod config;
mod consent_types;
mod contacts;
mod decisions;
mod error;
mod ids;
mod ledger;
mod methods;
mod plugins;
mod projection;
mod schema;
mod statuses;
mod subscriptions;
mod timeline;
mod vocabulary;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

pub use catalog::{NewPurpose, Purpose, Reason};
pub use chain::{GENESIS_HASH, LedgerHead, LedgerProblem, LedgerProblemKind, LedgerReport};
pub use columns::{Columns, ConsentRow, ContactRow, ContactSnapshot, Preference, PurposeBasis};
pub use config::{StoredConfig, Switches};
pub use consent_types::{ConsentType, ConsentTypeEdit, ConsentTypeText, NewConsentType};
pub use contacts::{Contact, NewContact, Relation};
pub use decisions::{Decision, NewDecision, NewJustification};
pub use error::{Catalog, Result, StoreError};
pub use ids::{
    ConsentTypeId, ContactId, DecisionId, LedgerSeq, MethodId, PluginId, PurposeId, ReasonId,
    RelationId, StatusId, SubscriptionTypeId,
};
pub use ledger::{ConsentTypeRef, LedgerEntry, NewConsent};
pub use methods::Method;
pub use plugins::{InstalledPlugin, PluginInfo};
pub use projection::CurrentConsent;
pub use statuses::Status;
pub use subscriptions::SubscriptionType;
pub use timeline::TimelineEntry;
pub use vocabulary::{
    Channel, ConsentStatus, ContactFlags, ContactKind, LegalBasis, Outcome, ParseError,
    RelationKind, SubscriptionState, TimelineKind,
};

/// The consent database: one SQLite file in WAL mode with foreign keys on.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Creates a new database file and its schema. Fails if the file exists,
    /// so a typo in a path never silently starts an empty ledger next to the
    /// real one.
    pub fn create(path: impl AsRef<Path>) -> Result<Store> {
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
                    why: format!("{}: {e}", path.display()),
                });
            }
        }
        Store::connect(path)
    }

    /// Opens an existing database and brings its schema up to date. Fails
    /// with [`StoreError::MissingDatabase`] if the file does not exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(StoreError::MissingDatabase(path.to_owned()));
        }
        Store::connect(path)
    }

    /// Opens the database, creating it first if it does not exist.
    pub fn open_or_create(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        if path.exists() {
            Store::open(path)
        } else {
            Store::create(path)
        }
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connect(path: &Path) -> Result<Store> {
        // No SQLITE_OPEN_CREATE: the file exists by now, and if it vanished in
        // between we want an error, not a fresh empty database. No URI flag:
        // the path is a path.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::CannotOpen => {
                StoreError::MissingDatabase(path.to_owned())
            }
            other => StoreError::Sqlite(other),
        })?;
        // WAL: readers (hooks) never block the writer and vice versa.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // Another process (CLI next to the server) may hold the write lock.
        conn.busy_timeout(Duration::from_secs(5))?;
        // The newsletter scan reads whole tables: a larger page cache and
        // memory-mapped reads keep it off the read() syscall path.
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "mmap_size", 1_i64 << 30)?;
        conn.set_prepared_statement_cache_capacity(64);
        schema::migrations().to_latest(&mut conn)?;
        Ok(Store {
            conn,
            path: path.to_owned(),
        })
    }

    /// Runs `f` in one immediate transaction; commits only if it succeeds.
    fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
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
                "{kind} code \"{code}\" may hold at most 64 letters, digits, '_', '-' or '.'"
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
