//! Chained rule packs: several plugins asked in order, each in its own
//! store and under its own limits, their answers combined so that the
//! strictest wins.
//!
//! An admin stacks packs on the reference rules: the GDPR plugin first, then
//! for example an ePrivacy pack and a national one. Each answers the same
//! request from the same config and contact state. The combination is the
//! one a lawyer would apply: any pack that forbids the contact forbids it
//! (deny beats justify beats allow), and an operator may justify only with
//! a reason some justifying pack offers (the union, in chain order). A fault
//! in any pack is that pack's deny (`plugin-fault`), so it fails the chain
//! closed. Composition into one component (wac) was tried and rejected: it
//! pools one memory cap and hides which plugin faulted (issue 11).

use serde::{Deserialize, Serialize};

use super::{
    ContactBatch, ContactState, Decision, EngineError, JustifyNeeded, Outcome, Policy, ReasonCode,
    Request, Verdict,
};

/// The policies of the chained plugins, first the active plugin, then the
/// rule packs in the admin's order. `Send`, not `Sync`, like [`Policy`].
pub struct Chain {
    links: Vec<Policy>,
}

/// One plugin's answer in a chain: what the decision log records for each
/// link, so that an auditor sees which pack forbade a contact and a replay
/// can check every link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChainStep {
    /// Hex SHA-256 of the plugin that answered.
    pub plugin_sha256: String,
    /// Its outcome: `allow`, `deny` or `justify`.
    #[schema(value_type = String)]
    pub outcome: Outcome,
    /// Its reason code, e.g. `no_consent`.
    #[schema(value_type = String)]
    pub code: ReasonCode,
}

/// A chain's answer for one contact.
#[derive(Debug, Clone)]
pub struct Chained {
    /// The combined decision.
    pub decision: Decision,
    /// Every link's answer in chain order; empty for a chain of one plugin,
    /// whose decision is its answer.
    pub steps: Vec<ChainStep>,
}

/// A chain's answers for a batch.
#[derive(Debug, Clone)]
pub struct ChainedBatch {
    /// The combined verdict of each contact, in batch order.
    pub verdicts: Vec<Verdict>,
    /// Which link's verdict won for each contact (an index into the chain),
    /// to ask that plugin for the sentence that explains it.
    pub decided_by: Vec<u8>,
}

/// The most plugins one chain may hold: the active plugin and seven rule
/// packs. Each link holds an instance slot of the engine's pool per hook, so
/// processes size their pools by it (`serve`: every pooled connection may
/// hold a chain and a replay's chain); a jurisdiction stack is three or
/// four plugins deep, and eight leaves room without reserving address
/// space for chains no one runs.
pub const MAX_CHAIN: usize = 8;

impl Chain {
    /// A chain of `links`, the active plugin first. Refuses an empty chain
    /// and one longer than [`MAX_CHAIN`].
    pub fn new(links: Vec<Policy>) -> Result<Chain, EngineError> {
        if links.is_empty() || links.len() > MAX_CHAIN {
            return Err(EngineError::Options(format!(
                "a chain holds 1 to {MAX_CHAIN} plugins, not {}; activate fewer rule packs",
                links.len()
            )));
        }
        Ok(Chain { links })
    }

    /// How many plugins decide.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// Always false: a chain holds at least the active plugin.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// The policies in chain order.
    pub fn links(&self) -> &[Policy] {
        &self.links
    }

    /// The SHA-256 of every plugin, in chain order.
    pub fn plugin_sha256s(&self) -> Vec<String> {
        self.links
            .iter()
            .map(|p| p.plugin_sha256().to_owned())
            .collect()
    }

    /// Asks every plugin and combines their answers (see [`combine`]).
    pub fn decide(&mut self, contact: &ContactState, req: &Request) -> Chained {
        if let [only] = self.links.as_mut_slice() {
            return Chained {
                decision: only.decide(contact, req),
                steps: Vec::new(),
            };
        }
        let answers: Vec<Decision> = self
            .links
            .iter_mut()
            .map(|p| p.decide(contact, req))
            .collect();
        let steps = self
            .links
            .iter()
            .zip(&answers)
            .map(|(p, d)| step(p.plugin_sha256(), d))
            .collect();
        Chained {
            decision: combine(answers),
            steps,
        }
    }

    /// Asks every plugin for the batch and keeps, per contact, the
    /// strictest verdict (the first among equals). A batch one plugin
    /// refuses is an error for the whole chain.
    pub fn decide_batch(
        &mut self,
        req: &Request,
        batch: &ContactBatch,
    ) -> Result<ChainedBatch, EngineError> {
        let (first, rest) = self
            .links
            .split_first_mut()
            .expect("a chain is never empty");
        let mut verdicts = first.decide_batch(req, batch)?;
        let mut decided_by = vec![0u8; verdicts.len()];
        for (i, link) in rest.iter_mut().enumerate() {
            let theirs = link.decide_batch(req, batch)?;
            let index = u8::try_from(i + 1).expect("a chain holds at most MAX_CHAIN links");
            for ((ours, by), their) in verdicts.iter_mut().zip(&mut decided_by).zip(theirs) {
                if severity(their.outcome) > severity(ours.outcome) {
                    *ours = their;
                    *by = index;
                }
            }
        }
        Ok(ChainedBatch {
            verdicts,
            decided_by,
        })
    }

