//! `types`: consent types (Italian CRM plugin: title, code, validity, three
//! channel flags) and their versioned text.

use std::io::Write;

use anyhow::Result;
use clap::builder::PossibleValue;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::{Ctx, day, yes_no};
use crate::store::{Channel, ConsentType, ConsentTypeEdit, ConsentTypeText, NewConsentType};

/// A channel a consent type can allow, spelled as in the JSON
/// (`bulk_email`). SMS is not one of them: it rides on `single_email`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Permission(Channel);

impl Permission {
    const ALL: [Permission; 3] = [
        Permission(Channel::BulkEmail),
        Permission(Channel::SingleEmail),
        Permission(Channel::Phone),
    ];
}

// By hand rather than derived, so that the values are the channels' own
// `as_str` and cannot drift from the JSON.
impl ValueEnum for Permission {
    fn value_variants<'a>() -> &'a [Self] {
        &Permission::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.as_str()))
    }
}

/// The three permissions of a type from a `--channels` list.
fn permissions(channels: &[Permission]) -> [bool; 3] {
    Permission::ALL.map(|p| channels.contains(&p))
}

#[derive(Debug, Subcommand)]
pub(crate) enum TypesCommand {
    /// Define a consent type
    Add(AddType),
    /// Change a consent type; a new --text adds a text version
    Edit(EditType),
    /// List the consent types
    List,
    /// Show one consent type with every version of its text
    Show {
        /// The type's code
        code: String,
    },
    /// Add the translation of a type's current text (or of --version)
    Translate(super::pages::TranslateArgs),
    /// Require (or stop requiring) an email confirmation of consent given
    /// on a form (double opt-in)
    DoubleOptIn {
        /// The type's code
        code: String,
        state: super::setup::OnOff,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AddType {
    /// A unique, stable code (letters, digits, '_', '-', '.')
    code: String,
    /// The name shown in pick lists
    #[arg(long)]
    title: String,
    /// The text the person agrees to (version 1)
    #[arg(long)]
    text: String,
    #[arg(long)]
    description: Option<String>,
    /// Days a given consent stays valid; leave out for one that never expires
    #[arg(long, value_name = "N")]
    validity_days: Option<u32>,
    /// The channels it allows, comma-separated: bulk_email (newsletters),
    /// single_email (one email, and one SMS), phone
    #[arg(long, value_delimiter = ',', value_name = "CHANNEL,...")]
    channels: Vec<Permission>,
    /// Deprecated alias of `--channels bulk_email`, removed in the next release
    #[arg(long, hide = true)]
    bulk: bool,
    /// Deprecated alias of `--channels single_email`, removed in the next release
    #[arg(long, hide = true)]
    single: bool,
    /// Deprecated alias of `--channels phone`, removed in the next release
    #[arg(long, hide = true)]
    phone: bool,
    /// The date from which the text counts, for importing historical
    /// consents given before today [default: now]
    #[arg(long, value_name = "DATE")]
    text_valid_from: Option<String>,
    /// Consent given on a form counts only once confirmed by email
    #[arg(long)]
    double_opt_in: bool,
}

#[derive(Debug, Args)]
pub(crate) struct EditType {
    /// The type's code
    code: String,
    #[arg(long)]
    title: Option<String>,
    /// A new text: consents already given keep the version they agreed to
    #[arg(long)]
    text: Option<String>,
    #[arg(long, conflicts_with = "no_description")]
    description: Option<String>,
    /// Remove the description
    #[arg(long)]
    no_description: bool,
    #[arg(long, value_name = "N", conflicts_with = "never_expires")]
    validity_days: Option<u32>,
    /// Consents of this type never expire
    #[arg(long)]
    never_expires: bool,
    /// The channels it allows from now on, comma-separated, replacing the
    /// ones it allowed: bulk_email, single_email (and SMS), phone
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "CHANNEL,...",
        conflicts_with_all = ["bulk", "single", "phone"]
    )]
    channels: Option<Vec<Permission>>,
    /// Deprecated: use --channels; removed in the next release
    #[arg(long, value_name = "BOOL", hide = true)]
    bulk: Option<bool>,
    /// Deprecated: use --channels; removed in the next release
    #[arg(long, value_name = "BOOL", hide = true)]
    single: Option<bool>,
    /// Deprecated: use --channels; removed in the next release
    #[arg(long, value_name = "BOOL", hide = true)]
    phone: Option<bool>,
}

#[derive(Serialize)]
struct TypeWithTexts {
    #[serde(flatten)]
    consent_type: ConsentType,
    texts: Vec<ConsentTypeText>,
}

