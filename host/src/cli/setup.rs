//! `init` and `setup`: the database, the plugin and the privacy switches.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::{Subcommand, ValueEnum};
use serde::Serialize;

use super::limits::CapFlags;
use super::{CliError, Ctx, when};
use crate::engine::Manifest;
use crate::setup::{self as admin, Switch};
use crate::store::{PluginId, PluginInfo, Store, Switches};

#[derive(Debug, Subcommand)]
pub(crate) enum SetupCommand {
    /// Install a plugin component and make it active (creates the database if missing)
    Install {
        /// The plugin component (.wasm)
        #[arg(required_unless_present = "bundled", conflicts_with = "bundled")]
        plugin: Option<PathBuf>,
        /// Install the reference plugin built into this binary
        #[arg(long)]
        bundled: bool,
        /// Install it as a rule pack, asked after the active plugin and the
        /// packs before it (the active plugin stays)
        #[arg(long)]
        pack: bool,
    },
    /// Install a newer plugin over the active one (which stays, for rollback)
    Upgrade {
        /// The plugin component (.wasm)
        #[arg(required_unless_present = "bundled", conflicts_with = "bundled")]
        plugin: Option<PathBuf>,
        /// Upgrade to the reference plugin built into this binary
        #[arg(long)]
        bundled: bool,
    },
    /// Make the plugin installed before the active one active again
    Rollback,
    /// List the installed plugins, oldest first
    List,
    /// Show the plugins that decide, in order; with plugin ids, set the
    /// rule packs asked after the active plugin (the strictest answer wins)
    Chain {
        /// The packs' plugin ids (`setup list`), in the order to ask them
        packs: Vec<i64>,
        /// Take every rule pack out: the active plugin decides alone
        #[arg(long, conflicts_with = "packs")]
        clear: bool,
    },
    /// Turn one privacy switch on or off
    Switch {
        /// check_single_email, check_bulk_email, check_phone or e_marketing_privacy
        name: String,
        state: OnOff,
    },
    /// Show the privacy switches
    Switches,
    /// Turn on all three checks: check_single_email, check_bulk_email and check_phone
    Enable,
    /// Where `crm-consent serve` posts staff notifications of changes
    /// contacts make on the pages; prints the new signing key once
    Webhook {
        /// The receiver's http:// or https:// URL
        url: String,
    },
    /// Show or set the caps on what a plugin's limits manifest
    /// (`crm-consent-limits` section) may ask for; a plugin asking more is
    /// refused at install, before it is compiled
    Limits(CapFlags),
    /// Show or set the controller named in every export (ISO/IEC TS 27560),
    /// e.g. "Example Ltd, privacy@example.com"
    Controller {
        /// Who decides on the processing, and how to reach them
        name: Option<String>,
    },
}

/// `setup limits`: shows the caps, after setting those given.
fn limits(ctx: &mut Ctx<'_>, flags: &CapFlags) -> Result<()> {
    let newer = flags.0.manifest();
    let caps = if newer == Manifest::default() {
        let store = ctx.open_read_only()?;
        admin::with_caps(&store, ctx.engine_options())?
            .caps
            .expect("with_caps sets the caps")
    } else {
        let mut store = ctx.open()?;
        admin::set_caps(&mut store, &ctx.engine_options(), &newer, &ctx.actor)?
    };
    let caps = caps.as_manifest();
    ctx.emit(&caps, |out| {
        let value = serde_json::to_value(&caps).expect("a manifest serializes");
        for (name, value) in value.as_object().into_iter().flatten() {
            writeln!(out, "max {name} {value}")?;
        }
        Ok(())
    })
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum OnOff {
    On,
    Off,
}

#[derive(Serialize)]
struct Created<'a> {
    database: &'a Path,
    created: bool,
}

