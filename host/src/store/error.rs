//! The one error type of the store. Every message names the input that was
//! wrong, so the CLI and the HTTP layer can show it to an admin unchanged.

use std::fmt;
use std::path::PathBuf;

use super::ids::{ConsentTypeId, ContactId, OutboxId, PluginId, ReasonId};
use super::vocabulary::ParseError;

/// What kind of catalog entry a code or id refers to; used in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalog {
    /// A kind of consent an admin defines (Italian CRM plugin), e.g.
    /// `newsletter`.
    ConsentType,
    /// A consent status (Livespace: four built in, plus custom ones).
    Status,
    /// A way of giving consent (Livespace: `crm_form`, `email`, ...).
    Method,
    /// A reason an operator picks to contact someone without consent
    /// (Italian CRM plugin).
    Reason,
    /// A purpose of processing with its default legal basis (SuperOffice).
    Purpose,
    /// A mailing list a contact opts in to or out of (SuperOffice, HubSpot).
    SubscriptionType,
}

impl Catalog {
    /// The catalog's name as an admin reads it in a message, e.g.
    /// `consent status`.
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

/// Everything the store refuses or fails at. The message is for the admin
/// or CRM developer reading the CLI or an HTTP response; [`StoreError::code`]
/// is for scripts.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No database file at the path. Opening never creates one, so a typo in
    /// `--db` cannot start an empty ledger next to the real one.
    #[error(
        "database `{}` does not exist; create it with `crm-consent init` first",
        .0.display()
    )]
    MissingDatabase(PathBuf),
    /// `init` found a file at the path already: creating never overwrites a
    /// ledger.
    #[error("database `{}` already exists; open it instead", .0.display())]
    DatabaseExists(PathBuf),
    /// A code that is not in the catalog, as typed by an admin or named by
    /// an import.
    ///
    /// `valid` holds the catalog's codes, queried when the error is built
    /// (see `catalog::unknown_code`): the message suggests the nearest one
    /// and lists them. Empty when they were not looked up.
    #[error("unknown {kind} `{code}`{}", Suggestion { code, valid })]
    UnknownCode {
        /// The catalog that was searched.
        kind: Catalog,
        /// The code as given.
        code: String,
        /// The catalog's codes, sorted.
        valid: Vec<String>,
    },
    /// No catalog entry has this id: a hook or an import named an entry that
    /// was deleted or never existed.
    #[error("unknown {kind} id `{id}`")]
    UnknownId {
        /// The catalog that was searched.
        kind: Catalog,
        /// The id as given.
        id: i64,
    },
    /// A consent names a text version its type never had: nobody can have
    /// agreed to words that did not exist (Art. 7(1)).
    #[error(
        "consent type #{type_id} has no text version `{version}`; \
         name one of the versions `crm-consent types show` lists"
    )]
    UnknownTextVersion {
        /// The consent type.
        type_id: ConsentTypeId,
        /// The version asked for.
        version: u32,
    },
    /// No contact has this id.
    #[error("unknown contact id `{0}`")]
    UnknownContact(ContactId),
    /// A justification names a reason id that is not in the catalog.
    #[error("unknown justification reason id `{0}`")]
    UnknownReason(ReasonId),
    /// No installed plugin has this id.
    #[error("unknown plugin id `{0}`")]
    UnknownPlugin(PluginId),
    /// No message in the outbox has this id.
    #[error("unknown outbox message id {0}")]
    UnknownMessage(OutboxId),
    /// A new or renamed catalog entry would take a code already in use;
    /// codes are stable identifiers in imports, URLs and the CLI.
    #[error("duplicate {kind} code `{code}`; choose another code")]
    DuplicateCode {
        /// The catalog.
        kind: Catalog,
        /// The code that is taken.
        code: String,
    },
    /// The entry is built in and locked (Livespace: the four built-in
    /// statuses and "via the CRM form" can be neither edited nor deleted).
    #[error(
        "{kind} `{code}` is built in and cannot be edited or deleted; add one of your own instead"
    )]
    Locked {
        /// The catalog.
        kind: Catalog,
        /// The locked entry's code.
        code: String,
    },
    /// The ledger or the decision log still cites the entry and must keep
    /// resolving it: the proof of consent (Art. 7(1)) outlives catalog edits.
    #[error(
        "{kind} `{code}` is used by {uses} record(s) and cannot be {action}: \
         the proof of consent must keep resolving it; add a new one instead"
    )]
    InUse {
        /// The catalog.
        kind: Catalog,
        /// The entry's code.
        code: String,
        /// How many records cite it.
        uses: i64,
        /// What was refused, e.g. `deleted`.
        action: &'static str,
    },
    /// A contact type or relation type that is not in its catalog.
    #[error("unknown {what} `{code}`; valid codes: {}", valid.join(", "))]
    UnknownKind {
        /// `contact type` or `relation type`.
        what: &'static str,
        /// The code as given.
        code: String,
        /// The catalog's codes, sorted.
        valid: Vec<String>,
    },
    /// A contact type or relation type code that is taken.
    #[error("duplicate {what} code `{code}`; choose another code")]
    DuplicateKind {
        /// `contact type` or `relation type`.
        what: &'static str,
        /// The code that is taken.
        code: String,
    },
    /// HubSpot: the email or phone of a contact to add or rectify matches
    /// the tombstone of an erased person (Art. 17).
    #[error(
        "this {field} belongs to a person whose data was erased on {} (Art. 17), so it cannot be added again by hand; add the contact with `--awaiting-own-consent` and send them a form link: it becomes usable once they give consent themselves",
        erased_at.format("%Y-%m-%d")
    )]
    ErasedBefore {
        /// `email` or `phone`.
        field: &'static str,
        /// When the matching contact was erased.
        erased_at: chrono::DateTime<chrono::Utc>,
    },
    /// The contact was erased (Art. 17): its personal data are gone and
    /// nothing more can be recorded for it.
    #[error(
        "contact {contact} was erased on {} (Art. 17); its data are gone and it cannot be changed or contacted; add the person again only if they ask to be",
        at.format("%Y-%m-%d")
    )]
    Erased {
        /// The erased contact.
        contact: ContactId,
        /// When it was erased.
        at: chrono::DateTime<chrono::Utc>,
    },
    /// A date that cannot be used: not RFC 3339 or `YYYY-MM-DD`, a consent
    /// given in the future, or one given before its text existed (Art. 7(1)).
    #[error("bad date in `{field}`: `{value}` ({why})")]
    BadDate {
        /// The input that held it, e.g. `given_at`.
        field: &'static str,
        /// The date as given.
        value: String,
        /// What is wrong with it and what to do instead.
        why: &'static str,
    },
    /// A name outside one of the store's closed vocabularies (a status
    /// meaning, legal basis, channel, ...), as typed or imported; the message
    /// lists the valid names.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A required field, such as a name or the actor, was empty or blank.
    #[error("{0} must not be empty")]
    EmptyField(&'static str),
    /// An input that breaks a rule of its own (a malformed code or email, a
    /// consent type with no channel, ...); `why` says which.
    #[error("invalid {field}: {why}")]
    Invalid {
        /// The input, e.g. `email` or `code`.
        field: &'static str,
        /// The rule it breaks, for the admin.
        why: String,
    },
    /// A stored value the store cannot read back: only a hand-edited or
    /// damaged file holds one. `crm-consent ledger verify` tells what else
    /// changed.
    #[error(
        "unknown {what} `{value}` stored in the database; \
         run `crm-consent ledger verify` to see what else changed"
    )]
    CorruptValue {
        /// What was being read, e.g. `ledger entry body`.
        what: &'static str,
        /// The value found, or why it could not be read.
        value: String,
    },
    /// SQLite itself failed: busy past the timeout, disk full, a damaged
    /// file, ...
    ///
    /// Not a `source`: rusqlite's error chains the same sentence once more
    /// and then SQLite's description of the code, so a report of the chain
    /// would say "file is not a database" three times.
    #[error("SQLite: {0}")]
    Sqlite(rusqlite::Error),
    /// The schema cannot be brought to this build's version: an upgrade
    /// failed and was rolled back, the file is newer than this build, or a
    /// read-only open found it in need of an upgrade.
    #[error("the database's schema (version {version}) cannot be used: {why}")]
    Migration {
        /// The schema version found, or the migration that failed.
        version: usize,
        /// What went wrong and what to do.
        why: String,
    },
    /// The file is not a crm-consent database (another program's SQLite
    /// file, not SQLite at all, or not a regular file). It is refused before
    /// a byte of it is written.
    #[error("`{}` is not a crm-consent database: {why}; point `--db` at a database made by `crm-consent init`", path.display())]
    NotOurDatabase {
        /// The file that was opened.
        path: PathBuf,
        /// How it was told apart.
        why: &'static str,
    },
    /// The file is empty: `init` is still running in another process, or
    /// crashed before writing the schema.
    #[error("`{}` is not initialized yet; run `crm-consent init` first (or wait for the one running)", .0.display())]
    NotInitialized(PathBuf),
    /// A write on a store opened with [`Store::open_read_only`](super::Store::open_read_only).
    #[error("`{}` was opened read-only; this command changes it, so open it writable", .0.display())]
    ReadOnly(PathBuf),
    /// A stored plugin's bytes no longer match the sha256 it was installed
    /// under, so logged decisions could not be replayed against the plugin
    /// that made them: someone edited the file.
    #[error(
        "the stored bytes of plugin {id} no longer hash to its sha256 `{sha256}`; the database was tampered with: run `crm-consent ledger verify` and reinstall the plugin"
    )]
    PluginBytesChanged {
        /// The plugin.
        id: PluginId,
        /// The sha256 it was installed under.
        sha256: String,
    },
    /// No decision has this id.
    #[error("no decision has the id {0}; `crm-consent decisions <contact>` lists a contact's")]
    UnknownDecision(super::DecisionId),
    /// No staff notification has this id.
    #[error("no staff notification has the id {0}")]
    UnknownNotification(i64),
    /// No consent campaign has this id.
    #[error("no consent campaign has the id {0}; `crm-consent retention list` shows them")]
    UnknownCampaign(i64),
    /// No API key has this id.
    #[error("no API key has the id {0}; `crm-consent keys list` shows them")]
    UnknownApiKey(i64),
    /// An `Idempotency-Key` came back with another request than the first.
    #[error(
        "the idempotency key `{0}` was already used for another request; \
         use a new key for a new request"
    )]
    IdempotencyKeyReused(String),
    /// A typed value exceeds its limit in [`limits`](super::limits): values
    /// that enter the hash chain are kept and replayed forever.
    #[error("{field} is {len} characters long; shorten it to at most {max}")]
    TooLong {
        /// The input, e.g. `actor`.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A JSON value (evidence, a logged request or summary) could not be
    /// written or read back; the message is serde_json's.
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
            StoreError::UnknownMessage(_) => "unknown_message",
            StoreError::DuplicateCode { .. } => "duplicate_code",
            StoreError::Locked { .. } => "locked",
            StoreError::InUse { .. } => "in_use",
            StoreError::UnknownKind { .. } => "unknown_code",
            StoreError::DuplicateKind { .. } => "duplicate_code",
            StoreError::ErasedBefore { .. } => "erased_before",
            StoreError::Erased { .. } => "contact_erased",
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
            StoreError::IdempotencyKeyReused(_) => "idempotency_key_reused",
            StoreError::UnknownApiKey(_) => "unknown_api_key",
            StoreError::UnknownNotification(_) => "unknown_notification",
            StoreError::UnknownCampaign(_) => "unknown_campaign",
            StoreError::UnknownDecision(_) => "unknown_decision",
            StoreError::Json(_) => "json_error",
        }
    }
}

/// The result of every store operation.
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
