//! The `crm-consent` command line: git-like subcommands over the host library.
//!
//! This is the only library module that uses `anyhow`: the store, engine,
//! hooks and setup return their own typed errors, and the CLI adds context
//! (which database, which file) at this edge. Every command prints text for
//! people, or with `--json` the serde_json of its result.
//!
//! [`run`](crate::cli::run) is the whole program minus the process: `main`
//! passes argv and stdout, and tests pass their own arguments and a buffer.

pub(crate) mod audit;
mod bulk;
mod catalog;
pub(crate) mod check;
pub(crate) mod consent;
mod contacts;
mod ctx;
mod demo;
mod error;
mod export;
mod import;
mod limits;
mod names;
mod pages;
mod plugin;
mod retention;
mod rights;
mod serve;
mod setup;
mod subscriptions;
mod types;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

pub(crate) use self::ctx::Ctx;
pub use self::error::{CliError, Failure, message, report, wants_json};
use crate::store::ContactId;

/// The `--help` text.
const ABOUT: &str = "GDPR consent rules for a CRM, as a WebAssembly plugin: \
define consents, record them in a hash-chained ledger, and ask the plugin \
before every email, newsletter and call.";

/// The exit statuses, shown by `--help` and documented in the README.
const EXIT_STATUS: &str = "\
Exit status:
  0  done; for `check send|dial|sms`: allow
  1  error (with --json, a JSON error object on stdout)
  2  usage error: a bad command line
  3  `check send|dial|sms`: deny
  4  `check send|dial|sms`: justify first (`crm-consent justify ...`)
  5  `plugin test`: some conformance cases failed";

/// The process's exit statuses; [`Finished::exit_code`] and `main` use them.
pub mod exit {
    pub const OK: u8 = 0;
    pub const ERROR: u8 = 1;
    /// A bad command line (clap's own code).
    pub const USAGE: u8 = 2;
    /// `check send|dial|sms`: the plugin denies.
    pub const DENY: u8 = 3;
    /// `check send|dial|sms`: the operator must justify first.
    pub const JUSTIFY: u8 = 4;
    /// `plugin test`: some conformance cases failed.
    pub const FAILED: u8 = 5;
}

/// How a command that ran to its end came out.
///
/// A deny or a justify is not an error (the command did its job and printed
/// the decision), but a script must not go on as if it were an allow:
/// `crm-consent check send 2 && mail ...` only mails on an allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Done; for `check send|dial|sms`, the plugin allows.
    Done,
    /// `check send|dial|sms`: the plugin denies.
    Denied,
    /// `check send|dial|sms`: the operator must justify first.
    JustifyNeeded,
    /// `plugin test`: the report is printed, and some cases failed.
    Failed,
}

impl Finished {
    /// The process's exit status, one of [`exit`].
    pub const fn exit_code(self) -> u8 {
        match self {
            Finished::Done => exit::OK,
            Finished::Denied => exit::DENY,
            Finished::JustifyNeeded => exit::JUSTIFY,
            Finished::Failed => exit::FAILED,
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "crm-consent",
    version,
    about = ABOUT,
    after_help = EXIT_STATUS,
    propagate_version = true
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// The consent database, an SQLite file
    /// [default: $XDG_DATA_HOME/crm-consent/consent.db]
    #[arg(long, global = true, env = "CRM_CONSENT_DB", value_name = "PATH")]
    db: Option<PathBuf>,
    /// Print machine-readable JSON instead of text
    #[arg(long, global = true)]
    json: bool,
    /// Who is acting, recorded in the ledger and the decision log [default: $USER]
    #[arg(long, global = true, env = "CRM_CONSENT_ACTOR", value_name = "NAME")]
    actor: Option<String>,
    /// Where compiled plugins are cached between runs
    /// [default: $XDG_CACHE_HOME/crm-consent]
    #[arg(long, global = true, env = "CRM_CONSENT_CACHE", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Act as if it were this time (RFC 3339 or YYYY-MM-DD), for replayable
    /// scripts and tests [default: now]
    #[arg(long, global = true, hide_short_help = true, value_name = "TIME")]
    now: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new, empty consent database
    Init,
    /// Install, upgrade and roll back the plugin; the privacy switches
    #[command(subcommand)]
    Setup(setup::SetupCommand),
    /// Consent types: what a person can agree to, for how long, on which channels
    #[command(subcommand)]
    Types(types::TypesCommand),
    /// Justification reasons an operator picks to contact without consent
    #[command(subcommand)]
    Reasons(catalog::ReasonsCommand),
    /// Consent statuses: the 4 built-in ones and custom ones with a DPV meaning
    #[command(subcommand)]
    Statuses(catalog::StatusesCommand),
    /// Ways of giving consent (CRM form, email, paper, ...)
    #[command(subcommand)]
    Methods(catalog::MethodsCommand),
    /// Purposes of processing, each with a default legal basis
    #[command(subcommand)]
    Purposes(catalog::PurposesCommand),
    /// Subscription types and each contact's choices
    #[command(subcommand)]
    Subscriptions(subscriptions::SubscriptionsCommand),
    /// Contacts, their flags, legal bases and relations
    #[command(subcommand)]
    Contacts(contacts::ContactsCommand),
    /// Erase a contact's personal data (Art. 17), one level down its cascading relations
    Erase(rights::EraseArgs),
    /// Correct a contact's name, email or phone (Art. 16)
    Rectify(rights::RectifyArgs),
    /// Record, withdraw and show consents
    #[command(subcommand)]
    Consent(consent::ConsentCommand),
    /// Ask the plugin whether an email, a call or a newsletter may go out
    #[command(subcommand)]
    Check(check::CheckCommand),
    /// Go on after a "justify" decision, with one of the offered reasons
    Justify(check::JustifyArgs),
    /// Import consents from a csv, xls, xlsx or ods file: all rows or none
    Import(import::ImportArgs),
    /// The consent ledger
    #[command(subcommand)]
    Ledger(audit::LedgerCommand),
    /// Everything that happened to a contact, oldest first
    Timeline {
        /// The contact's id
        contact: i64,
    },
    /// The decisions logged for a contact, or replay one
    Decisions(audit::DecisionsArgs),
    /// Everything about a contact, for an access or portability request
    /// (Art. 15 and 20): JSON-LD with W3C DPV terms, or CSV
    Export(export::ExportArgs),
    /// Build a demo database and run a newsletter, a send and a call
    Demo {
        /// Then keep serving the demo database (API and pages) until Ctrl-C
        #[arg(long)]
        serve: bool,
        /// Where `--serve` listens
        #[arg(
            long,
            default_value = "127.0.0.1:8080",
            value_name = "ADDR",
            requires = "serve"
        )]
        listen: std::net::SocketAddr,
    },
    /// Serve the JSON API under /api/v1 (see /api/v1/openapi.json)
    Serve(serve::ServeArgs),
    /// API keys of the HTTP service, each with a role
    #[command(subcommand)]
    Keys(serve::KeysCommand),
    /// The link email, form and confirmation email templates
    #[command(subcommand)]
    Templates(pages::TemplatesCommand),
    /// Messages waiting for the CRM to send (form links, confirmations)
    #[command(subcommand)]
    Outbox(pages::OutboxCommand),
    /// Where contact links point, and a contact's preference-centre link
    #[command(subcommand)]
    Links(pages::LinksCommand),
    /// Consent campaigns, and erasing who did not consent after the window
    #[command(subcommand)]
    Retention(retention::RetentionCommand),
    /// Upgrade an existing contact base (SuperOffice's GDPR upgrade)
    #[command(subcommand)]
    Migrate(bulk::MigrateCommand),
    /// Check a plugin file against the conformance vectors, or give it a limits manifest
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
}

