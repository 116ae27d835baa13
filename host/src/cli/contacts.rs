//! `contacts`: people, companies and devices (iPresso), their Art. 18 / 21
//! flags, the legal basis per purpose (SuperOffice) and typed relations.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Result;
use clap::{ArgAction, Subcommand};
use serde::Serialize;

use super::consent::print_current;
use super::{CliError, Ctx, day};
use crate::store::ConsentView;
use crate::store::{
    Contact, ContactFlags, ContactId, ContactKind, LegalBasis, NewConsent, NewContact, Relation,
    RelationKind, Store, SubscriptionState,
};

/// Contacts are listed in pages of this many rows.
const PAGE: u32 = 500;

#[derive(Debug, Subcommand)]
pub(crate) enum ContactsCommand {
    /// Add a contact, optionally with consents given on the CRM form
    Add {
        #[arg(long)]
        name: String,
        /// person, company, device or any other kind
        #[arg(long, default_value = "person")]
        kind: ContactKind,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// A consent type the contact gives at creation (repeatable);
        /// recorded as given via the CRM form
        #[arg(long = "consent", value_name = "CODE", action = ArgAction::Append)]
        consents: Vec<String>,
        /// Re-add a person whose data were erased (HubSpot): every hook
        /// denies the contact until they give consent on a form link themselves
        #[arg(long, conflicts_with = "consents")]
        awaiting_own_consent: bool,
    },
    /// A contact with its current consents, flags, preferences and bases
    Show { id: i64 },
    /// List every contact
    List,
    /// List the contacts a filter selects (consent, purpose basis, subscription, kind, flags)
    Filter(super::bulk::FilterArgs),
    /// Restrict processing (Art. 18) or record an objection (Art. 21), or undo either
    Flag {
        id: i64,
        #[arg(long, conflicts_with = "unrestrict")]
        restrict: bool,
        #[arg(long)]
        unrestrict: bool,
        #[arg(long, conflicts_with = "unobject")]
        object: bool,
        #[arg(long)]
        unobject: bool,
    },
    /// Set the legal basis of a contact's data for one purpose
    Basis {
        id: i64,
        /// The purpose's code
        purpose: String,
        /// consent, contract, legal_obligation, ..., legitimate_interest, withdrawn
        basis: LegalBasis,
    },
    /// Relate two contacts: "<from> is <kind> of <to>" (e.g. employee_company)
    // That doc line is also clap's `--help` text: the <placeholders> are meant
    // literally there, not as HTML.
    #[allow(rustdoc::invalid_html_tags)]
    Relate {
        from: i64,
        to: i64,
        kind: RelationKind,
    },
    /// Revoke every form and preference link issued to the contact so far
    RotateLink { id: i64 },
    /// Contact types (person, company, device, ...)
    #[command(subcommand)]
    Types(super::rights::ContactTypesCommand),
    /// Relation types and whether erasure cascades along them
    #[command(subcommand)]
    RelationTypes(super::rights::RelationTypesCommand),
}

/// Everything `contacts show` prints.
#[derive(Serialize)]
struct ContactView {
    #[serde(flatten)]
    contact: Contact,
    consents: Vec<ConsentView>,
    /// Subscription code → the contact's choice.
    preferences: Vec<(String, SubscriptionState)>,
    /// Purpose code → legal basis.
    bases: Vec<(String, LegalBasis)>,
    relations: Vec<Relation>,
}

#[derive(Serialize)]
struct Added {
    #[serde(flatten)]
    contact: Contact,
    consents: Vec<crate::store::LedgerEntry>,
}

