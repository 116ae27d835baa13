//! A decision as the CLI, the HTTP API and the demo show it: the hook's
//! answer with codes instead of ids, a sentence for people and the reasons
//! to pick from. Built once here, so every door shows the same answer.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{HookDecision, HookError, Operator, StoredHooks};
use crate::engine as wit;
use crate::setup::Switch;
use crate::store::{Channel, ConsentType, ContactId, DecisionId, Reason, ReasonId, Store};

/// A single decision as people and CRMs read it. Its JSON is flat, every
/// enum in snake_case, with the field names of a skipped contact of a bulk
/// send (`code`, `message`) and of the decision log (`outcome`).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The hook's decision.
    pub hook: HookDecision,
    /// The code of the consent type that allowed it, for an allow by consent.
    pub consent_type: Option<String>,
    /// One line for people: `allow (consent: newsletter, valid until ...)`.
    pub summary: String,
    /// For a justify: the reasons the operator may pick from.
    pub offered_reasons: Vec<Reason>,
}

#[derive(Serialize)]
struct AnswerJson<'a> {
    contact: ContactId,
    channel: Channel,
    outcome: &'static str,
    code: &'static str,
    message: Option<&'a str>,
    consent_type: Option<&'a str>,
    valid_until: Option<DateTime<Utc>>,
    legal_basis: Option<&'static str>,
    offered_reasons: &'a [Reason],
    summary: &'a str,
    logged: Option<DecisionId>,
    plugin_sha256: &'a str,
    chain: &'a [wit::ChainStep],
}

impl Serialize for Answer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let decision = &self.hook.decision;
        let allowed = match decision {
            wit::Decision::Allow(a) => Some(a),
            _ => None,
        };
        AnswerJson {
            contact: self.hook.contact,
            channel: self.hook.channel,
            outcome: outcome(decision),
            code: code(decision).as_str(),
            message: match decision {
                wit::Decision::Deny(d) => Some(&d.message),
                _ => None,
            },
            consent_type: self.consent_type.as_deref(),
            valid_until: allowed
                .and_then(|a| a.valid_until)
                .and_then(|s| DateTime::from_timestamp(s, 0)),
            legal_basis: allowed.and_then(|a| a.legal_basis).map(|b| b.as_str()),
            offered_reasons: &self.offered_reasons,
            summary: &self.summary,
            logged: self.hook.logged,
            plugin_sha256: &self.hook.plugin_sha256,
            chain: &self.hook.chain,
        }
        .serialize(serializer)
    }
}

/// A recorded justification: the operator may go on.
#[derive(Debug, Clone, Serialize)]
pub struct Justified {
    /// The decision log entry of the justification.
    pub decision: DecisionId,
    /// The contact.
    pub contact: ContactId,
    /// What the operator is about to do.
    pub channel: Channel,
    /// The reason picked.
    pub reason: Reason,
}

