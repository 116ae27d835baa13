//! `erase` (Art. 17) and `rectify` (Art. 16), and the contact and relation
//! type catalogs the erasure cascade reads (iPresso).

use std::io::Write;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::Ctx;
use crate::store::{
    Cascade, ContactId, ErasureGround, ErasureReport, NewRelationType, Rectification, WalWipe,
};

/// `crm-consent erase`.
#[derive(Debug, Args)]
pub(crate) struct EraseArgs {
    /// The contact's id
    contact: i64,
    /// The Art. 17(1) ground: no_longer_necessary, consent_withdrawn,
    /// objection, unlawful_processing, legal_obligation, child_services
    #[arg(long)]
    ground: ErasureGround,
    /// Who asked for the erasure (kept on the tombstone only) [default: --actor]
    #[arg(long, value_name = "WHO")]
    requested_by: Option<String>,
    /// List who would be erased, and write nothing
    #[arg(long)]
    dry_run: bool,
}

/// `crm-consent rectify`.
#[derive(Debug, Args)]
pub(crate) struct RectifyArgs {
    /// The contact's id
    contact: i64,
    /// The corrected name
    #[arg(long)]
    name: Option<String>,
    /// The corrected email; "" removes it
    #[arg(long)]
    email: Option<String>,
    /// The corrected phone; "" removes it
    #[arg(long)]
    phone: Option<String>,
}

/// `contacts types`.
#[derive(Debug, Subcommand)]
pub(crate) enum ContactTypesCommand {
    /// List the contact types
    List,
    /// Add a contact type
    Add {
        /// Its code: lowercase letters, digits, `_`
        code: String,
        /// Its name for people
        #[arg(long)]
        name: String,
    },
}

/// `contacts relation-types`.
#[derive(Debug, Subcommand)]
pub(crate) enum RelationTypesCommand {
    /// List the relation types and how erasure cascades along each
    List,
    /// Add a relation type, read as "from is <code> of to"
    #[allow(rustdoc::invalid_html_tags)]
    Add {
        /// Its code: lowercase letters, digits, `_`
        code: String,
        /// Its name for people
        #[arg(long)]
        name: String,
        /// The contact type `from` must have [default: any]
        #[arg(long = "from", value_name = "TYPE")]
        from_type: Option<String>,
        /// The contact type `to` must have [default: any]
        #[arg(long = "to", value_name = "TYPE")]
        to_type: Option<String>,
        /// none, from_to (erasing from erases to) or to_from
        #[arg(long, default_value = "none")]
        cascade: Cascade,
    },
}

fn wal_line(wal: WalWipe) -> &'static str {
    match wal {
        WalWipe::Done => "the WAL was checkpointed and emptied",
        WalWipe::Busy => {
            "the WAL could not be emptied yet: other readers held it for a second; it is emptied \
             when the last process using the database closes it, or by the next erasure"
        }
        WalWipe::Deferred => "the WAL is emptied when the transaction commits",
        WalWipe::NotNeeded => "nothing was written",
    }
}

fn print_erasure(out: &mut dyn Write, r: &ErasureReport) -> std::io::Result<()> {
    let verb = if r.dry_run { "would erase" } else { "erased" };
    writeln!(
        out,
        "{verb} {} contact(s) on ground {}:",
        r.erased.len(),
        r.ground
    )?;
    for e in &r.erased {
        match (e.cascaded_from, &e.relation) {
            (Some(from), Some(rel)) => writeln!(
                out,
                "  contact {} ({}), taken along from contact {from} by {rel}",
                e.contact, e.kind
            )?,
            _ => writeln!(out, "  contact {} ({})", e.contact, e.kind)?,
        }
    }
    if !r.notifications.is_empty() {
        writeln!(
            out,
            "{} staff notification(s) queued (Art. 19)",
            r.notifications.len()
        )?;
    }
    writeln!(out, "{}", wal_line(r.wal))
}

pub(crate) fn erase(ctx: &mut Ctx<'_>, args: EraseArgs) -> Result<()> {
    let mut store = ctx.open()?;
    let mut req = crate::store::ErasureRequest::new(args.ground, ctx.actor.clone());
    if let Some(who) = args.requested_by {
        req.requested_by = who;
    }
    req.dry_run = args.dry_run;
    let report = store.erase(ContactId(args.contact), &req)?;
    ctx.emit(&report, |out| print_erasure(out, &report))
}

pub(crate) fn rectify(ctx: &mut Ctx<'_>, args: RectifyArgs) -> Result<()> {
    let mut store = ctx.open()?;
    let r = Rectification {
        name: args.name,
        email: args.email,
        phone: args.phone,
    };
    let report = store.rectify(ContactId(args.contact), &r, &ctx.actor)?;
    ctx.emit(&report, |out| {
        if report.changed.is_empty() {
            writeln!(out, "contact {}: nothing changed", args.contact)
        } else {
            writeln!(
                out,
                "contact {}: rectified {}",
                args.contact,
                report.changed.join(", ")
            )
        }
    })
}

pub(crate) fn contact_types(ctx: &mut Ctx<'_>, cmd: ContactTypesCommand) -> Result<()> {
    match cmd {
        ContactTypesCommand::List => {
            let store = ctx.open_read_only()?;
            let types = store.contact_types()?;
            ctx.emit(&types, |out| {
                for t in &types {
                    let built_in = if t.built_in { " (built in)" } else { "" };
                    writeln!(out, "{}: {}{built_in}", t.code, t.name)?;
                }
                Ok(())
            })
        }
        ContactTypesCommand::Add { code, name } => {
            let mut store = ctx.open()?;
            let added = store.add_contact_type(&code, &name, &ctx.actor)?;
            ctx.emit(&added, |out| {
                writeln!(out, "added contact type {}", added.code)
            })
        }
    }
}

pub(crate) fn relation_types(ctx: &mut Ctx<'_>, cmd: RelationTypesCommand) -> Result<()> {
    match cmd {
        RelationTypesCommand::List => {
            let store = ctx.open_read_only()?;
            let types = store.relation_types()?;
            ctx.emit(&types, |out| {
                for t in &types {
                    writeln!(
                        out,
                        "{}: {} ({} → {}), cascade {}",
                        t.code,
                        t.name,
                        t.from_type.as_deref().unwrap_or("any"),
                        t.to_type.as_deref().unwrap_or("any"),
                        t.cascade
                    )?;
                }
                Ok(())
            })
        }
        RelationTypesCommand::Add {
            code,
            name,
            from_type,
            to_type,
            cascade,
        } => {
            let mut store = ctx.open()?;
            let new = NewRelationType {
                code,
                name,
                from_type,
                to_type,
                cascade,
            };
            let added = store.add_relation_type(&new, &ctx.actor)?;
            ctx.emit(&added, |out| {
                writeln!(
                    out,
                    "added relation type {} (cascade {})",
                    added.code, added.cascade
                )
            })
        }
    }
}
