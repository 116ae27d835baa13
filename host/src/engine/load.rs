//! From bytes to a [`Plugin`]: recognise a component, check that it exports
//! the rules interface in a compatible version and imports nothing callable,
//! compile it (through the cache) and pre-instantiate it once.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, InstancePre};

use super::bindings::Config;
use super::cache::{self, Compiled};
use super::instance;
use super::limits::StoreState;
use super::manifest::{self, PluginLimits, Recycling};
use super::policy::Policy;
use super::versions::ApiVersion;
use super::{API_PACKAGE, EngineError, Shared};
use wasmtime::component::ComponentExportIndex;

/// What [`Engine::validate`](super::Engine::validate) found in a plugin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ComponentInfo {
    /// SHA-256 of the component bytes, lowercase hex.
    pub sha256: String,
    /// The version of `crm:consent/rules` the component exports, e.g. "0.2.0".
    pub api_version: String,
    /// The component's top-level export names.
    pub exports: Vec<String>,
    /// The component's top-level import names: none for a plugin built
    /// against the contract's world. Imports of types only (an instance that
    /// exports nothing but non-resource types) are tolerated: they give the
    /// plugin nothing to call. Anything else is refused.
    pub imports: Vec<String>,
}

/// A loaded plugin: compiled and pre-instantiated. Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    pub(crate) inner: Arc<PluginInner>,
}

pub(crate) struct PluginInner {
    pub(crate) shared: Arc<Shared>,
    pub(crate) info: ComponentInfo,
    pub(crate) pre: InstancePre<StoreState>,
    pub(crate) exports: Exports,
    /// The limits its stores run with: its manifest, bounded by the caps.
    pub(crate) limits: PluginLimits,
    /// When its instances are replaced by fresh ones.
    pub(crate) recycling: Recycling,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) compiled: Compiled,
}

impl Plugin {
    /// SHA-256 of the component bytes, lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.inner.info.sha256
    }

    /// What validation found.
    pub fn info(&self) -> &ComponentInfo {
        &self.inner.info
    }

    /// The limits its instances run with: what its manifest declares, or
    /// the engine's defaults.
    pub fn limits(&self) -> &PluginLimits {
        &self.inner.limits
    }

    /// When its instances are replaced by fresh ones: what its manifest
    /// declares, or above three quarters of its memory limit.
    pub fn recycling(&self) -> &Recycling {
        &self.inner.recycling
    }

    /// Instantiates the plugin and builds its `policy` resource from `cfg`.
    ///
    /// A config the plugin refuses is [`EngineError::Config`]; a trap, timeout
    /// or out-of-memory while creating it is [`EngineError::Fault`].
    pub fn policy(&self, cfg: &Config) -> Result<Policy, EngineError> {
        Policy::create(self.clone(), cfg)
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("info", &self.inner.info)
            .finish_non_exhaustive()
    }
}

/// Where the plugin's exports are, found once per component.
pub(crate) struct Exports {
    /// The contract version the component exports.
    pub(crate) version: ApiVersion,
    /// Its exact version, e.g. "0.1.0", for messages.
    pub(crate) version_name: String,
    /// `policy.create`, typed per version.
    pub(crate) create: ComponentExportIndex,
    /// `policy.decide`, which the host calls with its own [`super::ContactState`]
    /// lowering.
    pub(crate) decide: ComponentExportIndex,
    /// `policy.decide-batch`, called with the host's own verdict lifting.
    pub(crate) decide_batch: ComponentExportIndex,
    pub(crate) reasons: ComponentExportIndex,
    pub(crate) explain: ComponentExportIndex,
}

/// Whether a load may go through the disk cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cache {
    Use,
    /// Compile from the bytes, neither reading nor writing the cache.
    Bypass,
}