impl StoredHooks {
    /// Decides like [`StoredHooks::decide`] and explains the answer.
    pub fn answer(
        &mut self,
        contact: ContactId,
        channel: Channel,
        op: &Operator,
    ) -> Result<Answer, HookError> {
        let hook = self.decide(contact, channel, op)?;
        // Explained from the catalog the decision was made under, read
        // with the config: no read of its own.
        let catalog = &self.active.as_ref().ok_or(HookError::NoPlugin)?.catalog;
        // Only an allow by consent names a type; an id not in the catalog
        // names none.
        let consent_type = match &hook.decision {
            wit::Decision::Allow(a) => a
                .consent_type
                .and_then(|id| catalog.consent_types.iter().find(|t| t.id.0 == id))
                .cloned(),
            _ => None,
        };
        let offered_reasons = match &hook.decision {
            wit::Decision::Justify(j) => catalog
                .reasons
                .iter()
                .filter(|r| j.reasons.contains(&r.id))
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        let summary = describe(&hook, consent_type.as_ref());
        Ok(Answer {
            consent_type: consent_type.map(|t| t.code),
            hook,
            summary,
            offered_reasons,
        })
    }

    /// Records a justification with a reason by id (`2`) or code
    /// (`existing_customer`), as [`StoredHooks::justify`] does.
    pub fn justify_with(
        &mut self,
        contact: ContactId,
        channel: Channel,
        reason: &str,
        text: &str,
        op: &Operator,
    ) -> Result<Justified, HookError> {
        let reason = self.store().find_reason(reason)?;
        let decision = self.justify(contact, channel, reason.id, text, op)?;
        Ok(Justified {
            decision,
            contact,
            channel,
            reason,
        })
    }
}

impl Store {
    /// A justification reason by id (`2`) or code (`existing_customer`).
    pub fn find_reason(&self, wanted: &str) -> crate::store::Result<Reason> {
        let wanted = wanted.trim();
        if let Ok(id) = wanted.parse::<u32>() {
            return self
                .reasons()?
                .into_iter()
                .find(|r| r.id == ReasonId(id))
                .ok_or(crate::store::StoreError::UnknownReason(ReasonId(id)));
        }
        self.reason(wanted)
    }
}

/// `allow`, `deny` or `justify`: the outcome of a decision, spelled like the
/// decision log's.
pub(crate) fn outcome(decision: &wit::Decision) -> &'static str {
    match decision {
        wit::Decision::Allow(_) => wit::Outcome::Allow,
        wit::Decision::Deny(_) => wit::Outcome::Deny,
        wit::Decision::Justify(_) => wit::Outcome::Justify,
    }
    .as_str()
}

/// The reason code of any decision.
pub(crate) fn code(decision: &wit::Decision) -> wit::ReasonCode {
    match decision {
        wit::Decision::Allow(a) => a.code,
        wit::Decision::Deny(d) => d.code,
        wit::Decision::Justify(j) => j.code,
    }
}

/// `allow (consent: newsletter, valid until 2027-01-01)`, `deny: ... [code]`,
/// `justify (no_consent): pick a reason with ...`.
fn describe(hook: &HookDecision, consent_type: Option<&ConsentType>) -> String {
    match &hook.decision {
        wit::Decision::Allow(a) => {
            let why = match a.code {
                wit::ReasonCode::Consent => {
                    let code = consent_type.map_or("?", |t| t.code.as_str());
                    let until = match a.valid_until.and_then(|s| DateTime::from_timestamp(s, 0)) {
                        Some(at) => format!("valid until {}", at.format("%Y-%m-%d")),
                        None => "no expiry".to_owned(),
                    };
                    format!("consent: {code}, {until}")
                }
                wit::ReasonCode::LegalBasis => match a.legal_basis {
                    Some(b) => format!("legal basis: {}", b.as_str()),
                    None => "legal basis".to_owned(),
                },
                wit::ReasonCode::NotChecked => format!(
                    "not checked: the {} switch is off",
                    Switch::for_channel(hook.channel).as_str()
                ),
                other => other.as_str().to_owned(),
            };
            format!("allow ({why})")
        }
        wit::Decision::Deny(d) => {
            format!("deny: {} [{}]{}", d.message, d.code.as_str(), by_pack(hook))
        }
        wit::Decision::Justify(j) => format!(
            "justify ({}): pick a reason with `crm-consent justify {} {} --reason <id-or-code>`",
            j.code.as_str(),
            hook.contact,
            action(hook.channel)
        ),
    }
}

/// ` (rule pack 2: <sha>)` when a rule pack after the active plugin gave
/// the winning answer, so the operator knows whose rule it is.
fn by_pack(hook: &HookDecision) -> String {
    let (outcome, code) = (outcome(&hook.decision), code(&hook.decision));
    match hook
        .chain
        .iter()
        .position(|s| s.outcome.as_str() == outcome && s.code == code)
    {
        Some(at) if at > 0 => {
            let sha = &hook.chain[at].plugin_sha256;
            format!(" (rule pack {at}: {})", &sha[..sha.len().min(12)])
        }
        _ => String::new(),
    }
}

/// The `justify` command's word for a channel.
fn action(channel: Channel) -> &'static str {
    match channel {
        Channel::Phone => "dial",
        Channel::Sms => "sms",
        _ => "send",
    }
}
