//! Installed plugin components. The bytes live in the database, so the
//! plugin that made a logged decision can always be found by its sha256 and
//! run again; upgrade and rollback are only a change of the active row.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::chain::sha256_hex;
use super::{PluginId, Result, Store, StoreError, check_not_empty, secs, time};

/// An installed plugin, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    pub id: PluginId,
    /// Lowercase hex SHA-256 of the component bytes.
    pub sha256: String,
    pub size: u64,
    /// The WIT package the component speaks, e.g. `crm:consent@0.1.0`.
    pub api_version: String,
    pub installed_at: DateTime<Utc>,
    pub installed_by: String,
    pub active: bool,
}

/// An installed plugin with its component bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledPlugin {
    pub info: PluginInfo,
    pub bytes: Vec<u8>,
}

const INFO_COLUMNS: &str = "SELECT id, sha256, length(bytes), api_version, installed_at,
        installed_by, active FROM plugins";

fn info_from_row(row: &Row<'_>) -> rusqlite::Result<PluginInfo> {
    Ok(PluginInfo {
        id: row.get(0)?,
        sha256: row.get(1)?,
        size: row.get(2)?,
        api_version: row.get(3)?,
        installed_at: time(row.get(4)?)?,
        installed_by: row.get(5)?,
        active: row.get(6)?,
    })
}

fn info(conn: &Connection, id: PluginId) -> Result<PluginInfo> {
    conn.prepare_cached(&format!("{INFO_COLUMNS} WHERE id = ?1"))?
        .query_row([id], info_from_row)
        .optional()?
        .ok_or(StoreError::UnknownPlugin(id))
}

/// Makes `id` the one active plugin. Deactivating first keeps the
/// "at most one active" unique index satisfied at every statement.
fn make_active(conn: &Connection, id: PluginId) -> Result<()> {
    conn.execute(
        "UPDATE plugins SET active = 0 WHERE active = 1 AND id <> ?1",
        [id],
    )?;
    conn.execute("UPDATE plugins SET active = 1 WHERE id = ?1", [id])?;
    Ok(())
}

impl Store {
    /// Stores a plugin component and makes it the active one, in one
    /// transaction. Installing bytes that are already stored makes that
    /// plugin active again and returns it, keeping its first install record.
    /// The caller validates the component (engine) before installing it.
    pub fn install_plugin(
        &mut self,
        bytes: &[u8],
        api_version: &str,
        installed_by: &str,
        now: DateTime<Utc>,
    ) -> Result<PluginInfo> {
        if bytes.is_empty() {
            return Err(StoreError::EmptyField("plugin bytes"));
        }
        check_not_empty("api version", api_version)?;
        check_not_empty("installed by", installed_by)?;
        let sha256 = sha256_hex(bytes);
        self.write(|tx| {
            let existing: Option<PluginId> = tx
                .query_row("SELECT id FROM plugins WHERE sha256 = ?1", [&sha256], |row| row.get(0))
                .optional()?;
            let id = match existing {
                Some(id) => id,
                None => {
                    tx.execute(
                        "INSERT INTO plugins (sha256, bytes, api_version, installed_at, installed_by)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![sha256, bytes, api_version.trim(), secs(now), installed_by.trim()],
                    )?;
                    PluginId(tx.last_insert_rowid())
                }
            };
            make_active(tx, id)?;
            info(tx, id)
        })
    }

    /// Every installed plugin, oldest first.
    pub fn plugins(&self) -> Result<Vec<PluginInfo>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{INFO_COLUMNS} ORDER BY id"))?;
        let rows = stmt
            .query_map([], info_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Makes an installed plugin the active one (upgrade or rollback).
    pub fn activate_plugin(&mut self, id: PluginId) -> Result<PluginInfo> {
        self.write(|tx| {
            info(tx, id)?;
            make_active(tx, id)?;
            info(tx, id)
        })
    }

    /// The active plugin with its bytes, if one is installed.
    pub fn active_plugin(&self) -> Result<Option<InstalledPlugin>> {
        let id: Option<PluginId> = self
            .conn
            .prepare_cached("SELECT id FROM plugins WHERE active = 1")?
            .query_row([], |row| row.get(0))
            .optional()?;
        id.map(|id| self.plugin(id)).transpose()
    }

    /// One installed plugin with its bytes.
    pub fn plugin(&self, id: PluginId) -> Result<InstalledPlugin> {
        let info = info(&self.conn, id)?;
        let bytes = self
            .conn
            .prepare_cached("SELECT bytes FROM plugins WHERE id = ?1")?
            .query_row([id], |row| row.get(0))?;
        Ok(InstalledPlugin { info, bytes })
    }

    /// The plugin with these bytes, to replay a logged decision.
    pub fn plugin_by_sha256(&self, sha256: &str) -> Result<Option<InstalledPlugin>> {
        let id: Option<PluginId> = self
            .conn
            .prepare_cached("SELECT id FROM plugins WHERE sha256 = ?1")?
            .query_row([sha256.to_ascii_lowercase()], |row| row.get(0))
            .optional()?;
        id.map(|id| self.plugin(id)).transpose()
    }
}
