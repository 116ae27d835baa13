//! How the CLI reports a failure: the shared vocabulary of
//! [`crate::failure`] (a stable code, each cause once, a hint), plus what only
//! the command line knows: its own errors, usage errors and the exit status.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::exit;
pub use crate::failure::{Failure, message};

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

impl Failure {
    /// The failure as the command line reports it: a usage error, an error
    /// the CLI raised, or any library error as [`Failure::of`] sees it.
    pub fn of_command_line(error: &anyhow::Error) -> Self {
        if let Some(usage) = error.downcast_ref::<clap::Error>() {
            return Failure::usage(usage);
        }
        Failure::coded(error, code(error))
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
    let failure = Failure::of_command_line(error);
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

/// The code of the outermost typed error in the chain, the CLI's own errors
/// included; `error` when the failure comes from outside the library.
fn code(error: &anyhow::Error) -> &'static str {
    error
        .chain()
        .find_map(|cause| match cause.downcast_ref::<CliError>() {
            Some(e) => Some(e.code()),
            None => crate::failure::cause_code(cause),
        })
        .unwrap_or("error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clis_own_errors_have_their_code_under_any_context() {
        let e = anyhow::Error::new(CliError::MissingArgument("give --name"))
            .context("cannot flag contact 1");
        let failure = Failure::of_command_line(&e);
        assert_eq!(failure.code, "missing_argument");
        assert_eq!(failure.exit_code(), exit::ERROR);
        let library = anyhow::Error::new(crate::store::StoreError::EmptyField("name"));
        assert_eq!(Failure::of_command_line(&library).code, "empty_field");
    }

    #[test]
    fn a_bad_command_line_is_a_usage_error() {
        use clap::CommandFactory as _;
        let e = super::super::Cli::command()
            .try_get_matches_from(["crm-consent", "frobnicate"])
            .unwrap_err();
        let failure = Failure::of_command_line(&e.into());
        assert_eq!(failure.code, "usage");
        assert_eq!(failure.exit_code(), exit::USAGE);
    }

    #[test]
    fn json_is_asked_for_before_a_lone_double_dash_only() {
        assert!(wants_json(&["crm-consent", "types", "list", "--json"]));
        assert!(!wants_json(&["crm-consent", "--", "--json"]));
        assert!(!wants_json(&["--json"]));
    }
}
