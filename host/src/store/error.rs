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
    #[error("unknown {kind} code \"{code}\"")]
    UnknownCode { kind: Catalog, code: String },
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
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
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

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<rusqlite::types::FromSqlError> for StoreError {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        StoreError::Sqlite(e.into())
    }
}