    /// The sentence of link `link` for `code`: the plugin whose verdict won
    /// explains it.
    pub fn explain(&mut self, link: usize, code: ReasonCode) -> String {
        let index = link.min(self.links.len() - 1);
        self.links[index].explain(code)
    }
}

/// Deny beats justify beats allow.
fn severity(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Allow => 0,
        Outcome::Justify => 1,
        Outcome::Deny => 2,
    }
}

fn outcome_of(decision: &Decision) -> Outcome {
    match decision {
        Decision::Allow(_) => Outcome::Allow,
        Decision::Deny(_) => Outcome::Deny,
        Decision::Justify(_) => Outcome::Justify,
    }
}

/// What the decision log records of one link's answer.
pub fn step(plugin_sha256: &str, decision: &Decision) -> ChainStep {
    ChainStep {
        plugin_sha256: plugin_sha256.to_owned(),
        outcome: outcome_of(decision),
        code: match decision {
            Decision::Allow(a) => a.code,
            Decision::Deny(d) => d.code,
            Decision::Justify(j) => j.code,
        },
    }
}

/// Combines the answers of a chain, given in chain order:
/// - the first deny, if any plugin denies;
/// - else, if any plugin asks to justify, the first justify's code with the
///   union of the offered reasons in chain order: the operator's reason
///   must satisfy some pack that asked for one;
/// - else the first allow (the active plugin's, which says what allowed
///   it), valid only until the earliest expiry any plugin's allow names.
///
/// # Panics
/// On an empty list: a chain always holds the active plugin.
pub fn combine(answers: Vec<Decision>) -> Decision {
    let strictest = answers
        .iter()
        .map(|d| severity(outcome_of(d)))
        .max()
        .expect("a chain answers at least once");
    let expiry = answers
        .iter()
        .filter_map(|d| match d {
            Decision::Allow(a) => a.valid_until,
            _ => None,
        })
        .min();
    let mut reasons = Vec::new();
    let mut first = None;
    for answer in answers {
        if severity(outcome_of(&answer)) != strictest {
            continue;
        }
        if let Decision::Justify(j) = &answer {
            for reason in &j.reasons {
                if !reasons.contains(reason) {
                    reasons.push(*reason);
                }
            }
        }
        first.get_or_insert(answer);
    }
    match first.expect("the strictest answer is one of them") {
        Decision::Justify(j) => Decision::Justify(JustifyNeeded {
            code: j.code,
            reasons,
        }),
        Decision::Allow(mut a) => {
            a.valid_until = expiry;
            Decision::Allow(a)
        }
        deny => deny,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Denied;
    use crate::engine::bindings::Allowed;
    use crate::store::ReasonId;

    fn allow(valid_until: Option<i64>) -> Decision {
        Decision::Allow(Allowed {
            code: ReasonCode::Consent,
            consent_type: Some(1),
            legal_basis: None,
            valid_until,
        })
    }

    fn deny(code: ReasonCode) -> Decision {
        Decision::Deny(Denied {
            code,
            message: code.as_str().to_owned(),
        })
    }

    fn justify(code: ReasonCode, reasons: &[u32]) -> Decision {
        Decision::Justify(JustifyNeeded {
            code,
            reasons: reasons.iter().map(|r| ReasonId(*r)).collect(),
        })
    }

    #[test]
    fn the_first_deny_wins_over_everything() {
        let combined = combine(vec![
            justify(ReasonCode::NoConsent, &[1]),
            allow(None),
            deny(ReasonCode::Objected),
            deny(ReasonCode::Restricted),
        ]);
        assert_eq!(combined, deny(ReasonCode::Objected));
    }

    #[test]
    fn a_fault_in_any_pack_fails_the_chain_closed() {
        let combined = combine(vec![allow(None), deny(ReasonCode::PluginFault)]);
        assert_eq!(combined, deny(ReasonCode::PluginFault));
    }

    #[test]
    fn justify_offers_the_union_of_reasons_in_chain_order() {
        let combined = combine(vec![
            allow(None),
            justify(ReasonCode::ConsentExpired, &[3, 1]),
            justify(ReasonCode::NoConsent, &[1, 2]),
        ]);
        assert_eq!(combined, justify(ReasonCode::ConsentExpired, &[3, 1, 2]));
    }

    #[test]
    fn an_allow_holds_until_the_earliest_expiry_of_any_allow() {
        let combined = combine(vec![allow(Some(500)), allow(None), allow(Some(200))]);
        assert_eq!(combined, allow(Some(200)));
        assert_eq!(combine(vec![allow(None)]), allow(None));
    }

    #[test]
    fn steps_name_each_plugins_outcome_and_code() {
        let s = step("ab", &justify(ReasonCode::NoConsent, &[1]));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"plugin_sha256": "ab", "outcome": "justify", "code": "no_consent"})
        );
        assert_eq!(serde_json::from_value::<ChainStep>(json).unwrap(), s);
    }
}
