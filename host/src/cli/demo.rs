//! `demo`: the README's first command. Builds a small CRM database with the
//! bundled plugin, sample contacts in every interesting state, then sends a
//! newsletter, one email and a call (with a justification), and prints the
//! decisions, the ledger and its verification.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::audit::{check_report, print_decision, print_report};
use super::check::print_bulk;
use super::consent::print_history;
use super::{CliError, Ctx, setup};
use crate::hooks::Answer;
use crate::hooks::{BulkSend, Operator, StoredHooks};
use crate::setup as admin;
use crate::store::{
    Channel, Contact, ContactFlags, ContactKind, HistoryEntry, LedgerReport, LegalBasis,
    NewConsent, NewConsentType, NewContact, NewPurpose, PluginInfo, Store,
};

/// Who the demo says did everything; also how a demo database is recognised
/// before it is replaced (its first plugin was installed by this actor).
const DEMO_ACTOR: &str = "crm-consent demo";

pub(crate) fn default_path() -> PathBuf {
    PathBuf::from("crm-consent-demo.db")
}

/// Everything the demo did, for `--json`.
#[derive(Serialize)]
struct DemoReport {
    database: PathBuf,
    plugin: PluginInfo,
    contacts: Vec<Contact>,
    newsletter: BulkSend,
    send: Answer,
    call: Answer,
    justification: crate::store::DecisionId,
    objected_call: Answer,
    decisions: Vec<crate::store::LoggedDecision>,
    ledger: Vec<HistoryEntry>,
    verify: LedgerReport,
    /// A demo contact's pages, to open in a browser (`demo --serve`).
    pages: DemoPages,
}

/// The two pages a contact sees, for one demo contact.
#[derive(Debug, Serialize)]
struct DemoPages {
    contact: crate::store::ContactId,
    form: crate::pages::FormLink,
    preferences: crate::pages::PreferenceLink,
}

/// How `demo` runs: the database, and whether to keep serving it.
pub(crate) struct DemoOptions {
    pub path: PathBuf,
    /// Keep `serve` running on the demo database, so the links open.
    pub serve: Option<std::net::SocketAddr>,
}

/// One sample contact: who, and the consents they gave (type, days ago).
struct Sample {
    name: &'static str,
    email: &'static str,
    phone: &'static str,
    given: &'static [(&'static str, i64)],
    withdrawn: &'static [(&'static str, i64)],
    flags: ContactFlags,
}

const NONE: ContactFlags = ContactFlags {
    restricted: false,
    objected: false,
    opted_out_of_all: false,
};

const SAMPLES: &[Sample] = &[
    Sample {
        name: "Anna Valid",
        email: "anna@example.com",
        phone: "+39 02 0000 0001",
        given: &[("newsletter", 30), ("email", 100), ("phone", 5)],
        withdrawn: &[],
        flags: NONE,
    },
    Sample {
        name: "Bruno Expired",
        email: "bruno@example.com",
        phone: "+39 02 0000 0002",
        given: &[("newsletter", 400), ("phone", 45)],
        withdrawn: &[],
        flags: NONE,
    },
    Sample {
        name: "Chiara Withdrawn",
        email: "chiara@example.com",
        phone: "+39 02 0000 0003",
        given: &[("newsletter", 200)],
        withdrawn: &[("newsletter", 10)],
        flags: NONE,
    },
    Sample {
        name: "Dan Objected",
        email: "dan@example.com",
        phone: "+45 0000 0004",
        given: &[("newsletter", 20), ("phone", 3)],
        withdrawn: &[],
        flags: ContactFlags {
            objected: true,
            ..NONE
        },
    },
    Sample {
        name: "Eva Restricted",
        email: "eva@example.com",
        phone: "+359 0000 0005",
        given: &[("newsletter", 15), ("email", 15)],
        withdrawn: &[],
        flags: ContactFlags {
            restricted: true,
            ..NONE
        },
    },
    Sample {
        name: "Filip OptedOut",
        email: "filip@example.com",
        phone: "+48 0000 0006",
        given: &[("newsletter", 60)],
        withdrawn: &[],
        flags: ContactFlags {
            opted_out_of_all: true,
            ..NONE
        },
    },
    Sample {
        name: "Greta Subscriber",
        email: "greta@example.com",
        phone: "+48 0000 0007",
        given: &[("newsletter", 90)],
        withdrawn: &[],
        flags: NONE,
    },
];

