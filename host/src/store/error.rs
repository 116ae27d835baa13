//! The one error type of the store. Every message names the input that was
//! wrong, so the CLI and the HTTP layer can show it to an admin unchanged.

use std::fmt;
use std::path::PathBuf;

use super::ids::{ConsentTypeId, ContactId, PluginId, ReasonId};
use super::vocabulary::ParseError;

/// What kind of catalog entry a code or id refers to; used in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalog {
    ConsentType,
    Status,
    Method,
    Reason,
    Purpose,
    SubscriptionType,
}

impl Catalog {
    pub const fn as_str(self) -> &'static str {
        match self {
            Catalog::ConsentType => "consent type",
            Catalog::Status => "consent status",
            Catalog::Method => "way of giving consent",
            Catalog::Reason => "justification reason",
            Catalog::Purpose => "purpose",
            Catalog::SubscriptionType => "subscription type",
        }
    }
}

impl fmt::Display for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {} does not exist; create it first", .0.display())]
    MissingDatabase(PathBuf),
    #[error("database {} already exists; open it instead", .0.display())]
    DatabaseExists(PathBuf),
    /// `valid` holds the catalog's codes, queried when the error is built
    /// (see `catalog::unknown_code`): the message suggests the nearest one
    /// and lists them. Empty when they were not looked up.
    #[error("unknown {kind} `{code}`{}", Suggestion { code, valid })]
    UnknownCode {
        kind: Catalog,
        code: String,
        valid: Vec<String>,
    },
    #[error("unknown {kind} id {id}")]
    UnknownId { kind: Catalog, id: i64 },
    #[error("consent type {type_id} has no text version {version}")]
    UnknownTextVersion {
        type_id: ConsentTypeId,
        version: u32,
    },
    #[error("unknown contact id {0}")]
    UnknownContact(ContactId),
    #[error("unknown justification reason id {0}")]
    UnknownReason(ReasonId),
    #[error("unknown plugin id {0}")]
    UnknownPlugin(PluginId),
    #[error("duplicate {kind} code \"{code}\"")]
    DuplicateCode { kind: Catalog, code: String },
    #[error("{kind} \"{code}\" is built in and cannot be edited or deleted")]
    Locked { kind: Catalog, code: String },
    #[error("{kind} \"{code}\" is used by {uses} record(s) and cannot be {action}")]
    InUse {
        kind: Catalog,
        code: String,
        uses: i64,
        action: &'static str,
    },
    #[error("bad date in {field}: \"{value}\" ({why})")]
    BadDate {
        field: &'static str,
        value: String,
        why: &'static str,
    },
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("{0} must not be empty")]
    EmptyField(&'static str),
    #[error("invalid {field}: {why}")]
    Invalid { field: &'static str, why: String },
    #[error("unknown {what} \"{value}\" stored in the database")]
    CorruptValue { what: &'static str, value: String },
    /// Not a `source`: rusqlite's error chains the same sentence once more
    /// and then SQLite's description of the code, so a report of the chain
    /// would say "file is not a database" three times.
    #[error("SQLite: {0}")]
    Sqlite(rusqlite::Error),
    #[error("the database's schema (version {version}) cannot be used: {why}")]
    Migration { version: usize, why: String },
    #[error("`{}` is not a crm-consent database: {why}; point --db at a database made by `crm-consent init`", path.display())]
    NotOurDatabase { path: PathBuf, why: &'static str },
    #[error("`{}` is not initialized yet; run `crm-consent init` first (or wait for the one running)", .0.display())]
    NotInitialized(PathBuf),
    #[error("`{}` was opened read-only; this command changes it, so open it writable", .0.display())]
    ReadOnly(PathBuf),
    #[error(
        "the stored bytes of plugin {id} no longer hash to its sha256 `{sha256}`; the database was tampered with: run `crm-consent ledger verify` and reinstall the plugin"
    )]
    PluginBytesChanged { id: PluginId, sha256: String },
    #[error("{field} is {len} characters long; at most {max} are allowed")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// `; did you mean `newsletter`? valid codes: email, newsletter, phone`.
struct Suggestion<'a> {
    code: &'a str,
    valid: &'a [String],
}

impl Suggestion<'_> {
    /// A long catalog is cut here; the CLI's hint names the command that
    /// lists it whole.
    const MAX_LISTED: usize = 20;
    /// How alike (Jaro-Winkler, 0 to 1) a code must be to be suggested: a
    /// typo or a missing letter is, an unrelated word is not.
    const ALIKE: f64 = 0.8;

    fn nearest(&self) -> Option<&str> {
        self.valid
            .iter()
            .map(|v| (strsim::jaro_winkler(self.code, v), v))
            .filter(|(score, _)| *score >= Self::ALIKE)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for Suggestion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.valid.is_empty() {
            return Ok(());
        }
        if let Some(near) = self.nearest() {
            write!(f, "; did you mean `{near}`?")?;
        } else {
            f.write_str(";")?;
        }
        let listed = &self.valid[..self.valid.len().min(Self::MAX_LISTED)];
        write!(f, " valid codes: {}", listed.join(", "))?;
        match self.valid.len() - listed.len() {
            0 => Ok(()),
            more => write!(f, " and {more} more"),
        }
    }
}