pub(crate) fn init(ctx: &mut Ctx<'_>) -> Result<()> {
    create_parent(&ctx.db)?;
    // The error names the path already.
    Store::create(&ctx.db)?;
    let db = ctx.db.clone();
    ctx.emit(
        &Created {
            database: &db,
            created: true,
        },
        |out| {
            writeln!(out, "created consent database {}", db.display())?;
            writeln!(
                out,
                "next: crm-consent setup install --bundled, then crm-consent setup enable"
            )
        },
    )
}

fn create_parent(db: &Path) -> Result<()> {
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    Ok(())
}

pub(crate) fn run(ctx: &mut Ctx<'_>, cmd: SetupCommand) -> Result<()> {
    match cmd {
        SetupCommand::Install {
            plugin,
            bundled,
            pack,
        } => install(
            ctx,
            plugin,
            bundled,
            if pack { How::Pack } else { How::Install },
        ),
        SetupCommand::Upgrade { plugin, bundled } => install(ctx, plugin, bundled, How::Upgrade),
        SetupCommand::Chain { packs, clear } => {
            let chain = if packs.is_empty() && !clear {
                admin::chain(&ctx.open_read_only()?)?
            } else {
                let mut store = ctx.open()?;
                let engine = ctx.engine(&store)?;
                let packs: Vec<PluginId> = packs.into_iter().map(PluginId).collect();
                admin::set_chain(&mut store, &engine, &packs, &ctx.actor)?
            };
            ctx.emit(&chain, |out| print_plugins(out, &chain))
        }
        SetupCommand::Webhook { url } => {
            let hook = ctx.open()?.set_webhook(&url, &ctx.actor)?;
            ctx.emit(&hook, |out| {
                writeln!(out, "webhook: {}", hook.url)?;
                writeln!(
                    out,
                    "signing key (shown once): {}\nverify `X-Crm-Consent-Signature: t=<t>,v1=<hex>` \
                     as HMAC-SHA256 of `<t>.<body>` under this key (hex-decoded)",
                    hook.secret
                )
            })
        }
        SetupCommand::Controller { name } => {
            let mut store = ctx.open_for(name.is_none())?;
            if let Some(name) = &name {
                store.set_controller(name, &ctx.actor)?;
            }
            let controller = store.controller()?;
            ctx.emit(
                &serde_json::json!({ "controller": controller }),
                |out| match &controller {
                    Some(c) => writeln!(out, "controller: {c}"),
                    None => writeln!(
                        out,
                        "no controller set; exports say so. Set it: \
                         `crm-consent setup controller \"Example Ltd, privacy@example.com\"`"
                    ),
                },
            )
        }
        SetupCommand::Limits(flags) => limits(ctx, &flags),
        SetupCommand::Rollback => {
            let mut store = ctx.open()?;
            let info = admin::rollback(&mut store, &ctx.actor)?;
            ctx.emit(&info, |out| {
                writeln!(
                    out,
                    "rolled back: plugin #{} {} is active",
                    info.id, info.sha256
                )
            })
        }
        SetupCommand::List => {
            let store = ctx.open_read_only()?;
            let plugins = admin::plugins(&store)?;
            ctx.emit(&plugins, |out| print_plugins(out, &plugins))
        }
        SetupCommand::Switch { name, state } => {
            let switch = switch_named(&name)?;
            let mut store = ctx.open()?;
            let on = matches!(state, OnOff::On);
            let switches = admin::set_switch(&mut store, switch, on, &ctx.actor)?;
            ctx.emit(&switches, |out| print_switches(out, &switches))
        }
        SetupCommand::Switches => {
            let store = ctx.open_read_only()?;
            let switches = store.switches()?;
            ctx.emit(&switches, |out| print_switches(out, &switches))
        }
        SetupCommand::Enable => {
            let mut store = ctx.open()?;
            let switches = enable(&mut store, &ctx.actor)?;
            ctx.emit(&switches, |out| print_switches(out, &switches))
        }
    }
}

