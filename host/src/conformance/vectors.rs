//! The vectors file: its shape, how it is read and checked, and which cases
//! a run selects.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{FORMAT, contract};
use crate::engine::{Decision, EngineError};
use crate::wit::{Config, ContactState, LegalBasis, Outcome, ReasonCode, Request};

/// A vectors file: named configs and the cases run against them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vectors {
    /// The layout of this file; this host reads [`FORMAT`].
    pub format: u32,
    /// The contract the cases are written against, `crm:consent@0.2.0`; a
    /// host reads files of its own `0.2.x` contract.
    pub contract: String,
    /// Where the cases come from and how to regenerate them.
    pub about: String,
    /// The configs a policy is built from, by name.
    pub configs: BTreeMap<String, Config>,
    /// The cases, in a stable order.
    pub vectors: Vec<Vector>,
}

/// One case: a contact, a request under a named config, and the decision
/// the contract's reference rules give.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vector {
    /// Unique and stable: `config/contact/request`.
    pub id: String,
    /// The rule pack the case belongs to (`gdpr-core`, `switches`,
    /// `subscriptions`, `justify`): a plugin claims whole packs.
    pub pack: String,
    /// Finer labels: the rule that decides (`art18`, `art21`, `expiry`, ...)
    /// and the channel.
    pub tags: Vec<String>,
    /// The name of one of [`Vectors::configs`].
    pub config: String,
    /// The contact's flags and facts.
    pub contact: ContactState,
    /// What the operator is about to do, with its `now`.
    pub request: Request,
    /// The decision the plugin must give.
    pub expect: Expected,
}

/// A decision as the vectors write it: what a conforming plugin answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// Allow, deny or justify.
    pub outcome: Outcome,
    /// The reason code.
    pub code: ReasonCode,
    /// For an allow by consent: the consent type that allowed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_type: Option<u32>,
    /// For an allow by another legal basis: that basis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// For an allow by consent: the earliest expiry of the allowing records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<i64>,
    /// For a justify: the reason ids offered, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<u32>,
}

impl Expected {
    /// The host's decision in the vectors' terms (the sentence of a deny is
    /// the plugin's own wording, so it is not compared).
    pub fn of(decision: &Decision) -> Expected {
        let bare = |outcome, code| Expected {
            outcome,
            code,
            consent_type: None,
            legal_basis: None,
            valid_until: None,
            reasons: Vec::new(),
        };
        match decision {
            Decision::Allow(a) => Expected {
                consent_type: a.consent_type,
                legal_basis: a.legal_basis,
                valid_until: a.valid_until,
                ..bare(Outcome::Allow, a.code)
            },
            Decision::Deny(d) => bare(Outcome::Deny, d.code),
            Decision::Justify(j) => Expected {
                reasons: j.reasons.iter().map(|r| r.0).collect(),
                ..bare(Outcome::Justify, j.code)
            },
        }
    }
}

/// Why a conformance run could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// The vectors file is not JSON of the expected shape, or contradicts
    /// itself (a duplicate id, a case naming a config the file lacks).
    #[error("the vectors file is not valid: {0}")]
    Invalid(String),
    /// The file is written for another layout or contract.
    #[error("{0}")]
    Unsupported(String),
    /// `--tags` names a tag no case has.
    #[error("no case has the tag `{tag}`; the tags of this file are: {known}")]
    UnknownTag {
        /// The tag asked for.
        tag: String,
        /// Every pack and tag of the file, comma-separated.
        known: String,
    },
    /// The plugin could not be loaded.
    #[error("cannot load the plugin: {0}")]
    Engine(#[from] EngineError),
}

impl ConformanceError {
    /// A stable snake_case code, like [`crate::StoreError::code`].
    pub const fn code(&self) -> &'static str {
        match self {
            ConformanceError::Invalid(_) => "invalid_vectors",
            ConformanceError::Unsupported(_) => "unsupported_vectors",
            ConformanceError::UnknownTag { .. } => "unknown_tag",
            ConformanceError::Engine(e) => e.code(),
        }
    }
}

