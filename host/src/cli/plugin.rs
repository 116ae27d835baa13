//! `crm-consent plugin test`: the conformance kit over any plugin file.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Subcommand;

use super::{CliError, Ctx, Finished};
use crate::conformance::{self, Check, Report, Vectors};

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
}

pub(crate) fn run(ctx: &mut Ctx, cmd: PluginCommand) -> Result<Finished> {
    let PluginCommand::Test {
        file,
        vectors,
        tags,
    } = cmd;
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
            crate::engine::Engine::new(ctx.engine_options())
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
