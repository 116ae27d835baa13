//! `consent`: record a consent given or withdrawn, show the current ones and
//! the ledger history (Art. 7(1): when, how, by whom, which text).

use std::io::Write;

use anyhow::Result;
use clap::Subcommand;

use super::{CliError, Ctx, day, when};
use crate::store::{
    ConsentStatus, ConsentView, ContactId, HistoryEntry, LegalBasis, NewConsent, Store, parse_date,
};

/// Where consents recorded by the CLI say they came from, unless told.
const CLI_SOURCE: &str = "crm-consent cli";

#[derive(Debug, Subcommand)]
pub(crate) enum ConsentCommand {
    /// Record a consent a contact gave
    Grant {
        contact: i64,
        /// The consent type's code
        consent_type: String,
        /// How it was given: crm_form, email, phone, paper, website, import, ...
        #[arg(long, default_value = "crm_form")]
        method: String,
        /// Where it came from ("web form", "import: file.xlsx"); no personal data
        #[arg(long)]
        source: Option<String>,
        /// When the person gave it (RFC 3339 or YYYY-MM-DD) [default: now]
        #[arg(long, value_name = "DATE")]
        given_at: Option<String>,
        /// The legal basis
        #[arg(long, default_value = "consent")]
        basis: LegalBasis,
        /// Evidence as JSON (IP, user agent, form payload); stored apart and erasable
        #[arg(long, value_name = "JSON")]
        evidence: Option<String>,
        /// The status code, built in or custom
        #[arg(long, default_value = "given")]
        status: String,
    },
    /// Record that a contact withdrew a consent (Art. 7(3))
    Withdraw {
        contact: i64,
        consent_type: String,
        /// How it was withdrawn
        #[arg(long, default_value = "crm_form")]
        method: String,
        #[arg(long)]
        source: Option<String>,
    },
    /// The contact's current consents, one per type
    Show { contact: i64 },
    /// Every ledger entry of the contact: text version, who, when, how
    History { contact: i64 },
    /// Print a consent form link for the contact, valid 14 days (Livespace)
    Link {
        contact: i64,
        /// The consent types to offer, by code: newsletter,email
        #[arg(long, value_delimiter = ',', required = true, value_name = "CODES")]
        types: Vec<String>,
        /// Also write the link email to the outbox, for the CRM to send
        #[arg(long)]
        email: bool,
    },
    /// Set one consent for every contact a filter selects, in one transaction
    Fill(super::bulk::FillArgs),
    /// The consents that expire within N days (re-consent), or form links for them
    Expiring {
        /// Days from --now
        #[arg(long, value_name = "DAYS")]
        within: u32,
        /// Print a form link per contact offering the expiring types
        #[arg(long)]
        links: bool,
        /// Write those links as CSV to this file (implies --links)
        #[arg(long, value_name = "FILE")]
        csv: Option<std::path::PathBuf>,
    },
}

