//! The contract versions this host runs, one module of bindings each, as
//! Zed's extension host keeps `since_v*`: `bindings` is the current contract
//! (`wit/consent.wit`, 0.2), `since_v0_1` the frozen 0.1.0
//! (`wit/since_v0_1/consent.wit`). Everything above the engine speaks the
//! current types; a plugin's version is found at load, and what differs is
//! converted in its module, in one place (0.1 differs only in the names of
//! the consent-type permissions and the switches, so only the config passed
//! to `policy.create` is converted).
//!
//! The other calls use the current Rust types for every version: wasmtime
//! type-checks a typed function against the component by the WIT shape and
//! names, not by the package, so a version whose `decide` is spelled the same
//! is called the same way, and one that changed is refused at load
//! (`WrongTypes`) until its module converts it.

use std::fmt;

/// The WIT package the plugin implements.
pub const API_PACKAGE: &str = "crm:consent";
/// The version of the contract this host was built against, which new
/// plugins target. Plugins exporting a semver-compatible version (`0.2.x`)
/// are accepted, and so are those of [`SUPPORTED_API_VERSIONS`].
pub const API_VERSION: &str = "0.2.0";

/// Every contract version this host runs, oldest first (the README keeps
/// the compatibility table): a plugin exporting a semver-compatible version
/// of any of them loads.
pub const SUPPORTED_API_VERSIONS: &[&str] = &["0.1.0", API_VERSION];

const _: () = assert!(ApiVersion::ALL.len() == SUPPORTED_API_VERSIONS.len());

/// A contract version this host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ApiVersion {
    /// `crm:consent@0.1.x`: `allow-bulk`, `allow-single`, `allow-contact`;
    /// switches `single-mail`, `mailing-list`, `per-contact`.
    V0_1,
    /// `crm:consent@0.2.x`, the current contract.
    V0_2,
}

impl ApiVersion {
    /// The current contract, which new plugins target.
    pub(crate) const CURRENT: ApiVersion = ApiVersion::V0_2;

    /// Every version this host runs, oldest first.
    pub(crate) const ALL: [ApiVersion; 2] = [ApiVersion::V0_1, ApiVersion::V0_2];

    /// The version a component exporting `version` (e.g. "0.1.3") targets,
    /// matched the way wasmtime matches names: for 0.x versions the minor is
    /// the breaking part, and pre-releases match nothing else.
    pub(crate) fn of(version: &str) -> Option<ApiVersion> {
        let (major, minor, _patch, pre) = parse(version)?;
        match (major, minor, pre) {
            (0, 1, false) => Some(ApiVersion::V0_1),
            (0, 2, false) => Some(ApiVersion::V0_2),
            _ => None,
        }
    }

    /// The version the bindings were generated from, e.g. "0.1.0".
    pub(crate) fn contract(self) -> &'static str {
        SUPPORTED_API_VERSIONS[self.index()]
    }

    /// Index in [`ApiVersion::ALL`], for per-version tables.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The supported versions for messages: `` `crm:consent@0.1.x` or
/// `crm:consent@0.2.x` ``.
pub(crate) struct Supported;

impl fmt::Display for Supported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, version) in ApiVersion::ALL.iter().enumerate() {
            let minor = version
                .contract()
                .rsplit_once('.')
                .map_or(version.contract(), |(minor, _)| minor);
            match i {
                0 => {}
                i if i + 1 == ApiVersion::ALL.len() => f.write_str(" or ")?,
                _ => f.write_str(", ")?,
            }
            write!(f, "`{API_PACKAGE}@{minor}.x`")?;
        }
        Ok(())
    }
}

/// (major, minor, patch, pre-release?) of a semver version; build metadata
/// is ignored.
fn parse(version: &str) -> Option<(u64, u64, u64, bool)> {
    let core = version
        .split_once('+')
        .map_or(version, |(core, _build)| core);
    let (core, pre) = match core.split_once('-') {
        Some((core, _)) => (core, true),
        None => (core, false),
    };
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let parsed = (parts.next()??, parts.next()??, parts.next()??, pre);
    parts.next().is_none().then_some(parsed)
}