pub(crate) fn prepare(
    shared: &Arc<Shared>,
    bytes: &[u8],
    cache: Cache,
) -> Result<Plugin, EngineError> {
    check_header(bytes)?;
    // Before compiling: a plugin over the caps costs no compile time (a
    // Python plugin takes minutes to compile).
    let (limits, recycling) = resolve(&shared.defaults, &shared.caps, bytes)?;
    // The plugin is named by the bytes it runs, never by a caller's word:
    // this digest keys the cache and is what decisions are logged with.
    let sha256 = hex::encode(Sha256::digest(bytes));
    let (component, compiled) = match cache {
        Cache::Use => cache::compile(shared, bytes, &sha256)?,
        Cache::Bypass => (
            cache::compile_fresh(&shared.wasm, bytes)?,
            Compiled::Uncached,
        ),
    };
    let (version, api_version, exports, imports) = inspect(&shared.wasm, &component)?;
    // `inspect` admitted only type-only imports, which the version's empty
    // linker satisfies; anything wasmtime still refuses is reported as is.
    let pre = shared
        .linker(version)
        .instantiate_pre(&component)
        .map_err(|e| EngineError::Instantiate(format!("{e:#}")))?;
    let method = |name: &str| {
        component
            .get_export_index(None, format!("{API_PACKAGE}/rules@{api_version}").as_str())
            .and_then(|rules| component.get_export_index(Some(&rules), name))
            .ok_or_else(|| EngineError::WrongTypes {
                version: api_version.clone(),
                detail: format!("no `{name}` export"),
            })
    };
    let entry_points = Exports {
        version,
        version_name: api_version.clone(),
        create: method("[static]policy.create")?,
        decide: method("[method]policy.decide")?,
        decide_batch: method("[method]policy.decide-batch")?,
        reasons: method("[method]policy.reasons")?,
        explain: method("explain")?,
    };
    instance::trial_instantiate(shared, &limits, &pre, &entry_points)?;
    Ok(Plugin {
        inner: Arc::new(PluginInner {
            shared: shared.clone(),
            info: ComponentInfo {
                sha256,
                api_version,
                exports,
                imports,
            },
            pre,
            exports: entry_points,
            limits,
            recycling,
            compiled,
        }),
    })
}

/// The limits `bytes` would run with, from its manifest and the caps,
/// reading section headers only.
pub(crate) fn limits_of(
    defaults: &PluginLimits,
    caps: &PluginLimits,
    bytes: &[u8],
) -> Result<PluginLimits, EngineError> {
    resolve(defaults, caps, bytes).map(|(limits, _)| limits)
}

/// [`limits_of`], and when the plugin's instances are recycled.
fn resolve(
    defaults: &PluginLimits,
    caps: &PluginLimits,
    bytes: &[u8],
) -> Result<(PluginLimits, Recycling), EngineError> {
    check_header(bytes)?;
    let manifest = manifest::read(bytes)?;
    let limits = manifest::resolve(manifest.as_ref(), defaults, caps)?;
    let recycling = manifest::recycling(manifest.as_ref(), &limits)?;
    Ok((limits, recycling))
}

/// Recognises a binary component from its first 8 bytes, and names what the
/// bytes are otherwise.
fn check_header(bytes: &[u8]) -> Result<(), EngineError> {
    let not = |why: String| Err(EngineError::NotAComponent(why));
    if bytes.is_empty() {
        return not("the file is empty".into());
    }
    if bytes.starts_with(b"\0asm") && bytes.len() < 8 {
        return not(format!("truncated after {} bytes", bytes.len()));
    }
    if !bytes.starts_with(b"\0asm") {
        let head = &bytes[..bytes.len().min(64)];
        // Text cut mid-character at 64 bytes is still text.
        let text = std::str::from_utf8(head).or_else(|e| match e.error_len() {
            None => std::str::from_utf8(&head[..e.valid_up_to()]),
            Some(_) => Err(e),
        });
        return match text {
            Ok(text)
                if text.trim_start().starts_with('(') || text.trim_start().starts_with(";;") =>
            {
                not("this is WebAssembly text (WAT); compile it to a binary component first".into())
            }
            Ok(text) if !text.contains('\0') => not(format!(
                "this is text (`{}`...), not WebAssembly; pass the plugin's .wasm file",
                text.chars().take(24).collect::<String>().escape_debug()
            )),
            _ => not(format!(
                "the bytes do not start with the WebAssembly magic number 00 61 73 6d (found {})",
                hex_bytes(&bytes[..bytes.len().min(4)])
            )),
        };
    }
    match bytes[4..8] {
        [0x0d, 0x00, 0x01, 0x00] => Ok(()),
        [0x01, 0x00, 0x00, 0x00] => not(
            "this is a core WebAssembly module; a plugin must be a component \
             (build for wasm32-wasip2 or wrap it with `wasm-tools component new`)"
                .into(),
        ),
        [.., 0x01, 0x00] => not(format!(
            "component binary version {} is not the one this host reads (0x0d)",
            hex_bytes(&bytes[4..6])
        )),
        _ => not(format!(
            "unknown WebAssembly version and layer {}",
            hex_bytes(&bytes[4..8])
        )),
    }
}

