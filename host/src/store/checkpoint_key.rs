//! The installation's Ed25519 key that signs ledger checkpoints, made once
//! by `init` and never shown.

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use rusqlite::{Connection, params};

use super::{Result, StoreError};

pub(super) fn create(tx: &Connection, now: DateTime<Utc>) -> Result<()> {
    let mut secret = [0_u8; 32];
    getrandom::fill(&mut secret).map_err(|e| StoreError::Invalid {
        field: "signing key",
        why: format!("the system's random source failed: {e}"),
    })?;
    let key = SigningKey::from_bytes(&secret);
    tx.execute(
        "INSERT INTO instance_key (id, secret_key, public_key, created_at) VALUES (1, ?1, ?2, ?3)",
        params![
            &secret[..],
            hex::encode(key.verifying_key().as_bytes()),
            now.timestamp()
        ],
    )?;
    Ok(())
}

pub(super) fn signing_key(conn: &Connection) -> Result<SigningKey> {
    let secret: Vec<u8> = conn.query_row(
        "SELECT secret_key FROM instance_key WHERE id = 1",
        [],
        |row| row.get(0),
    )?;
    let secret: [u8; 32] = secret.try_into().map_err(|_| StoreError::CorruptValue {
        what: "signing key",
        value: "wrong length".to_owned(),
    })?;
    Ok(SigningKey::from_bytes(&secret))
}

pub(super) fn public_key(conn: &Connection) -> Result<String> {
    Ok(conn.query_row(
        "SELECT public_key FROM instance_key WHERE id = 1",
        [],
        |row| row.get(0),
    )?)
}
