//! What an admin does to install and configure the plugin: install (and
//! upgrade) a component, roll back to the previous one, list the installed
//! versions, and turn the privacy switches on and off.
//!
//! A component is validated, compiled and tried against the stored config
//! *before* anything is written, so a failed install leaves the active plugin
//! exactly as it was.

use crate::engine::{Engine, EngineError, EngineOptions, Manifest, PluginLimits};
use crate::hooks::convert;
use crate::store::{Channel, PluginId, PluginInfo, Store, StoreError, Switches};

/// Why an admin's setup step failed. A failed install leaves the active
/// plugin exactly as it was.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The component is not a consent plugin this host can run, refused the
    /// stored config, or failed its self-test, so it was not installed.
    #[error("plugin refused: {0}")]
    Plugin(#[from] EngineError),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A rollback has no earlier plugin to go back to; says why (nothing is
    /// installed, or the active plugin is the first one).
    #[error("nothing to roll back to: {0}")]
    NoPrevious(&'static str),
    /// A rule pack was installed before any plugin: packs follow the
    /// active plugin, which decides first.
    #[error(
        "no plugin is installed, and a rule pack follows the active plugin: run \
         `crm-consent setup install <plugin.wasm>` first"
    )]
    NoActivePlugin,
    /// The admin named a privacy switch that does not exist; holds the name
    /// as typed.
    #[error(
        "unknown switch `{0}`; the switches are check_single_email, check_bulk_email, \
         check_phone and e_marketing_privacy"
    )]
    UnknownSwitch(String),
    /// A new cap is below what the active plugin declares.
    #[error(
        "the cap on {limit} ({cap}) is below what the active plugin #{plugin} asks \
         ({asked}); install a plugin that asks less first, or keep the cap"
    )]
    CapBelowActive {
        /// The manifest field.
        limit: &'static str,
        /// What the active plugin asks.
        asked: String,
        /// The refused cap.
        cap: String,
        /// The active plugin's id.
        plugin: String,
    },
}

/// One of the admin's privacy switches (Italian CRM plugin, SuperOffice).
/// The three checks are named after the channel they guard (the Italian CRM
/// plugin calls them "single mail", "mailing list" and "per contact"). With
/// one off, consent is not checked on its channels (the allow says
/// `not_checked`); restriction (Art. 18), objection (Art. 21(3)) and
/// newsletter preferences still apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// Check consent before every single email, and every SMS (which rides
    /// on the single-email permission and this check).
    CheckSingleEmail,
    /// Check consent before every bulk email (newsletter).
    CheckBulkEmail,
    /// Check consent before every phone call.
    CheckPhone,
    /// Newsletters need real consent; when off, a legitimate interest in the
    /// newsletter's purpose (ePrivacy soft opt-in) also allows them.
    EMarketingPrivacy,
}

impl Switch {
    /// Every switch, in a fixed order, for listing them.
    pub const ALL: [Switch; 4] = [
        Switch::CheckSingleEmail,
        Switch::CheckBulkEmail,
        Switch::CheckPhone,
        Switch::EMarketingPrivacy,
    ];

    /// The switch's one spelling: its key in the JSON of [`Switches`], the
    /// name an admin types and the name the CLI prints, e.g.
    /// `check_single_email`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Switch::CheckSingleEmail => "check_single_email",
            Switch::CheckBulkEmail => "check_bulk_email",
            Switch::CheckPhone => "check_phone",
            Switch::EMarketingPrivacy => "e_marketing_privacy",
        }
    }

    /// The check that guards `channel`. SMS goes with single email, as its
    /// consent does (Italian CRM plugin).
    pub const fn for_channel(channel: Channel) -> Switch {
        match channel {
            Channel::BulkEmail => Switch::CheckBulkEmail,
            Channel::SingleEmail | Channel::Sms => Switch::CheckSingleEmail,
            Channel::Phone => Switch::CheckPhone,
        }
    }

    /// Whether this switch is on in `s`.
    pub fn get(self, s: &Switches) -> bool {
        match self {
            Switch::CheckSingleEmail => s.check_single_email,
            Switch::CheckBulkEmail => s.check_bulk_email,
            Switch::CheckPhone => s.check_phone,
            Switch::EMarketingPrivacy => s.e_marketing_privacy,
        }
    }

    fn slot(self, s: &mut Switches) -> &mut bool {
        match self {
            Switch::CheckSingleEmail => &mut s.check_single_email,
            Switch::CheckBulkEmail => &mut s.check_bulk_email,
            Switch::CheckPhone => &mut s.check_phone,
            Switch::EMarketingPrivacy => &mut s.e_marketing_privacy,
        }
    }
}

