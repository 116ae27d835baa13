//! The contact-facing pages from the command line: `consent link` (Livespace:
//! copy the link or email it), `contacts rotate-link`, `templates`,
//! `outbox` and `links`. Every command calls `crate::pages` or the store,
//! as the HTTP routes do.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::{CliError, Ctx, day, when};
use crate::pages::{self, FormLink, PreferenceLink, Template, TemplateName};
use crate::store::{ContactId, LinkSettings, NewTranslation, OutboxId, OutboxMessage};

/// Outbox messages are listed in pages of this many.
const PAGE: u32 = 500;

#[derive(Debug, Subcommand)]
pub(crate) enum TemplatesCommand {
    /// Show one template as it is used (the admin's, else the built-in one), or all
    Show {
        /// link_email, form or confirmation_email
        name: Option<TemplateName>,
    },
    /// Save a template; refused if it lacks its variable (`form_link`,
    /// `consents`, `confirm_link`) or uses one it is not given
    Set {
        /// link_email, form or confirmation_email
        name: TemplateName,
        /// The subject line (emails only)
        #[arg(long)]
        subject: Option<String>,
        /// The body, minijinja syntax: `{{ form_link }}`
        #[arg(
            long,
            conflicts_with = "body_file",
            required_unless_present = "body_file"
        )]
        body: Option<String>,
        /// Read the body from a file
        #[arg(long, value_name = "PATH")]
        body_file: Option<PathBuf>,
    },
    /// Go back to the built-in template
    Reset {
        /// link_email, form or confirmation_email
        name: TemplateName,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum OutboxCommand {
    /// The messages waiting to be sent, oldest first
    List {
        /// Also the ones already acknowledged
        #[arg(long)]
        all: bool,
    },
    /// One message, with its body
    Show { id: i64 },
    /// Mark messages as sent; acknowledging one twice changes nothing
    Ack {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum LinksCommand {
    /// Show or change where links point and how long preference links work
    Settings {
        /// The address the pages are served at, e.g. `https://consent.example.com`
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Days a preference-centre link works (1 to 3650)
        #[arg(long, value_name = "DAYS")]
        preference_days: Option<u32>,
    },
    /// Print a contact's preference-centre link ("Manage subscriptions")
    Preferences { contact: i64 },
    /// A consent form link for every contact a filter selects, as a list or CSV
    Bulk(Box<super::bulk::BulkLinksArgs>),
}

/// `consent link`: what it printed, for `--json`.
#[derive(Serialize)]
struct IssuedLink {
    #[serde(flatten)]
    link: FormLink,
    outbox: Option<OutboxMessage>,
}

/// `consent link <contact> --types a,b [--email]`: prints the form link;
/// with `--email`, also writes the link email to the outbox.
pub(crate) fn link(ctx: &mut Ctx<'_>, contact: i64, types: &[String], email: bool) -> Result<()> {
    let contact = ContactId(contact);
    let codes: Vec<&str> = types.iter().map(String::as_str).collect();
    let issued = if email {
        let mut store = ctx.open()?;
        let (link, message) = pages::email_form_link(&mut store, contact, &codes)?;
        IssuedLink {
            link,
            outbox: Some(message),
        }
    } else {
        let store = ctx.open_read_only()?;
        IssuedLink {
            link: pages::issue_form_link(&store, contact, &codes)?,
            outbox: None,
        }
    };
    ctx.emit(&issued, |out| {
        // The URL alone on the first line, for `url=$(crm-consent consent link ...)`.
        writeln!(out, "{}", issued.link.url)?;
        if let Some(m) = &issued.outbox {
            writeln!(out, "emailed: outbox message {} to {}", m.id, m.to)?;
        }
        Ok(())
    })
}

#[derive(Serialize)]
struct Rotated {
    contact: ContactId,
    generation: u32,
}

/// `contacts rotate-link <contact>`: revokes every link issued so far.
pub(crate) fn rotate_link(ctx: &mut Ctx<'_>, contact: i64) -> Result<()> {
    let contact = ContactId(contact);
    let mut store = ctx.open()?;
    let generation = pages::rotate_links(&mut store, contact, &ctx.actor)?;
    ctx.emit(
        &Rotated {
            contact,
            generation,
        },
        |out| {
            writeln!(
                out,
                "contact {contact}: every link issued before now is revoked; new links work"
            )
        },
    )
}

pub(crate) fn templates(ctx: &mut Ctx<'_>, cmd: TemplatesCommand) -> Result<()> {
    match cmd {
        TemplatesCommand::Show { name } => {
            let store = ctx.open_read_only()?;
            let names = name.map_or(TemplateName::ALL.to_vec(), |n| vec![n]);
            let shown = names
                .into_iter()
                .map(|n| pages::template(&store, n))
                .collect::<Result<Vec<_>, _>>()?;
            ctx.emit(&shown, |out| {
                for t in &shown {
                    print_template(out, t)?;
                }
                Ok(())
            })
        }
        TemplatesCommand::Set {
            name,
            subject,
            body,
            body_file,
        } => {
            let body = match (body, body_file) {
                (Some(body), _) => body,
                (None, Some(path)) => std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read the body from `{}`", path.display()))?,
                (None, None) => {
                    return Err(CliError::MissingArgument("give --body or --body-file").into());
                }
            };
            let mut store = ctx.open()?;
            let t = pages::save_template(&mut store, name, subject.as_deref(), &body, &ctx.actor)?;
            ctx.emit(&t, |out| {
                writeln!(out, "saved template {}", t.name.as_str())
            })
        }
        TemplatesCommand::Reset { name } => {
            let mut store = ctx.open()?;
            let t = pages::reset_template(&mut store, name, &ctx.actor)?;
            ctx.emit(&t, |out| {
                writeln!(
                    out,
                    "template {} is the built-in one again",
                    t.name.as_str()
                )
            })
        }
    }
}

fn print_template(out: &mut dyn Write, t: &Template) -> std::io::Result<()> {
    let origin = match (&t.updated_by, t.updated_at) {
        (Some(by), Some(at)) => format!("saved by {by} on {}", when(at)),
        _ => "built in".to_owned(),
    };
    writeln!(out, "== {} ({origin})", t.name.as_str())?;
    if let Some(subject) = &t.subject {
        writeln!(out, "subject: {subject}")?;
    }
    writeln!(out, "{}", t.body.trim_end())?;
    writeln!(out)
}

pub(crate) fn outbox(ctx: &mut Ctx<'_>, cmd: OutboxCommand) -> Result<()> {
    match cmd {
        OutboxCommand::List { all } => {
            let store = ctx.open_read_only()?;
            let mut messages = Vec::new();
            loop {
                let after = messages.last().map(|m: &OutboxMessage| m.id);
                let page = if all {
                    store.outbox_messages(after, PAGE)?
                } else {
                    store.pending_messages(after, PAGE)?
                };
                let done = page.len() < PAGE as usize;
                messages.extend(page);
                if done {
                    break;
                }
            }
            ctx.emit(&messages, |out| {
                if messages.is_empty() {
                    return writeln!(out, "  no messages waiting");
                }
                for m in &messages {
                    let state = m
                        .acknowledged_at
                        .map_or_else(|| "waiting".to_owned(), |at| format!("sent {}", when(at)));
                    writeln!(
                        out,
                        "  #{:<4} {}  {:<12} contact {:<4} {:<30} {}  ({state})",
                        m.id,
                        when(m.created_at),
                        m.kind.as_str(),
                        m.contact_id,
                        m.to,
                        m.subject
                    )?;
                }
                Ok(())
            })
        }
        OutboxCommand::Show { id } => {
            let store = ctx.open_read_only()?;
            let m = store.outbox_message(OutboxId(id))?;
            ctx.emit(&m, |out| {
                writeln!(
                    out,
                    "to: {}\nsubject: {}\n\n{}",
                    m.to,
                    m.subject,
                    m.body.trim_end()
                )
            })
        }
        OutboxCommand::Ack { ids } => {
            let mut store = ctx.open()?;
            let acked = ids
                .into_iter()
                .map(|id| store.acknowledge_message(OutboxId(id)))
                .collect::<Result<Vec<_>, _>>()?;
            ctx.emit(&acked, |out| {
                for m in &acked {
                    writeln!(out, "message {} acknowledged", m.id)?;
                }
                Ok(())
            })
        }
    }
}

pub(crate) fn links(ctx: &mut Ctx<'_>, cmd: LinksCommand) -> Result<()> {
    match cmd {
        LinksCommand::Bulk(args) => super::bulk::bulk_links(ctx, *args),
        LinksCommand::Settings {
            base_url,
            preference_days,
        } => {
            let changes = base_url.is_some() || preference_days.is_some();
            let mut store = ctx.open_for(!changes)?;
            if let Some(url) = &base_url {
                store.set_base_url(url, &ctx.actor)?;
            }
            if let Some(days) = preference_days {
                store.set_preference_link_days(days, &ctx.actor)?;
            }
            let settings = store.link_settings()?;
            ctx.emit(&settings, |out| print_settings(out, &settings))
        }
        LinksCommand::Preferences { contact } => {
            let store = ctx.open_read_only()?;
            let link: PreferenceLink = pages::issue_preference_link(&store, ContactId(contact))?;
            ctx.emit(&link, |out| {
                writeln!(out, "{}", link.url)?;
                writeln!(out, "works until {}", day(link.expires_at))
            })
        }
    }
}

fn print_settings(out: &mut dyn Write, s: &LinkSettings) -> std::io::Result<()> {
    writeln!(out, "base URL:              {}", s.base_url)?;
    writeln!(out, "preference link days:  {}", s.preference_link_days)
}

/// `types translate`: a consent text in another language.
#[derive(Debug, Args)]
pub(crate) struct TranslateArgs {
    /// The type's code
    code: String,
    /// The language: pl, it, en, ...
    #[arg(long)]
    language: String,
    /// The title in that language
    #[arg(long)]
    title: String,
    /// The text in that language
    #[arg(long)]
    text: String,
    /// The text version it translates [default: the current one]
    #[arg(long, value_name = "N")]
    text_version: Option<u32>,
}

pub(crate) fn translate(ctx: &mut Ctx<'_>, a: TranslateArgs) -> Result<()> {
    let mut store = ctx.open()?;
    let new = NewTranslation {
        language: a.language,
        title: a.title,
        text: a.text,
        version: a.text_version,
    };
    let t = store.add_translation(&a.code, &new, &ctx.actor)?;
    ctx.emit(&t, |out| {
        writeln!(
            out,
            "added the `{}` translation of {} text v{}",
            t.language, a.code, t.version
        )
    })
}

#[derive(Serialize)]
struct DoubleOptIn<'a> {
    consent_type: &'a str,
    double_opt_in: bool,
}

pub(crate) fn double_opt_in(ctx: &mut Ctx<'_>, code: &str, on: bool) -> Result<()> {
    let mut store = ctx.open()?;
    store.set_requires_confirmation(code, on, &ctx.actor)?;
    let shown = DoubleOptIn {
        consent_type: code,
        double_opt_in: on,
    };
    ctx.emit(&shown, |out| {
        let state = if on { "on" } else { "off" };
        writeln!(out, "double opt-in for {code} is {state}")
    })
}
