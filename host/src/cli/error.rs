//! How the CLI reports a failure: one message with each cause once, a stable
//! snake_case code for scripts, a hint saying what to do next, and the exit
//! status.
//!
//! The code comes from the typed errors of the library (`code()` on each
//! error enum), never from the text of a message: a message may be reworded,
//! a code never changes.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::exit;
use crate::conformance::ConformanceError;
use crate::engine::EngineError;
use crate::hooks::HookError;
use crate::import::ImportError;
use crate::pages::PageError;
use crate::setup::SetupError;
use crate::store::{Catalog, StoreError};

/// The errors the CLI itself raises, for what only the command line knows.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// No database at the `--db` path: only `init` creates one.
    #[error(
        "no consent database at `{}`: run `crm-consent init` first (or pass --db PATH)",
        .0.display()
    )]
    NoDatabase(PathBuf),
    /// A command whose options are all optional got none that it needs.
    #[error("{0}")]
    MissingArgument(&'static str),
    /// `--evidence` is not JSON; holds serde_json's message.
    #[error(
        "`--evidence` is not valid JSON ({0}); pass a JSON object, e.g. `{{\"ip\": \"192.0.2.1\"}}`"
    )]
    BadEvidence(String),
    /// `ledger verify` found a problem: the first thing that differs.
    #[error(
        "the ledger does not verify ({kind}): {message}; keep this file as it is for \
         investigation, and restore a backup that verifies"
    )]
    LedgerBroken {
        /// The kind of problem, snake_case (`edited`, `projection_differs`, ...).
        kind: &'static str,
        /// What differs, naming the entry or row.
        message: String,
    },
    /// `setup upgrade` with no plugin installed: install one first.
    #[error(
        "nothing to upgrade: no plugin is installed in `{}`; use `crm-consent setup install`",
        .0.display()
    )]
    NothingToUpgrade(PathBuf),
    /// `demo` would overwrite a file that is not a demo database.
    #[error(
        "`{}` exists and is not a demo database; the demo only replaces its own file \
         (pass another path with --db)",
        .0.display()
    )]
    NotADemo(PathBuf),
}

impl CliError {
    /// A stable snake_case name for the kind of error; see [`StoreError::code`].
    pub const fn code(&self) -> &'static str {
        match self {
            CliError::NoDatabase(_) => "no_database",
            CliError::MissingArgument(_) => "missing_argument",
            CliError::BadEvidence(_) => "bad_evidence",
            CliError::LedgerBroken { .. } => "ledger_broken",
            CliError::NothingToUpgrade(_) => "nothing_to_upgrade",
            CliError::NotADemo(_) => "not_a_demo_database",
        }
    }
}

/// A failure as the CLI prints it; with `--json`, `{"error": <this>}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Stable, snake_case: `unknown_code`, `no_database`, `usage`, ...
    pub code: &'static str,
    /// The error and its causes, each once, joined with `: `.
    pub message: String,
    /// What to do next, when the message does not say it already.
    pub hint: Option<String>,
}

impl Failure {
    pub fn of(error: &anyhow::Error) -> Self {
        if let Some(usage) = error.downcast_ref::<clap::Error>() {
            return Failure::usage(usage);
        }
        Failure {
            code: code(error),
            message: message(error),
            hint: hint(error),
        }
    }

    fn usage(error: &clap::Error) -> Self {
        let rendered = error.render().to_string();
        let first = rendered.lines().next().unwrap_or_default();
        Failure {
            code: "usage",
            message: first.strip_prefix("error: ").unwrap_or(first).to_owned(),
            hint: Some("see `crm-consent --help`, or `--help` after any command".to_owned()),
        }
    }

    /// [`exit::USAGE`] for a bad command line, else [`exit::ERROR`].
    pub fn exit_code(&self) -> u8 {
        if self.code == "usage" {
            exit::USAGE
        } else {
            exit::ERROR
        }
    }
}

/// Prints `error` and returns the exit status.
///
/// Text goes to `err` as `error: <message>` and, when there is one,
/// `hint: <hint>`. With `--json` the object `{"error":{"code":...,
/// "message":...,"hint":...}}` goes on one line to `out`, so that stdout
/// holds one JSON document whatever happens (stderr may carry log lines).
pub fn report(error: &anyhow::Error, json: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let failure = Failure::of(error);
    // Nothing more can be reported when stdout or stderr is gone.
    let _ = if json {
        // A struct, not `json!`, so the fields keep their order: code first.
        #[derive(Serialize)]
        struct Wrapped<'a> {
            error: &'a Failure,
        }
        match serde_json::to_string(&Wrapped { error: &failure }) {
            Ok(line) => writeln!(out, "{line}"),
            Err(e) => writeln!(
                err,
                "error: {} (and cannot print it as JSON: {e})",
                failure.message
            ),
        }
    } else {
        match &failure.hint {
            Some(hint) => writeln!(err, "error: {}\nhint: {hint}", failure.message),
            None => writeln!(err, "error: {}", failure.message),
        }
    };
    failure.exit_code()
}

/// Whether the command line asks for `--json` (read before parsing, so that
/// a usage error is reported in JSON too).
pub fn wants_json<T: AsRef<std::ffi::OsStr>>(args: &[T]) -> bool {
    args.iter()
        .skip(1)
        .map(AsRef::as_ref)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}