impl std::str::FromStr for Switch {
    type Err = SetupError;

    /// Accepts the snake_case name and its kebab-case (WIT) spelling.
    fn from_str(s: &str) -> Result<Self, SetupError> {
        let wanted = s.trim().replace('-', "_").to_ascii_lowercase();
        Switch::ALL
            .into_iter()
            .find(|w| w.as_str() == wanted)
            .ok_or_else(|| SetupError::UnknownSwitch(s.to_owned()))
    }
}

/// Validates, precompiles and stores a component, and makes it active.
/// Installing a newer component is the upgrade; the old one stays installed
/// for [`rollback`].
pub fn install(
    store: &mut Store,
    engine: &Engine,
    bytes: &[u8],
    actor: &str,
) -> Result<PluginInfo, SetupError> {
    let api = check_plugin(store, engine, bytes)?;
    Ok(store.install_plugin(bytes, &api, actor)?)
}

/// Checks a component before it may decide: under the caps, compiled, and
/// accepting the config it will run with (or every hook after the install
/// would fail), with every sentence and every channel's reasons under the
/// call budget: a plugin whose `explain` loops or whose `reasons` traps is
/// refused here rather than failing every deny or justify afterwards.
fn check_plugin(store: &Store, engine: &Engine, bytes: &[u8]) -> Result<String, SetupError> {
    let plugin = engine.load(bytes)?;
    let config = convert::config(&store.config_snapshot()?);
    plugin.policy(&config)?.self_test()?;
    Ok(format!("crm:consent@{}", plugin.info().api_version))
}

/// Validates and stores a component as a rule pack, asked after the active
/// plugin and the packs before it (issue 11: jurisdiction packs). The
/// active plugin stays; nothing is written if the pack is refused.
pub fn install_pack(
    store: &mut Store,
    engine: &Engine,
    bytes: &[u8],
    actor: &str,
) -> Result<PluginInfo, SetupError> {
    if store.active_plugin()?.is_none() {
        return Err(SetupError::NoActivePlugin);
    }
    let api = check_plugin(store, engine, bytes)?;
    Ok(store.install_pack(bytes, &api, actor)?)
}

/// Sets the rule packs that decide after the active plugin, in order (an
/// empty list: the active plugin alone). Each pack is checked first as an
/// install is: a pack over the caps, or one that refuses the config, is
/// refused and the chain stays as it was.
pub fn set_chain(
    store: &mut Store,
    engine: &Engine,
    packs: &[PluginId],
    actor: &str,
) -> Result<Vec<PluginInfo>, SetupError> {
    for id in packs {
        let plugin = store.plugin(*id)?;
        check_plugin(store, engine, &plugin.bytes)?;
    }
    Ok(store.set_chain(packs, actor)?)
}

/// The plugins that decide, in chain order: the active plugin, then the
/// rule packs.
pub fn chain(store: &Store) -> Result<Vec<PluginInfo>, SetupError> {
    Ok(store.chain()?)
}

