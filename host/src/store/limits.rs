//! Size limits on what people type into the store. Several of these values
//! enter the hash chain, which is kept forever and replayed by every
//! `ledger verify`: a 100 KB actor name would be copied into every entry it
//! records. The limits are generous for real use and small enough that no
//! single field dominates a row.

use super::{Result, StoreError};

/// Names and titles: contacts, catalog entries. 200 characters covers the
/// longest legal company names.
pub const MAX_NAME: usize = 200;
/// Who recorded a change (a user name, `import`, `form`). Enters the chain.
pub const MAX_ACTOR: usize = 200;
/// Where a consent came from (`web form`, `import: file.xlsx`). Enters the chain.
pub const MAX_SOURCE: usize = 500;
/// A consent type's text, the words a person agrees to. Enters the chain, so
/// that the text itself is proven; 64 KiB is a long privacy notice.
pub const MAX_TEXT: usize = 64 * 1024;
/// A description or a reason's label.
pub const MAX_LABEL: usize = 1000;
/// Evidence of one consent (IP, user agent, form payload), as JSON. Kept
/// beside the chain, which holds its hash.
pub const MAX_EVIDENCE: usize = 16 * 1024;
/// An operator's justification text.
pub const MAX_JUSTIFICATION: usize = 2000;

/// Refuses `value` if it is longer than `max` characters.
/// An `Idempotency-Key` header: Stripe allows 255 characters; a UUID needs 36.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

pub(crate) fn check_len(field: &'static str, value: &str, max: usize) -> Result<()> {
    let len = value.chars().count();
    if len > max {
        return Err(StoreError::TooLong { field, len, max });
    }
    Ok(())
}
