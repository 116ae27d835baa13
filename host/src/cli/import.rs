//! `import`: consents for many contacts from a csv, xls, xlsx or ods file
//! (Livespace), all rows or none; `--dry-run` says what would change.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Ctx;
use crate::import::{self, ImportFormat, ImportOptions, ImportReport};
use crate::store::{ImportStage, RowChange};

/// Files with fewer data rows than this import without a progress bar.
const BAR_FROM_ROWS: usize = 2_000;

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The file: csv (UTF-8, `,` or `;`), xls, xlsx or ods, with a header row
    file: PathBuf,
    /// Check every row and report what would change; write nothing
    #[arg(long)]
    dry_run: bool,
    /// How to read the file [default: from its extension]
    #[arg(long, value_name = "csv|xls|xlsx|ods")]
    format: Option<String>,
}

pub(crate) fn run(ctx: &mut Ctx<'_>, args: ImportArgs) -> Result<()> {
    let format = match &args.format {
        Some(f) => f.parse::<ImportFormat>()?,
        None => ImportFormat::of_path(&args.file)?,
    };
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read `{}`", args.file.display()))?;
    let mut store = ctx.open()?;
    let bar = Bar::new();
    let report = import::import(
        &mut store,
        &bytes,
        ImportOptions {
            format,
            dry_run: args.dry_run,
            actor: &ctx.actor,
        },
        &mut |stage, done, total| bar.show(stage, done, total),
    );
    bar.finish();
    let report = report.with_context(|| format!("`{}` was not imported", args.file.display()))?;
    ctx.emit(&report, |out| print(out, &report))
}

/// The progress bar: drawn on stderr when it is a terminal, and for large
/// files only; hidden otherwise, so pipes and tests see nothing of it. The
/// start of the writing stage is also logged (`RUST_LOG=crm_consent=info`).
struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{msg:10} [{bar:40}] {pos}/{len} rows ({eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Bar { bar }
    }

    fn show(&self, stage: ImportStage, done: usize, total: usize) {
        if stage == ImportStage::Writing && done > 0 && done <= 1024 {
            tracing::info!("import: writing ledger entries");
        }
        let Some(bar) = self.bar.as_ref().filter(|_| total >= BAR_FROM_ROWS) else {
            return;
        };
        bar.set_length(total as u64);
        bar.set_message(match stage {
            ImportStage::Checking => "checking",
            ImportStage::Writing => "writing",
        });
        bar.set_position(done as u64);
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn print(out: &mut dyn Write, r: &ImportReport) -> std::io::Result<()> {
    for o in &r.outcomes {
        let change = match o.change {
            RowChange::New => "new",
            RowChange::Changed => "changed",
            RowChange::Unchanged => "unchanged",
            RowChange::Outdated => "outdated",
        };
        let status = if o.status.is_empty() {
            "(blank: kept)"
        } else {
            &o.status
        };
        writeln!(
            out,
            "row {}: {change}: contact {} `{}` {status}",
            o.line, o.contact, o.consent_type
        )?;
    }
    let verb = if r.dry_run { "would write" } else { "wrote" };
    let written = if r.dry_run {
        r.new + r.changed
    } else {
        r.written
    };
    writeln!(
        out,
        "{} row(s): {} new, {} changed, {} unchanged, {} outdated; {verb} {written} ledger entr{} \
         (file sha256 {})",
        r.rows,
        r.new,
        r.changed,
        r.unchanged,
        r.outdated,
        if written == 1 { "y" } else { "ies" },
        r.file_sha256
    )?;
    if r.dry_run {
        writeln!(out, "dry run: nothing was written")?;
    }
    Ok(())
}