/// The code of the outermost typed error in the chain; `error` when the
/// failure comes from outside the library (e.g. writing the output).
fn code(error: &anyhow::Error) -> &'static str {
    error
        .chain()
        .find_map(|cause| {
            if let Some(e) = cause.downcast_ref::<CliError>() {
                Some(e.code())
            } else if let Some(e) = cause.downcast_ref::<StoreError>() {
                Some(e.code())
            } else if let Some(e) = cause.downcast_ref::<HookError>() {
                Some(e.code())
            } else if let Some(e) = cause.downcast_ref::<SetupError>() {
                Some(e.code())
            } else if let Some(e) = cause.downcast_ref::<EngineError>() {
                Some(e.code())
            } else if let Some(e) = cause.downcast_ref::<PageError>() {
                Some(e.code())
            } else if let Some(e) = cause.downcast_ref::<ImportError>() {
                Some(e.code())
            } else if let Some(e) = cause.downcast_ref::<ConformanceError>() {
                Some(e.code())
            } else {
                cause.downcast_ref::<std::io::Error>().map(io_code)
            }
        })
        .unwrap_or("error")
}

fn io_code(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => "file_not_found",
        std::io::ErrorKind::PermissionDenied => "permission_denied",
        _ => "io_error",
    }
}

/// The messages of the chain, each cause once.
///
/// Library errors often show their source in their own message ("plugin
/// refused: X", whose source is X) and rusqlite's errors chain the same
/// sentence twice more, so a plain `{:#}` says everything two or three times.
/// A cause already contained in an earlier message is left out, and one that
/// contains the message before it replaces it.
pub fn message(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || parts.iter().any(|p| p.contains(text)) {
            continue;
        }
        match parts.last_mut() {
            Some(last) if text.contains(last.as_str()) => *last = text.to_owned(),
            _ => parts.push(text.to_owned()),
        }
    }
    parts.join(": ")
}

/// What to do next, for the errors whose message does not say it.
fn hint(error: &anyhow::Error) -> Option<String> {
    error.chain().find_map(|cause| {
        let store = cause
            .downcast_ref::<StoreError>()
            .or_else(|| match cause.downcast_ref::<HookError>() {
                Some(HookError::Store(e)) => Some(e),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref::<SetupError>() {
                Some(SetupError::Store(e)) => Some(e),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref::<PageError>() {
                Some(PageError::Store(e)) => Some(e),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref::<ImportError>() {
                Some(ImportError::Store(e)) => Some(e),
                _ => None,
            });
        if let Some(e) = store {
            return store_hint(e);
        }
        match cause.downcast_ref::<HookError>()? {
            HookError::ReasonNotOffered { .. } => Some(
                "run `crm-consent check send|dial|sms <contact>` to see the reasons offered"
                    .to_owned(),
            ),
            _ => None,
        }
    })
}

fn store_hint(e: &StoreError) -> Option<String> {
    let list = |command: &str| Some(format!("list them with `crm-consent {command}`"));
    match e {
        StoreError::UnknownCode { kind, .. } | StoreError::UnknownId { kind, .. } => {
            list(catalog_command(*kind))
        }
        StoreError::UnknownContact(_) => list("contacts list"),
        StoreError::UnknownReason(_) => list("reasons list"),
        StoreError::UnknownPlugin(_) => list("setup list"),
        StoreError::UnknownMessage(_) => list("outbox list --all"),
        _ => None,
    }
}

/// The command that lists a catalog.
fn catalog_command(kind: Catalog) -> &'static str {
    match kind {
        Catalog::ConsentType => "types list",
        Catalog::Status => "statuses list",
        Catalog::Method => "methods list",
        Catalog::Reason => "reasons list",
        Catalog::Purpose => "purposes list",
        Catalog::SubscriptionType => "subscriptions list",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn a_cause_contained_in_the_message_before_it_is_said_once() {
        let sqlite = anyhow::Error::new(std::io::Error::other("file is not a database"))
            .context("SQLite: file is not a database")
            .context("cannot open database /tmp/x.db");
        assert_eq!(
            message(&sqlite),
            "cannot open database /tmp/x.db: SQLite: file is not a database"
        );
    }

    #[test]
    fn a_cause_that_extends_the_message_before_it_replaces_it() {
        let e = anyhow::Error::new(std::io::Error::other("plugin refused: bad"))
            .context("plugin refused");
        assert_eq!(message(&e), "plugin refused: bad");
    }

    #[test]
    fn codes_come_from_the_typed_error_under_any_context() {
        let e: anyhow::Result<()> = Err(StoreError::UnknownContact(crate::store::ContactId(9)))
            .context("cannot justify contacting contact 9");
        let e = e.unwrap_err();
        assert_eq!(code(&e), "unknown_contact");
        let hook = anyhow::Error::new(HookError::Store(StoreError::EmptyField("name")));
        assert_eq!(code(&hook), "empty_field");
        assert_eq!(code(&anyhow::anyhow!("something else")), "error");
    }

    #[test]
    fn json_is_asked_for_before_a_lone_double_dash_only() {
        assert!(wants_json(&["crm-consent", "types", "list", "--json"]));
        assert!(!wants_json(&["crm-consent", "--", "--json"]));
        assert!(!wants_json(&["--json"]));
    }
}
