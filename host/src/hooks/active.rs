//! The plugins that decide for a store's hooks: the active plugin and the
//! rule packs after it, each with its policy over the current config,
//! rebuilt only when the ledger says something changed.

use std::sync::Arc;

use super::HookError;
use super::convert;
use crate::engine::{self as wit, Chain, Engine, Plugin};
use crate::store::{self, CitedConfig, Store, StoreError, StoredConfig};

/// The loaded chain over one config.
pub(super) struct Active {
    /// The plugins in chain order, kept to rebuild policies without
    /// compiling again when only the config changes.
    plugins: Vec<Plugin>,
    pub(super) config: wit::Config,
    /// `config` as the decision log stores and cites it, made once here
    /// rather than for every deny and justify.
    pub(super) cited: Arc<CitedConfig>,
    pub(super) chain: Chain,
    /// The catalog `config` was made from, including what the plugin does
    /// not see (a type's description): what an answer explains a decision
    /// with.
    pub(super) catalog: StoredConfig,
    /// The ledger's head when `config` and the chain were read. Every change
    /// to the config, to which plugin is active and to the rule packs is a
    /// ledger entry, so while the head stays there is nothing to re-read.
    ledger_seq: store::LedgerSeq,
}

impl Active {
    /// The SHA-256 of the active plugin: the one the decision log names in
    /// its `plugin_sha256` column.
    pub(super) fn primary_sha256(&self) -> &str {
        self.plugins[0].sha256()
    }

    /// The SHA-256 of every plugin when rule packs follow the active one;
    /// empty for the active plugin alone.
    pub(super) fn pack_sha256s(&self) -> Vec<String> {
        if self.plugins.len() == 1 {
            return Vec::new();
        }
        self.chain.plugin_sha256s()
    }
}

/// The chain over the current config, from `slot` when nothing changed
/// since it was loaded, else rebuilt into it. `ledger_seq` is the ledger's
/// head, read before the config: a write in between makes the next hook
/// see a newer head and read again.
pub(super) fn refresh<'a>(
    engine: &Engine,
    store: &Store,
    slot: &'a mut Option<Active>,
    ledger_seq: store::LedgerSeq,
) -> Result<&'a mut Active, HookError> {
    if slot.as_ref().is_some_and(|a| a.ledger_seq == ledger_seq) {
        return Ok(slot.as_mut().expect("checked above"));
    }
    let infos = store.chain()?;
    if infos.is_empty() {
        return Err(HookError::NoPlugin);
    }
    let catalog = store.config_snapshot()?;
    let config = convert::config(&catalog);
    let shas: Vec<&str> = infos.iter().map(|p| p.sha256.as_str()).collect();
    let stale = match slot.as_ref() {
        Some(a) => {
            a.plugins
                .iter()
                .map(|p| p.sha256())
                .ne(shas.iter().copied())
                || a.config != config
        }
        None => true,
    };
    if !stale && let Some(active) = slot.as_mut() {
        // What the plugin sees is the same; what it does not see (a type's
        // description) may have changed.
        active.catalog = catalog;
    } else {
        let mut loaded: Vec<Plugin> = slot.take().map(|a| a.plugins).unwrap_or_default();
        let mut plugins = Vec::with_capacity(infos.len());
        for info in &infos {
            // A plugin loaded before is reused: compiling is the slow part.
            let plugin = match loaded.iter().position(|p| p.sha256() == info.sha256) {
                Some(i) => loaded.swap_remove(i),
                None => engine.load(&store.plugin(info.id)?.bytes)?,
            };
            plugins.push(plugin);
        }
        let policies = plugins
            .iter()
            .map(|p| p.policy(&config))
            .collect::<Result<Vec<_>, _>>()?;
        let as_json = serde_json::to_value(&config).map_err(StoreError::from)?;
        *slot = Some(Active {
            chain: Chain::new(policies)?,
            plugins,
            cited: Arc::new(CitedConfig::new(&as_json)?),
            config,
            catalog,
            ledger_seq,
        });
    }
    let active = slot.as_mut().expect("set above");
    active.ledger_seq = ledger_seq;
    Ok(active)
}
