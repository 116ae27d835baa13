//! Many contacts in columns (WIT `contact-batch`): one call per newsletter
//! instead of one per recipient.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::config::Policy;
use super::types::{
    ConsentRecord, Contact, ContactRow, Preference, PurposeBasis, Request, Verdict,
};

/// A batch's columns do not fit together (row counts that do not add up to
/// the column lengths, or, for [`Columns`](super::Columns), columns of one
/// kind with different lengths or an enum column with an unknown case
/// index). Nothing of the batch is decided: a shifted column would pin one
/// contact's consents on another (WIT `batch-error`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchError {
    /// Names the offending column and what is wrong with it.
    pub message: String,
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for BatchError {}

impl Policy {
    /// Decides every row with the same rules as [`Policy::decide`]. Contact
    /// i owns the next `rows[i].consents` entries of `consents`, and likewise
    /// for `bases` and `preferences`; the counts must add up exactly to the
    /// column lengths, or nothing is decided (a shifted column would pin one
    /// contact's consents on another).
    pub fn decide_batch(
        &self,
        req: &Request,
        rows: &[ContactRow],
        consents: &[ConsentRecord],
        bases: &[PurposeBasis],
        preferences: &[Preference],
    ) -> Result<Vec<Verdict>, BatchError> {
        check_column("consents", rows.iter().map(|r| r.consents), consents.len())?;
        check_column("bases", rows.iter().map(|r| r.bases), bases.len())?;
        check_column(
            "preferences",
            rows.iter().map(|r| r.preferences),
            preferences.len(),
        )?;

        let (mut c, mut b, mut p) = (consents, bases, preferences);
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            // The sums were checked above, so these splits are in bounds.
            let (mine_c, rest_c) = c.split_at(row.consents as usize);
            let (mine_b, rest_b) = b.split_at(row.bases as usize);
            let (mine_p, rest_p) = p.split_at(row.preferences as usize);
            (c, b, p) = (rest_c, rest_b, rest_p);
            let contact = Contact {
                flags: row.flags,
                consents: mine_c,
                bases: mine_b,
                preferences: mine_p,
            };
            out.push(self.rule(contact, req).verdict());
        }
        Ok(out)
    }
}

/// Sums in u64 so that a hostile batch cannot wrap the total around.
fn check_column(
    name: &str,
    counts: impl Iterator<Item = u32>,
    len: usize,
) -> Result<(), BatchError> {
    let claimed: u64 = counts.map(u64::from).sum();
    if claimed == len as u64 {
        Ok(())
    } else {
        Err(BatchError {
            message: format!(
                "the rows claim {claimed} entries in the {name} column, but it has {len}"
            ),
        })
    }
}