/// Runs the command line `args` (argv\[0\] first) and writes its output to `out`.
///
/// `--help` and `--version` are written to `out` too. Usage errors come back
/// as a [`clap::Error`] inside the `anyhow::Error` (main exits 2 for them),
/// everything else as the error of the command that failed. A command that
/// ran says how it came out, for the exit status.
pub fn run<I, T>(args: I, out: &mut dyn Write) -> Result<Finished>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            write!(out, "{}", e.render())?;
            return Ok(Finished::Done);
        }
        Err(e) => return Err(e.into()),
    };
    let cli = Cli::from_arg_matches(&matches)?;
    // The demo replaces its file, so it uses only a path typed on its own
    // command line, never CRM_CONSENT_DB (which may name the real database).
    let db_typed = matches.value_source("db") == Some(ValueSource::CommandLine);
    let mut ctx = Ctx::new(cli.global, out)?;
    let done = match cli.command {
        // The only command whose outcome is more than done or failed.
        Command::Check(cmd) => return check::run(&mut ctx, cmd),
        Command::Plugin(cmd) => return plugin::run(&mut ctx, cmd),
        Command::Init => setup::init(&mut ctx),
        Command::Setup(cmd) => setup::run(&mut ctx, cmd),
        Command::Types(cmd) => types::run(&mut ctx, cmd),
        Command::Reasons(cmd) => catalog::reasons(&mut ctx, cmd),
        Command::Statuses(cmd) => catalog::statuses(&mut ctx, cmd),
        Command::Methods(cmd) => catalog::methods(&mut ctx, cmd),
        Command::Purposes(cmd) => catalog::purposes(&mut ctx, cmd),
        Command::Subscriptions(cmd) => subscriptions::run(&mut ctx, cmd),
        Command::Contacts(cmd) => contacts::run(&mut ctx, cmd),
        Command::Consent(cmd) => consent::run(&mut ctx, cmd),
        Command::Erase(args) => rights::erase(&mut ctx, args),
        Command::Rectify(args) => rights::rectify(&mut ctx, args),
        Command::Justify(args) => check::justify(&mut ctx, args),
        Command::Import(args) => import::run(&mut ctx, args),
        Command::Ledger(cmd) => audit::ledger(&mut ctx, cmd),
        Command::Timeline { contact } => audit::timeline(&mut ctx, ContactId(contact)),
        Command::Decisions(args) => audit::decisions(&mut ctx, args),
        Command::Export(args) => export::run(&mut ctx, args),
        Command::Serve(args) => serve::serve(&mut ctx, args),
        Command::Keys(cmd) => serve::keys(&mut ctx, cmd),
        Command::Retention(cmd) => retention::run(&mut ctx, cmd),
        Command::Demo { serve, listen } => {
            let path = if db_typed {
                ctx.db.clone()
            } else {
                demo::default_path()
            };
            let serve = serve.then_some(listen);
            demo::run(&mut ctx, demo::DemoOptions { path, serve })
        }
        Command::Templates(cmd) => pages::templates(&mut ctx, cmd),
        Command::Outbox(cmd) => pages::outbox(&mut ctx, cmd),
        Command::Links(cmd) => pages::links(&mut ctx, cmd),
        Command::Migrate(cmd) => bulk::migrate(&mut ctx, cmd),
    };
    done.map(|()| Finished::Done)
}

/// A time as people read it in a list, in UTC.
pub(crate) fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// A day, for expiry dates.
pub(crate) fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// `yes` / `no` for flags in lists.
pub(crate) fn yes_no(on: bool) -> &'static str {
    if on { "yes" } else { "no" }
}