pub(crate) fn run(ctx: &mut Ctx<'_>, cmd: TypesCommand) -> Result<()> {
    match cmd {
        TypesCommand::Add(a) => add(ctx, a),
        TypesCommand::Edit(e) => edit(ctx, e),
        TypesCommand::List => list(ctx),
        TypesCommand::Show { code } => show(ctx, &code),
        TypesCommand::Translate(args) => super::pages::translate(ctx, args),
        TypesCommand::DoubleOptIn { code, state } => {
            super::pages::double_opt_in(ctx, &code, matches!(state, super::setup::OnOff::On))
        }
    }
}

fn add(ctx: &mut Ctx<'_>, a: AddType) -> Result<()> {
    let mut store = ctx.open()?;
    let [bulk_email, single_email, phone] = permissions(&a.channels);
    let new = NewConsentType {
        code: a.code,
        title: a.title,
        description: a.description,
        text: a.text,
        validity_days: a.validity_days,
        allow_bulk_email: bulk_email || a.bulk,
        allow_single_email: single_email || a.single,
        allow_phone: phone || a.phone,
        text_valid_from: a
            .text_valid_from
            .as_deref()
            .map(|d| crate::store::parse_date("--text-valid-from", d))
            .transpose()?,
    };
    let t = if a.double_opt_in {
        store.add_consent_type_with_double_opt_in(&new, &ctx.actor)?
    } else {
        store.add_consent_type(&new, &ctx.actor)?
    };
    ctx.emit(&t, |out| {
        write!(out, "added consent type ")?;
        print_type(out, &t)
    })
}

fn edit(ctx: &mut Ctx<'_>, e: EditType) -> Result<()> {
    let mut store = ctx.open()?;
    let before = store.consent_type(&e.code)?;
    let [allow_bulk_email, allow_single_email, allow_phone] = match &e.channels {
        Some(channels) => permissions(channels).map(Some),
        None => [e.bulk, e.single, e.phone],
    };
    let edit = ConsentTypeEdit {
        title: e.title,
        description: if e.no_description {
            Some(None)
        } else {
            e.description.map(Some)
        },
        text: e.text,
        validity_days: if e.never_expires {
            Some(None)
        } else {
            e.validity_days.map(Some)
        },
        allow_bulk_email,
        allow_single_email,
        allow_phone,
    };
    let t = store.edit_consent_type(&e.code, &edit, &ctx.actor)?;
    ctx.emit(&t, |out| {
        write!(out, "edited consent type ")?;
        print_type(out, &t)?;
        if t.text_version != before.text_version {
            writeln!(out, "new text: version {}", t.text_version)?;
        }
        Ok(())
    })
}

fn list(ctx: &mut Ctx<'_>) -> Result<()> {
    let store = ctx.open_read_only()?;
    let types = store.consent_types()?;
    ctx.emit(&types, |out| {
        if types.is_empty() {
            writeln!(
                out,
                "no consent types: add one with `crm-consent types add`"
            )?;
        }
        for t in &types {
            print_type(out, t)?;
        }
        Ok(())
    })
}

fn show(ctx: &mut Ctx<'_>, code: &str) -> Result<()> {
    let store = ctx.open_read_only()?;
    let shown = TypeWithTexts {
        consent_type: store.consent_type(code)?,
        texts: store.consent_type_texts(code)?,
    };
    ctx.emit(&shown, |out| {
        let t = &shown.consent_type;
        print_type(out, t)?;
        if let Some(d) = &t.description {
            writeln!(out, "  description: {d}")?;
        }
        let allowed: Vec<String> = Permission::ALL
            .iter()
            .map(|p| format!("{}: {}", p.0, yes_no(t.allows(p.0))))
            .collect();
        writeln!(out, "  {}", allowed.join("  "))?;
        for text in &shown.texts {
            writeln!(
                out,
                "  text v{} ({}): {}",
                text.version,
                day(text.created_at),
                text.text
            )?;
        }
        Ok(())
    })
}

/// One line: `newsletter  "Newsletter"  365 days  bulk_email  (text v2)`.
pub(crate) fn print_type(out: &mut dyn Write, t: &ConsentType) -> std::io::Result<()> {
    let validity = match t.validity_days {
        Some(days) => format!("{days} days"),
        None => "no expiry".to_owned(),
    };
    let channels: Vec<&str> = Permission::ALL
        .iter()
        .filter(|p| t.allows(p.0))
        .map(|p| p.0.as_str())
        .collect();
    let channels = if channels.is_empty() {
        "no channel".to_owned()
    } else {
        channels.join(", ")
    };
    writeln!(
        out,
        "{:<16} \"{}\"  {validity}  {channels}  (text v{})",
        t.code, t.title, t.text_version
    )
}
