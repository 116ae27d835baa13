//! The outcome and code of a decision: the WIT types' `as_str`
//! (`crate::wit`) are the one spelling of the CLI, the JSON and the
//! decision log (`hooks::answer` writes them); these tests hold them to it.

#[cfg(test)]
mod tests {
    use crate::engine as wit;
    use crate::store::LegalBasis;

    #[test]
    fn reason_codes_are_snake_case_and_agree_with_the_decision_log() {
        for &code in wit::ReasonCode::ALL {
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
        use crate::store::LedgerProblemKind as K;
        for kind in [
            K::Edited,
            K::Deleted,
            K::Relinked,
            K::EvidenceEdited,
            K::Truncated,
            K::Appended,
            K::Unreplayable,
            K::ProjectionDiffers,
            K::PluginBytes,
            K::DecisionLog,
            K::Checkpoint,
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
