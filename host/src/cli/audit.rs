//! What an auditor asks for: `ledger verify`, a contact's `timeline`, its
//! logged `decisions`, and `decisions replay` against the plugin that made one.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use super::{CliError, Ctx, when};
use crate::engine as wit;
use crate::hooks::{Replay, ReplayJson, StoredHooks};
use crate::store::{
    Checkpoint, ContactId, DecisionId, LedgerReport, LoggedDecision, TimelineEntry,
};

#[derive(Debug, Subcommand)]
pub(crate) enum LedgerCommand {
    /// Recompute both hash chains and rebuild every table the hooks read
    /// from the ledger; fails naming the first broken entry or differing row
    Verify {
        /// A checkpoint printed earlier by `ledger checkpoint`: also prove
        /// that the ledger extends it (no truncated or rewritten history)
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
    /// Print a signed checkpoint (entry counts, head hashes, time, Ed25519
    /// signature); store it outside the database
    Checkpoint,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct DecisionsArgs {
    #[command(subcommand)]
    replay: Option<DecisionsCommand>,
    /// The contact whose decisions to list
    contact: Option<i64>,
}

#[derive(Debug, Subcommand)]
enum DecisionsCommand {
    /// Decide a logged decision again, with the plugin bytes that made it
    Replay {
        /// The decision's id
        id: i64,
    },
}

pub(crate) fn ledger(ctx: &mut Ctx<'_>, cmd: LedgerCommand) -> Result<()> {
    match cmd {
        LedgerCommand::Verify { checkpoint } => {
            let store = ctx.open_read_only()?;
            let report = match checkpoint {
                None => store.verify_ledger()?,
                Some(file) => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("cannot read checkpoint `{}`", file.display()))?;
                    let cp: Checkpoint = serde_json::from_str(&text).with_context(|| {
                        format!(
                            "`{}` is not a checkpoint made by `crm-consent ledger checkpoint`",
                            file.display()
                        )
                    })?;
                    store.verify_ledger_against(&cp)?
                }
            };
            ctx.emit(&report, |out| print_report(out, &report))?;
            check_report(&report)
        }
        LedgerCommand::Checkpoint => {
            let store = ctx.open_read_only()?;
            let cp = store.checkpoint()?;
            // Always JSON: the checkpoint is a file to keep, not a message.
            ctx.emit_json(&cp)
        }
    }
}

/// An error naming the broken entry, so scripts see a non-zero exit.
pub(crate) fn check_report(report: &LedgerReport) -> Result<()> {
    match &report.problem {
        None => Ok(()),
        Some(p) => Err(CliError::LedgerBroken {
            kind: p.kind.as_str(),
            message: p.message.clone(),
        }
        .into()),
    }
}

pub(crate) fn print_report(out: &mut dyn Write, report: &LedgerReport) -> std::io::Result<()> {
    if report.ok {
        writeln!(
            out,
            "ledger verified: {} entries, {} decisions, every projection rebuilt; head #{} {}",
            report.entries,
            report.decisions,
            report.head.seq,
            &report.head.hash[..report.head.hash.len().min(16)]
        )
    } else {
        writeln!(
            out,
            "ledger BROKEN ({} entries, {} decisions)",
            report.entries, report.decisions
        )
    }
}

pub(crate) fn timeline(ctx: &mut Ctx<'_>, contact: ContactId) -> Result<()> {
    let store = ctx.open_read_only()?;
    let entries = store.timeline(contact)?;
    ctx.emit(&entries, |out| print_timeline(out, &entries))
}

fn print_timeline(out: &mut dyn Write, entries: &[TimelineEntry]) -> std::io::Result<()> {
    for e in entries {
        let link = match (e.ledger_seq, e.decision_id) {
            (Some(seq), _) => format!("  [ledger #{seq}]"),
            (None, Some(id)) => format!("  [decision #{id}]"),
            (None, None) => String::new(),
        };
        writeln!(
            out,
            "{}  {:<15} {}  (by {}){link}",
            when(e.at),
            e.kind.as_str(),
            e.summary,
            e.actor
        )?;
    }
    Ok(())
}

pub(crate) fn decisions(ctx: &mut Ctx<'_>, args: DecisionsArgs) -> Result<()> {
    match (args.replay, args.contact) {
        (Some(DecisionsCommand::Replay { id }), _) => {
            let store = ctx.open_read_only()?;
            let engine = ctx.engine(&store)?;
            let mut hooks = StoredHooks::new(&engine, store);
            let replay = hooks.replay(DecisionId(id))?;
            ctx.emit(&ReplayJson::of(&replay), |out| print_replay(out, &replay))
        }
        (None, Some(contact)) => {
            let store = ctx.open_read_only()?;
            let logged = store.decisions(ContactId(contact))?;
            ctx.emit(&logged, |out| {
                if logged.is_empty() {
                    writeln!(out, "no decisions logged for contact {contact}")?;
                }
                for d in &logged {
                    print_decision(out, d)?;
                }
                Ok(())
            })
        }
        (None, None) => Err(CliError::MissingArgument(
            "say which contact: `crm-consent decisions <contact-id>`, \
             or `crm-consent decisions replay <decision-id>`",
        )
        .into()),
    }
}

pub(crate) fn print_decision(out: &mut dyn Write, d: &LoggedDecision) -> std::io::Result<()> {
    let who = d
        .contact
        .map_or_else(|| "bulk".to_owned(), |c| format!("contact {c}"));
    write!(
        out,
        "  #{:<4} {}  {:<11} {:<12} {:<10} {}",
        d.id,
        when(d.at),
        who,
        d.channel.as_str(),
        d.outcome.as_str(),
        d.reason_code
    )?;
    if let Some(reason) = d.reason {
        write!(out, "  reason #{reason}")?;
    }
    if let Some(text) = d.justification.as_deref().filter(|t| !t.is_empty()) {
        write!(out, ": {text}")?;
    }
    if let Some(summary) = &d.summary {
        let count = |key: &str| summary.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
        write!(
            out,
            "  {} contacts: {} recipients, {} skipped",
            count("contacts"),
            count("recipients"),
            count("skipped")
        )?;
    }
    writeln!(out, "  (by {})", d.actor)
}

fn print_replay(out: &mut dyn Write, r: &Replay) -> std::io::Result<()> {
    let replayed = match &r.replayed {
        wit::Decision::Allow(a) => format!("allow ({})", a.code.as_str()),
        wit::Decision::Deny(d) => format!("deny ({})", d.code.as_str()),
        wit::Decision::Justify(j) => format!("justify ({})", j.code.as_str()),
    };
    writeln!(
        out,
        "decision #{}: logged {} ({}), replayed {replayed}: {}",
        r.decision,
        r.logged_outcome,
        r.logged_code,
        if r.same { "same" } else { "DIFFERENT" }
    )?;
    for (i, step) in r.chain.iter().enumerate() {
        writeln!(
            out,
            "  {} {}: logged {} ({}), replayed {} ({}): {}",
            if i == 0 { "active" } else { "pack  " },
            &step.logged.plugin_sha256[..step.logged.plugin_sha256.len().min(16)],
            step.logged.outcome.as_str(),
            step.logged.code.as_str(),
            step.replayed.outcome.as_str(),
            step.replayed.code.as_str(),
            if step.same { "same" } else { "DIFFERENT" }
        )?;
    }
    Ok(())
}