pub(crate) fn run(ctx: &mut Ctx<'_>, cmd: ContactsCommand) -> Result<()> {
    match cmd {
        ContactsCommand::RotateLink { id } => return super::pages::rotate_link(ctx, id),
        ContactsCommand::Types(cmd) => return super::rights::contact_types(ctx, cmd),
        ContactsCommand::RelationTypes(cmd) => return super::rights::relation_types(ctx, cmd),
        _ => {}
    }
    if let ContactsCommand::Filter(args) = &cmd {
        return super::bulk::filter(ctx, args);
    }
    let reads_only = matches!(cmd, ContactsCommand::Show { .. } | ContactsCommand::List);
    let mut store = ctx.open_for(reads_only)?;
    match cmd {
        ContactsCommand::Add {
            name,
            kind,
            email,
            phone,
            consents,
            awaiting_own_consent,
        } => {
            let new = NewContact {
                kind,
                name,
                email,
                phone,
                flags: ContactFlags::default(),
            };
            if awaiting_own_consent {
                add_awaiting(ctx, &mut store, &new)
            } else {
                add(ctx, &mut store, &new, &consents)
            }
        }
        ContactsCommand::Show { id } => show(ctx, &store, ContactId(id)),
        ContactsCommand::List => list(ctx, &store),
        ContactsCommand::Filter(_) => unreachable!("handled above"),
        ContactsCommand::Flag {
            id,
            restrict,
            unrestrict,
            object,
            unobject,
        } => {
            let restricted = change(restrict, unrestrict);
            let objected = change(object, unobject);
            flag(ctx, &mut store, ContactId(id), restricted, objected)
        }
        ContactsCommand::Basis { id, purpose, basis } => {
            set_basis(ctx, &mut store, ContactId(id), &purpose, basis)
        }
        ContactsCommand::Relate { from, to, kind } => {
            relate(ctx, &mut store, ContactId(from), ContactId(to), &kind)
        }
        ContactsCommand::RotateLink { .. }
        | ContactsCommand::Types(_)
        | ContactsCommand::RelationTypes(_) => unreachable!("handled above"),
    }
}

/// The new value of a flag set with `--on` or cleared with `--off`, or
/// `None` when neither was given (clap rejects both).
fn change(on: bool, off: bool) -> Option<bool> {
    (on || off).then_some(on)
}

fn add(ctx: &mut Ctx<'_>, store: &mut Store, new: &NewContact, consents: &[String]) -> Result<()> {
    let given: Vec<NewConsent> = consents
        .iter()
        .map(|code| NewConsent {
            // Set by the store to the new contact's id.
            contact: ContactId(0),
            consent_type: code.as_str().into(),
            status: "given".to_owned(),
            method: "crm_form".to_owned(),
            legal_basis: LegalBasis::Consent,
            given_at: ctx.now,
            source: "crm-consent contacts add".to_owned(),
            actor: ctx.actor.clone(),
            evidence: None,
            text_version: None,
        })
        .collect();
    // One transaction: a typo in a code leaves no contact behind.
    let (contact, entries) = store.add_contact_with_consents(new, &given, &ctx.actor)?;
    let added = Added {
        contact,
        consents: entries,
    };
    ctx.emit(&added, |out| {
        writeln!(
            out,
            "added contact {}: {} ({})",
            added.contact.id, added.contact.name, added.contact.kind
        )?;
        for code in consents {
            writeln!(out, "  consent {code}: given via crm_form")?;
        }
        Ok(())
    })
}

fn add_awaiting(ctx: &mut Ctx<'_>, store: &mut Store, new: &NewContact) -> Result<()> {
    let contact = store.add_contact_awaiting_own_consent(new, &ctx.actor)?;
    ctx.emit(&contact, |out| {
        writeln!(
            out,
            "added contact {}: {} ({}), awaiting the person's own consent: send a form link \
             with `crm-consent consent link {} --types <codes> --email`",
            contact.id, contact.name, contact.kind, contact.id
        )
    })
}

fn show(ctx: &mut Ctx<'_>, store: &Store, id: ContactId) -> Result<()> {
    let view = view(store, id, ctx)?;
    ctx.emit(&view, |out| print_contact(out, &view))
}

fn list(ctx: &mut Ctx<'_>, store: &Store) -> Result<()> {
    let all = super::bulk::every_page(PAGE, |after, size| Ok(store.contacts(after, size)?))?;
    ctx.emit(&all, |out| {
        if all.is_empty() {
            writeln!(out, "no contacts")?;
        }
        for c in &all {
            print_line(out, c)?;
        }
        Ok(())
    })
}

/// Sets the Art. 18 (`restricted`) and Art. 21 (`objected`) flags that are
/// `Some`, keeping the others.
fn flag(
    ctx: &mut Ctx<'_>,
    store: &mut Store,
    id: ContactId,
    restricted: Option<bool>,
    objected: Option<bool>,
) -> Result<()> {
    if restricted.is_none() && objected.is_none() {
        return Err(CliError::MissingArgument(
            "say what to change: --restrict, --unrestrict, --object or --unobject",
        )
        .into());
    }
    let mut flags = store.contact(id)?.flags;
    if let Some(on) = restricted {
        flags.restricted = on;
    }
    if let Some(on) = objected {
        flags.objected = on;
    }
    store.set_flags(id, flags, &ctx.actor)?;
    ctx.emit(&flags, |out| writeln!(out, "contact {id} flags: {flags}"))
}