pub(crate) fn run(ctx: &mut Ctx<'_>, opts: DemoOptions) -> Result<()> {
    let path = opts.path;
    replace_demo_file(&path)?;
    let mut store = Store::create(&path)
        .with_context(|| format!("cannot create demo database {}", path.display()))?;
    let now = ctx.now;
    let engine = ctx.engine(&store)?;

    let plugin = admin::install(&mut store, &engine, crate::BUNDLED_PLUGIN, DEMO_ACTOR)
        .context("cannot install the bundled plugin")?;
    setup::enable(&mut store, DEMO_ACTOR)?;
    define_catalog(&mut store, now)?;
    let contacts = add_samples(&mut store, now)?;
    let id = |i: usize| contacts[i].id;

    let mut hooks = StoredHooks::new(&engine, store);
    let op = Operator::new(DEMO_ACTOR, now);
    let newsletter = hooks.before_bulk_send(None, crate::hooks::BulkMode::Send, &op)?;
    let send = hooks.answer(id(0), Channel::SingleEmail, &op)?;
    let call = hooks.answer(id(1), Channel::Phone, &op)?;
    let reason = hooks.store().find_reason("existing_customer")?;
    let justification = hooks.justify(
        id(1),
        Channel::Phone,
        reason.id,
        "Calling back about the renewal he asked for",
        &op,
    )?;
    let mut marketing = op.clone();
    marketing.purpose = Some(hooks.store().purpose("e_marketing")?.id);
    let objected_call = hooks.answer(id(3), Channel::Phone, &marketing)?;

    let store = hooks.into_store();
    let mut logged: Vec<_> = [
        newsletter.logged,
        call.hook.logged,
        objected_call.hook.logged,
    ]
    .into_iter()
    .flatten()
    .chain([justification])
    .collect();
    logged.sort();
    let decisions = logged
        .into_iter()
        .filter_map(|id| store.decision(id).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    let mut ledger = Vec::new();
    for c in &contacts {
        ledger.extend(store.history_views(c.id)?);
    }
    ledger.sort_by_key(|h| h.entry.seq);
    let mut store = store;
    let pages = demo_pages(&mut store, contacts[6].id, opts.serve)?;
    let verify = store.verify_ledger()?;

    let report = DemoReport {
        database: path.clone(),
        plugin,
        contacts,
        newsletter,
        send,
        call,
        justification,
        objected_call,
        decisions,
        ledger,
        verify,
        pages,
    };
    ctx.emit(&report, |out| print_demo(out, &report))?;
    check_report(&report.verify)?;
    let Some(listen) = opts.serve else {
        return Ok(());
    };
    let admin_key = store.create_api_key("demo-admin", crate::store::Role::Admin, DEMO_ACTOR)?;
    drop(store);
    writeln!(
        ctx.out,
        "\n== Serving the demo (Ctrl-C stops)\n  API key (admin): {}\n  curl -H 'Authorization: Bearer {}' http://{listen}/api/v1/contacts",
        admin_key.secret, admin_key.secret
    )?;
    ctx.db = path;
    super::serve::serve(ctx, super::serve::ServeArgs::at(listen))
}

/// A consent form link and a preference-centre link for `contact`, pointing
/// at the address the demo serves on.
fn demo_pages(
    store: &mut Store,
    contact: crate::store::ContactId,
    serve: Option<std::net::SocketAddr>,
) -> Result<DemoPages> {
    if let Some(listen) = serve {
        store.set_base_url(&format!("http://{listen}"), DEMO_ACTOR)?;
    }
    Ok(DemoPages {
        contact,
        form: crate::pages::issue_form_link(store, contact, &["newsletter", "email"])?,
        preferences: crate::pages::issue_preference_link(store, contact)?,
    })
}

/// Refuses to replace a file that is not a demo database: `--db` may point
/// at real data by mistake.
fn replace_demo_file(path: &Path) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let is_demo = Store::open(path)
        .ok()
        .and_then(|s| s.plugins().ok())
        .and_then(|p| p.first().map(|p| p.installed_by == DEMO_ACTOR))
        .unwrap_or(false);
    if !is_demo {
        return Err(CliError::NotADemo(path.to_owned()).into());
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot remove {}", path.display()));
            }
        }
    }
    Ok(())
}

fn define_catalog(store: &mut Store, now: DateTime<Utc>) -> Result<()> {
    let types = [
        ("newsletter", "Newsletter", Some(365), (true, false, false)),
        ("email", "Email from our staff", None, (false, true, false)),
        ("phone", "Phone calls", Some(30), (false, false, true)),
    ];
    for (code, title, validity_days, (bulk, single, contact)) in types {
        store.add_consent_type(
            &NewConsentType {
                code: code.to_owned(),
                title: title.to_owned(),
                description: None,
                text: format!(
                    "I agree to receive {} from Example Ltd.",
                    title.to_lowercase()
                ),
                validity_days,
                allow_bulk_email: bulk,
                allow_single_email: single,
                allow_phone: contact,
                // The demo's sample consents were given up to a year ago, so
                // its texts are backdated explicitly, as an import would.
                text_valid_from: Some(now - Duration::days(400)),
            },
            DEMO_ACTOR,
        )?;
    }
    // SuperOffice's upgrade: every contact on "Sales and service" by
    // legitimate interest; e-marketing needs consent.
    store.add_purpose(
        &NewPurpose {
            code: "sales_service".to_owned(),
            name: "Sales and service".to_owned(),
            legal_basis: LegalBasis::LegitimateInterest,
            direct_marketing: false,
        },
        DEMO_ACTOR,
    )?;
    store.add_purpose(
        &NewPurpose {
            code: "e_marketing".to_owned(),
            name: "E-marketing".to_owned(),
            legal_basis: LegalBasis::Consent,
            direct_marketing: true,
        },
        DEMO_ACTOR,
    )?;
    Ok(())
}

