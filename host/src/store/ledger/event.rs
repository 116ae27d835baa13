//! Ledger events: the one way a fact that a decision reads is written down.
//!
//! Three kinds of entry:
//! - `consent`: a consent change, with its own body (see `ConsentBody`);
//! - `row_put`: a row of a projected table as it is after the change (a
//!   contact's flags, a preference, a purpose basis, a catalog entry, the
//!   switches, a plugin's row without its bytes);
//! - `row_delete`: the key of a projected row that was removed.
//!
//! The write path changes the table with ordinary SQL and then records the
//! row as it now reads (`put_row`), in the same transaction. `verify`
//! replays the events into an empty schema with `apply_row` and compares,
//! so a row changed behind the store's back is named.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params_from_iter};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::super::chain::{self, EntryFields, LedgerHead};
use super::super::{ContactId, LedgerSeq, Result, StoreError};

/// A table that decisions read, kept as a projection of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Table {
    Contacts,
    ContactRelations,
    ContactPurposes,
    SubscriptionPreferences,
    ConsentTypes,
    ConsentTypeTexts,
    /// What a person read in their language is evidence like the text.
    ConsentTypeTranslations,
    Statuses,
    Methods,
    Reasons,
    Purposes,
    SubscriptionTypes,
    Switches,
    Plugins,
}

impl Table {
    /// In dependency order: a rebuild that compares tables in this order
    /// names a catalog difference before the contact rows it explains.
    pub const ALL: [Table; 14] = [
        Table::Switches,
        Table::Statuses,
        Table::Methods,
        Table::Reasons,
        Table::Purposes,
        Table::SubscriptionTypes,
        Table::ConsentTypes,
        Table::ConsentTypeTexts,
        Table::ConsentTypeTranslations,
        Table::Plugins,
        Table::Contacts,
        Table::ContactRelations,
        Table::ContactPurposes,
        Table::SubscriptionPreferences,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Table::Contacts => "contacts",
            Table::ContactRelations => "contact_relations",
            Table::ContactPurposes => "contact_purposes",
            Table::SubscriptionPreferences => "subscription_preferences",
            Table::ConsentTypes => "consent_types",
            Table::ConsentTypeTexts => "consent_type_texts",
            Table::ConsentTypeTranslations => "consent_type_translations",
            Table::Statuses => "statuses",
            Table::Methods => "methods",
            Table::Reasons => "reasons",
            Table::Purposes => "purposes",
            Table::SubscriptionTypes => "subscription_types",
            Table::Switches => "switches",
            Table::Plugins => "plugins",
        }
    }

    pub const fn key(self) -> &'static [&'static str] {
        match self {
            Table::ContactPurposes => &["contact_id", "purpose_id"],
            Table::SubscriptionPreferences => &["contact_id", "subscription_type_id"],
            Table::ConsentTypeTexts => &["type_id", "version"],
            _ => &["id"],
        }
    }

    /// Columns kept out of the ledger, with the value a rebuild writes in
    /// their place. A plugin's bytes are proven by its `sha256` column.
    pub const fn outside(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Table::Plugins => &[("bytes", "x''")],
            _ => &[],
        }
    }

    fn parse(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// The body of a `row_put` entry.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RowPut {
    pub table: Table,
    pub row: Map<String, Json>,
}

/// The body of a `row_delete` entry.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RowDelete {
    pub table: Table,
    pub key: Map<String, Json>,
}

/// Where an appended entry landed in the chain.
pub(crate) struct Appended {
    pub seq: LedgerSeq,
    pub prev_hash: String,
    pub hash: String,
}

/// Appends one entry to the chain and moves the head. Runs inside the
/// caller's transaction; `recorded_at` comes from the store's clock.
pub(crate) fn append_entry(
    tx: &Connection,
    kind: &str,
    contact: Option<ContactId>,
    body: &str,
    actor: &str,
    recorded_at: i64,
) -> Result<Appended> {
    let head = chain::head(tx)?;
    let seq = head.seq.0 + 1;
    let hash = chain::entry_hash(&EntryFields {
        seq,
        kind,
        contact_id: contact.map(|c| c.0),
        actor,
        recorded_at,
        body,
        prev_hash: &head.hash,
    });
    tx.prepare_cached(
        "INSERT INTO ledger (seq, kind, contact_id, body, actor, recorded_at, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(rusqlite::params![
        seq,
        kind,
        contact,
        body,
        actor,
        recorded_at,
        head.hash,
        hash
    ])?;
    let seq = LedgerSeq(seq);
    let new_head = LedgerHead { seq, hash };
    chain::set_head(tx, &new_head, recorded_at)?;
    Ok(Appended {
        seq,
        prev_hash: head.hash,
        hash: new_head.hash,
    })
}

