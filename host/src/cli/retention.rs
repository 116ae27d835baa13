//! `retention`: consent campaigns and the run that erases, after a
//! campaign's window, the contacts who did not give its consent (iPresso's
//! "delete contact" step). Every rule is in the store's retention module; the
//! HTTP routes call the same functions.

use std::io::Write;

use anyhow::Result;
use clap::Subcommand;

use super::bulk::{FilterArgs, emit_links};
use super::{Ctx, day};
use crate::pages;
use crate::store::{Campaign, ContactId, NewCampaign, RetentionRun, parse_date};

#[derive(Debug, Subcommand)]
pub(crate) enum RetentionCommand {
    /// Start a campaign: these contacts were asked for a consent and have
    /// a window of days to give it
    Campaign {
        /// The consent type asked for, by code
        #[arg(long = "type", value_name = "CODE", id = "ask")]
        ask: String,
        /// How many days they have to give it
        #[arg(long, value_name = "DAYS")]
        window: u32,
        /// When they were asked (RFC 3339 or YYYY-MM-DD) [default: now]
        #[arg(long, value_name = "DATE")]
        asked_at: Option<String>,
        /// The contacts asked, by id: 1,2,3 (with or instead of a filter)
        #[arg(long, value_delimiter = ',', value_name = "IDS")]
        contacts: Vec<i64>,
        /// And every contact these filter flags select when asked
        #[command(flatten)]
        filter: Box<FilterArgs>,
    },
    /// Form links asking a campaign's open members for its consent
    Links {
        /// The campaign's id
        campaign: i64,
        /// Write them to this CSV file (contact_id, email, url, ...)
        #[arg(long, value_name = "FILE")]
        csv: Option<std::path::PathBuf>,
    },
    /// Every campaign, with how many members are kept, erased and open
    List,
    /// Erase the members of every campaign whose window is over and who did
    /// not give its consent, with the one-level cascade; safe to schedule
    Run {
        /// List exactly who would be erased, and why, and write nothing
        #[arg(long)]
        dry_run: bool,
    },
}

pub(crate) fn run(ctx: &mut Ctx<'_>, cmd: RetentionCommand) -> Result<()> {
    match cmd {
        RetentionCommand::Campaign {
            ask,
            window,
            asked_at,
            contacts,
            filter,
        } => {
            let asked_at = match asked_at {
                Some(text) => parse_date("--asked-at", &text)?,
                None => ctx.now,
            };
            let new = NewCampaign {
                consent_type: ask,
                asked_at,
                window_days: window,
                contacts: contacts.into_iter().map(ContactId).collect(),
                filter: filter.given()?,
            };
            let mut store = ctx.open()?;
            let campaign = store.add_campaign(&new, &ctx.actor)?;
            ctx.emit(&campaign, |out| print_campaign(out, &campaign))
        }
        RetentionCommand::Links { campaign, csv } => {
            let store = ctx.open_read_only()?;
            let links = pages::campaign_links(&store, campaign)?;
            emit_links(ctx, &links, csv.as_deref())
        }
        RetentionCommand::List => {
            let store = ctx.open_for(true)?;
            let campaigns = store.campaigns()?;
            ctx.emit(&campaigns, |out| {
                if campaigns.is_empty() {
                    writeln!(out, "no campaigns")?;
                }
                campaigns.iter().try_for_each(|c| print_campaign(out, c))
            })
        }
        RetentionCommand::Run { dry_run } => {
            let mut store = ctx.open_for(dry_run)?;
            let run = store.run_retention(ctx.now, dry_run, &ctx.actor)?;
            ctx.emit(&run, |out| print_run(out, &run))
        }
    }
}

fn print_campaign(out: &mut dyn Write, c: &Campaign) -> std::io::Result<()> {
    writeln!(
        out,
        "campaign #{}: `{}` asked {}, window {} days (ends {}): {} member(s), {} open, {} kept, {} erased",
        c.id,
        c.consent_type,
        day(c.asked_at),
        c.window_days,
        day(c.window_ends_at),
        c.members,
        c.open,
        c.kept,
        c.erased
    )
}

fn print_run(out: &mut dyn Write, run: &RetentionRun) -> std::io::Result<()> {
    let verb = if run.dry_run { "would be" } else { "were" };
    if run.decided.is_empty() {
        writeln!(
            out,
            "nothing to decide: no campaign window ended with open members"
        )?;
    }
    for d in &run.decided {
        writeln!(
            out,
            "  campaign #{} contact {}: {} ({})",
            d.campaign,
            d.contact,
            d.fate.as_str(),
            d.why
        )?;
    }
    writeln!(out, "{} contact(s) {verb} erased", run.erased.len())?;
    for e in &run.erased {
        match (e.cascaded_from, &e.relation) {
            (Some(from), Some(rel)) => writeln!(
                out,
                "  contact {} ({}), taken along from contact {from} by `{rel}`",
                e.contact, e.kind
            )?,
            _ => writeln!(out, "  contact {} ({})", e.contact, e.kind)?,
        }
    }
    if run.dry_run {
        writeln!(out, "(dry run: nothing written)")?;
    }
    Ok(())
}
