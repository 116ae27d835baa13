//! Plain Rust mirrors of the types in `wit/consent.wit` (package
//! `crm:consent@0.1.0`). The WIT is the contract; these exist so the rules can
//! be compiled and tested natively, and so the host can use them as a native
//! baseline. Field names and variants follow the WIT one to one.

use alloc::string::String;
use alloc::vec::Vec;

/// Seconds since the Unix epoch, UTC (WIT `timestamp`).
pub type Timestamp = i64;

/// Seconds in a day; validity is configured in days.
pub const SECONDS_PER_DAY: i64 = 86_400;

/// A way of reaching a contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// A newsletter or any other mass mailing.
    BulkEmail,
    /// One email written to one contact.
    SingleEmail,
    /// A phone call.
    Phone,
    /// A text message to one contact.
    Sms,
}

/// Consent states, after W3C DPV.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConsentStatus {
    Requested,
    Given,
    Renewed,
    Refused,
    Withdrawn,
    Revoked,
    Expired,
    Invalidated,
}

/// Legal bases of GDPR Art. 6(1), plus `Withdrawn` (SuperOffice's "No mailings").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LegalBasis {
    Consent,
    Contract,
    LegalObligation,
    VitalInterest,
    PublicInterest,
    OfficialAuthority,
    LegitimateInterest,
    Withdrawn,
}

/// A contact's choice for one subscription type (HubSpot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SubscriptionState {
    OptedIn,
    #[default]
    NotSpecified,
    OptedOut,
}

/// A kind of consent an admin defines ("Newsletter", "Phone marketing").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentType {
    pub id: u32,
    pub code: String,
    pub title: String,
    pub text_version: u32,
    /// Days a given consent stays valid; `None` means it never expires.
    pub validity_days: Option<u32>,
    pub allow_bulk: bool,
    pub allow_single: bool,
    pub allow_contact: bool,
}

/// A reason an operator may give to contact someone without valid consent
/// (WIT `justification-reason`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub id: u32,
    pub code: String,
    pub label: String,
}

/// Why personal data is processed, with its default legal basis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purpose {
    pub id: u32,
    pub code: String,
    pub name: String,
    pub legal_basis: LegalBasis,
    /// Direct marketing purposes are covered by an Art. 21(3) objection.
    pub direct_marketing: bool,
}

/// A newsletter list a contact can opt in to or out of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionType {
    pub id: u32,
    pub code: String,
    pub name: String,
    /// Only contacts who opted in receive it.
    pub requires_opt_in: bool,
}

/// The admin's privacy switches (Italian CRM plugin, SuperOffice).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Switches {
    /// Check consent before every single email and SMS.
    pub single_mail: bool,
    /// Check consent before every newsletter.
    pub mailing_list: bool,
    /// Check consent before every call.
    pub per_contact: bool,
    /// Newsletters need real consent; when off, a legitimate interest also
    /// allows them (ePrivacy soft opt-in).
    pub e_marketing_privacy: bool,
}

/// Everything a policy is built from.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Config {
    pub consent_types: Vec<ConsentType>,
    pub reasons: Vec<Reason>,
    pub purposes: Vec<Purpose>,
    pub subscription_types: Vec<SubscriptionType>,
    pub switches: Switches,
}

/// One consent a contact gave, refused or withdrew.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConsentRecord {
    pub type_id: u32,
    pub status: ConsentStatus,
    pub legal_basis: LegalBasis,
    pub given_at: Timestamp,
    /// The host's id of the way it was given (form, phone, import, ...).
    pub method_id: u32,
}

/// The legal basis a contact's data has for one purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PurposeBasis {
    pub purpose_id: u32,
    pub legal_basis: LegalBasis,
}

/// A contact's subscription preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Preference {
    pub subscription_type_id: u32,
    pub state: SubscriptionState,
}

/// WIT `contact-flags`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ContactFlags {
    /// Art. 18: processing is restricted.
    pub restricted: bool,
    /// Art. 21: the contact objected to direct marketing.
    pub objected: bool,
    /// The contact opted out of all subscriptions.
    pub opted_out_of_all: bool,
}