/// The admin's caps on plugin limits as stored (only the fields set).
pub fn stored_caps(store: &Store) -> Result<Manifest, SetupError> {
    match store.plugin_caps()? {
        None => Ok(Manifest::default()),
        Some(json) => Ok(crate::engine::parse_manifest(json.as_bytes())?),
    }
}

/// `opts` with the stored caps applied: what every engine that runs this
/// database's plugins is built with. A cap not set is the default limit.
pub fn with_caps(store: &Store, mut opts: EngineOptions) -> Result<EngineOptions, SetupError> {
    let stored = stored_caps(store)?;
    opts.caps = Some(stored.over(&crate::engine::default_caps()));
    Ok(opts)
}

/// Sets the caps named in `newer` (the others stay). Refused if a cap is
/// below the default limits (the reference plugin must still run) or below
/// what the active plugin declares: the active plugin always fits the caps,
/// so changing them never changes what a hook decides, and needs no ledger
/// entry. Returns the caps in force.
pub fn set_caps(
    store: &mut Store,
    opts: &EngineOptions,
    newer: &Manifest,
    actor: &str,
) -> Result<PluginLimits, SetupError> {
    let caps = stored_caps(store)?.updated(newer);
    let mut opts = opts.clone();
    opts.caps = Some(caps.over(&crate::engine::default_caps()));
    let engine = Engine::new(opts)?;
    if let Some(active) = store.active_plugin()? {
        engine.check_limits(&active.bytes).map_err(|e| match e {
            EngineError::OverCap { limit, asked, cap } => SetupError::CapBelowActive {
                limit,
                asked,
                cap,
                plugin: active.info.id.to_string(),
            },
            other => other.into(),
        })?;
    }
    let json = serde_json::to_string(&caps).expect("a manifest serializes");
    store.set_plugin_caps(&json, actor)?;
    Ok(*engine.caps())
}

/// Makes the plugin installed before the active one active again.
pub fn rollback(store: &mut Store, actor: &str) -> Result<PluginInfo, SetupError> {
    let plugins = store.plugins()?;
    let active = plugins
        .iter()
        .position(|p| p.active)
        .ok_or(SetupError::NoPrevious("no plugin is installed"))?;
    if active == 0 {
        return Err(SetupError::NoPrevious(
            "the active plugin is the first one installed",
        ));
    }
    // The active plugin always fits the caps (see `set_caps`), an earlier
    // one too, or it is not made active.
    let previous = store.plugin(plugins[active - 1].id)?;
    crate::engine::check_limits(
        &previous.bytes,
        &with_caps(store, EngineOptions::default())?,
    )?;
    Ok(store.activate_plugin(plugins[active - 1].id, actor)?)
}

/// Every installed plugin, oldest first.
pub fn plugins(store: &Store) -> Result<Vec<PluginInfo>, SetupError> {
    Ok(store.plugins()?)
}

/// Turns one switch on or off; returns all of them.
pub fn set_switch(
    store: &mut Store,
    switch: Switch,
    on: bool,
    actor: &str,
) -> Result<Switches, SetupError> {
    let mut switches = store.switches()?;
    *switch.slot(&mut switches) = on;
    store.set_switches(&switches, actor)?;
    Ok(switches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_switch_is_spelled_like_its_json_key() {
        let json = serde_json::to_value(Switches::default()).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut names: Vec<&str> = Switch::ALL.iter().map(|s| s.as_str()).collect();
        keys.sort_unstable();
        names.sort_unstable();
        assert_eq!(keys, names);
        for switch in Switch::ALL {
            assert_eq!(switch.as_str().parse::<Switch>().unwrap(), switch);
            let kebab = switch.as_str().replace('_', "-");
            assert_eq!(kebab.parse::<Switch>().unwrap(), switch);
        }
    }

    #[test]
    fn the_old_switch_names_are_not_the_librarys() {
        for old in ["single-mail", "mailing_list", "per-contact"] {
            assert!(old.parse::<Switch>().is_err(), "{old}");
        }
    }
}
