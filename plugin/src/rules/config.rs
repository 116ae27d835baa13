//! A validated [`Policy`], built once from an admin's [`Config`].
//!
//! Validation happens here so that `decide` never meets a contradictory
//! config: ids and codes are unique per list (the Italian CRM plugin calls the
//! consent type code "unique"), names are not empty, and a validity of zero
//! days (a consent that is expired the second it is given) is refused. The
//! lists are then turned into small id-sorted tables so that the hot path is a
//! binary search and never allocates.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::consent::channel_mask;
use super::types::{Config, LegalBasis, SECONDS_PER_DAY, Switches};

/// Why a config was refused; the string names the offending entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Two entries of one list share an id, so facts could not say which
    /// one they mean.
    DuplicateId(String),
    /// Two entries of one list share a code, which must be unique and
    /// stable (the Italian CRM plugin calls the consent type code "unique").
    DuplicateCode(String),
    /// A code, title, label or name is empty or only whitespace.
    EmptyField(String),
    /// A value makes no sense, such as a validity of zero days.
    InvalidValue(String),
}

impl ConfigError {
    /// The sentence naming the offending entry.
    pub fn message(&self) -> &str {
        match self {
            ConfigError::DuplicateId(m)
            | ConfigError::DuplicateCode(m)
            | ConfigError::EmptyField(m)
            | ConfigError::InvalidValue(m) => m,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for ConfigError {}

/// A consent type as the hot path needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TypeEntry {
    pub id: u32,
    /// Validity in seconds; `None` never expires.
    pub validity_secs: Option<i64>,
    /// Channels this type covers, as [`channel_mask`] bits.
    pub channels: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PurposeEntry {
    pub id: u32,
    pub default_basis: LegalBasis,
    pub direct_marketing: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SubscriptionEntry {
    pub id: u32,
    pub requires_opt_in: bool,
}

/// Finds an entry of an id-sorted table by its id. CRMs number their
/// catalogs with small database ids, so below [`IdIndex::DENSE_IDS`] the
/// index is a direct table (one load, no loop); above, a binary search.
/// In the component every loop iteration also checks the host's deadline,
/// and a batch looks up a consent type for every record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IdIndex {
    /// `slots[id]` is 1 + the entry's position, 0 for no entry; empty when
    /// some id is too large, and the table is searched instead.
    slots: Vec<u16>,
}

impl IdIndex {
    /// Largest table made: 2 KiB per catalog.
    const DENSE_IDS: u32 = 1024;

    fn new(ids: impl Iterator<Item = u32> + Clone) -> IdIndex {
        let Some(max) = ids.clone().max() else {
            return IdIndex { slots: Vec::new() };
        };
        if max >= Self::DENSE_IDS || ids.clone().count() >= usize::from(u16::MAX) {
            return IdIndex { slots: Vec::new() };
        }
        let mut slots = alloc::vec![0u16; max as usize + 1];
        for (position, id) in ids.enumerate() {
            // Checked against u16::MAX above.
            slots[id as usize] = position as u16 + 1;
        }
        IdIndex { slots }
    }

    #[inline]
    fn find<'t, T>(&self, table: &'t [T], id: u32, key: impl Fn(&T) -> u32) -> Option<&'t T> {
        if self.slots.is_empty() {
            return table.binary_search_by_key(&id, key).ok().map(|i| &table[i]);
        }
        match self.slots.get(id as usize) {
            Some(&slot) if slot != 0 => table.get(usize::from(slot) - 1),
            _ => None,
        }
    }
}

/// Rules built from one validated config. Cheap to share; deciding never
/// mutates it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub(crate) types: Vec<TypeEntry>,
    pub(crate) purposes: Vec<PurposeEntry>,
    pub(crate) subscriptions: Vec<SubscriptionEntry>,
    type_index: IdIndex,
    purpose_index: IdIndex,
    subscription_index: IdIndex,
    /// Reason ids in config order: the operator sees them as the admin listed them.
    pub(crate) reasons: Vec<u32>,
    pub(crate) switches: Switches,
}

