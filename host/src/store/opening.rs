//! Opening a database file: telling ours from anyone else's, creating and
//! upgrading the schema safely when several processes start at once, and
//! reading from read-only media.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::schema::{APPLICATION_ID, MIGRATIONS};
use super::{Result, StoreError};

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// `init`: the file was just created empty; only this mode makes a schema.
    Create,
    ReadWrite,
    ReadOnly,
}

/// How long a process waits for another one's write (a CLI next to the
/// server, or a migration running in a process that started first).
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) fn connect(path: &Path, mode: Mode) -> Result<Connection> {
    let meta = std::fs::metadata(path).map_err(|_| StoreError::MissingDatabase(path.to_owned()))?;
    if !meta.is_file() {
        return Err(StoreError::NotOurDatabase {
            path: path.to_owned(),
            why: "it is not a regular file",
        });
    }
    if meta.len() == 0 && mode != Mode::Create {
        return Err(StoreError::NotInitialized(path.to_owned()));
    }
    let mut conn = match mode {
        Mode::ReadOnly => open_read_only(path)?,
        Mode::Create | Mode::ReadWrite => {
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            open_with(path, path.to_string_lossy().as_ref(), flags)?
        }
    };
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if mode != Mode::Create {
        check_ours(&conn, path)?;
    }
    if mode != Mode::ReadOnly {
        // WAL: readers (hooks) never block the writer and vice versa.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
    }
    conn.pragma_update(None, "foreign_keys", true)?;
    if mode != Mode::ReadOnly {
        // Art. 17: what an erasure or a rectification deletes is zeroed in
        // the file, not left in free cells and pages.
        conn.pragma_update(None, "secure_delete", true)?;
    }
    // The newsletter scan reads whole tables: a larger page cache and
    // memory-mapped reads keep it off the read() syscall path.
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.pragma_update(None, "mmap_size", 1_i64 << 30)?;
    conn.set_prepared_statement_cache_capacity(128);
    match mode {
        Mode::ReadOnly => {
            let version = user_version(&conn)?;
            if version < MIGRATIONS.len() {
                return Err(StoreError::Migration {
                    version,
                    why: "it needs an upgrade, which a read-only open cannot do; open it once where it is writable".to_owned(),
                });
            }
            check_not_newer(version)?;
        }
        Mode::Create | Mode::ReadWrite => migrate(&mut conn, mode)?,
    }
    Ok(conn)
}

fn open_with(path: &Path, name: &str, flags: OpenFlags) -> Result<Connection> {
    Connection::open_with_flags(name, flags).map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::CannotOpen => {
            StoreError::MissingDatabase(path.to_owned())
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
            StoreError::NotOurDatabase {
                path: path.to_owned(),
                why: "it is not an SQLite database",
            }
        }
        other => StoreError::Sqlite(other),
    })
}

/// A read-only open. Where we could write (the file and its folder are
/// writable), SQLite's normal read-only mode shares the WAL with writers.
/// Where we cannot (read-only media, a folder we may not write), the file is
/// opened `immutable`: no `-shm` or `-wal` is created, so none is left behind.
fn open_read_only(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let uri = file_uri(path);
    if writable(path) && writable(dir) {
        return open_with(path, &format!("{uri}?mode=ro"), flags);
    }
    let wal = path.with_file_name(format!(
        "{}-wal",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(StoreError::NotOurDatabase {
            path: path.to_owned(),
            why: "it has unfinished writes in its `-wal` file and cannot be opened on read-only media; \
                  open it once where it is writable, or copy it with `sqlite3 .backup`",
        });
    }
    open_with(path, &format!("{uri}?immutable=1"), flags)
}

fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// An SQLite `file:` URI for a path: the characters URIs give meaning to
/// are escaped.
fn file_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut uri = String::from("file:");
    for c in absolute.to_string_lossy().chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri
}

fn application_id(conn: &Connection) -> Result<i32> {
    Ok(conn.pragma_query_value(None, "application_id", |row| row.get(0))?)
}

fn user_version(conn: &Connection) -> Result<usize> {
    let v: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    Ok(usize::try_from(v).unwrap_or(usize::MAX))
}

/// Refuses any SQLite file that is not a crm-consent database, before a
/// single byte of schema is written into it.
fn check_ours(conn: &Connection, path: &Path) -> Result<()> {
    let id = application_id(conn).map_err(|e| match e {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::NotADatabase =>
        {
            StoreError::NotOurDatabase {
                path: path.to_owned(),
                why: "it is not an SQLite database",
            }
        }
        other => other,
    })?;
    if id == APPLICATION_ID {
        return Ok(());
    }
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
    if id == 0 && tables == 0 {
        // Created by `init` in another process that has not finished, or
        // left empty by a crash: nothing to refuse, nothing to open either.
        return Err(StoreError::NotInitialized(path.to_owned()));
    }
    Err(StoreError::NotOurDatabase {
        path: path.to_owned(),
        why: "it is an SQLite database of another program (or of an unreleased development build)",
    })
}

fn check_not_newer(version: usize) -> Result<()> {
    if version > MIGRATIONS.len() {
        return Err(StoreError::Migration {
            version,
            why: format!(
                "it was written by a newer crm-consent (schema {version}, this one knows {}); upgrade crm-consent",
                MIGRATIONS.len()
            ),
        });
    }
    Ok(())
}

/// Runs the pending migrations in one immediate transaction. The version is
/// read again once the write lock is held, so processes that start together
/// never run a migration twice: the second finds it done.
fn migrate(conn: &mut Connection, mode: Mode) -> Result<()> {
    let version = user_version(conn)?;
    check_not_newer(version)?;
    if version == MIGRATIONS.len() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version = user_version(&tx)?;
    check_not_newer(version)?;
    if mode == Mode::Create && version == 0 {
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql).map_err(|e| StoreError::Migration {
            version: i + 1,
            why: e.to_string(),
        })?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)?;
    // A migration that edits `sqlite_schema` itself (CHECK_LISTS) changes
    // no schema cookie: bump it, so other connections read the schema again.
    let cookie: i64 = tx.query_row("PRAGMA schema_version", [], |row| row.get(0))?;
    tx.pragma_update(None, "schema_version", cookie + 1)?;
    let broken: i64 = tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
        row.get(0)
    })?;
    if broken > 0 {
        return Err(StoreError::Migration {
            version: MIGRATIONS.len(),
            why: format!("{broken} row(s) break a foreign key after the upgrade"),
        });
    }
    tx.commit()?;
    Ok(())
}
