//! `crm-consent plugin test`: the conformance kit over any plugin file;
//! `crm-consent plugin manifest`: a limits manifest written into one.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Subcommand;

use super::limits::LimitFlags;
use super::{CliError, Ctx, Finished};
use crate::conformance::{self, Check, Report, Vectors};
use crate::engine::{self, EngineOptions, Manifest, PluginLimits};

/// The vectors shipped with this version, used without `--vectors`.
const BUNDLED_VECTORS: &str = include_str!("../../../tests/conformance/vectors.json");

#[derive(Debug, Subcommand)]
pub(crate) enum PluginCommand {
    /// Check a plugin against the conformance vectors; exits 5 if any fails
    Test {
        /// The plugin component (.wasm)
        file: PathBuf,
        /// A vectors file [default: the vectors shipped with crm-consent]
        #[arg(long, value_name = "FILE")]
        vectors: Option<PathBuf>,
        /// Run only the cases of these packs or tags (comma-separated),
        /// e.g. `gdpr-core,subscriptions`
        #[arg(long, value_delimiter = ',', value_name = "TAGS")]
        tags: Vec<String>,
    },
    /// Write a limits manifest into a plugin built by another toolchain
    /// (componentize-py, componentize-js); fields not given keep the defaults
    Manifest {
        /// The plugin component (.wasm), without a manifest
        file: PathBuf,
        /// Where to write the plugin with its manifest
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        // The capped fields, listed once with `setup limits`.
        #[command(flatten)]
        limits: LimitFlags,
        /// A fresh instance after this many calls (for a plugin that leaks)
        #[arg(long, value_name = "N")]
        recycle_after_calls: Option<u64>,
        /// A fresh instance once a call leaves more memory than this, in MiB
        /// [default: three quarters of the memory limit]
        #[arg(long, value_name = "MIB")]
        recycle_above_mib: Option<u32>,
    },
}

pub(crate) fn run(ctx: &mut Ctx, cmd: PluginCommand) -> Result<Finished> {
    match cmd {
        PluginCommand::Test {
            file,
            vectors,
            tags,
        } => test(ctx, file, vectors, tags),
        PluginCommand::Manifest {
            file,
            out,
            limits,
            recycle_after_calls,
            recycle_above_mib,
        } => {
            let manifest = Manifest {
                recycle_after_calls,
                recycle_above_mib,
                ..limits.manifest()
            };
            write_manifest(ctx, &file, &out, &manifest)
        }
    }
}

/// The plugin at `file` with `manifest` appended, written to `out`. Checked
/// the way install reads it (one section, valid JSON, no zero), under no
/// cap: the caps are the database's business at install.
fn write_manifest(ctx: &mut Ctx, file: &Path, out: &Path, manifest: &Manifest) -> Result<Finished> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read `{}`", file.display()))?;
    let json = serde_json::to_string(manifest)?;
    let with = engine::with_manifest(&bytes, &json);
    let unlimited = PluginLimits {
        core_instances: u32::MAX,
        memories: u32::MAX,
        tables: u32::MAX,
        memory_bytes: usize::MAX,
        call_timeout: Duration::MAX,
        batch_time_per_contact: Duration::MAX,
        call_fuel: u64::MAX,
        batch_contact_fuel: u64::MAX,
    };
    let opts = EngineOptions {
        caps: Some(unlimited),
        ..ctx.engine_options()
    };
    let limits = engine::check_limits(&with, &opts)
        .with_context(|| format!("cannot write a manifest into `{}`", file.display()))?;
    std::fs::write(out, &with).with_context(|| format!("cannot write `{}`", out.display()))?;
    let written = limits.as_manifest();
    ctx.emit(&written, |w| {
        writeln!(w, "wrote `{}` with the manifest {json}", out.display())
    })?;
    Ok(Finished::Done)
}

fn test(
    ctx: &mut Ctx,
    file: PathBuf,
    vectors: Option<PathBuf>,
    tags: Vec<String>,
) -> Result<Finished> {
    let bytes =
        std::fs::read(&file).with_context(|| format!("cannot read `{}`", file.display()))?;
    let vectors = match &vectors {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read `{}`", path.display()))?;
            Vectors::parse(&text).with_context(|| format!("in `{}`", path.display()))?
        }
        None => Vectors::parse(BUNDLED_VECTORS)?,
    };
    // A plugin file is tested under the caps of the database, when there is
    // one, so it passes here only if it could be installed there.
    let engine = match ctx.open_read_only() {
        Ok(store) => ctx.engine(&store)?,
        Err(e) if matches!(e.downcast_ref(), Some(CliError::NoDatabase(_))) => {
            engine::Engine::new(ctx.engine_options())
                .context("cannot start the WebAssembly engine")?
        }
        Err(e) => return Err(e),
    };
    let report = conformance::run(&engine, &bytes, &vectors, &tags)?;
    ctx.emit(&report, |out| text(out, &report))?;
    Ok(if report.passed_all() {
        Finished::Done
    } else {
        Finished::Failed
    })
}

fn text(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    for m in &report.mismatches {
        let check = match m.check {
            Check::Create => "create",
            Check::Decide => "decide",
            Check::DecideBatch => "decide_batch",
        };
        let json = |v| serde_json::to_string(v).unwrap_or_default();
        writeln!(out, "FAIL {} ({check})", m.id)?;
        writeln!(out, "  expected: {}", json(&m.expected))?;
        match (&m.got, &m.error) {
            (Some(got), _) => writeln!(out, "  got:      {}", json(got))?,
            (None, Some(error)) => writeln!(out, "  error:    {error}")?,
            (None, None) => writeln!(out, "  got:      nothing")?,
        }
    }
    writeln!(
        out,
        "{} passed, {} failed of {} cases ({}), plugin sha256 {}",
        report.passed, report.failed, report.selected, report.contract, report.plugin_sha256
    )
}
