//! The product's error vocabulary, the same through every door: a stable
//! snake_case code for programs, one message with each cause once, and a hint
//! saying what to do next.
//!
//! The CLI prints a [`Failure`] (as `{"error": ...}` with `--json`) and the
//! HTTP API answers it with a status chosen from its code, so a CRM sees one
//! vocabulary either way. What only one door knows stays there: exit statuses
//! and usage errors in `cli`, statuses in `http`.
//!
//! The code comes from the typed errors of the library (`code()` on each
//! error enum), never from the text of a message: a message may be reworded,
//! a code never changes.

mod codes;
mod hints;

use std::error::Error;

use serde::Serialize;

use crate::conformance::ConformanceError;
use crate::engine::EngineError;
use crate::hooks::HookError;
use crate::import::ImportError;
use crate::pages::PageError;
use crate::setup::SetupError;
use crate::store::StoreError;

/// A failure as the doors report it; the CLI's `--json` prints
/// `{"error": <this>}`.
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
    /// The code, message and hint of a library error, under any context.
    pub fn of(error: &anyhow::Error) -> Self {
        Failure::coded(error, code(error))
    }

    /// The message and hint of `error`, with a code a door found itself.
    pub(crate) fn coded(error: &anyhow::Error, code: &'static str) -> Self {
        Failure {
            code,
            message: message(error),
            hint: hints::hint(error),
        }
    }
}

/// The code of the outermost typed error in the chain; `error` when the
/// failure comes from outside the library (e.g. writing the output).
fn code(error: &anyhow::Error) -> &'static str {
    error.chain().find_map(cause_code).unwrap_or("error")
}

/// The code of one cause, when it is a typed error of the library (or an
/// I/O error).
pub(crate) fn cause_code(cause: &(dyn Error + 'static)) -> Option<&'static str> {
    if let Some(e) = cause.downcast_ref::<StoreError>() {
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

/// The input at fault, for a validation error of the store. The store names
/// fields for people ("contact name"); the input's key is the last word
/// (`name`).
pub(crate) fn field(error: &anyhow::Error) -> Option<String> {
    error
        .chain()
        .find_map(|c| c.downcast_ref::<StoreError>().and_then(store_field))
}

fn store_field(e: &StoreError) -> Option<String> {
    let last = |label: &str| label.rsplit(' ').next().unwrap_or(label).to_owned();
    match e {
        StoreError::EmptyField(f) | StoreError::TooLong { field: f, .. } => Some(last(f)),
        StoreError::Invalid { field, .. } | StoreError::BadDate { field, .. } => {
            Some((*field).to_owned())
        }
        _ => None,
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
}
