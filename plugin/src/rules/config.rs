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
    DuplicateId(String),
    DuplicateCode(String),
    EmptyField(String),
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

/// Rules built from one validated config. Cheap to share; deciding never
/// mutates it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub(crate) types: Vec<TypeEntry>,
    pub(crate) purposes: Vec<PurposeEntry>,
    pub(crate) subscriptions: Vec<SubscriptionEntry>,
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
        let types = type_order
            .iter()
            .map(|&i| {
                let t = &cfg.consent_types[i];
                TypeEntry {
                    id: t.id,
                    // u32 days * 86 400 < 2^49: cannot overflow an i64.
                    validity_secs: t.validity_days.map(|d| i64::from(d) * SECONDS_PER_DAY),
                    channels: channel_mask(t.allow_bulk, t.allow_single, t.allow_contact),
                }
            })
            .collect();
        let purposes = purpose_order
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
        let subscriptions = subscription_order
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

    pub(crate) fn consent_type(&self, id: u32) -> Option<&TypeEntry> {
        self.types
            .binary_search_by_key(&id, |t| t.id)
            .ok()
            .map(|i| &self.types[i])
    }

    pub(crate) fn purpose(&self, id: u32) -> Option<&PurposeEntry> {
        self.purposes
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .map(|i| &self.purposes[i])
    }

    pub(crate) fn subscription_type(&self, id: u32) -> Option<&SubscriptionEntry> {
        self.subscriptions
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .map(|i| &self.subscriptions[i])
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
