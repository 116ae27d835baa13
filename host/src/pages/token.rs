//! Signed link tokens: `<claims>.<mac>`, both base64url without padding.
//! The claims are a small JSON object; the MAC is HMAC-SHA256 under the
//! installation's link secret, over a version tag and the encoded claims,
//! compared in constant time. Nothing in a token is secret (a contact id, a
//! few type ids, times): it is signed, not encrypted.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::PageError;
use crate::store::{ConsentTypeId, ContactId, LedgerSeq, StoreError};

type HmacSha256 = Hmac<Sha256>;

/// Bound into every MAC, so a later token format can never be taken for
/// this one.
const VERSION_TAG: &[u8] = b"crm-consent link v1.";
/// Tokens longer than this are refused before any decoding: a real one is
/// a few hundred characters.
const MAX_TOKEN_LEN: usize = 2048;

/// What a link opens. Part of the signed claims, so a preference link can
/// never be used as a form link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LinkKind {
    Form,
    Preferences,
    Confirmation,
}

/// What a token binds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Claims {
    #[serde(rename = "k")]
    pub kind: LinkKind,
    #[serde(rename = "c")]
    pub contact: ContactId,
    /// The contact's link generation when it was issued; rotating revokes.
    #[serde(rename = "g")]
    pub generation: u32,
    /// Random: names this link in the evidence of what it changed.
    #[serde(rename = "i")]
    pub id: String,
    /// Form: the consent types offered. Confirmation: the one confirmed.
    #[serde(rename = "t", default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<ConsentTypeId>,
    /// Confirmation: the `requested` ledger entry it answers.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub request: Option<LedgerSeq>,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds: the link works while `now < exp`.
    pub exp: i64,
}

/// A new random link id: 128 bits, base64url.
pub(crate) fn new_id() -> Result<String, PageError> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Invalid {
        field: "link id",
        why: format!("the system's random source failed: {e}"),
    })?;
    Ok(B64.encode(bytes))
}

fn mac(secret: &[u8; 32], claims: &str) -> HmacSha256 {
    // An HMAC key may have any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a 32-byte key");
    mac.update(VERSION_TAG);
    mac.update(claims.as_bytes());
    mac
}

/// Signs `claims` into a token.
pub(crate) fn sign(secret: &[u8; 32], claims: &Claims) -> Result<String, PageError> {
    let json = serde_json::to_vec(claims).map_err(StoreError::from)?;
    let encoded = B64.encode(json);
    let tag = mac(secret, &encoded).finalize().into_bytes();
    Ok(format!("{encoded}.{}", B64.encode(tag)))
}

/// The claims of a token whose MAC holds under `secret`. A token cut short,
/// edited, or signed by another installation is [`PageError::Altered`]: the
/// three cannot be told apart, and need not be.
pub(crate) fn open(secret: &[u8; 32], token: &str) -> Result<Claims, PageError> {
    let token = token.trim();
    if token.len() > MAX_TOKEN_LEN {
        return Err(PageError::Altered);
    }
    let (encoded, tag) = token.split_once('.').ok_or(PageError::Altered)?;
    let tag = B64.decode(tag).map_err(|_| PageError::Altered)?;
    // `verify_slice` compares in constant time.
    mac(secret, encoded)
        .verify_slice(&tag)
        .map_err(|_| PageError::Altered)?;
    let json = B64.decode(encoded).map_err(|_| PageError::Altered)?;
    serde_json::from_slice(&json).map_err(|_| PageError::Altered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            kind: LinkKind::Form,
            contact: ContactId(7),
            generation: 0,
            id: "abc".into(),
            types: vec![ConsentTypeId(1), ConsentTypeId(2)],
            request: None,
            iat: 1_700_000_000,
            exp: 1_700_000_000 + 14 * 86_400,
        }
    }

    #[test]
    fn a_signed_token_opens_to_its_claims() {
        let secret = [7_u8; 32];
        let token = sign(&secret, &claims()).unwrap();
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        );
        assert_eq!(open(&secret, &token).unwrap(), claims());
    }

    #[test]
    fn another_secret_an_edit_or_a_cut_is_refused() {
        let secret = [7_u8; 32];
        let token = sign(&secret, &claims()).unwrap();
        assert!(matches!(open(&[8_u8; 32], &token), Err(PageError::Altered)));
        // Another contact in the claims, with the old MAC.
        let mut other = claims();
        other.contact = ContactId(8);
        let forged = sign(&[9_u8; 32], &other).unwrap();
        let (forged_claims, _) = forged.split_once('.').unwrap();
        let (_, mac) = token.split_once('.').unwrap();
        let spliced = format!("{forged_claims}.{mac}");
        assert!(matches!(open(&secret, &spliced), Err(PageError::Altered)));
        for cut in [&token[..token.len() - 1], &token[..10], "", ".", "a.b.c"] {
            assert!(
                matches!(open(&secret, cut), Err(PageError::Altered)),
                "{cut}"
            );
        }
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(matches!(open(&secret, &long), Err(PageError::Altered)));
    }
}