impl Vectors {
    /// Reads and checks a vectors file; errors name the JSON path that is
    /// wrong (`vectors[3].request.channel`).
    pub fn parse(json: &str) -> Result<Vectors, ConformanceError> {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| ConformanceError::Invalid(format!("not JSON: {e}")))?;
        // A file of another layout or contract is named as such, not as a
        // shape error somewhere inside it.
        let format = value.get("format").and_then(serde_json::Value::as_u64);
        let contract = value.get("contract").and_then(serde_json::Value::as_str);
        if let (Some(format), Some(contract)) = (format, contract) {
            check_version(format, contract)?;
        }
        let vectors: Vectors = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                ConformanceError::Invalid(inner.to_string())
            } else {
                ConformanceError::Invalid(format!("at `{path}`: {inner}"))
            }
        })?;
        vectors.check()?;
        Ok(vectors)
    }

    /// The layout and contract are this host's, ids are unique, and every
    /// case names a config of the file.
    pub fn check(&self) -> Result<(), ConformanceError> {
        check_version(u64::from(self.format), &self.contract)?;
        let mut ids = BTreeSet::new();
        for (i, v) in self.vectors.iter().enumerate() {
            if !ids.insert(v.id.as_str()) {
                return Err(ConformanceError::Invalid(format!(
                    "at `vectors[{i}].id`: the id `{}` is used twice",
                    v.id
                )));
            }
            if !self.configs.contains_key(&v.config) {
                let known: Vec<&str> = self.configs.keys().map(String::as_str).collect();
                return Err(ConformanceError::Invalid(format!(
                    "at `vectors[{i}].config`: no config named `{}`; the file has: {}",
                    v.config,
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Every pack and tag of the file, sorted.
    pub fn tags(&self) -> BTreeSet<&str> {
        self.vectors
            .iter()
            .flat_map(|v| std::iter::once(v.pack.as_str()).chain(v.tags.iter().map(String::as_str)))
            .collect()
    }

    /// The cases whose pack or tags include one of `tags`; all of them when
    /// `tags` is empty. A tag no case has is an error, not an empty run.
    pub fn select(&self, tags: &[String]) -> Result<Vec<&Vector>, ConformanceError> {
        let known = self.tags();
        if let Some(tag) = tags.iter().find(|t| !known.contains(t.as_str())) {
            return Err(ConformanceError::UnknownTag {
                tag: tag.clone(),
                known: known.into_iter().collect::<Vec<_>>().join(", "),
            });
        }
        Ok(self
            .vectors
            .iter()
            .filter(|v| tags.is_empty() || tags.iter().any(|t| *t == v.pack || v.tags.contains(t)))
            .collect())
    }
}

/// The file's layout is [`FORMAT`] and its contract this host's `0.2.x`.
fn check_version(format: u64, theirs: &str) -> Result<(), ConformanceError> {
    if format != u64::from(FORMAT) {
        return Err(ConformanceError::Unsupported(format!(
            "the vectors file has format {format}, and this host reads format {FORMAT}; \
             use the vectors shipped with this version of crm-consent"
        )));
    }
    let ours = contract();
    if minor_of(theirs) != minor_of(&ours) {
        return Err(ConformanceError::Unsupported(format!(
            "the vectors are for `{theirs}`, and this host implements `{ours}`; \
             use vectors of the same contract"
        )));
    }
    Ok(())
}

/// `crm:consent@0.2` of `crm:consent@0.2.x`: a 0.x contract is compatible
/// within its minor version.
fn minor_of(contract: &str) -> Option<(&str, &str)> {
    let (package, version) = contract.split_once('@')?;
    let mut parts = version.split('.');
    let (major, minor) = (parts.next()?, parts.next()?);
    let minor_end = major.len() + 1 + minor.len();
    Some((package, &version[..minor_end]))
}
