//! A batch as the WIT `contact-batch` carries it: columns of integers, enum
//! columns holding case indices. Lists of integers cross the component
//! boundary as one copy, so a newsletter to 100k contacts moves a few flat
//! arrays instead of 100k records written field by field.
//!
//! Each contact is read in place from the columns and decided by the same
//! rule as [`Policy::decide`]; nothing is copied, and nothing the size of
//! the batch is built besides the verdicts.

use alloc::format;
use alloc::vec::Vec;

use super::batch::BatchError;
use super::config::Policy;
use super::decide::Facts;
use super::types::{
    ConsentStatus, ContactFlags, LegalBasis, Request, SubscriptionState, Timestamp, Verdict,
};

/// Borrowed columns of a batch (WIT `contact-batch`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Columns<'a> {
    /// Bits: 1 restricted, 2 objected, 4 opted out of all.
    pub flags: &'a [u8],
    pub consent_counts: &'a [u16],
    pub basis_counts: &'a [u16],
    pub preference_counts: &'a [u16],
    pub consent_types: &'a [u32],
    pub consent_statuses: &'a [u8],
    pub consent_given_at: &'a [i64],
    pub basis_purposes: &'a [u32],
    pub basis_legal_bases: &'a [u8],
    pub preference_types: &'a [u32],
    pub preference_states: &'a [u8],
}

pub const RESTRICTED: u8 = 1;
pub const OBJECTED: u8 = 2;
pub const OPTED_OUT_OF_ALL: u8 = 4;

impl ContactFlags {
    pub fn from_bits(bits: u8) -> ContactFlags {
        ContactFlags {
            restricted: bits & RESTRICTED != 0,
            objected: bits & OBJECTED != 0,
            opted_out_of_all: bits & OPTED_OUT_OF_ALL != 0,
        }
    }

    pub fn bits(self) -> u8 {
        let bit = |on: bool, bit: u8| if on { bit } else { 0 };
        bit(self.restricted, RESTRICTED)
            | bit(self.objected, OBJECTED)
            | bit(self.opted_out_of_all, OPTED_OUT_OF_ALL)
    }
}

const STATUSES: [ConsentStatus; 8] = [
    ConsentStatus::Requested,
    ConsentStatus::Given,
    ConsentStatus::Renewed,
    ConsentStatus::Refused,
    ConsentStatus::Withdrawn,
    ConsentStatus::Revoked,
    ConsentStatus::Expired,
    ConsentStatus::Invalidated,
];

const BASES: [LegalBasis; 8] = [
    LegalBasis::Consent,
    LegalBasis::Contract,
    LegalBasis::LegalObligation,
    LegalBasis::VitalInterest,
    LegalBasis::PublicInterest,
    LegalBasis::OfficialAuthority,
    LegalBasis::LegitimateInterest,
    LegalBasis::Withdrawn,
];

const STATES: [SubscriptionState; 3] = [
    SubscriptionState::OptedIn,
    SubscriptionState::NotSpecified,
    SubscriptionState::OptedOut,
];

fn same_length(what: &str, lens: &[(&str, usize)]) -> Result<usize, BatchError> {
    let (first, n) = lens[0];
    for &(name, len) in &lens[1..] {
        if len != n {
            return Err(BatchError {
                message: format!("{what}: column {name} has {len} entries but {first} has {n}"),
            });
        }
    }
    Ok(n)
}

fn sums_to(name: &str, counts: &[u16], len: usize) -> Result<(), BatchError> {
    // In u64, so that a hostile batch cannot wrap a 32-bit sum around.
    let claimed: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    if claimed == len as u64 {
        Ok(())
    } else {
        Err(BatchError {
            message: format!(
                "{name} counts add up to {claimed} but the columns hold {len} entries"
            ),
        })
    }
}

/// Refuses an enum column holding a case index past `cases`.
fn known_cases(column: &str, indices: &[u8], cases: usize) -> Result<(), BatchError> {
    // A max reduction, which the compiler vectorizes; only a bad column pays
    // for finding the culprit.
    let highest = indices.iter().fold(0u8, |m, &i| m.max(i));
    if usize::from(highest) < cases {
        return Ok(());
    }
    let index = indices
        .iter()
        .find(|&&i| usize::from(i) >= cases)
        .unwrap_or(&highest);
    Err(BatchError {
        message: format!("{column} holds the unknown case index {index}"),
    })
}

/// One contact of a batch, read in place from the columns. The enum columns
/// were checked before, so decoding cannot fail.
struct ColumnContact<'a> {
    flags: u8,
    consent_types: &'a [u32],
    consent_statuses: &'a [u8],
    consent_given_at: &'a [i64],
    basis_purposes: &'a [u32],
    basis_legal_bases: &'a [u8],
    preference_types: &'a [u32],
    preference_states: &'a [u8],
}

