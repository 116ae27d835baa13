//! A batch as the WIT `contact-batch` carries it: columns of integers, enum
//! columns holding case indices. Lists of integers cross the component
//! boundary as one copy, so a newsletter to 100k contacts moves a few flat
//! arrays instead of 100k records written field by field.
//!
//! Each contact is decoded into small scratch buffers and decided with the
//! same rule as [`Policy::decide`]; nothing the size of the batch is built
//! besides the verdicts.

use alloc::format;
use alloc::vec::Vec;

use super::batch::BatchError;
use super::config::Policy;
use super::types::{
    ConsentRecord, ConsentStatus, Contact, ContactFlags, LegalBasis, Preference, PurposeBasis,
    Request, SubscriptionState, Verdict,
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
    let claimed: usize = counts.iter().map(|&c| usize::from(c)).sum();
    if claimed == len {
        Ok(())
    } else {
        Err(BatchError {
            message: format!(
                "{name} counts add up to {claimed} but the columns hold {len} entries"
            ),
        })
    }
}

fn decode<T: Copy>(table: &[T], index: u8, column: &str) -> Result<T, BatchError> {
    table
        .get(usize::from(index))
        .copied()
        .ok_or_else(|| BatchError {
            message: format!("{column} holds the unknown case index {index}"),
        })
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
        let mut consents: Vec<ConsentRecord> = Vec::new();
        let mut bases: Vec<PurposeBasis> = Vec::new();
        let mut preferences: Vec<Preference> = Vec::new();
        let (mut c, mut b, mut p) = (0usize, 0usize, 0usize);
        for i in 0..contacts {
            consents.clear();
            bases.clear();
            preferences.clear();
            for k in c..c + usize::from(cols.consent_counts[i]) {
                consents.push(ConsentRecord {
                    type_id: cols.consent_types[k],
                    status: decode(&STATUSES, cols.consent_statuses[k], "consent-statuses")?,
                    // The rules read a record's status and type, never these.
                    legal_basis: LegalBasis::Consent,
                    given_at: cols.consent_given_at[k],
                    method_id: 0,
                });
            }
            for k in b..b + usize::from(cols.basis_counts[i]) {
                bases.push(PurposeBasis {
                    purpose_id: cols.basis_purposes[k],
                    legal_basis: decode(&BASES, cols.basis_legal_bases[k], "basis-legal-bases")?,
                });
            }
            for k in p..p + usize::from(cols.preference_counts[i]) {
                preferences.push(Preference {
                    subscription_type_id: cols.preference_types[k],
                    state: decode(&STATES, cols.preference_states[k], "preference-states")?,
                });
            }
            c += consents.len();
            b += bases.len();
            p += preferences.len();
            let contact = Contact {
                flags: ContactFlags::from_bits(cols.flags[i]),
                consents: &consents,
                bases: &bases,
                preferences: &preferences,
            };
            out.push(self.verdict(contact, req));
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
