//! Installed plugin components. The bytes live in the database, so the
//! plugin that made a logged decision can always be found by its sha256 and
//! run again; upgrade and rollback are only a change of the active row.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::chain::sha256_hex;
use super::contacts::check_actor;
use super::ledger::event::{Table, put_row};
use super::{PluginId, Result, Store, StoreError, check_not_empty, secs, time};

/// An installed plugin, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PluginInfo {
    /// Its id.
    pub id: PluginId,
    /// Lowercase hex SHA-256 of the component bytes.
    pub sha256: String,
    /// Size of the component in bytes.
    pub size: u64,
    /// The WIT package the component speaks, e.g. `crm:consent@0.2.0`.
    pub api_version: String,
    /// When it was installed.
    pub installed_at: DateTime<Utc>,
    /// Who installed it.
    pub installed_by: String,
    /// Whether it is the active plugin: the first of the chain, which
    /// install, upgrade and rollback change.
    pub active: bool,
    /// Where it decides in the chain: `0` for the active plugin, `1`, `2`,
    /// ... for the rule packs asked after it; none when it does not decide.
    pub chain_position: Option<u32>,
}

/// An installed plugin with its component bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledPlugin {
    /// What is known about it.
    pub info: PluginInfo,
    /// The WebAssembly component, as installed.
    pub bytes: Vec<u8>,
}

pub(super) const INFO_COLUMNS: &str = "SELECT id, sha256, length(bytes), api_version,
        installed_at, installed_by, active, CASE WHEN active = 1 THEN 0 ELSE chain_position END
        FROM plugins";

pub(super) fn info_from_row(row: &Row<'_>) -> rusqlite::Result<PluginInfo> {
    Ok(PluginInfo {
        id: row.get(0)?,
        sha256: row.get(1)?,
        size: row.get(2)?,
        api_version: row.get(3)?,
        installed_at: time(row.get(4)?)?,
        installed_by: row.get(5)?,
        active: row.get(6)?,
        chain_position: row.get(7)?,
    })
}

pub(super) fn info(conn: &Connection, id: PluginId) -> Result<PluginInfo> {
    conn.prepare_cached(&format!("{INFO_COLUMNS} WHERE id = ?1"))?
        .query_row([id], info_from_row)
        .optional()?
        .ok_or(StoreError::UnknownPlugin(id))
}

/// Makes `id` the active plugin. Which plugin decides is itself a fact
/// every decision depends on, so each changed row is a ledger entry: the
/// old one's deactivation first, so a replay never sees two active. A rule
/// pack made active leaves its place in the chain first.
fn make_active(conn: &Connection, id: PluginId, actor: &str, now: i64) -> Result<()> {
    let old: Option<PluginId> = conn
        .query_row("SELECT id FROM plugins WHERE active = 1", [], |row| {
            row.get(0)
        })
        .optional()?;
    if old == Some(id) {
        return Ok(());
    }
    super::packs::leave_chain(conn, id, actor, now)?;
    if let Some(old) = old {
        conn.execute("UPDATE plugins SET active = 0 WHERE id = ?1", [old])?;
        put_row(conn, Table::Plugins, &[old.0], None, actor, now)?;
    }
    conn.execute("UPDATE plugins SET active = 1 WHERE id = ?1", [id])?;
    put_row(conn, Table::Plugins, &[id.0], None, actor, now)?;
    Ok(())
}

/// Stores a component (inactive, in no chain) unless the same bytes are
/// stored already; returns its id either way.
pub(super) fn store_bytes(
    tx: &Connection,
    bytes: &[u8],
    api_version: &str,
    installed_by: &str,
    now: i64,
) -> Result<PluginId> {
    if bytes.is_empty() {
        return Err(StoreError::EmptyField("plugin bytes"));
    }
    check_not_empty("api version", api_version)?;
    check_actor(installed_by)?;
    let sha256 = sha256_hex(bytes);
    let existing: Option<PluginId> = tx
        .query_row(
            "SELECT id FROM plugins WHERE sha256 = ?1",
            [&sha256],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    tx.execute(
        "INSERT INTO plugins (sha256, bytes, api_version, installed_at, installed_by)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![sha256, bytes, api_version.trim(), now, installed_by.trim()],
    )?;
    let id = PluginId(tx.last_insert_rowid());
    // Recorded inactive; `make_active` or the chain records the switch.
    put_row(tx, Table::Plugins, &[id.0], None, installed_by.trim(), now)?;
    Ok(id)
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
    ) -> Result<PluginInfo> {
        self.write_recorded(|tx, now| {
            let id = store_bytes(tx, bytes, api_version, installed_by, secs(now))?;
            make_active(tx, id, installed_by.trim(), secs(now))?;
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
    pub fn activate_plugin(&mut self, id: PluginId, actor: &str) -> Result<PluginInfo> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            info(tx, id)?;
            make_active(tx, id, actor, secs(now))?;
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
    /// A stored plugin with its bytes, checked against its sha256: the
    /// decision log cites the sha256, so bytes that no longer match it are
    /// never handed out to run.
    pub fn plugin(&self, id: PluginId) -> Result<InstalledPlugin> {
        let info = info(&self.conn, id)?;
        let bytes: Vec<u8> = self
            .conn
            .prepare_cached("SELECT bytes FROM plugins WHERE id = ?1")?
            .query_row([id], |row| row.get(0))?;
        if sha256_hex(&bytes) != info.sha256 {
            return Err(StoreError::PluginBytesChanged {
                id,
                sha256: info.sha256,
            });
        }
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

    /// The admin's caps on what a plugin's limits manifest may ask for, as
    /// the manifest's JSON; `None` until set (the engine's defaults). Not in
    /// the ledger: the caps only gate which plugin may be installed, and
    /// the active plugin always fits them (see `setup::set_caps`).
    pub fn plugin_caps(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM page_settings WHERE name = ?1")?
            .query_row([PLUGIN_CAPS], |row| row.get(0))
            .optional()?)
    }

    /// Stores the caps, as a limits manifest's JSON.
    pub fn set_plugin_caps(&mut self, json: &str, actor: &str) -> Result<()> {
        self.put_page_setting(PLUGIN_CAPS, json, actor)
    }
}

/// The `page_settings` row holding the plugin caps (no migration: the table
/// holds any named setting, like the controller).
const PLUGIN_CAPS: &str = "plugin_caps";
