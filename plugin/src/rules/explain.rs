//! Sentences for people, one per reason code.

use super::types::ReasonCode;

/// A sentence that explains `code` to an operator or in an audit log.
pub fn explain(code: ReasonCode) -> &'static str {
    match code {
        ReasonCode::Consent => "The contact gave consent for this channel, and it is still valid.",
        ReasonCode::LegalBasis => {
            "A legal basis other than consent covers this purpose (GDPR Art. 6(1))."
        }
        ReasonCode::NotChecked => "Consent checking is switched off for this channel.",
        ReasonCode::NoConsent => "The contact has not given consent for this channel.",
        ReasonCode::ConsentExpired => {
            "The contact's consent for this channel has expired and must be renewed."
        }
        ReasonCode::ConsentWithdrawn => {
            "The contact withdrew consent for this channel (GDPR Art. 7(3))."
        }
        ReasonCode::ConsentRefused => "The contact refused consent for this channel.",
        ReasonCode::BasisWithdrawn => "The legal basis for this purpose was withdrawn.",
        ReasonCode::Objected => "The contact objected to direct marketing (GDPR Art. 21(3)).",
        ReasonCode::Restricted => "Processing of this contact's data is restricted (GDPR Art. 18).",
        ReasonCode::OptedOutOfAll => "The contact opted out of all subscriptions.",
        ReasonCode::OptedOut => "The contact opted out of this subscription.",
        ReasonCode::NotOptedIn => {
            "This subscription requires an opt-in, and the contact has not opted in."
        }
        ReasonCode::UnknownSubscriptionType => {
            "The subscription type of this mailing is not configured."
        }
        ReasonCode::NoReasonsConfigured => {
            "Consent is missing and no justification reasons are configured, so the action is denied."
        }
        ReasonCode::PluginFault => "The consent plugin failed; the action is denied to be safe.",
    }
}