fn key_clause(table: Table) -> String {
    table
        .key()
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k} = ?{}", i + 1))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn to_json(value: ValueRef<'_>) -> Result<Json> {
    Ok(match value {
        ValueRef::Null => Json::Null,
        ValueRef::Integer(i) => Json::from(i),
        ValueRef::Real(f) => Json::from(f),
        ValueRef::Text(t) => {
            Json::from(
                std::str::from_utf8(t).map_err(|_| StoreError::CorruptValue {
                    what: "text",
                    value: String::from_utf8_lossy(t).into_owned(),
                })?,
            )
        }
        ValueRef::Blob(_) => {
            return Err(StoreError::CorruptValue {
                what: "blob in a ledger row",
                value: String::new(),
            });
        }
    })
}

fn to_sql(value: &Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Integer(i64::from(*b)),
        Json::Number(n) => n
            .as_i64()
            .map(Value::Integer)
            .unwrap_or_else(|| Value::Real(n.as_f64().unwrap_or_default())),
        Json::String(s) => Value::Text(s.clone()),
        other => Value::Text(other.to_string()),
    }
}

/// Reads one projected row as it is now, without the columns kept outside
/// the ledger; `None` if there is no such row.
pub(crate) fn read_row(
    conn: &Connection,
    table: Table,
    key: &[i64],
) -> Result<Option<Map<String, Json>>> {
    let sql = format!("SELECT * FROM {} WHERE {}", table.name(), key_clause(table));
    let mut stmt = conn.prepare_cached(&sql)?;
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt.query(params_from_iter(key))?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let mut map = Map::new();
    for (i, name) in names.iter().enumerate() {
        if table.outside().iter().any(|(c, _)| c == name) {
            continue;
        }
        map.insert(name.clone(), to_json(row.get_ref(i)?)?);
    }
    Ok(Some(map))
}

/// Records the row of `table` with this key as it now reads.
pub(crate) fn put_row(
    tx: &Connection,
    table: Table,
    key: &[i64],
    contact: Option<ContactId>,
    actor: &str,
    recorded_at: i64,
) -> Result<LedgerSeq> {
    let row = read_row(tx, table, key)?.ok_or_else(|| StoreError::CorruptValue {
        what: "row to record",
        value: format!(
            "{} row {}",
            table.name(),
            key.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })?;
    let body = serde_json::to_string(&RowPut { table, row })?;
    Ok(append_entry(tx, "row_put", contact, &body, actor, recorded_at)?.seq)
}

/// Records that the row of `table` with this key was removed.
pub(crate) fn delete_row(
    tx: &Connection,
    table: Table,
    key: &[i64],
    contact: Option<ContactId>,
    actor: &str,
    recorded_at: i64,
) -> Result<LedgerSeq> {
    let key: Map<String, Json> = table
        .key()
        .iter()
        .zip(key)
        .map(|(k, v)| ((*k).to_owned(), Json::from(*v)))
        .collect();
    let body = serde_json::to_string(&RowDelete { table, key })?;
    Ok(append_entry(tx, "row_delete", contact, &body, actor, recorded_at)?.seq)
}

/// Replays a `row_put` or `row_delete` body into `conn` (the rebuild).
pub(crate) fn apply_row(conn: &Connection, kind: &str, body: &str) -> Result<()> {
    let bad = |why: &str| StoreError::CorruptValue {
        what: "ledger entry body",
        value: format!("{why}: {}", body.chars().take(120).collect::<String>()),
    };
    match kind {
        "row_put" => {
            let put: RowPut = serde_json::from_str(body).map_err(|e| bad(&e.to_string()))?;
            let table = put.table;
            let mut cols: Vec<&str> = put.row.keys().map(String::as_str).collect();
            let mut values: Vec<Value> = put.row.values().map(to_sql).collect();
            let mut holders: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
            for (c, literal) in table.outside() {
                cols.push(c);
                holders.push((*literal).to_owned());
            }
            let updates = put
                .row
                .keys()
                .filter(|c| !table.key().contains(&c.as_str()))
                .map(|c| format!("{c} = excluded.{c}"))
                .collect::<Vec<_>>();
            let conflict = if updates.is_empty() {
                "DO NOTHING".to_owned()
            } else {
                format!("DO UPDATE SET {}", updates.join(", "))
            };
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) {conflict}",
                table.name(),
                cols.join(", "),
                holders.join(", "),
                table.key().join(", ")
            );
            values.truncate(put.row.len());
            conn.prepare_cached(&sql)?
                .execute(params_from_iter(values))?;
            Ok(())
        }
        "row_delete" => {
            let del: RowDelete = serde_json::from_str(body).map_err(|e| bad(&e.to_string()))?;
            let key: Vec<Value> = del
                .table
                .key()
                .iter()
                .map(|k| del.key.get(*k).map(to_sql).unwrap_or(Value::Null))
                .collect();
            let sql = format!(
                "DELETE FROM {} WHERE {}",
                del.table.name(),
                key_clause(del.table)
            );
            conn.prepare_cached(&sql)?.execute(params_from_iter(key))?;
            Ok(())
        }
        other => Err(bad(&format!("unknown entry kind `{other}`"))),
    }
}

/// Which table a `row_put`/`row_delete` body is about, for messages.
pub(crate) fn table_of(body: &str) -> Option<Table> {
    let v: Json = serde_json::from_str(body).ok()?;
    Table::parse(v.get("table")?.as_str()?)
}
