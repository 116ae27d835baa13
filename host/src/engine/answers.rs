//! Checking the plugin's answers against the contract before the host
//! trusts them: an allow names what allowed it, a deny or justify what
//! stops it, `plugin-fault` is the host's alone, and a justify offers only
//! reasons the config has. Trusting an allow carrying `plugin-fault` once
//! sent a newsletter to a contact who had withdrawn consent.

use super::bindings::{Channel, Outcome, ReasonCode, wit};
use super::error::InvalidAnswer;

/// The codes an allow may carry: what allowed it. The contract splits the
/// codes in two (see `reason-code` in the WIT), and `plugin-fault` belongs
/// to the host alone.
pub(crate) fn is_allow_code(code: ReasonCode) -> bool {
    matches!(
        code,
        ReasonCode::Consent | ReasonCode::LegalBasis | ReasonCode::NotChecked
    )
}

/// Whether a plugin may answer `outcome` with `code`: an allow with an
/// allow code, a deny or justify with a deny code, and never `plugin-fault`.
pub(crate) fn is_honest(outcome: Outcome, code: ReasonCode) -> bool {
    code != ReasonCode::PluginFault && (outcome == Outcome::Allow) == is_allow_code(code)
}

/// An outcome with its article, for messages.
fn outcome_phrase(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allow => "an allow",
        Outcome::Deny => "a deny",
        Outcome::Justify => "a justify",
    }
}

/// The sentence naming a dishonest answer, completing "plugin ...".
pub(crate) fn dishonest_answer(outcome: Outcome, code: ReasonCode) -> String {
    let outcome = outcome_phrase(outcome);
    if code == ReasonCode::PluginFault {
        format!(
            "returned {outcome} with `{}`, a code only the host may set; \
             the answer was not trusted",
            code.as_str()
        )
    } else if is_allow_code(code) {
        format!(
            "returned {outcome} carrying the allow code `{}`; the answer was not trusted",
            code.as_str()
        )
    } else {
        format!(
            "returned an allow carrying the deny code `{}`; the answer was not trusted",
            code.as_str()
        )
    }
}

/// Refuses a decision the contract forbids: `plugin-fault` is the host's
/// code, an allow names what allowed it and a deny or justify what stops it.
/// Trusting such an answer once let a withdrawn contact receive a newsletter.
pub(crate) fn check_decision(decision: &wit::Decision) -> Result<(), InvalidAnswer> {
    let (outcome, code) = match decision {
        wit::Decision::Allow(allowed) => (Outcome::Allow, allowed.code),
        wit::Decision::Deny(code) => (Outcome::Deny, *code),
        wit::Decision::Justify(code) => (Outcome::Justify, *code),
    };
    if is_honest(outcome, code) {
        Ok(())
    } else {
        Err(InvalidAnswer(dishonest_answer(outcome, code)))
    }
}

/// Refuses reason ids the config does not have: the operator could only
/// pick a reason the ledger cannot name.
pub(crate) fn check_reasons(
    reasons: &[u32],
    known: &[u32],
    channel: Channel,
) -> Result<(), InvalidAnswer> {
    match reasons.iter().find(|id| !known.contains(id)) {
        None => Ok(()),
        Some(id) => Err(InvalidAnswer(format!(
            "returned reason id `{id}` for `{}`, which is not a justification reason \
             of the config; the answer was not trusted",
            channel.as_str()
        ))),
    }
}