/// What the rules need to know about one contact, borrowed: the single
/// decision and every row of a batch use the same view, so deciding never
/// copies a contact's lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Contact<'a> {
    pub flags: ContactFlags,
    pub consents: &'a [ConsentRecord],
    pub bases: &'a [PurposeBasis],
    pub preferences: &'a [Preference],
}

/// WIT `contact-state`: an owned contact, for callers that build one.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ContactState {
    pub flags: ContactFlags,
    pub consents: Vec<ConsentRecord>,
    pub bases: Vec<PurposeBasis>,
    pub preferences: Vec<Preference>,
}

impl ContactState {
    /// Borrows this contact as the view that `Policy::decide` takes.
    pub fn view(&self) -> Contact<'_> {
        Contact {
            flags: self.flags,
            consents: &self.consents,
            bases: &self.bases,
            preferences: &self.preferences,
        }
    }
}

/// What the operator is about to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    pub channel: Channel,
    /// The purpose of the contact, if the CRM knows it.
    pub purpose: Option<u32>,
    /// For newsletters: the subscription type being sent.
    pub subscription_type: Option<u32>,
    pub now: Timestamp,
}

/// Machine-readable grounds of a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    // allow
    Consent,
    LegalBasis,
    NotChecked,
    // deny or justify
    NoConsent,
    ConsentExpired,
    ConsentWithdrawn,
    ConsentRefused,
    BasisWithdrawn,
    Objected,
    Restricted,
    OptedOutOfAll,
    OptedOut,
    NotOptedIn,
    UnknownSubscriptionType,
    NoReasonsConfigured,
    /// Set by the host when the plugin trapped, timed out or ran out of memory.
    PluginFault,
}

impl ReasonCode {
    /// Every code, in WIT order (for exhaustive tests and tables).
    pub const ALL: [ReasonCode; 16] = [
        ReasonCode::Consent,
        ReasonCode::LegalBasis,
        ReasonCode::NotChecked,
        ReasonCode::NoConsent,
        ReasonCode::ConsentExpired,
        ReasonCode::ConsentWithdrawn,
        ReasonCode::ConsentRefused,
        ReasonCode::BasisWithdrawn,
        ReasonCode::Objected,
        ReasonCode::Restricted,
        ReasonCode::OptedOutOfAll,
        ReasonCode::OptedOut,
        ReasonCode::NotOptedIn,
        ReasonCode::UnknownSubscriptionType,
        ReasonCode::NoReasonsConfigured,
        ReasonCode::PluginFault,
    ];
}

/// The answer for one contact. `Deny` carries no message here: the WIT
/// `denied.message` is filled from [`explain`](super::explain) by the bindings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow {
        code: ReasonCode,
        /// The consent type that allowed it, when `code` is `Consent`.
        consent_type: Option<u32>,
        /// The legal basis that allowed it, when `code` is `LegalBasis`.
        legal_basis: Option<LegalBasis>,
        /// The earliest expiry among the records that allowed it.
        valid_until: Option<Timestamp>,
    },
    Deny {
        code: ReasonCode,
    },
    Justify {
        /// `NoConsent` or `ConsentExpired`.
        code: ReasonCode,
        /// Ids of the reasons the operator may pick from, in config order.
        reasons: Vec<u32>,
    },
}

impl Decision {
    pub fn code(&self) -> ReasonCode {
        match self {
            Decision::Allow { code, .. }
            | Decision::Deny { code }
            | Decision::Justify { code, .. } => *code,
        }
    }

    pub fn outcome(&self) -> Outcome {
        match self {
            Decision::Allow { .. } => Outcome::Allow,
            Decision::Deny { .. } => Outcome::Deny,
            Decision::Justify { .. } => Outcome::Justify,
        }
    }

    /// The batch form of this decision.
    pub fn verdict(&self) -> Verdict {
        Verdict {
            outcome: self.outcome(),
            code: self.code(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Allow,
    Deny,
    Justify,
}

/// One contact's answer in a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Verdict {
    pub outcome: Outcome,
    pub code: ReasonCode,
}

/// WIT `contact-row`: contact i owns the next `consents` entries of the
/// consents column, and likewise for bases and preferences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ContactRow {
    pub flags: ContactFlags,
    pub consents: u32,
    pub bases: u32,
    pub preferences: u32,
}
