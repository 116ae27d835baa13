//! `subscriptions`: subscription types (SuperOffice's four defaults, HubSpot's
//! opt-in) and each contact's choices, including "opt out of all".

use std::io::Write;

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;

use super::{Ctx, yes_no};
use crate::store::{ContactId, SubscriptionState, SubscriptionType};

#[derive(Debug, Subcommand)]
pub(crate) enum SubscriptionsCommand {
    /// Add a subscription type
    Add {
        code: String,
        #[arg(long)]
        name: String,
        /// Only contacts who opted in receive it
        #[arg(long)]
        requires_opt_in: bool,
    },
    /// Change a subscription type
    Edit {
        code: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_name = "BOOL")]
        requires_opt_in: Option<bool>,
    },
    /// Delete a subscription type and every contact's choice for it
    Delete { code: String },
    /// List the subscription types
    List,
    /// Set a contact's choice for one subscription type
    Set {
        contact: i64,
        /// The subscription type's code
        subscription: String,
        /// opted_in, not_specified or opted_out
        state: SubscriptionState,
    },
    /// Opt a contact out of all subscriptions
    OptOutAll { contact: i64 },
}

#[derive(Serialize)]
struct Preference<'a> {
    contact: ContactId,
    subscription: &'a str,
    state: SubscriptionState,
}

#[derive(Serialize)]
struct OptedOut {
    contact: ContactId,
    opted_out_of_all: bool,
}

#[derive(Serialize)]
struct Deleted<'a> {
    deleted: &'a str,
}

pub(crate) fn run(ctx: &mut Ctx<'_>, cmd: SubscriptionsCommand) -> Result<()> {
    let mut store = ctx.open_for(matches!(cmd, SubscriptionsCommand::List))?;
    match cmd {
        SubscriptionsCommand::Add {
            code,
            name,
            requires_opt_in,
        } => {
            let t = store.add_subscription_type(&code, &name, requires_opt_in, &ctx.actor)?;
            ctx.emit(&t, |out| {
                write!(out, "added subscription type ")?;
                print_type(out, &t)
            })
        }
        SubscriptionsCommand::Edit {
            code,
            name,
            requires_opt_in,
        } => {
            let old = store.subscription_type(&code)?;
            let name = name.unwrap_or(old.name);
            let opt_in = requires_opt_in.unwrap_or(old.requires_opt_in);
            let t = store.edit_subscription_type(&code, &name, opt_in, &ctx.actor)?;
            ctx.emit(&t, |out| {
                write!(out, "edited subscription type ")?;
                print_type(out, &t)
            })
        }
        SubscriptionsCommand::Delete { code } => {
            store.delete_subscription_type(&code, &ctx.actor)?;
            ctx.emit(&Deleted { deleted: &code }, |out| {
                writeln!(out, "deleted subscription type {code}")
            })
        }
        SubscriptionsCommand::List => {
            let all = store.subscription_types()?;
            ctx.emit(&all, |out| {
                for t in &all {
                    print_type(out, t)?;
                }
                Ok(())
            })
        }
        SubscriptionsCommand::Set {
            contact,
            subscription,
            state,
        } => {
            let contact = ContactId(contact);
            store.set_preference(contact, &subscription, state, &ctx.actor)?;
            let shown = Preference {
                contact,
                subscription: &subscription,
                state,
            };
            ctx.emit(&shown, |out| {
                writeln!(out, "contact {contact}: {subscription} is {state}")
            })
        }
        SubscriptionsCommand::OptOutAll { contact } => {
            let contact = ContactId(contact);
            store.opt_out_of_all(contact, &ctx.actor)?;
            let shown = OptedOut {
                contact,
                opted_out_of_all: true,
            };
            ctx.emit(&shown, |out| {
                writeln!(out, "contact {contact} opted out of all subscriptions")
            })
        }
    }
}

fn print_type(out: &mut dyn Write, t: &SubscriptionType) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<16} \"{}\"  requires opt-in: {}",
        t.code,
        t.name,
        yes_no(t.requires_opt_in)
    )
}
