//! Work on many contacts at once: `contacts filter`, `consent fill`,
//! `consent expiring`, `links bulk` and `migrate superoffice`. The filter
//! flags are one set (`FilterArgs`) shared by every command, and they build
//! the same [`ContactFilter`] the HTTP routes take as JSON.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::{Ctx, day};
use crate::pages::{self, BulkLink};
use crate::store::{
    ConsentStatus, Contact, ContactFilter, ContactId, ContactKind, FillReport, FillRequest,
    LegalBasis, MigrationReport, SubscriptionState, parse_date, read_marks,
};

/// Filtered contacts are listed in pages of this many rows.
const PAGE: u32 = 500;

/// Which contacts: every flag given must hold.
#[derive(Debug, Args, Default)]
pub(crate) struct FilterArgs {
    /// Consent type the consent criteria are about
    #[arg(long, value_name = "CODE")]
    consent_type: Option<String>,
    /// Status code of the current consent (given, withdrawn, a custom one)
    #[arg(long, value_name = "CODE")]
    has_status: Option<String>,
    /// DPV meaning of the current consent's status (given, refused, withdrawn, ...)
    #[arg(long, value_name = "MEANING")]
    meaning: Option<ConsentStatus>,
    /// Has a valid consent (of --consent-type, or any) at --at
    #[arg(long, conflicts_with = "not_valid")]
    valid: bool,
    /// Has no valid consent (of --consent-type, or any) at --at
    #[arg(long)]
    not_valid: bool,
    /// The time validity is judged at [default: --now]
    #[arg(long, value_name = "DATE")]
    at: Option<String>,
    /// A given consent whose validity ends before this date
    #[arg(long, value_name = "DATE")]
    expiring_before: Option<String>,
    /// Way of giving of the current consent (crm_form, email, import, ...)
    #[arg(long, value_name = "CODE")]
    has_method: Option<String>,
    /// Legal basis the current consent was recorded under
    #[arg(long, value_name = "BASIS")]
    consent_basis: Option<LegalBasis>,
    /// Purpose the contact has a legal basis for
    #[arg(long, value_name = "CODE")]
    purpose: Option<String>,
    /// The contact's legal basis for --purpose (or any purpose)
    #[arg(long = "purpose-basis", value_name = "BASIS")]
    legal_basis: Option<LegalBasis>,
    /// Subscription type
    #[arg(long, value_name = "CODE")]
    subscription: Option<String>,
    /// The contact's state for --subscription: opted_in, opted_out, not_specified
    #[arg(long, value_name = "STATE")]
    subscription_state: Option<SubscriptionState>,
    /// person, company, device or an admin's own kind
    #[arg(long, value_name = "KIND")]
    kind: Option<ContactKind>,
    /// Art. 18 restriction: true or false
    #[arg(long, value_name = "BOOL")]
    restricted: Option<bool>,
    /// Art. 21 objection: true or false
    #[arg(long, value_name = "BOOL")]
    objected: Option<bool>,
    /// Opted out of all subscriptions: true or false
    #[arg(long, value_name = "BOOL")]
    opted_out_of_all: Option<bool>,
}

impl FilterArgs {
    /// The filter, or `None` when no filter flag was given (a command that
    /// also takes contact ids then uses the ids alone).
    pub(crate) fn given(&self) -> Result<Option<ContactFilter>> {
        let filter = self.filter()?;
        Ok((filter != ContactFilter::default()).then_some(filter))
    }

    pub(crate) fn filter(&self) -> Result<ContactFilter> {
        let date =
            |field, v: &Option<String>| v.as_deref().map(|t| parse_date(field, t)).transpose();
        Ok(ContactFilter {
            consent_type: self.consent_type.clone(),
            status: self.has_status.clone(),
            meaning: self.meaning,
            valid: match (self.valid, self.not_valid) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            at: date("--at", &self.at)?,
            expiring_before: date("--expiring-before", &self.expiring_before)?,
            method: self.has_method.clone(),
            consent_legal_basis: self.consent_basis,
            purpose: self.purpose.clone(),
            legal_basis: self.legal_basis,
            subscription: self.subscription.clone(),
            subscription_state: self.subscription_state,
            kind: self.kind.clone(),
            restricted: self.restricted,
            objected: self.objected,
            opted_out_of_all: self.opted_out_of_all,
        })
    }
}

