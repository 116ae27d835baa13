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
///
/// Contact i has the flag bits `flags[i]` and owns the next
/// `consent_counts[i]` entries of the consent columns, and likewise for
/// bases and preferences. Enum columns hold case indices in WIT order (see
/// [`status_index`], [`basis_index`], [`state_index`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Columns<'a> {
    /// Bits: 1 restricted, 2 objected, 4 opted out of all.
    pub flags: &'a [u8],
    /// Per contact: how many entries of the consent columns are theirs.
    pub consent_counts: &'a [u16],
    /// Per contact: how many entries of the basis columns are theirs.
    pub basis_counts: &'a [u16],
    /// Per contact: how many entries of the preference columns are theirs.
    pub preference_counts: &'a [u16],
    /// [`ConsentRecord::type_id`](super::ConsentRecord::type_id) of each consent.
    pub consent_types: &'a [u32],
    /// [`ConsentRecord::status`](super::ConsentRecord::status) of each
    /// consent, as a [`status_index`].
    pub consent_statuses: &'a [u8],
    /// [`ConsentRecord::given_at`](super::ConsentRecord::given_at) of each consent.
    pub consent_given_at: &'a [i64],
    /// [`PurposeBasis::purpose_id`](super::PurposeBasis::purpose_id) of each basis.
    pub basis_purposes: &'a [u32],
    /// [`PurposeBasis::legal_basis`](super::PurposeBasis::legal_basis) of
    /// each basis, as a [`basis_index`].
    pub basis_legal_bases: &'a [u8],
    /// [`Preference::subscription_type_id`](super::Preference::subscription_type_id)
    /// of each preference.
    pub preference_types: &'a [u32],
    /// [`Preference::state`](super::Preference::state) of each preference,
    /// as a [`state_index`].
    pub preference_states: &'a [u8],
}

/// Flag bit of [`ContactFlags::restricted`] (WIT `contact-flags`, Art. 18).
pub const RESTRICTED: u8 = 1;
/// Flag bit of [`ContactFlags::objected`] (WIT `contact-flags`, Art. 21).
pub const OBJECTED: u8 = 2;
/// Flag bit of [`ContactFlags::opted_out_of_all`] (WIT `contact-flags`).
pub const OPTED_OUT_OF_ALL: u8 = 4;

impl ContactFlags {
    /// Flags from the bits of [`Columns::flags`]; unknown bits are ignored.
    pub fn from_bits(bits: u8) -> ContactFlags {
        ContactFlags {
            restricted: bits & RESTRICTED != 0,
            objected: bits & OBJECTED != 0,
            opted_out_of_all: bits & OPTED_OUT_OF_ALL != 0,
        }
    }

    /// The bits of these flags, as [`Columns::flags`] holds them.
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
fn known_cases(column: &str, indices: &[u8], cases: u8) -> Result<(), BatchError> {
    if !any_at_least(indices, cases) {
        return Ok(());
    }
    let index = indices
        .iter()
        .find(|&&i| i >= cases)
        .copied()
        .unwrap_or(cases);
    Err(BatchError {
        message: format!("{column} holds the unknown case index {index}"),
    })
}

/// Whether some byte is `>= n` (1 <= n <= 128), eight bytes at a time: the
/// component has no SIMD, and its every loop iteration checks a deadline.
///
/// Per byte b, `b + (128 - n)` has its high bit set exactly when b >= n, for
/// b < 128 (and cannot carry out of the byte); a byte >= 128 has its own high
/// bit set, so OR-ing `w` in keeps the answer right whatever it carries.
pub(crate) fn any_at_least(bytes: &[u8], n: u8) -> bool {
    debug_assert!((1..=128).contains(&n));
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let add = u64::from(128 - n) * 0x0101_0101_0101_0101;
    let mut words = bytes.chunks_exact(8);
    let mut seen = 0u64;
    for w in words.by_ref() {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        seen |= w | w.wrapping_add(add);
    }
    seen & HIGH != 0 || words.remainder().iter().any(|&b| b >= n)
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
    /// Checks that the columns of each kind have one length and that the
    /// enum columns hold known cases; returns the number of contacts and of
    /// consents, bases and preferences. Whether the counts add up is checked
    /// while deciding, which spares the component a pass over three columns
    /// (in wasm, every loop iteration also checks the host's deadline).
    fn check(&self) -> Result<[usize; 4], BatchError> {
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
        known_cases(
            "consent-statuses",
            self.consent_statuses,
            STATUSES.len() as u8,
        )?;
        known_cases(
            "basis-legal-bases",
            self.basis_legal_bases,
            BASES.len() as u8,
        )?;
        known_cases(
            "preference-states",
            self.preference_states,
            STATES.len() as u8,
        )?;
        Ok([contacts, consents, bases, preferences])
    }

    /// Which counts do not add up to their columns. Only a failing batch
    /// pays for this.
    #[cold]
    fn misfit(&self, [_, consents, bases, preferences]: [usize; 4]) -> BatchError {
        let check = || -> Result<(), BatchError> {
            sums_to("consent", self.consent_counts, consents)?;
            sums_to("basis", self.basis_counts, bases)?;
            sums_to("preference", self.preference_counts, preferences)
        };
        check().err().unwrap_or_else(|| BatchError {
            message: "the batch's counts do not match its columns".into(),
        })
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
        let lengths = cols.check()?;
        let [contacts, consents, bases, preferences] = lengths;
        let mut out = Vec::with_capacity(contacts);
        let (mut c, mut b, mut p) = (0usize, 0usize, 0usize);
        for i in 0..contacts {
            let (nc, nb, np) = (
                usize::from(cols.consent_counts[i]),
                usize::from(cols.basis_counts[i]),
                usize::from(cols.preference_counts[i]),
            );
            // Counts that run past the columns: nothing is decided.
            if c + nc > consents || b + nb > bases || p + np > preferences {
                return Err(cols.misfit(lengths));
            }
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
        // Counts that fall short of the columns.
        if (c, b, p) != (consents, bases, preferences) {
            return Err(cols.misfit(lengths));
        }
        Ok(out)
    }
}

/// Index of a consent status in the WIT `consent-status` enum, for
/// building [`Columns::consent_statuses`] natively.
pub fn status_index(s: ConsentStatus) -> u8 {
    STATUSES.iter().position(|&x| x == s).unwrap_or(0) as u8
}

/// Index of a legal basis in the WIT `legal-basis` enum, for building
/// [`Columns::basis_legal_bases`] natively.
pub fn basis_index(b: LegalBasis) -> u8 {
    BASES.iter().position(|&x| x == b).unwrap_or(0) as u8
}

/// Index of a subscription state in the WIT `subscription-state` enum, for
/// building [`Columns::preference_states`] natively.
pub fn state_index(s: SubscriptionState) -> u8 {
    STATES.iter().position(|&x| x == s).unwrap_or(0) as u8
}