fn set_basis(
    ctx: &mut Ctx<'_>,
    store: &mut Store,
    id: ContactId,
    purpose: &str,
    basis: LegalBasis,
) -> Result<()> {
    store.set_purpose_basis(id, purpose, basis, &ctx.actor)?;
    let shown = serde_json::json!({ "contact": id, "purpose": purpose, "legal_basis": basis });
    ctx.emit(&shown, |out| {
        writeln!(out, "contact {id}: purpose {purpose} on {basis}")
    })
}

fn relate(
    ctx: &mut Ctx<'_>,
    store: &mut Store,
    from: ContactId,
    to: ContactId,
    kind: &RelationKind,
) -> Result<()> {
    let rel = store.relate(from, to, kind, &ctx.actor)?;
    let shown = serde_json::json!({ "id": rel, "from": from, "to": to, "kind": kind });
    ctx.emit(&shown, |out| {
        writeln!(
            out,
            "related #{rel}: contact {from} is {kind} of contact {to}"
        )
    })
}

/// Everything `contacts show` prints about contact `id`.
fn view(store: &Store, id: ContactId, ctx: &Ctx<'_>) -> Result<ContactView> {
    let contact = store.contact(id)?;
    let snapshot = store.contact_snapshot(id)?;
    let subs: HashMap<_, _> = store
        .subscription_types()?
        .into_iter()
        .map(|s| (s.id, s.code))
        .collect();
    let purposes: HashMap<_, _> = store
        .purposes()?
        .into_iter()
        .map(|p| (p.id, p.code))
        .collect();
    Ok(ContactView {
        consents: store.consent_views(id, ctx.now)?,
        preferences: snapshot
            .preferences
            .iter()
            .map(|p| {
                let code = subs.get(&p.subscription_type_id).cloned();
                (
                    code.unwrap_or_else(|| p.subscription_type_id.to_string()),
                    p.state,
                )
            })
            .collect(),
        bases: snapshot
            .bases
            .iter()
            .map(|b| {
                let code = purposes.get(&b.purpose_id).cloned();
                (
                    code.unwrap_or_else(|| b.purpose_id.to_string()),
                    b.legal_basis,
                )
            })
            .collect(),
        relations: store.relations(id)?,
        contact,
    })
}

pub(super) fn print_line(out: &mut dyn Write, c: &Contact) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<5} {:<24} {:<8} {:<28} {:<16} flags: {}",
        c.id,
        if c.erased_at.is_some() {
            "(erased)"
        } else {
            &c.name
        },
        c.kind.as_str(),
        c.email.as_deref().unwrap_or("-"),
        c.phone.as_deref().unwrap_or("-"),
        c.flags
    )
}

fn print_contact(out: &mut dyn Write, v: &ContactView) -> std::io::Result<()> {
    let c = &v.contact;
    writeln!(out, "contact {}: {} ({})", c.id, c.name, c.kind)?;
    writeln!(out, "  email: {}", c.email.as_deref().unwrap_or("-"))?;
    writeln!(out, "  phone: {}", c.phone.as_deref().unwrap_or("-"))?;
    writeln!(out, "  created: {}", day(c.created_at))?;
    if let Some(at) = c.erased_at {
        let ground = c.erasure_ground.map(|g| g.as_str()).unwrap_or("-");
        writeln!(out, "  erased: {} (Art. 17, ground {ground})", day(at))?;
    }
    if c.awaiting_own_consent {
        writeln!(out, "  awaiting the person's own consent on a form link")?;
    }
    writeln!(out, "  flags: {}", c.flags)?;
    writeln!(out, "consents:")?;
    print_current(out, &v.consents)?;
    if !v.preferences.is_empty() {
        writeln!(out, "subscriptions:")?;
        for (code, state) in &v.preferences {
            writeln!(out, "  {code}: {state}")?;
        }
    }
    if !v.bases.is_empty() {
        writeln!(out, "purposes:")?;
        for (code, basis) in &v.bases {
            writeln!(out, "  {code}: {basis}")?;
        }
    }
    if !v.relations.is_empty() {
        writeln!(out, "relations:")?;
        for r in &v.relations {
            writeln!(
                out,
                "  contact {} is {} of contact {}",
                r.from, r.kind, r.to
            )?;
        }
    }
    Ok(())
}
