//! The chain of rule packs: installed plugins asked after the active one,
//! in the admin's order (issue 11: jurisdiction packs). The order is the
//! `chain_position` column of the projected `plugins` table, so every
//! change is a `row_put` in the ledger and `ledger verify` rebuilds it.

use rusqlite::{Connection, OptionalExtension};

use super::contacts::check_actor;
use super::ledger::event::{Table, put_row};
use super::plugins::{INFO_COLUMNS, info, info_from_row, store_bytes};
use super::{PluginId, PluginInfo, Result, Store, StoreError, secs};

/// The most rule packs after the active plugin (the schema's CHECK): with
/// the active plugin, a chain of 8, the engine's `MAX_CHAIN`.
pub const MAX_PACKS: usize = 7;

fn position(conn: &Connection, id: PluginId) -> Result<Option<u32>> {
    Ok(conn
        .prepare_cached("SELECT chain_position FROM plugins WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
        .optional()?
        .flatten())
}

fn set_position(
    conn: &Connection,
    id: PluginId,
    to: Option<u32>,
    actor: &str,
    now: i64,
) -> Result<()> {
    conn.prepare_cached("UPDATE plugins SET chain_position = ?2 WHERE id = ?1")?
        .execute(rusqlite::params![id, to])?;
    put_row(conn, Table::Plugins, &[id.0], None, actor, now)?;
    Ok(())
}

/// Takes `id` out of the chain, if it is in it (before it becomes the
/// active plugin, which is always first).
pub(super) fn leave_chain(conn: &Connection, id: PluginId, actor: &str, now: i64) -> Result<()> {
    if position(conn, id)?.is_some() {
        set_position(conn, id, None, actor, now)?;
    }
    Ok(())
}

fn invalid(why: String) -> StoreError {
    StoreError::Invalid {
        field: "rule packs",
        why,
    }
}

/// Checks the packs an admin asks for: installed, not the active plugin,
/// each once, and not too many.
fn check_packs(conn: &Connection, packs: &[PluginId]) -> Result<()> {
    if packs.len() > MAX_PACKS {
        return Err(invalid(format!(
            "{} rule packs asked, at most {MAX_PACKS} may follow the active plugin",
            packs.len()
        )));
    }
    for (i, id) in packs.iter().enumerate() {
        let plugin = info(conn, *id)?;
        if plugin.active {
            return Err(invalid(format!(
                "plugin `{id}` is the active plugin, which always decides first; \
                 name only the packs that follow it"
            )));
        }
        if packs[..i].contains(id) {
            return Err(invalid(format!(
                "plugin `{id}` is named twice; name each pack once"
            )));
        }
    }
    Ok(())
}

/// Puts `packs` after the active plugin, in this order, and takes every
/// other plugin out of the chain. Only changed rows are written, each a
/// ledger entry; the ones leaving go first, so positions never collide.
fn place(conn: &Connection, packs: &[PluginId], actor: &str, now: i64) -> Result<()> {
    let current: Vec<(PluginId, u32)> = conn
        .prepare_cached(
            "SELECT id, chain_position FROM plugins WHERE chain_position IS NOT NULL
             ORDER BY chain_position",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let wanted = |id: PluginId| packs.iter().position(|p| *p == id).map(|i| i as u32 + 1);
    for (id, at) in &current {
        if wanted(*id) != Some(*at) {
            set_position(conn, *id, None, actor, now)?;
        }
    }
    for (i, id) in packs.iter().enumerate() {
        let at = i as u32 + 1;
        if !current.contains(&(*id, at)) {
            set_position(conn, *id, Some(at), actor, now)?;
        }
    }
    Ok(())
}

impl Store {
    /// The plugins that decide, in chain order: the active plugin, then the
    /// rule packs. Empty when no plugin is installed.
    pub fn chain(&self) -> Result<Vec<PluginInfo>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{INFO_COLUMNS} WHERE active = 1 OR chain_position IS NOT NULL
             ORDER BY active DESC, chain_position"
        ))?;
        let rows = stmt
            .query_map([], info_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Sets the rule packs that decide after the active plugin, in order;
    /// an empty list leaves the active plugin alone. The caller checks
    /// that each pack runs under the caps and accepts the config (see
    /// `setup::set_chain`). Returns the chain.
    pub fn set_chain(&mut self, packs: &[PluginId], actor: &str) -> Result<Vec<PluginInfo>> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            check_packs(tx, packs)?;
            place(tx, packs, actor.trim(), secs(now))
        })?;
        self.chain()
    }

    /// Stores a component and adds it at the end of the chain, in one
    /// transaction; the active plugin stays. A pack already in the chain
    /// keeps its place. The caller validates the component first.
    pub fn install_pack(
        &mut self,
        bytes: &[u8],
        api_version: &str,
        installed_by: &str,
    ) -> Result<PluginInfo> {
        self.write_recorded(|tx, now| {
            let id = store_bytes(tx, bytes, api_version, installed_by, secs(now))?;
            let mut packs: Vec<PluginId> = tx
                .prepare_cached(
                    "SELECT id FROM plugins WHERE chain_position IS NOT NULL
                     ORDER BY chain_position",
                )?
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if !packs.contains(&id) {
                packs.push(id);
            }
            check_packs(tx, &packs)?;
            place(tx, &packs, installed_by.trim(), secs(now))?;
            info(tx, id)
        })
    }
}
