//! `check` and `justify`: ask the active plugin before an email, a call or a
//! newsletter, and go on after a "justify" with a recorded reason (Italian
//! CRM plugin: without valid consent the operator must give a reason).

use std::io::Write;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::{Ctx, Finished};
use crate::engine as wit;
use crate::hooks::{Answer, BulkMode, BulkSend, Justified, Operator, StoredHooks};
use crate::store::{Channel, ContactId, Store};

/// The exit statuses of a single check, in each one's `--help`.
const CHECK_EXIT_STATUS: &str = "\
Exit status: 0 allow, 3 deny, 4 justify first (`crm-consent justify ...`),
1 error, 2 usage error. So `crm-consent check send 2 && mail ...` mails only on an allow.";

#[derive(Debug, Subcommand)]
pub(crate) enum CheckCommand {
    /// May we send this contact one email?
    #[command(after_help = CHECK_EXIT_STATUS)]
    Send(Single),
    /// May we call this contact?
    #[command(after_help = CHECK_EXIT_STATUS)]
    Dial(Single),
    /// May we text this contact?
    #[command(after_help = CHECK_EXIT_STATUS)]
    Sms(Single),
    /// Who gets a newsletter, and who is skipped and why
    Bulk {
        /// The subscription type being sent
        #[arg(long, value_name = "CODE")]
        subscription: Option<String>,
        /// The newsletter's purpose
        #[arg(long, value_name = "CODE")]
        purpose: Option<String>,
        /// Decide without logging anything
        #[arg(long)]
        dry_run: bool,
        /// List every skipped contact with its reason
        #[arg(long)]
        show_skipped: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct Single {
    contact: i64,
    /// The purpose of the contact
    #[arg(long, value_name = "CODE")]
    purpose: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct JustifyArgs {
    contact: i64,
    /// What the operator is about to do
    channel: Action,
    /// One of the offered reasons, by id or code
    #[arg(long, value_name = "ID-OR-CODE")]
    reason: String,
    /// Free text, kept with the justification
    #[arg(long, default_value = "")]
    text: String,
    /// The purpose of the contact, as in `check`
    #[arg(long, value_name = "CODE")]
    purpose: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Action {
    Send,
    Dial,
    Sms,
}

impl Action {
    fn channel(self) -> Channel {
        match self {
            Action::Send => Channel::SingleEmail,
            Action::Dial => Channel::Phone,
            Action::Sms => Channel::Sms,
        }
    }
}

/// The JSON of `check bulk`: the send, with its channel like every check.
#[derive(Serialize)]
struct BulkJson<'a> {
    channel: Channel,
    #[serde(flatten)]
    bulk: &'a BulkSend,
}

pub(crate) fn run(ctx: &mut Ctx<'_>, cmd: CheckCommand) -> Result<Finished> {
    let store = ctx.open()?;
    let engine = ctx.engine(&store)?;
    let mut hooks = StoredHooks::new(&engine, store);
    match cmd {
        CheckCommand::Send(s) => single(ctx, &mut hooks, s, Channel::SingleEmail),
        CheckCommand::Dial(s) => single(ctx, &mut hooks, s, Channel::Phone),
        CheckCommand::Sms(s) => single(ctx, &mut hooks, s, Channel::Sms),
        CheckCommand::Bulk {
            subscription,
            purpose,
            dry_run,
            show_skipped,
        } => {
            let op = operator(ctx, hooks.store(), purpose.as_deref())?;
            let bulk = hooks.before_bulk_send(
                subscription.as_deref(),
                if dry_run {
                    BulkMode::DryRun
                } else {
                    BulkMode::Send
                },
                &op,
            )?;
            let json = BulkJson {
                channel: Channel::BulkEmail,
                bulk: &bulk,
            };
            ctx.emit(&json, |out| print_bulk(out, &bulk, show_skipped))?;
            Ok(Finished::Done)
        }
    }
}

fn single(
    ctx: &mut Ctx<'_>,
    hooks: &mut StoredHooks,
    s: Single,
    channel: Channel,
) -> Result<Finished> {
    let op = operator(ctx, hooks.store(), s.purpose.as_deref())?;
    let checked = hooks.answer(ContactId(s.contact), channel, &op)?;
    ctx.emit(&checked, |out| print_checked(out, &checked))?;
    Ok(match checked.hook.decision {
        wit::Decision::Allow(_) => Finished::Done,
        wit::Decision::Deny(_) => Finished::Denied,
        wit::Decision::Justify(_) => Finished::JustifyNeeded,
    })
}

pub(crate) fn operator(ctx: &Ctx<'_>, store: &Store, purpose: Option<&str>) -> Result<Operator> {
    let mut op = Operator::new(ctx.actor.clone(), ctx.now);
    op.purpose = purpose
        .map(|code| store.purpose(code).map(|p| p.id))
        .transpose()?;
    Ok(op)
}

fn print_checked(out: &mut dyn Write, c: &Answer) -> std::io::Result<()> {
    writeln!(out, "{}", c.summary)?;
    for r in &c.offered_reasons {
        writeln!(out, "  #{:<3} {:<20} {}", r.id, r.code, r.label)?;
    }
    if let Some(id) = c.hook.logged {
        writeln!(out, "  (logged as decision #{id})")?;
    }
    Ok(())
}

pub(crate) fn print_bulk(
    out: &mut dyn Write,
    bulk: &BulkSend,
    show_skipped: bool,
) -> std::io::Result<()> {
    let list = bulk.subscription_type.as_ref().map_or_else(
        || "all contacts with an email".to_owned(),
        |s| format!("the subscribers of {}", s.code),
    );
    writeln!(
        out,
        "newsletter to {list}: {} recipient(s), {} skipped",
        bulk.recipients.len(),
        bulk.skipped.len()
    )?;
    let recipients: Vec<String> = bulk.recipients.iter().map(|c| c.to_string()).collect();
    writeln!(out, "  recipients: {}", or_none(&recipients.join(", ")))?;
    let codes: Vec<String> = bulk
        .summary
        .iter()
        .map(|(code, n)| format!("{code} {n}"))
        .collect();
    writeln!(out, "  by reason: {}", or_none(&codes.join(", ")))?;
    if show_skipped {
        for s in &bulk.skipped {
            writeln!(out, "  skipped {}: {} [{}]", s.contact, s.message, s.code)?;
        }
    }
    match bulk.logged {
        Some(id) => writeln!(out, "  (logged as decision #{id})"),
        None => writeln!(out, "  (dry run: nothing logged)"),
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "none" } else { s }
}

pub(crate) fn justify(ctx: &mut Ctx<'_>, args: JustifyArgs) -> Result<()> {
    let store = ctx.open()?;
    let engine = ctx.engine(&store)?;
    let mut hooks = StoredHooks::new(&engine, store);
    let done = justify_with(ctx, &mut hooks, &args)?;
    ctx.emit(&done, |out| {
        writeln!(
            out,
            "allowed: justification #{} recorded (reason {} \"{}\")",
            done.decision, done.reason.code, done.reason.label
        )
    })
}

fn justify_with(ctx: &Ctx<'_>, hooks: &mut StoredHooks, args: &JustifyArgs) -> Result<Justified> {
    let reason = hooks.store().find_reason(&args.reason)?;
    let op = operator(ctx, hooks.store(), args.purpose.as_deref())?;
    let contact = ContactId(args.contact);
    let channel = args.channel.channel();
    let decision = hooks
        .justify(contact, channel, reason.id, &args.text, &op)
        .with_context(|| format!("cannot justify contacting contact {contact}"))?;
    Ok(Justified {
        decision,
        contact,
        channel,
        reason,
    })
}