/// Every contact of a keyset-paged listing, page after page.
/// `fetch` gets the last id seen and returns up to `size` contacts after it.
pub(crate) fn every_page(
    size: u32,
    mut fetch: impl FnMut(Option<ContactId>, u32) -> Result<Vec<Contact>>,
) -> Result<Vec<Contact>> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = fetch(after, size)?;
        after = page.last().map(|c| c.id);
        let done = page.len() < size as usize;
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

/// `contacts filter`: the matching contacts, every page.
pub(crate) fn filter(ctx: &mut Ctx<'_>, args: &FilterArgs) -> Result<()> {
    let filter = args.filter()?;
    let store = ctx.open_read_only()?;
    let now = ctx.now;
    let all = every_page(PAGE, |after, size| {
        Ok(store.filter_contacts(&filter, now, after, size)?)
    })?;
    ctx.emit(&all, |out| {
        if all.is_empty() {
            writeln!(out, "no contacts match")?;
        }
        for c in &all {
            super::contacts::print_line(out, c)?;
        }
        Ok(())
    })
}

/// `consent fill`'s own flags, besides the filter.
#[derive(Debug, Args)]
pub(crate) struct FillArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// The consent type to set
    #[arg(long = "type", value_name = "CODE")]
    set_type: String,
    /// The status code to set
    #[arg(long, value_name = "CODE")]
    status: String,
    /// The way of giving (crm_form, email, phone, paper, website, import, ...)
    #[arg(long, alias = "method", value_name = "CODE")]
    way: String,
    /// The legal basis to record
    #[arg(long, default_value = "consent")]
    basis: LegalBasis,
    /// Where the consents came from; no personal data [default: bulk fill]
    #[arg(long)]
    source: Option<String>,
    /// Only report what would change
    #[arg(long)]
    dry_run: bool,
}

/// `consent fill`: one transaction, a ledger and timeline entry per change.
pub(crate) fn fill(ctx: &mut Ctx<'_>, args: FillArgs) -> Result<()> {
    let req = FillRequest {
        filter: args.filter.filter()?,
        consent_type: args.set_type,
        status: args.status,
        method: args.way,
        legal_basis: args.basis,
        source: args.source,
        dry_run: args.dry_run,
    };
    let mut store = ctx.open_for(req.dry_run)?;
    let report = store.fill_consents(&req, ctx.now, &ctx.actor.clone())?;
    ctx.emit(&report, |out| print_fill(out, &req, &report))
}

fn print_fill(out: &mut dyn Write, req: &FillRequest, r: &FillReport) -> std::io::Result<()> {
    let verb = if r.dry_run { "would set" } else { "set" };
    writeln!(
        out,
        "{verb} `{}` to `{}` via `{}` for {} contacts; {} already so, skipped",
        req.consent_type,
        req.status,
        req.method,
        r.changed.len(),
        r.skipped.len()
    )?;
    for c in &r.changed {
        match c.seq {
            Some(seq) => writeln!(out, "  contact {}: ledger entry #{seq}", c.contact)?,
            None => writeln!(out, "  contact {}", c.contact)?,
        }
    }
    for id in &r.skipped {
        writeln!(out, "  contact {id}: skipped, already in that state")?;
    }
    Ok(())
}

/// `links bulk`: a form link per filtered contact.
#[derive(Debug, Args)]
pub(crate) struct BulkLinksArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// The consent types to offer, by code: newsletter,email
    #[arg(long, value_delimiter = ',', required = true, value_name = "CODES")]
    types: Vec<String>,
    /// Write the links as CSV to this file (contact_id, email, url, consent_types, expires_at)
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

pub(crate) fn bulk_links(ctx: &mut Ctx<'_>, args: BulkLinksArgs) -> Result<()> {
    let filter = args.filter.filter()?;
    let store = ctx.open_read_only()?;
    let codes: Vec<&str> = args.types.iter().map(String::as_str).collect();
    let links = pages::form_links_for(&store, &filter, ctx.now, &codes)?;
    emit_links(ctx, &links, args.csv.as_deref())
}

