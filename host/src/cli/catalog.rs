//! The admin's small catalogs: justification reasons, consent statuses,
//! ways of giving consent and purposes.

use std::io::Write;

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use crate::store::{ConsentStatus, LegalBasis, NewPurpose};

#[derive(Debug, Subcommand)]
pub(crate) enum ReasonsCommand {
    /// Add a reason
    Add {
        code: String,
        /// What the operator reads in the pick list
        #[arg(long)]
        label: String,
    },
    /// Change a reason's label
    Edit {
        code: String,
        #[arg(long)]
        label: String,
    },
    /// Delete a reason no justification cites
    Delete { code: String },
    /// List the reasons
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum StatusesCommand {
    /// Add a custom status
    Add {
        code: String,
        #[arg(long)]
        name: String,
        /// Its DPV meaning: requested, given, renewed, refused, withdrawn,
        /// revoked, expired or invalidated
        #[arg(long, value_name = "MEANING")]
        means: ConsentStatus,
    },
    /// Rename a custom status or change its meaning (built-in ones are locked)
    Edit {
        code: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_name = "MEANING")]
        means: Option<ConsentStatus>,
    },
    /// Delete a custom status no consent uses
    Delete { code: String },
    /// List the statuses
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum MethodsCommand {
    /// Add a way of giving consent
    Add {
        code: String,
        #[arg(long)]
        name: String,
    },
    /// Rename a way of giving consent ("via the CRM form" is locked)
    Rename {
        code: String,
        #[arg(long)]
        name: String,
    },
    /// Delete a way of giving consent no consent uses
    Delete { code: String },
    /// List the ways of giving consent
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PurposesCommand {
    /// Add a purpose of processing
    Add {
        code: String,
        #[arg(long)]
        name: String,
        /// Its default legal basis: consent, contract, legal_obligation,
        /// vital_interest, public_interest, official_authority,
        /// legitimate_interest or withdrawn
        #[arg(long, value_name = "BASIS", default_value = "consent")]
        basis: LegalBasis,
        /// Art. 21(3): an objection to direct marketing covers this purpose
        #[arg(long)]
        direct_marketing: bool,
    },
    /// Change a purpose
    Edit {
        code: String,
        /// A new code
        #[arg(long)]
        new_code: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_name = "BASIS")]
        basis: Option<LegalBasis>,
        #[arg(long, value_name = "BOOL")]
        direct_marketing: Option<bool>,
    },
    /// Delete a purpose no contact uses
    Delete { code: String },
    /// List the purposes
    List,
}

#[derive(Serialize)]
struct Deleted<'a> {
    deleted: &'a str,
}

fn deleted(ctx: &mut Ctx<'_>, what: &str, code: &str) -> Result<()> {
    ctx.emit(&Deleted { deleted: code }, |out| {
        writeln!(out, "deleted {what} {code}")
    })
}

pub(crate) fn reasons(ctx: &mut Ctx<'_>, cmd: ReasonsCommand) -> Result<()> {
    let mut store = ctx.open_for(matches!(cmd, ReasonsCommand::List))?;
    let (verb, reason) = match cmd {
        ReasonsCommand::Add { code, label } => {
            ("added", store.add_reason(&code, &label, &ctx.actor)?)
        }
        ReasonsCommand::Edit { code, label } => {
            ("edited", store.edit_reason(&code, &label, &ctx.actor)?)
        }
        ReasonsCommand::Delete { code } => {
            store.delete_reason(&code, &ctx.actor)?;
            return deleted(ctx, "reason", &code);
        }
        ReasonsCommand::List => {
            let all = store.reasons()?;
            return ctx.emit(&all, |out| {
                for r in &all {
                    writeln!(out, "#{:<3} {:<20} {}", r.id, r.code, r.label)?;
                }
                Ok(())
            });
        }
    };
    ctx.emit(&reason, |out| {
        writeln!(
            out,
            "{verb} reason #{} {}: {}",
            reason.id, reason.code, reason.label
        )
    })
}

