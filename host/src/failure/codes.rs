//! Stable error codes of the engine, the hooks, setup and the pages, like
//! [`StoreError::code`](crate::store::StoreError::code): snake_case, one per
//! variant, never changed once published (scripts match on them).
//!
//! Inherent methods, so the CLI, the HTTP layer and an embedding CRM get the
//! same codes. They belong next to each enum (`engine/error.rs`,
//! `hooks/stored.rs`, `setup.rs`, `pages/error.rs`) and live here only until
//! the engine and hooks work in progress has merged. A wrapper of another
//! module's error delegates to it.

use crate::engine::EngineError;
use crate::hooks::HookError;
use crate::pages::PageError;
use crate::setup::SetupError;

impl EngineError {
    /// A stable snake_case name for the kind of error; see
    /// [`StoreError::code`](crate::store::StoreError::code).
    pub const fn code(&self) -> &'static str {
        match self {
            EngineError::Options(_) => "invalid_engine_options",
            EngineError::Setup(_) => "engine_setup_failed",
            EngineError::NotAComponent(_) => "not_a_component",
            EngineError::InvalidComponent(_) => "invalid_component",
            EngineError::MissingExport { .. } => "missing_export",
            EngineError::IncompatibleVersion { .. } => "incompatible_version",
            EngineError::HasImports { .. } => "plugin_has_imports",
            EngineError::WrongTypes { .. } => "wrong_types",
            EngineError::OverCap { .. } => "plugin_over_limits",
            EngineError::Manifest(_) => "invalid_limits_manifest",
            EngineError::Instantiate(_) => "instantiate_failed",
            EngineError::Config(_) => "config_refused",
            EngineError::Fault { .. } => "plugin_fault",
            EngineError::Batch(_) => "batch_refused",
            EngineError::SelfTest { .. } => "plugin_self_test_failed",
        }
    }
}

impl HookError {
    /// A stable snake_case name for the kind of error; see
    /// [`StoreError::code`](crate::store::StoreError::code).
    pub const fn code(&self) -> &'static str {
        match self {
            HookError::Store(e) => e.code(),
            HookError::Engine(e) => e.code(),
            HookError::NoPlugin => "no_plugin",
            HookError::ReasonNotOffered { .. } => "reason_not_offered",
            HookError::NothingToJustify(_) => "nothing_to_justify",
            HookError::TextTooLong(_) => "text_too_long",
            HookError::NotReplayable(..) => "not_replayable",
        }
    }
}

impl SetupError {
    /// A stable snake_case name for the kind of error; see
    /// [`StoreError::code`](crate::store::StoreError::code).
    pub const fn code(&self) -> &'static str {
        match self {
            SetupError::Plugin(e) => e.code(),
            SetupError::Store(e) => e.code(),
            SetupError::NoPrevious(_) => "nothing_to_roll_back",
            SetupError::NoActivePlugin => "no_plugin",
            SetupError::UnknownSwitch(_) => "unknown_switch",
            SetupError::CapBelowActive { .. } => "cap_below_active_plugin",
        }
    }
}

impl PageError {
    /// A stable snake_case name for the kind of error; see
    /// [`StoreError::code`](crate::store::StoreError::code).
    pub const fn code(&self) -> &'static str {
        match self {
            PageError::Expired { .. } => "link_expired",
            PageError::Altered => "link_invalid",
            PageError::Revoked => "link_revoked",
            PageError::NotOffered(_) => "not_offered",
            PageError::Superseded => "confirmation_superseded",
            PageError::NoConsentTypes => "no_consent_types",
            PageError::NoEmail(_) => "no_email",
            PageError::MissingVariable { .. } => "missing_variable",
            PageError::UnknownVariable { .. } => "unknown_variable",
            PageError::BadTemplate { .. } => "bad_template",
            PageError::Store(e) => e.code(),
        }
    }
}
