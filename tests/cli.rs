//! The `crm-consent` command line, in process: every command through
//! `crm_consent::cli::run` on a real SQLite file, with the bundled plugin.
//! One module per part of the CLI; the fixture is in `cli/support.rs`.

#[path = "cli/support.rs"]
mod support;

#[path = "cli/audit.rs"]
mod audit;
#[path = "cli/bulk.rs"]
mod bulk;
#[path = "cli/catalog.rs"]
mod catalog;
#[path = "cli/chain.rs"]
mod chain;
#[path = "cli/checks.rs"]
mod checks;
#[path = "cli/consent.rs"]
mod consent;
#[path = "cli/contacts.rs"]
mod contacts;
#[path = "cli/demo.rs"]
mod demo;
#[path = "cli/errors.rs"]
mod errors;
#[path = "cli/examples.rs"]
mod examples;
#[path = "cli/export.rs"]
mod export;
#[path = "cli/import.rs"]
mod import;
#[path = "cli/limits.rs"]
mod limits;
#[path = "cli/opening.rs"]
mod opening;
#[path = "cli/pages.rs"]
mod pages;
#[path = "cli/plugin.rs"]
mod plugin;
#[path = "cli/retention.rs"]
mod retention;
#[path = "cli/rights.rs"]
mod rights;
#[path = "cli/setup.rs"]
mod setup;
#[path = "cli/vocabulary.rs"]
mod vocabulary;