pub(crate) fn statuses(ctx: &mut Ctx<'_>, cmd: StatusesCommand) -> Result<()> {
    let mut store = ctx.open_for(matches!(cmd, StatusesCommand::List))?;
    let (verb, status) = match cmd {
        StatusesCommand::Add { code, name, means } => {
            ("added", store.add_status(&code, &name, means, &ctx.actor)?)
        }
        StatusesCommand::Edit { code, name, means } => {
            let old = store.status(&code)?;
            let name = name.unwrap_or(old.name);
            let means = means.unwrap_or(old.meaning);
            (
                "edited",
                store.edit_status(&code, &name, means, &ctx.actor)?,
            )
        }
        StatusesCommand::Delete { code } => {
            store.delete_status(&code, &ctx.actor)?;
            return deleted(ctx, "status", &code);
        }
        StatusesCommand::List => {
            let all = store.statuses()?;
            return ctx.emit(&all, |out| {
                for s in &all {
                    writeln!(
                        out,
                        "{:<16} {:<24} means {:<12}{}",
                        s.code,
                        s.name,
                        s.meaning.as_str(),
                        if s.built_in { " (built in)" } else { "" }
                    )?;
                }
                Ok(())
            });
        }
    };
    ctx.emit(&status, |out| {
        writeln!(
            out,
            "{verb} status {} \"{}\" meaning {}",
            status.code, status.name, status.meaning
        )
    })
}

pub(crate) fn methods(ctx: &mut Ctx<'_>, cmd: MethodsCommand) -> Result<()> {
    let mut store = ctx.open_for(matches!(cmd, MethodsCommand::List))?;
    let (verb, method) = match cmd {
        MethodsCommand::Add { code, name } => {
            ("added", store.add_method(&code, &name, &ctx.actor)?)
        }
        MethodsCommand::Rename { code, name } => {
            ("renamed", store.rename_method(&code, &name, &ctx.actor)?)
        }
        MethodsCommand::Delete { code } => {
            store.delete_method(&code, &ctx.actor)?;
            return deleted(ctx, "way of giving consent", &code);
        }
        MethodsCommand::List => {
            let all = store.methods()?;
            return ctx.emit(&all, |out| {
                for m in &all {
                    let note = match (m.built_in, m.locked) {
                        (_, true) => " (built in, locked)",
                        (true, false) => " (built in)",
                        _ => "",
                    };
                    writeln!(out, "{:<16} {}{note}", m.code, m.name)?;
                }
                Ok(())
            });
        }
    };
    ctx.emit(&method, |out| {
        writeln!(
            out,
            "{verb} way of giving consent {}: {}",
            method.code, method.name
        )
    })
}

pub(crate) fn purposes(ctx: &mut Ctx<'_>, cmd: PurposesCommand) -> Result<()> {
    let mut store = ctx.open_for(matches!(cmd, PurposesCommand::List))?;
    let (verb, purpose) = match cmd {
        PurposesCommand::Add {
            code,
            name,
            basis,
            direct_marketing,
        } => {
            let new = NewPurpose {
                code,
                name,
                legal_basis: basis,
                direct_marketing,
            };
            ("added", store.add_purpose(&new, &ctx.actor)?)
        }
        PurposesCommand::Edit {
            code,
            new_code,
            name,
            basis,
            direct_marketing,
        } => {
            let old = store.purpose(&code)?;
            let new = NewPurpose {
                code: new_code.unwrap_or(old.code),
                name: name.unwrap_or(old.name),
                legal_basis: basis.unwrap_or(old.legal_basis),
                direct_marketing: direct_marketing.unwrap_or(old.direct_marketing),
            };
            ("edited", store.edit_purpose(&code, &new, &ctx.actor)?)
        }
        PurposesCommand::Delete { code } => {
            store.delete_purpose(&code, &ctx.actor)?;
            return deleted(ctx, "purpose", &code);
        }
        PurposesCommand::List => {
            let all = store.purposes()?;
            return ctx.emit(&all, |out| {
                if all.is_empty() {
                    writeln!(out, "no purposes: add one with `crm-consent purposes add`")?;
                }
                for p in &all {
                    print_purpose(out, p)?;
                }
                Ok(())
            });
        }
    };
    ctx.emit(&purpose, |out| {
        write!(out, "{verb} purpose ")?;
        print_purpose(out, &purpose)
    })
}

fn print_purpose(out: &mut dyn Write, p: &crate::store::Purpose) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<16} \"{}\" on {}{}",
        p.code,
        p.name,
        p.legal_basis,
        if p.direct_marketing {
            ", direct marketing"
        } else {
            ""
        }
    )
}