fn add_samples(store: &mut Store, now: DateTime<Utc>) -> Result<Vec<Contact>> {
    let mut contacts = Vec::new();
    for s in SAMPLES {
        let new = NewContact {
            kind: ContactKind::Person,
            name: s.name.to_owned(),
            email: Some(s.email.to_owned()),
            phone: Some(s.phone.to_owned()),
            flags: s.flags,
        };
        let contact = store.add_contact(&new, DEMO_ACTOR)?;
        let consent = |code: &str, status: &str, days_ago: i64| NewConsent {
            contact: contact.id,
            consent_type: code.into(),
            status: status.to_owned(),
            method: if status == "given" {
                "website"
            } else {
                "email"
            }
            .to_owned(),
            legal_basis: LegalBasis::Consent,
            given_at: now - Duration::days(days_ago),
            source: "demo sign-up form".to_owned(),
            actor: DEMO_ACTOR.to_owned(),
            evidence: Some(serde_json::json!({ "ip": "192.0.2.1", "form": "signup-v1" })),
            text_version: None,
        };
        let mut changes: Vec<NewConsent> = s
            .given
            .iter()
            .map(|(code, days)| consent(code, "given", *days))
            .collect();
        changes.extend(
            s.withdrawn
                .iter()
                .map(|(code, days)| consent(code, "withdrawn", *days)),
        );
        store.record_consents(&changes)?;
        contacts.push(contact);
    }
    store.set_purpose_basis_for_all("sales_service", LegalBasis::LegitimateInterest, DEMO_ACTOR)?;
    Ok(contacts)
}

fn print_demo(out: &mut dyn Write, r: &DemoReport) -> std::io::Result<()> {
    let name = |id| {
        r.contacts
            .iter()
            .find(|c| c.id == id)
            .map_or("?", |c| c.name.as_str())
    };
    writeln!(out, "== crm-consent demo: {}", r.database.display())?;
    writeln!(
        out,
        "plugin #{} {} ({} bytes), switches on: check_single_email, check_bulk_email, check_phone",
        r.plugin.id,
        &r.plugin.sha256[..16],
        r.plugin.size
    )?;
    writeln!(out, "\n== Contacts")?;
    for c in &r.contacts {
        writeln!(out, "  {:<3} {:<18} flags: {}", c.id, c.name, c.flags)?;
    }
    writeln!(out, "\n== Newsletter")?;
    print_bulk(out, &r.newsletter, true)?;
    writeln!(out, "\n== Send: one email to {}", name(r.send.hook.contact))?;
    writeln!(out, "  {}", r.send.summary)?;
    writeln!(out, "\n== Call: {}", name(r.call.hook.contact))?;
    writeln!(out, "  {}", r.call.summary)?;
    for reason in &r.call.offered_reasons {
        writeln!(
            out,
            "    #{:<3} {:<20} {}",
            reason.id, reason.code, reason.label
        )?;
    }
    writeln!(
        out,
        "  $ crm-consent justify {} dial --reason existing_customer --text \"...\"",
        r.call.hook.contact
    )?;
    writeln!(
        out,
        "  allowed: justification #{} recorded",
        r.justification
    )?;
    writeln!(
        out,
        "\n== Call: {} (purpose e_marketing)",
        name(r.objected_call.hook.contact)
    )?;
    writeln!(out, "  {}", r.objected_call.summary)?;
    writeln!(out, "\n== Decision log")?;
    for d in &r.decisions {
        print_decision(out, d)?;
    }
    writeln!(out, "\n== Consent ledger (history)")?;
    print_history(out, &r.ledger)?;
    writeln!(out, "\n== Ledger verify")?;
    write!(out, "  ")?;
    print_report(out, &r.verify)?;
    writeln!(
        out,
        "\n== Pages of contact {} (open them while `crm-consent demo --serve` runs)",
        r.pages.contact
    )?;
    writeln!(out, "  consent form (valid 14 days): {}", r.pages.form.url)?;
    writeln!(
        out,
        "  preference centre:            {}",
        r.pages.preferences.url
    )?;
    writeln!(
        out,
        "\ntry: crm-consent --db {} contacts show {}",
        r.database.display(),
        r.send.hook.contact
    )
}