/// Prints the links (or writes the CSV file and says so).
pub(crate) fn emit_links(ctx: &mut Ctx<'_>, links: &[BulkLink], csv: Option<&Path>) -> Result<()> {
    if let Some(path) = csv {
        let file =
            File::create(path).with_context(|| format!("cannot create `{}`", path.display()))?;
        pages::write_links_csv(links, file)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    ctx.emit(links, |out| {
        if let Some(path) = csv {
            return writeln!(
                out,
                "wrote {} form links to {}",
                links.len(),
                path.display()
            );
        }
        if links.is_empty() {
            writeln!(out, "no contacts match")?;
        }
        for l in links {
            writeln!(
                out,
                "{}\t{}\t{}\t{}\texpires {}",
                l.contact,
                l.email.as_deref().unwrap_or("-"),
                l.consent_types.join(","),
                l.url,
                day(l.expires_at)
            )?;
        }
        Ok(())
    })
}

/// `consent expiring --within N [--links] [--csv FILE]`.
pub(crate) fn expiring(
    ctx: &mut Ctx<'_>,
    within: u32,
    links: bool,
    csv: Option<PathBuf>,
) -> Result<()> {
    let store = ctx.open_read_only()?;
    if links || csv.is_some() {
        let links = pages::reconsent_links(&store, ctx.now, within)?;
        return emit_links(ctx, &links, csv.as_deref());
    }
    let rows = store.expiring_consents(ctx.now, within)?;
    ctx.emit(&rows, |out| {
        if rows.is_empty() {
            writeln!(out, "no consents expire within {within} days")?;
        }
        for r in &rows {
            writeln!(
                out,
                "  contact {:<5} {:<14} {:<10} given {}  valid until {}",
                r.contact,
                r.consent_type,
                r.status,
                day(r.given_at),
                day(r.valid_until)
            )?;
        }
        Ok(())
    })
}

#[derive(Debug, Subcommand)]
pub(crate) enum MigrateCommand {
    /// The SuperOffice GDPR upgrade: "Sales and service" on legitimate
    /// interest for everyone, "E-marketing" from the mailing marks
    Superoffice {
        /// CSV of marks: contact (id or email), mailed, no_mailings
        #[arg(long, value_name = "FILE")]
        marks: Option<PathBuf>,
        /// Only report what would change
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Serialize)]
struct Migrated<'a> {
    #[serde(flatten)]
    report: &'a MigrationReport,
    changed: usize,
}

pub(crate) fn migrate(ctx: &mut Ctx<'_>, cmd: MigrateCommand) -> Result<()> {
    let MigrateCommand::Superoffice { marks, dry_run } = cmd;
    let marks = match &marks {
        Some(path) => {
            let file =
                File::open(path).with_context(|| format!("cannot read `{}`", path.display()))?;
            read_marks(file).with_context(|| format!("in `{}`", path.display()))?
        }
        None => Vec::new(),
    };
    let mut store = ctx.open_for(dry_run)?;
    let report = store.migrate_superoffice(&marks, dry_run, &ctx.actor.clone())?;
    let json = Migrated {
        report: &report,
        changed: report.total(),
    };
    ctx.emit(&json, |out| {
        let verb = if dry_run { "would change" } else { "changed" };
        writeln!(
            out,
            "{verb} {} things over {} contacts",
            report.total(),
            report.contacts
        )?;
        if !report.purposes_created.is_empty() {
            writeln!(
                out,
                "  purposes created: {}",
                report.purposes_created.join(", ")
            )?;
        }
        writeln!(
            out,
            "  sales_and_service on legitimate_interest: {}",
            report.sales_and_service
        )?;
        writeln!(
            out,
            "  e_marketing on legitimate_interest (mailed): {}",
            report.e_marketing_on
        )?;
        writeln!(
            out,
            "  e_marketing withdrawn (no mailings): {}",
            report.e_marketing_withdrawn
        )
    })
}
