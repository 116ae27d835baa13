//! `export`: everything about a contact (Art. 15 and 20), as JSON-LD or CSV,
//! to stdout or a file. The library reads and renders it (`crate::export`);
//! this only opens the database and writes the bytes.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Args;

use super::Ctx;
use crate::export::{self, ExportFormat};
use crate::store::ContactId;

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The contact's id
    contact: i64,
    /// json (JSON-LD with W3C DPV terms, Art. 20) or csv (one file, a `kind` column)
    #[arg(long, default_value = "json", value_name = "FORMAT")]
    format: ExportFormat,
    /// Write to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub(crate) fn run(ctx: &mut Ctx<'_>, args: ExportArgs) -> Result<()> {
    let store = ctx.open_read_only()?;
    let exported = export::export_contact(&store, ContactId(args.contact), ctx.now)?;
    let bytes = export::render(args.format, std::slice::from_ref(&exported))
        .context("cannot render the export")?;
    match &args.out {
        None => ctx.out.write_all(&bytes)?,
        Some(path) => {
            std::fs::write(path, &bytes)
                .with_context(|| format!("cannot write the export to `{}`", path.display()))?;
            // The file is the export; stdout only says where it went.
            if ctx.json {
                ctx.emit_json(&serde_json::json!({
                    "contact": args.contact,
                    "format": args.format,
                    "file": path,
                    "bytes": bytes.len(),
                }))?;
            } else {
                writeln!(
                    ctx.out,
                    "exported contact {} as {} to {} ({} bytes)",
                    args.contact,
                    args.format,
                    path.display(),
                    bytes.len()
                )?;
            }
        }
    }
    Ok(())
}