pub(crate) fn run(ctx: &mut Ctx<'_>, cmd: ConsentCommand) -> Result<()> {
    if let ConsentCommand::Link {
        contact,
        types,
        email,
    } = cmd
    {
        return super::pages::link(ctx, contact, &types, email);
    }
    let cmd = match cmd {
        ConsentCommand::Fill(args) => return super::bulk::fill(ctx, args),
        ConsentCommand::Expiring { within, links, csv } => {
            return super::bulk::expiring(ctx, within, links, csv);
        }
        other => other,
    };
    let reads_only = matches!(
        cmd,
        ConsentCommand::Show { .. } | ConsentCommand::History { .. }
    );
    let mut store = ctx.open_for(reads_only)?;
    match cmd {
        ConsentCommand::Grant {
            contact,
            consent_type,
            method,
            source,
            given_at,
            basis,
            evidence,
            status,
        } => {
            let given_at = match given_at {
                Some(text) => parse_date("--given-at", &text)?,
                None => ctx.now,
            };
            let evidence = evidence
                .map(|text| serde_json::from_str::<serde_json::Value>(&text))
                .transpose()
                .map_err(|e| CliError::BadEvidence(e.to_string()))?;
            let new = NewConsent {
                contact: ContactId(contact),
                consent_type: consent_type.as_str().into(),
                status,
                method,
                legal_basis: basis,
                given_at,
                source: source.unwrap_or_else(|| CLI_SOURCE.to_owned()),
                actor: ctx.actor.clone(),
                evidence,
                text_version: None,
            };
            record(ctx, &mut store, &new)
        }
        ConsentCommand::Withdraw {
            contact,
            consent_type,
            method,
            source,
        } => {
            let new = NewConsent {
                contact: ContactId(contact),
                consent_type: consent_type.as_str().into(),
                status: "withdrawn".to_owned(),
                method,
                legal_basis: LegalBasis::Consent,
                given_at: ctx.now,
                source: source.unwrap_or_else(|| CLI_SOURCE.to_owned()),
                actor: ctx.actor.clone(),
                evidence: None,
                text_version: None,
            };
            record(ctx, &mut store, &new)
        }
        ConsentCommand::Show { contact } => {
            let views = store.consent_views(ContactId(contact), ctx.now)?;
            ctx.emit(&views, |out| print_current(out, &views))
        }
        ConsentCommand::History { contact } => {
            let entries = store.history_views(ContactId(contact))?;
            ctx.emit(&entries, |out| print_history(out, &entries))
        }
        ConsentCommand::Link { .. } | ConsentCommand::Fill(_) | ConsentCommand::Expiring { .. } => {
            unreachable!("handled above")
        }
    }
}

fn record(ctx: &mut Ctx<'_>, store: &mut Store, new: &NewConsent) -> Result<()> {
    let entry = store.record_consent(new)?;
    let code = match &new.consent_type {
        crate::store::ConsentTypeRef::Code(code) => code.clone(),
        crate::store::ConsentTypeRef::Id(id) => id.to_string(),
    };
    ctx.emit(&entry, |out| {
        writeln!(
            out,
            "recorded ledger entry #{}: contact {} {} {} (text v{}, {})",
            entry.seq, entry.contact_id, code, new.status, entry.text_version, new.method
        )
    })
}

pub(crate) fn print_current(out: &mut dyn Write, views: &[ConsentView]) -> std::io::Result<()> {
    if views.is_empty() {
        return writeln!(out, "  no consents recorded");
    }
    for v in views {
        let validity = match (v.valid_now, v.valid_until) {
            (true, Some(until)) => format!("valid until {}", day(until)),
            (true, None) => "valid, no expiry".to_owned(),
            (false, Some(until))
                if matches!(v.meaning, ConsentStatus::Given | ConsentStatus::Renewed) =>
            {
                format!("expired {}", day(until))
            }
            _ => "not valid".to_owned(),
        };
        writeln!(
            out,
            "  {:<14} {:<10} {:<20} given {}  {validity}  (via {}, text v{}, entry #{})",
            v.consent_type,
            v.status,
            v.legal_basis.as_str(),
            day(v.given_at),
            v.method,
            v.text_version,
            v.seq
        )?;
    }
    Ok(())
}

pub(crate) fn print_history(out: &mut dyn Write, entries: &[HistoryEntry]) -> std::io::Result<()> {
    if entries.is_empty() {
        return writeln!(out, "  no ledger entries");
    }
    for h in entries {
        let e = &h.entry;
        writeln!(
            out,
            "  #{:<4} {} contact {:<3} {:<12} {:<10} text v{}  given {}  via {}  by {}  ({})",
            e.seq,
            when(e.recorded_at),
            e.contact_id,
            h.consent_type,
            h.status_code,
            e.text_version,
            day(e.given_at),
            h.method,
            e.actor,
            e.source
        )?;
    }
    Ok(())
}
