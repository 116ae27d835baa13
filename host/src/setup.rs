//! What an admin does to install and configure the plugin: install (and
//! upgrade) a component, roll back to the previous one, list the installed
//! versions, and turn the privacy switches on and off.
//!
//! A component is validated, compiled and tried against the stored config
//! *before* anything is written, so a failed install leaves the active plugin
//! exactly as it was.

use crate::engine::{Engine, EngineError};
use crate::hooks::convert;
use crate::store::{PluginInfo, Store, StoreError, Switches};

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
    /// A rollback has no earlier plugin to go back to; says why.
    #[error("nothing to roll back to: {0}")]
    NoPrevious(&'static str),
    /// The admin named a privacy switch that does not exist; holds the name
    /// as typed.
    #[error(
        "unknown switch \"{0}\" (switches: single-mail, mailing-list, per-contact, e-marketing-privacy)"
    )]
    UnknownSwitch(String),
}

/// One of the admin's privacy switches (Italian CRM plugin, SuperOffice).
/// With one of the first three off, consent is not checked on its channels
/// (the allow says `not-checked`); restriction (Art. 18), objection
/// (Art. 21(3)) and newsletter preferences still apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// Check consent before every single email and SMS.
    SingleMail,
    /// Check consent before every newsletter.
    MailingList,
    /// Check consent before every call.
    PerContact,
    /// Newsletters need real consent; when off, a legitimate interest in the
    /// newsletter's purpose (ePrivacy soft opt-in) also allows them.
    EMarketingPrivacy,
}

impl Switch {
    /// Every switch, in a fixed order, for listing them.
    pub const ALL: [Switch; 4] = [
        Switch::SingleMail,
        Switch::MailingList,
        Switch::PerContact,
        Switch::EMarketingPrivacy,
    ];

    /// The switch's name as an admin types it, e.g. `single-mail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Switch::SingleMail => "single-mail",
            Switch::MailingList => "mailing-list",
            Switch::PerContact => "per-contact",
            Switch::EMarketingPrivacy => "e-marketing-privacy",
        }
    }

    /// Whether this switch is on in `s`.
    pub fn get(self, s: &Switches) -> bool {
        match self {
            Switch::SingleMail => s.single_mail,
            Switch::MailingList => s.mailing_list,
            Switch::PerContact => s.per_contact,
            Switch::EMarketingPrivacy => s.e_marketing_privacy,
        }
    }

    fn slot(self, s: &mut Switches) -> &mut bool {
        match self {
            Switch::SingleMail => &mut s.single_mail,
            Switch::MailingList => &mut s.mailing_list,
            Switch::PerContact => &mut s.per_contact,
            Switch::EMarketingPrivacy => &mut s.e_marketing_privacy,
        }
    }
}

impl std::str::FromStr for Switch {
    type Err = SetupError;

    fn from_str(s: &str) -> Result<Self, SetupError> {
        let wanted = s.trim().replace('_', "-").to_ascii_lowercase();
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
    let plugin = engine.load(bytes)?;
    // The plugin must accept the config it will run with, or every hook
    // after the install would fail.
    let config = convert::config(&store.config_snapshot()?);
    // Every sentence and every channel's reasons, under the call budget: a
    // plugin whose `explain` loops or whose `reasons` traps is refused here
    // rather than failing every deny or justify after the install.
    plugin.policy(&config)?.self_test()?;
    let api = format!("crm:consent@{}", plugin.info().api_version);
    Ok(store.install_plugin(bytes, &api, actor)?)
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