impl Policy {
    /// Validates `config` and precomputes the lookup tables.
    ///
    /// Checks run list by list (consent types, reasons, purposes,
    /// subscription types); within a list, empty fields and invalid values
    /// are reported first, in config order, then duplicate ids, then
    /// duplicate codes. The first problem found is returned.
    pub fn new(config: Config) -> Result<Policy, ConfigError> {
        let cfg = &config;

        for t in &cfg.consent_types {
            non_empty("consent type", t.id, &t.code, &[("title", &t.title)])?;
            if t.validity_days == Some(0) {
                // Zero days would make every consent expired at the second it is
                // given; "never expires" is `None`.
                return Err(ConfigError::InvalidValue(format!(
                    "consent type \"{}\" has validity-days 0; leave it empty for a consent that never expires",
                    t.code
                )));
            }
        }
        let type_order = unique(
            "consent type",
            cfg.consent_types.iter().map(|t| (t.id, t.code.as_str())),
        )?;

        for r in &cfg.reasons {
            non_empty("reason", r.id, &r.code, &[("label", &r.label)])?;
        }
        unique(
            "reason",
            cfg.reasons.iter().map(|r| (r.id, r.code.as_str())),
        )?;

        for p in &cfg.purposes {
            non_empty("purpose", p.id, &p.code, &[("name", &p.name)])?;
        }
        let purpose_order = unique(
            "purpose",
            cfg.purposes.iter().map(|p| (p.id, p.code.as_str())),
        )?;

        for s in &cfg.subscription_types {
            non_empty("subscription type", s.id, &s.code, &[("name", &s.name)])?;
        }
        let subscription_order = unique(
            "subscription type",
            cfg.subscription_types
                .iter()
                .map(|s| (s.id, s.code.as_str())),
        )?;

        // The tables are built in id order, ready for binary search.
        let types: Vec<TypeEntry> = type_order
            .iter()
            .map(|&i| {
                let t = &cfg.consent_types[i];
                TypeEntry {
                    id: t.id,
                    // u32 days * 86 400 < 2^49: cannot overflow an i64.
                    validity_secs: t.validity_days.map(|d| i64::from(d) * SECONDS_PER_DAY),
                    channels: channel_mask(t.allow_bulk_email, t.allow_single_email, t.allow_phone),
                }
            })
            .collect();
        let purposes: Vec<PurposeEntry> = purpose_order
            .iter()
            .map(|&i| {
                let p = &cfg.purposes[i];
                PurposeEntry {
                    id: p.id,
                    default_basis: p.legal_basis,
                    direct_marketing: p.direct_marketing,
                }
            })
            .collect();
        let subscriptions: Vec<SubscriptionEntry> = subscription_order
            .iter()
            .map(|&i| {
                let s = &cfg.subscription_types[i];
                SubscriptionEntry {
                    id: s.id,
                    requires_opt_in: s.requires_opt_in,
                }
            })
            .collect();

        Ok(Policy {
            type_index: IdIndex::new(types.iter().map(|t| t.id)),
            purpose_index: IdIndex::new(purposes.iter().map(|p| p.id)),
            subscription_index: IdIndex::new(subscriptions.iter().map(|s| s.id)),
            types,
            purposes,
            subscriptions,
            reasons: cfg.reasons.iter().map(|r| r.id).collect(),
            switches: cfg.switches,
        })
    }

    /// The admin's switches this policy was built with.
    pub fn switches(&self) -> Switches {
        self.switches
    }

    /// The justification reason ids, in config order.
    pub fn reasons(&self) -> &[u32] {
        &self.reasons
    }

    #[inline]
    pub(crate) fn consent_type(&self, id: u32) -> Option<&TypeEntry> {
        self.type_index.find(&self.types, id, |t| t.id)
    }

    #[inline]
    pub(crate) fn purpose(&self, id: u32) -> Option<&PurposeEntry> {
        self.purpose_index.find(&self.purposes, id, |p| p.id)
    }

    #[inline]
    pub(crate) fn subscription_type(&self, id: u32) -> Option<&SubscriptionEntry> {
        self.subscription_index
            .find(&self.subscriptions, id, |s| s.id)
    }
}

/// An entry's code and other text fields must say something: an empty code
/// cannot be unique or stable, an empty title cannot be shown in a pick list.
/// Whitespace only counts as empty.
fn non_empty(kind: &str, id: u32, code: &str, fields: &[(&str, &str)]) -> Result<(), ConfigError> {
    if code.trim().is_empty() {
        return Err(ConfigError::EmptyField(format!(
            "{kind} id {id} has an empty code"
        )));
    }
    for (name, value) in fields {
        if value.trim().is_empty() {
            return Err(ConfigError::EmptyField(format!(
                "{kind} \"{code}\" (id {id}) has an empty {name}"
            )));
        }
    }
    Ok(())
}

/// Ids and codes must each be unique within one list. Sorting keeps this
/// O(n log n) even for a hostile config; the duplicate reported is the one
/// whose second use comes first in config order, so the message is stable.
/// Returns the entries' positions in id order.
fn unique<'a>(
    kind: &str,
    entries: impl Iterator<Item = (u32, &'a str)>,
) -> Result<Vec<usize>, ConfigError> {
    let entries: Vec<(u32, &str)> = entries.collect();

    // (id, position) packed in one u64: a cheap sort, and a single sort
    // instantiation in the wasm for every list.
    let mut keys: Vec<u64> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (u64::from(e.0) << 32) | i as u64)
        .collect();
    keys.sort_unstable();
    let ids: Vec<(u32, usize)> = keys
        .iter()
        .map(|k| ((k >> 32) as u32, (k & 0xffff_ffff) as usize))
        .collect();
    if let Some(id) = first_repeat(&ids) {
        return Err(ConfigError::DuplicateId(format!(
            "{kind} id {id} is used twice"
        )));
    }

    let mut codes: Vec<(&str, usize)> = entries.iter().enumerate().map(|(i, e)| (e.1, i)).collect();
    codes.sort_unstable();
    if let Some(code) = first_repeat(&codes) {
        return Err(ConfigError::DuplicateCode(format!(
            "{kind} code \"{code}\" is used twice"
        )));
    }
    Ok(ids.into_iter().map(|(_, i)| i).collect())
}

/// In a list of (key, position) sorted by key then position, the key whose
/// second occurrence has the lowest position.
fn first_repeat<K: Copy + PartialEq>(sorted: &[(K, usize)]) -> Option<K> {
    sorted
        .windows(2)
        .filter(|w| w[0].0 == w[1].0)
        .min_by_key(|w| w[1].1)
        .map(|w| w[1].0)
}