fn hex_bytes(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads the component's type: finds a `crm:consent/rules` export of a
/// version this host runs and refuses imports that give the plugin
/// something to call.
fn inspect(
    engine: &wasmtime::Engine,
    component: &Component,
) -> Result<(ApiVersion, String, Vec<String>, Vec<String>), EngineError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let imports: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();

    // The world exports `rules` and the `types` it uses; `rules` decides the
    // version (and is what the messages name), `types` must come along.
    let (name, api, version) =
        find_compatible(&exports, "rules", None).map_err(|found| match found {
            Some(version) => EngineError::IncompatibleVersion { found: version },
            None => missing("rules", ApiVersion::CURRENT, &exports),
        })?;
    // The `types` of the same version: a component mixing two contracts is
    // neither.
    find_compatible(&exports, "types", Some(api)).map_err(|_| missing("types", api, &exports))?;

    match ty.get_export(engine, name).map(|export| export.ty) {
        Some(ComponentItem::ComponentInstance(_)) => {}
        other => {
            return Err(EngineError::WrongTypes {
                version,
                detail: format!("`{name}` is {}, not an instance", item_kind(other.as_ref())),
            });
        }
    }

    let callable: Vec<String> = ty
        .imports(engine)
        .filter(|(_, import)| !gives_nothing_to_call(engine, &import.ty))
        .map(|(name, import)| format!("{name} ({})", item_kind(Some(&import.ty))))
        .collect();
    if !callable.is_empty() {
        return Err(EngineError::HasImports {
            found: callable.join(", "),
        });
    }
    Ok((api, version, exports, imports))
}

/// The first export `crm:consent/<interface>@<version this host runs>`
/// (`only` that one when given), as (name, version, exact version);
/// otherwise the version offered instead, if any ("none" when unversioned).
fn find_compatible<'a>(
    exports: &'a [String],
    interface: &str,
    only: Option<ApiVersion>,
) -> Result<(&'a str, ApiVersion, String), Option<String>> {
    let prefix = format!("{API_PACKAGE}/{interface}");
    let mut offered = None;
    for name in exports {
        let version = match name.strip_prefix(prefix.as_str()) {
            Some("") => None,
            Some(rest) => match rest.strip_prefix('@') {
                Some(version) => Some(version),
                None => continue, // another interface: `crm:consent/rules-v2`
            },
            None => continue,
        };
        match version.and_then(|v| Some((v, ApiVersion::of(v)?))) {
            Some((version, api)) if only.is_none_or(|only| only == api) => {
                return Ok((name, api, version.to_owned()));
            }
            _ => offered = offered.or(Some(version.unwrap_or("none").to_owned())),
        }
    }
    Err(offered)
}

/// `interface` of the contract `version` is not exported.
fn missing(interface: &str, version: ApiVersion, exports: &[String]) -> EngineError {
    let contract = version.contract();
    let minor = contract
        .rsplit_once('.')
        .map_or(contract, |(minor, _patch)| minor);
    EngineError::MissingExport {
        expected: format!("{API_PACKAGE}/{interface}@{minor}.x"),
        found: if exports.is_empty() {
            "none".into()
        } else {
            exports.join(", ")
        },
    }
}

/// A type-only import (an instance exporting only non-resource types, or a
/// bare type) needs no definition from the host and lets the plugin call
/// nothing.
fn gives_nothing_to_call(engine: &wasmtime::Engine, item: &ComponentItem) -> bool {
    match item {
        ComponentItem::Type(_) => true,
        ComponentItem::ComponentInstance(instance) => instance
            .exports(engine)
            .all(|(_, export)| matches!(export.ty, ComponentItem::Type(_))),
        _ => false,
    }
}

fn item_kind(item: Option<&ComponentItem>) -> &'static str {
    match item {
        None => "missing",
        Some(ComponentItem::ComponentFunc(_)) => "a function",
        Some(ComponentItem::CoreFunc(_)) => "a core function",
        Some(ComponentItem::Module(_)) => "a core module",
        Some(ComponentItem::Component(_)) => "a component",
        Some(ComponentItem::ComponentInstance(_)) => "an instance with functions or resources",
        Some(ComponentItem::Type(_)) => "a type",
        Some(ComponentItem::Resource(_)) => "a resource",
    }
}