impl StoreError {
    /// A stable snake_case name for the kind of error, for scripts and HTTP
    /// clients: `--json` prints it as `{"error":{"code":...}}`. Never change
    /// one; add a variant with a new code instead.
    pub const fn code(&self) -> &'static str {
        match self {
            StoreError::MissingDatabase(_) => "no_database",
            StoreError::DatabaseExists(_) => "database_exists",
            StoreError::UnknownCode { .. } => "unknown_code",
            StoreError::UnknownId { .. } => "unknown_id",
            StoreError::UnknownTextVersion { .. } => "unknown_text_version",
            StoreError::UnknownContact(_) => "unknown_contact",
            StoreError::UnknownReason(_) => "unknown_reason",
            StoreError::UnknownPlugin(_) => "unknown_plugin",
            StoreError::DuplicateCode { .. } => "duplicate_code",
            StoreError::Locked { .. } => "locked",
            StoreError::InUse { .. } => "in_use",
            StoreError::BadDate { .. } => "bad_date",
            StoreError::Parse(_) => "unknown_value",
            StoreError::EmptyField(_) => "empty_field",
            StoreError::Invalid { .. } => "invalid_value",
            StoreError::CorruptValue { .. } => "corrupt_database",
            StoreError::Sqlite(_) => "database_error",
            StoreError::Migration { .. } => "migration_failed",
            StoreError::NotOurDatabase { .. } => "not_our_database",
            StoreError::NotInitialized(_) => "not_initialized",
            StoreError::ReadOnly(_) => "read_only",
            StoreError::PluginBytesChanged { .. } => "plugin_bytes_changed",
            StoreError::TooLong { .. } => "too_long",
            StoreError::Json(_) => "json_error",
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

impl From<rusqlite::types::FromSqlError> for StoreError {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        StoreError::Sqlite(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(code: &str, valid: &[&str]) -> String {
        StoreError::UnknownCode {
            kind: Catalog::ConsentType,
            code: code.to_owned(),
            valid: valid.iter().map(|v| v.to_string()).collect(),
        }
        .to_string()
    }

    #[test]
    fn an_unknown_code_suggests_the_nearest_valid_one() {
        assert_eq!(
            unknown("newsleter", &["email", "newsletter", "phone"]),
            "unknown consent type `newsleter`; did you mean `newsletter`? \
             valid codes: email, newsletter, phone"
        );
        assert_eq!(
            unknown("fax", &["email", "newsletter", "phone"]),
            "unknown consent type `fax`; valid codes: email, newsletter, phone"
        );
        assert_eq!(unknown("fax", &[]), "unknown consent type `fax`");
    }

    #[test]
    fn a_long_catalog_is_cut_after_twenty_codes() {
        let valid: Vec<String> = (0..25).map(|i| format!("type_{i:02}")).collect();
        let valid: Vec<&str> = valid.iter().map(String::as_str).collect();
        let message = unknown("fax", &valid);
        assert!(message.ends_with("type_19 and 5 more"), "{message}");
        assert!(!message.contains("type_20"), "{message}");
    }

    #[test]
    fn codes_are_snake_case() {
        let errors = [
            StoreError::EmptyField("name"),
            StoreError::UnknownContact(ContactId(1)),
            StoreError::Sqlite(rusqlite::Error::InvalidQuery),
        ];
        for e in errors {
            let code = e.code();
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
        }
    }
}
