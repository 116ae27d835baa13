//! The plugin config a logged decision was made under, stored once per
//! distinct config and cited by its SHA-256.
//!
//! A hook logs the config with every deny and justify, so that the decision
//! can be replayed. The config is the same for thousands of rows (it changes
//! only with setup), and at about 2 KB it was most of each row: most of what
//! the one writer wrote. So a row's `request` keeps `config_sha256` in place
//! of `config`, and `decision_configs` keeps the text, content-addressed.
//!
//! The chain still covers the config: a row's hash covers its `request`
//! text, and so the config's SHA-256; `ledger verify` hashes every stored
//! config again and checks that each one cited is there. Reading a decision
//! puts the config back, so a replay and the API see the request as logged.
//! Rows logged before this table existed keep their config inline.

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension};

use super::chain::{sha256_hex, short};
use super::ledger::{LedgerProblem, LedgerProblemKind};
use super::{DecisionId, Result};

/// The key a row's request cites its config by.
pub(super) const CITES: &str = "config_sha256";
/// The key a hook's request holds the config under.
const CONFIG: &str = "config";

/// A config as the log stores it: its JSON text and the text's SHA-256.
/// A hook makes it once per loaded config and cites it from every row
/// logged under it.
pub(crate) struct CitedConfig {
    pub(super) sha256: String,
    pub(super) text: String,
}

impl CitedConfig {
    /// `config` (a JSON object) as it is stored and cited.
    pub(crate) fn new(config: &serde_json::Value) -> Result<Self> {
        let text = serde_json::to_string(config)?;
        Ok(CitedConfig {
            sha256: sha256_hex(text.as_bytes()),
            text,
        })
    }
}

/// The request as stored, and the config it cites if one was taken out: a
/// JSON object's `config` object becomes `config_sha256`.
pub(super) fn cite(request: &serde_json::Value) -> Result<(String, Option<Arc<CitedConfig>>)> {
    let Some(fields) = request.as_object() else {
        return Ok((serde_json::to_string(request)?, None));
    };
    let Some(config @ serde_json::Value::Object(_)) = fields.get(CONFIG) else {
        return Ok((serde_json::to_string(request)?, None));
    };
    if fields.contains_key(CITES) {
        // Never a hook's request; kept as sent rather than guessed at.
        return Ok((serde_json::to_string(request)?, None));
    }
    let config = CitedConfig::new(config)?;
    let fields = fields.iter().map(|(key, value)| (key.as_str(), value));
    Ok((cited_text(fields, &config)?, Some(Arc::new(config))))
}

/// The stored text of a request made of `fields` and `config`: the fields
/// but `config`, and `config_sha256`, in the sorted key order of a JSON
/// object here.
/// The fields are borrowed: every deny and justify passes through, and a
/// copy of the request would copy the config too.
pub(crate) fn cited_text<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a serde_json::Value)>,
    config: &CitedConfig,
) -> Result<String> {
    let cited = serde_json::Value::String(config.sha256.clone());
    let mut stored = std::collections::BTreeMap::<&str, &serde_json::Value>::new();
    for (key, value) in fields {
        if key != CONFIG {
            stored.insert(key, value);
        }
    }
    stored.insert(CITES, &cited);
    Ok(serde_json::to_string(&stored)?)
}

/// Stores `config` unless a row already cited it. Looked up first: most
/// rows cite a stored config, and an `INSERT OR IGNORE` would check the
/// text's `json_valid` (a parse of the whole config) before it ignored.
pub(super) fn store(conn: &Connection, config: &CitedConfig) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO decision_configs (sha256, config) SELECT ?1, ?2
         WHERE NOT EXISTS (SELECT 1 FROM decision_configs WHERE sha256 = ?1)",
    )?
    .execute([&config.sha256, &config.text])?;
    Ok(())
}

/// Puts the cited config back into a stored request (`config` is the text
/// the row's join found, if any).
pub(super) fn restore(
    mut request: serde_json::Value,
    config: Option<&str>,
) -> serde_json::Result<serde_json::Value> {
    if let (Some(fields), Some(text)) = (request.as_object_mut(), config)
        && fields.remove(CITES).is_some()
    {
        fields.insert(CONFIG.to_owned(), serde_json::from_str(text)?);
    }
    Ok(request)
}

/// The first stored config whose text does not hash to its key, or the
/// first decision citing a config that is not stored.
pub(super) fn verify(conn: &Connection) -> Result<Option<LedgerProblem>> {
    let mut stmt = conn.prepare("SELECT sha256, config FROM decision_configs ORDER BY rowid")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let key = row.get_ref(0)?.as_str()?;
        let computed = sha256_hex(row.get_ref(1)?.as_bytes()?);
        if computed != key {
            return Ok(Some(problem(
                None,
                format!(
                    "the decision config {} was edited: its text hashes to {}",
                    short(key),
                    short(&computed)
                ),
            )));
        }
    }
    let missing: Option<(i64, String)> = conn
        .query_row(
            "SELECT d.id, CAST(json_extract(d.request, '$.config_sha256') AS TEXT) FROM decisions d
             WHERE json_extract(d.request, '$.config_sha256') IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM decision_configs c
                               WHERE c.sha256 = json_extract(d.request, '$.config_sha256'))
             ORDER BY d.id LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(missing.map(|(id, sha)| {
        problem(
            Some(DecisionId(id)),
            format!(
                "decision {id} cites the config {}, which is missing",
                short(&sha)
            ),
        )
    }))
}

fn problem(decision: Option<DecisionId>, message: String) -> LedgerProblem {
    LedgerProblem {
        kind: LedgerProblemKind::DecisionLog,
        seq: None,
        decision,
        table: Some("decision_configs".to_owned()),
        message,
    }
}
