//! `check` and `justify`: ask the active plugin before an email, a call or a
//! newsletter, and go on after a "justify" with a recorded reason (Italian
//! CRM plugin: without valid consent the operator must give a reason).

use std::io::Write;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::{Ctx, Finished, day, names};
use crate::engine as wit;
use crate::hooks::{BulkMode, BulkSend, HookDecision, Operator, StoredHooks};
use crate::setup::Switch;
use crate::store::{Channel, ConsentType, ContactId, DecisionId, Reason, ReasonId, Store};

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

    fn of(channel: Channel) -> &'static str {
        match channel {
            Channel::Phone => "dial",
            Channel::Sms => "sms",
            _ => "send",
        }
    }
}

/// A single decision as the CLI shows it; its JSON is [`CheckedJson`].
#[derive(Debug)]
pub(crate) struct Checked {
    pub hook: HookDecision,
    /// The code of the consent type that allowed it, for an allow by consent.
    pub consent_type: Option<String>,
    /// The line printed in text mode.
    pub summary: String,
    /// For a justify: the reasons the operator may pick from.
    pub offered_reasons: Vec<Reason>,
}

/// The JSON of one decision: flat, every enum in snake_case, with the field
/// names of a skipped contact of `check bulk` (`code`, `message`) and of the
/// decision log (`outcome`).
#[derive(Serialize)]
struct CheckedJson<'a> {
    contact: ContactId,
    channel: Channel,
    /// `allow`, `deny` or `justify`.
    outcome: &'static str,
    /// The reason code: `consent`, `no_consent`, `restricted`, ...
    code: &'static str,
    /// For a deny: the sentence for people.
    message: Option<&'a str>,
    /// For an allow by consent: the consent type's code and its expiry.
    consent_type: Option<&'a str>,
    valid_until: Option<DateTime<Utc>>,
    /// For an allow by another legal basis: which one.
    legal_basis: Option<&'static str>,
    offered_reasons: &'a [Reason],
    summary: &'a str,
    logged: Option<DecisionId>,
    plugin_sha256: &'a str,
}

impl Serialize for Checked {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let decision = &self.hook.decision;
        let allowed = match decision {
            wit::Decision::Allow(a) => Some(a),
            _ => None,
        };
        CheckedJson {
            contact: self.hook.contact,
            channel: self.hook.channel,
            outcome: names::outcome(decision),
            code: names::code(decision).as_str(),
            message: match decision {
                wit::Decision::Deny(d) => Some(&d.message),
                _ => None,
            },
            consent_type: self.consent_type.as_deref(),
            valid_until: allowed
                .and_then(|a| a.valid_until)
                .and_then(|s| DateTime::from_timestamp(s, 0)),
            legal_basis: allowed.and_then(|a| a.legal_basis).map(|b| b.as_str()),
            offered_reasons: &self.offered_reasons,
            summary: &self.summary,
            logged: self.hook.logged,
            plugin_sha256: &self.hook.plugin_sha256,
        }
        .serialize(serializer)
    }
}

/// The JSON of `check bulk`: the send, with its channel like every check.
#[derive(Serialize)]
struct BulkJson<'a> {
    channel: Channel,
    #[serde(flatten)]
    bulk: &'a BulkSend,
}

#[derive(Debug, Serialize)]
pub(crate) struct Justified {
    pub decision: DecisionId,
    pub contact: ContactId,
    pub channel: Channel,
    pub reason: Reason,
}

pub(crate) fn run(ctx: &mut Ctx<'_>, cmd: CheckCommand) -> Result<Finished> {
    let store = ctx.open()?;
    let engine = ctx.engine()?;
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
    let checked = decide(hooks, ContactId(s.contact), channel, &op)?;
    ctx.emit(&checked, |out| print_checked(out, &checked))?;
    Ok(match checked.hook.decision {
        wit::Decision::Allow(_) => Finished::Done,
        wit::Decision::Deny(_) => Finished::Denied,
        wit::Decision::Justify(_) => Finished::JustifyNeeded,
    })
}

/// Decides and describes one contact on one channel.
pub(crate) fn decide(
    hooks: &mut StoredHooks,
    contact: ContactId,
    channel: Channel,
    op: &Operator,
) -> Result<Checked> {
    let hook = hooks.decide(contact, channel, op)?;
    let store = hooks.store();
    let types = store.consent_types()?;
    let offered_reasons = match &hook.decision {
        wit::Decision::Justify(j) => store
            .reasons()?
            .into_iter()
            .filter(|r| j.reasons.contains(&r.id))
            .collect(),
        _ => Vec::new(),
    };
    let summary = describe(&hook, &types);
    let consent_type = match &hook.decision {
        wit::Decision::Allow(a) => a
            .consent_type
            .and_then(|id| types.iter().find(|t| t.id.0 == id))
            .map(|t| t.code.clone()),
        _ => None,
    };
    Ok(Checked {
        hook,
        consent_type,
        summary,
        offered_reasons,
    })
}

pub(crate) fn operator(ctx: &Ctx<'_>, store: &Store, purpose: Option<&str>) -> Result<Operator> {
    let mut op = Operator::new(ctx.actor.clone(), ctx.now);
    op.purpose = purpose
        .map(|code| store.purpose(code).map(|p| p.id))
        .transpose()?;
    Ok(op)
}

/// `allow (consent: newsletter, valid until 2027-01-01)`, `deny: ... [code]`,
/// `justify (no_consent): pick a reason with ...`.
pub(crate) fn describe(hook: &HookDecision, types: &[ConsentType]) -> String {
    match &hook.decision {
        wit::Decision::Allow(a) => {
            let why = match a.code {
                wit::ReasonCode::Consent => {
                    let code = a
                        .consent_type
                        .and_then(|id| types.iter().find(|t| t.id.0 == id))
                        .map_or_else(|| "?".to_owned(), |t| t.code.clone());
                    let until = match a
                        .valid_until
                        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                    {
                        Some(at) => format!("valid until {}", day(at)),
                        None => "no expiry".to_owned(),
                    };
                    format!("consent: {code}, {until}")
                }
                wit::ReasonCode::LegalBasis => match a.legal_basis {
                    Some(b) => format!("legal basis: {}", b.as_str()),
                    None => "legal basis".to_owned(),
                },
                wit::ReasonCode::NotChecked => format!(
                    "not checked: the {} switch is off",
                    Switch::for_channel(hook.channel).as_str()
                ),
                other => other.as_str().to_owned(),
            };
            format!("allow ({why})")
        }
        wit::Decision::Deny(d) => format!("deny: {} [{}]", d.message, d.code.as_str()),
        wit::Decision::Justify(j) => format!(
            "justify ({}): pick a reason with `crm-consent justify {} {} --reason <id-or-code>`",
            j.code.as_str(),
            hook.contact,
            Action::of(hook.channel)
        ),
    }
}

fn print_checked(out: &mut dyn Write, c: &Checked) -> std::io::Result<()> {
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
    let engine = ctx.engine()?;
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
    let reason = find_reason(hooks.store(), &args.reason)?;
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

/// A reason by id (`2`) or code (`existing_customer`).
pub(crate) fn find_reason(store: &Store, wanted: &str) -> Result<Reason> {
    let wanted = wanted.trim();
    if let Ok(id) = wanted.parse::<u32>() {
        return store
            .reasons()?
            .into_iter()
            .find(|r| r.id == ReasonId(id))
            .ok_or_else(|| crate::store::StoreError::UnknownReason(ReasonId(id)).into());
    }
    Ok(store.reason(wanted)?)
}
