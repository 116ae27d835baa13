//! The snake_case names of the contract's enums, the one spelling the CLI
//! prints in text and JSON, the same as the bulk send and the decision log
//! (`no_consent`, `legitimate_interest`).
//!
//! These are inherent `as_str` methods on the generated WIT types (and on the
//! store's ledger problems), so every door can use them; they belong next to
//! each type (`engine/bindings.rs`, `store/chain.rs`) and live here until the
//! engine, store and hooks work in progress has merged.
//! Exhaustive matches: a new WIT case does not compile until it has a name.

use crate::engine as wit;
use crate::store::LedgerProblemKind;

impl wit::ReasonCode {
    pub const fn as_str(self) -> &'static str {
        use wit::ReasonCode as R;
        match self {
            R::Consent => "consent",
            R::LegalBasis => "legal_basis",
            R::NotChecked => "not_checked",
            R::NoConsent => "no_consent",
            R::ConsentExpired => "consent_expired",
            R::ConsentWithdrawn => "consent_withdrawn",
            R::ConsentRefused => "consent_refused",
            R::BasisWithdrawn => "basis_withdrawn",
            R::Objected => "objected",
            R::Restricted => "restricted",
            R::OptedOutOfAll => "opted_out_of_all",
            R::OptedOut => "opted_out",
            R::NotOptedIn => "not_opted_in",
            R::UnknownSubscriptionType => "unknown_subscription_type",
            R::NoReasonsConfigured => "no_reasons_configured",
            R::PluginFault => "plugin_fault",
        }
    }
}

impl wit::LegalBasis {
    pub const fn as_str(self) -> &'static str {
        use wit::LegalBasis as B;
        match self {
            B::Consent => "consent",
            B::Contract => "contract",
            B::LegalObligation => "legal_obligation",
            B::VitalInterest => "vital_interest",
            B::PublicInterest => "public_interest",
            B::OfficialAuthority => "official_authority",
            B::LegitimateInterest => "legitimate_interest",
            B::Withdrawn => "withdrawn",
        }
    }
}

impl LedgerProblemKind {
    /// The spelling of its JSON (serde `snake_case`).
    pub const fn as_str(self) -> &'static str {
        use LedgerProblemKind as K;
        match self {
            K::Edited => "edited",
            K::Deleted => "deleted",
            K::Relinked => "relinked",
            K::EvidenceEdited => "evidence_edited",
            K::Truncated => "truncated",
            K::Appended => "appended",
            K::Unreplayable => "unreplayable",
            K::ProjectionDiffers => "projection_differs",
            K::PluginBytes => "plugin_bytes",
            K::DecisionLog => "decision_log",
            K::Checkpoint => "checkpoint",
        }
    }
}

/// `allow`, `deny` or `justify`: the outcome of a decision, spelled like the
/// decision log's.
pub(crate) fn outcome(decision: &wit::Decision) -> &'static str {
    match decision {
        wit::Decision::Allow(_) => "allow",
        wit::Decision::Deny(_) => "deny",
        wit::Decision::Justify(_) => "justify",
    }
}

/// The reason code of any decision.
pub(crate) fn code(decision: &wit::Decision) -> wit::ReasonCode {
    match decision {
        wit::Decision::Allow(a) => a.code,
        wit::Decision::Deny(d) => d.code,
        wit::Decision::Justify(j) => j.code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LegalBasis;

    /// Every reason code; `as_str`'s exhaustive match covers new ones.
    fn all_codes() -> impl Iterator<Item = wit::ReasonCode> {
        use wit::ReasonCode as R;
        [
            R::Consent,
            R::LegalBasis,
            R::NotChecked,
            R::NoConsent,
            R::ConsentExpired,
            R::ConsentWithdrawn,
            R::ConsentRefused,
            R::BasisWithdrawn,
            R::Objected,
            R::Restricted,
            R::OptedOutOfAll,
            R::OptedOut,
            R::NotOptedIn,
            R::UnknownSubscriptionType,
            R::NoReasonsConfigured,
            R::PluginFault,
        ]
        .into_iter()
    }

    #[test]
    fn reason_codes_are_snake_case_and_agree_with_the_decision_log() {
        for code in all_codes() {
            let name = code.as_str();
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
            // The hooks write this spelling to the decision log and the bulk send.
            assert_eq!(name, crate::hooks::convert::reason_code(code));
        }
    }

    #[test]
    fn ledger_problems_are_spelled_like_their_json() {
        use LedgerProblemKind as K;
        for kind in [
            K::Edited,
            K::Deleted,
            K::Relinked,
            K::EvidenceEdited,
            K::Truncated,
            K::Appended,
        ] {
            assert_eq!(serde_json::json!(kind), kind.as_str());
        }
    }

    #[test]
    fn legal_bases_are_spelled_like_the_stores() {
        for basis in LegalBasis::ALL {
            let wit = crate::hooks::convert::legal_basis(*basis);
            assert_eq!(wit.as_str(), basis.as_str());
        }
    }
}
