//! API keys of the HTTP service: made, listed, revoked and checked here.
//!
//! A key reads `crmc_<id>_<secret>`: the id finds the row without a scan, the
//! secret is 32 random bytes (base64url), and only its sha256 is stored. A
//! fast hash is enough because the secret has 256 bits of entropy: there is
//! nothing to guess. The hashes are compared in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::limits::{MAX_ACTOR, MAX_NAME, check_len};
use super::vocabulary::parse_column;
use super::{Result, Role, Store, StoreError, secs, time};

const PREFIX: &str = "crmc_";

/// A key as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    /// The key's id, the number after `crmc_`.
    pub id: i64,
    /// What it is for, e.g. `voip-bridge`.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Who made it.
    pub created_by: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just made: the only time its secret is seen.
#[derive(Debug, Clone, Serialize)]
pub struct NewApiKey {
    /// The key as listed.
    #[serde(flatten)]
    pub key: ApiKey,
    /// The whole key to send as `Authorization: Bearer <key>`.
    pub secret: String,
}

/// Why a presented key was not accepted. Deliberately coarse: a caller
/// learns that its key is wrong or revoked, never which part was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefused {
    /// Not a key of this installation, or malformed.
    Unknown,
    /// A key that was revoked.
    Revoked,
}

impl Store {
    /// Makes a key for `role`; its secret is in the answer and nowhere else.
    pub fn create_api_key(&mut self, name: &str, role: Role, actor: &str) -> Result<NewApiKey> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::EmptyField("name"));
        }
        check_len("name", name, MAX_NAME)?;
        check_len("actor", actor, MAX_ACTOR)?;
        let mut secret = [0_u8; 32];
        getrandom::fill(&mut secret).map_err(|e| StoreError::Invalid {
            field: "key",
            why: format!("the system's random source failed: {e}"),
        })?;
        let secret = URL_SAFE_NO_PAD.encode(secret);
        let hash = Sha256::digest(secret.as_bytes());
        let now = (self.clock)();
        let id = self.in_write(|tx| {
            tx.execute(
                "INSERT INTO api_keys (name, role, secret_sha256, created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, role.as_str(), hash.as_slice(), secs(now), actor],
            )?;
            Ok(tx.last_insert_rowid())
        })?;
        Ok(NewApiKey {
            secret: format!("{PREFIX}{id}_{secret}"),
            key: self.api_key(id)?,
        })
    }

    /// Every key, newest first, revoked ones included.
    pub fn api_keys(&self) -> Result<Vec<ApiKey>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{SELECT} ORDER BY id DESC"))?;
        let rows = stmt.query_map([], key_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One key by id.
    pub fn api_key(&self, id: i64) -> Result<ApiKey> {
        self.conn
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], key_row)
            .optional()?
            .ok_or(StoreError::UnknownApiKey(id))
    }

    /// Revokes a key: it stops working at once. Revoking twice is a no-op.
    pub fn revoke_api_key(&mut self, id: i64, actor: &str) -> Result<ApiKey> {
        self.api_key(id)?;
        let now = (self.clock)();
        self.in_write(|tx| {
            tx.execute(
                "UPDATE api_keys SET revoked_at = ?2, revoked_by = ?3
                 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, secs(now), actor],
            )?;
            Ok(())
        })?;
        self.api_key(id)
    }

    /// The key a caller presented, if it is live.
    pub fn authenticate(&self, presented: &str) -> Result<std::result::Result<ApiKey, KeyRefused>> {
        let Some((id, secret)) = split_key(presented) else {
            return Ok(Err(KeyRefused::Unknown));
        };
        // One cached statement: this runs before every API request.
        let stored: Option<(Vec<u8>, ApiKey)> = self
            .conn
            .prepare_cached(KEY_BY_ID)?
            .query_row([id], |r| Ok((r.get(6)?, key_row(r)?)))
            .optional()?;
        let Some((hash, key)) = stored else {
            return Ok(Err(KeyRefused::Unknown));
        };
        let presented_hash = Sha256::digest(secret.as_bytes());
        if !bool::from(presented_hash.as_slice().ct_eq(&hash)) {
            return Ok(Err(KeyRefused::Unknown));
        }
        if key.revoked_at.is_some() {
            return Ok(Err(KeyRefused::Revoked));
        }
        Ok(Ok(key))
    }
}

const SELECT: &str = "SELECT id, name, role, created_at, created_by, revoked_at FROM api_keys";
/// The key check's statement, a literal: it runs before every request.
const KEY_BY_ID: &str = "SELECT id, name, role, created_at, created_by, revoked_at, secret_sha256
     FROM api_keys WHERE id = ?1";

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: r.get(0)?,
        name: r.get(1)?,
        role: parse_column(r, 2)?,
        created_at: time(r.get(3)?)?,
        created_by: r.get(4)?,
        revoked_at: r.get::<_, Option<i64>>(5)?.map(time).transpose()?,
    })
}

/// `crmc_<id>_<secret>` into its id and secret.
fn split_key(presented: &str) -> Option<(i64, &str)> {
    let rest = presented.trim().strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let id = id.parse().ok()?;
    (!secret.is_empty()).then_some((id, secret))
}
