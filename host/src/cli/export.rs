//! `export`: everything about a contact (Art. 15 and 20), or about every
//! contact a filter selects, as JSON-LD or CSV, to stdout or a file. The
//! library selects, reads and renders it (`crate::export`); this only opens
//! the database and writes the bytes.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Args;

use super::bulk::FilterArgs;
use super::{CliError, Ctx};
use crate::export::{self, ExportFormat};
use crate::store::ContactId;

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The contact's id; or give filter flags to export every contact they select
    contact: Option<i64>,
    /// json (JSON-LD with W3C DPV terms, Art. 20) or csv (one file, a `kind` column)
    #[arg(long, default_value = "json", value_name = "FORMAT")]
    format: ExportFormat,
    /// Write to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The contacts to export, when no contact is named
    #[command(flatten)]
    filter: Box<FilterArgs>,
}

pub(crate) fn run(ctx: &mut Ctx<'_>, args: ExportArgs) -> Result<()> {
    let store = ctx.open_read_only()?;
    let (exported, what, many) = match (args.contact, args.filter.given()?) {
        (Some(id), None) => (
            vec![export::export_contact(&store, ContactId(id), ctx.now)?],
            format!("contact {id}"),
            false,
        ),
        (Some(_), Some(_)) => {
            return Err(
                CliError::MissingArgument("name a contact or give filter flags, not both").into(),
            );
        }
        (None, None) => {
            return Err(CliError::MissingArgument(
                "name the contact to export, or give filter flags (see `crm-consent export --help`)",
            )
            .into());
        }
        (None, Some(filter)) => {
            let all = export::export_filtered(&store, &filter, ctx.now)?;
            let what = format!("{} contacts", all.len());
            (all, what, true)
        }
    };
    let bytes = if many {
        export::render_all(args.format, &exported)
    } else {
        export::render(args.format, &exported)
    }
    .context("cannot render the export")?;
    match &args.out {
        None => ctx.out.write_all(&bytes)?,
        Some(path) => {
            std::fs::write(path, &bytes)
                .with_context(|| format!("cannot write the export to `{}`", path.display()))?;
            // The file is the export; stdout only says where it went.
            if ctx.json {
                ctx.emit_json(&serde_json::json!({
                    "contacts": exported.iter().map(|e| e.contact.id).collect::<Vec<_>>(),
                    "format": args.format,
                    "file": path,
                    "bytes": bytes.len(),
                }))?;
            } else {
                writeln!(
                    ctx.out,
                    "exported {what} as {} to {} ({} bytes)",
                    args.format,
                    path.display(),
                    bytes.len()
                )?;
            }
        }
    }
    Ok(())
}