impl Facts for ColumnContact<'_> {
    fn flags(&self) -> ContactFlags {
        ContactFlags::from_bits(self.flags)
    }

    fn consents(&self) -> impl Iterator<Item = (u32, ConsentStatus, Timestamp)> {
        self.consent_types
            .iter()
            .zip(self.consent_statuses)
            .zip(self.consent_given_at)
            .map(|((&t, &s), &at)| (t, STATUSES[usize::from(s)], at))
    }

    fn bases(&self) -> impl Iterator<Item = (u32, LegalBasis)> {
        self.basis_purposes
            .iter()
            .zip(self.basis_legal_bases)
            .map(|(&p, &b)| (p, BASES[usize::from(b)]))
    }

    fn preferences(&self) -> impl Iterator<Item = (u32, SubscriptionState)> {
        self.preference_types
            .iter()
            .zip(self.preference_states)
            .map(|(&t, &s)| (t, STATES[usize::from(s)]))
    }
}

impl Columns<'_> {
    /// Checks that the columns fit together, so decoding cannot run off
    /// the end or pin one contact's consents on another.
    fn check(&self) -> Result<usize, BatchError> {
        let contacts = same_length(
            "contacts",
            &[
                ("flags", self.flags.len()),
                ("consent-counts", self.consent_counts.len()),
                ("basis-counts", self.basis_counts.len()),
                ("preference-counts", self.preference_counts.len()),
            ],
        )?;
        let consents = same_length(
            "consents",
            &[
                ("consent-types", self.consent_types.len()),
                ("consent-statuses", self.consent_statuses.len()),
                ("consent-given-at", self.consent_given_at.len()),
            ],
        )?;
        let bases = same_length(
            "bases",
            &[
                ("basis-purposes", self.basis_purposes.len()),
                ("basis-legal-bases", self.basis_legal_bases.len()),
            ],
        )?;
        let preferences = same_length(
            "preferences",
            &[
                ("preference-types", self.preference_types.len()),
                ("preference-states", self.preference_states.len()),
            ],
        )?;
        sums_to("consent", self.consent_counts, consents)?;
        sums_to("basis", self.basis_counts, bases)?;
        sums_to("preference", self.preference_counts, preferences)?;
        known_cases("consent-statuses", self.consent_statuses, STATUSES.len())?;
        known_cases("basis-legal-bases", self.basis_legal_bases, BASES.len())?;
        known_cases("preference-states", self.preference_states, STATES.len())?;
        Ok(contacts)
    }
}

impl Policy {
    /// Decides every contact of the columns with the same rule as
    /// [`Policy::decide`]. Columns that do not fit together, or an unknown
    /// enum index, decide nothing.
    pub fn decide_columns(
        &self,
        req: &Request,
        cols: &Columns<'_>,
    ) -> Result<Vec<Verdict>, BatchError> {
        let contacts = cols.check()?;
        let mut out = Vec::with_capacity(contacts);
        let (mut c, mut b, mut p) = (0usize, 0usize, 0usize);
        for i in 0..contacts {
            // `check` made the counts add up to the column lengths.
            let (nc, nb, np) = (
                usize::from(cols.consent_counts[i]),
                usize::from(cols.basis_counts[i]),
                usize::from(cols.preference_counts[i]),
            );
            let contact = ColumnContact {
                flags: cols.flags[i],
                consent_types: &cols.consent_types[c..c + nc],
                consent_statuses: &cols.consent_statuses[c..c + nc],
                consent_given_at: &cols.consent_given_at[c..c + nc],
                basis_purposes: &cols.basis_purposes[b..b + nb],
                basis_legal_bases: &cols.basis_legal_bases[b..b + nb],
                preference_types: &cols.preference_types[p..p + np],
                preference_states: &cols.preference_states[p..p + np],
            };
            (c, b, p) = (c + nc, b + nb, p + np);
            out.push(self.rule_for(&contact, req).verdict());
        }
        Ok(out)
    }
}

/// Index of a case in its WIT enum, for building columns natively.
pub fn status_index(s: ConsentStatus) -> u8 {
    STATUSES.iter().position(|&x| x == s).unwrap_or(0) as u8
}

pub fn basis_index(b: LegalBasis) -> u8 {
    BASES.iter().position(|&x| x == b).unwrap_or(0) as u8
}

pub fn state_index(s: SubscriptionState) -> u8 {
    STATES.iter().position(|&x| x == s).unwrap_or(0) as u8
}