/// The switch names before `crm:consent@0.2.0`, the Italian CRM plugin's
/// words: deprecated aliases, accepted for one release and removed in the
/// next. Only the CLI takes them; the library knows the new names alone.
const DEPRECATED_SWITCHES: [(&str, Switch); 3] = [
    ("single-mail", Switch::CheckSingleEmail),
    ("mailing-list", Switch::CheckBulkEmail),
    ("per-contact", Switch::CheckPhone),
];

/// A switch by its name, or by a deprecated alias.
fn switch_named(name: &str) -> Result<Switch, admin::SetupError> {
    let kebab = name.trim().replace('_', "-").to_ascii_lowercase();
    match DEPRECATED_SWITCHES.iter().find(|(old, _)| *old == kebab) {
        Some(&(_, switch)) => Ok(switch),
        None => name.parse(),
    }
}

/// Turns on the three checks, leaving e-marketing privacy as it is.
pub(crate) fn enable(store: &mut Store, actor: &str) -> Result<Switches> {
    let mut switches = store.switches()?;
    switches.check_single_email = true;
    switches.check_bulk_email = true;
    switches.check_phone = true;
    store.set_switches(&switches, actor)?;
    Ok(switches)
}

/// What `install` makes of the component.
#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    Install,
    Upgrade,
    Pack,
}

fn install(ctx: &mut Ctx<'_>, plugin: Option<PathBuf>, bundled: bool, how: How) -> Result<()> {
    let (bytes, from) = match plugin {
        Some(path) if !bundled => {
            let bytes = std::fs::read(&path)
                .with_context(|| format!("cannot read plugin {}", path.display()))?;
            (bytes, path.display().to_string())
        }
        _ => (
            crate::BUNDLED_PLUGIN.to_vec(),
            "the bundled plugin".to_owned(),
        ),
    };
    let mut store = if how == How::Upgrade {
        let store = ctx.open()?;
        if store.active_plugin()?.is_none() {
            return Err(CliError::NothingToUpgrade(ctx.db.clone()).into());
        }
        store
    } else {
        ctx.open()?
    };
    let engine = ctx.engine(&store)?;
    let info = match how {
        How::Pack => admin::install_pack(&mut store, &engine, &bytes, &ctx.actor),
        How::Install | How::Upgrade => admin::install(&mut store, &engine, &bytes, &ctx.actor),
    }
    .with_context(|| format!("cannot install {from}"))?;
    let (verb, role) = match (how, info.chain_position) {
        (How::Upgrade, _) => ("upgraded to", "active".to_owned()),
        (How::Install, _) => ("installed", "active".to_owned()),
        (How::Pack, at) => ("installed", format!("rule pack {}", at.unwrap_or_default())),
    };
    ctx.emit(&info, |out| {
        writeln!(
            out,
            "{verb} plugin #{} ({}, {} bytes) from {from}: {role}",
            info.id, info.api_version, info.size
        )?;
        writeln!(out, "sha256 {}", info.sha256)
    })
}

fn print_plugins(out: &mut dyn Write, plugins: &[PluginInfo]) -> std::io::Result<()> {
    if plugins.is_empty() {
        return writeln!(out, "no plugin installed");
    }
    for p in plugins {
        writeln!(
            out,
            "{:<3} #{:<3} {}  {}  {} bytes  installed {} by {}",
            // `*` the active plugin, `+1`, `+2`, ... the rule packs after it.
            match p.chain_position {
                Some(0) => "*".to_owned(),
                Some(n) => format!("+{n}"),
                None => String::new(),
            },
            p.id,
            &p.sha256[..p.sha256.len().min(16)],
            p.api_version,
            p.size,
            when(p.installed_at),
            p.installed_by
        )?;
    }
    Ok(())
}

fn print_switches(out: &mut dyn Write, s: &Switches) -> std::io::Result<()> {
    for switch in Switch::ALL {
        writeln!(
            out,
            "{:<20} {}",
            switch.as_str(),
            if switch.get(s) { "on" } else { "off" }
        )?;
    }
    Ok(())
}
