//! Plain Rust mirrors of the types in `wit/consent.wit` (package
//! `crm:consent@0.2.0`). The WIT is the contract; these exist so the rules can
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
///
/// Only a record of a configured type that covers the request's channel
/// counts; see [`Policy::decide`](super::Policy::decide) for how the states
/// weigh against each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConsentStatus {
    /// Asked for but not answered yet: no ground to contact, and no bar either.
    Requested,
    /// The contact agreed (Art. 6(1)(a)); valid from `given_at` until the
    /// type's validity runs out.
    Given,
    /// Given again; counts as given, its validity running from `given_at`.
    Renewed,
    /// The contact said no: denies the channel (`consent-refused`), and
    /// outweighs any given record (least permissive wins, after Salesforce).
    Refused,
    /// The contact took consent back: denies the channel
    /// (`consent-withdrawn`; Art. 7(3): withdrawing must be as easy as giving).
    Withdrawn,
    /// Revoked by someone other than the contact (DPV); treated exactly like
    /// `Withdrawn`.
    Revoked,
    /// Marked expired by the CRM; counts as a consent whose validity ran out
    /// (`consent-expired`).
    Expired,
    /// Found not to be valid (DPV): no ground to contact, and no bar either.
    Invalidated,
}

/// Legal bases of GDPR Art. 6(1), plus `Withdrawn` (SuperOffice's "No mailings").
///
/// A basis other than `Consent` allows one-to-one contact for its purpose;
/// a newsletter needs consent, or `LegitimateInterest` with e-marketing
/// privacy switched off (ePrivacy soft opt-in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LegalBasis {
    /// Art. 6(1)(a): the contact consented. As a purpose's basis it grants
    /// nothing by itself; a valid consent record is what allows contact.
    Consent,
    /// Art. 6(1)(b): needed to perform a contract with the contact.
    Contract,
    /// Art. 6(1)(c): needed to comply with a legal obligation.
    LegalObligation,
    /// Art. 6(1)(d): needed to protect someone's vital interests.
    VitalInterest,
    /// Art. 6(1)(e): a task carried out in the public interest.
    PublicInterest,
    /// Art. 6(1)(e): the exercise of official authority.
    OfficialAuthority,
    /// Art. 6(1)(f): the controller's legitimate interests.
    LegitimateInterest,
    /// Not a GDPR basis: the basis for this purpose was withdrawn
    /// (SuperOffice's "No mailings"); denies contact for the purpose even
    /// with a consent on file (`basis-withdrawn`).
    Withdrawn,
}

/// A contact's choice for one subscription type (HubSpot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SubscriptionState {
    /// The contact asked to receive this subscription.
    OptedIn,
    /// No choice recorded, the default: enough for a newsletter unless its
    /// type requires an opt-in (`not-opted-in`).
    #[default]
    NotSpecified,
    /// The contact unsubscribed: no newsletter of this type, whatever the
    /// switches say (`opted-out`; Art. 7(3), Art. 21(2)).
    OptedOut,
}

/// A kind of consent an admin defines ("Newsletter", "Phone marketing").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentType {
    /// The host's id, which [`ConsentRecord::type_id`] refers to; unique.
    pub id: u32,
    /// Unique, stable code (the Italian CRM plugin calls it "unique"); not empty.
    pub code: String,
    /// What the operator sees; not empty.
    pub title: String,
    /// The version of the text the person agrees to; bumped on every edit.
    /// The rules do not read it.
    pub text_version: u32,
    /// Days a given consent stays valid; `None` means it never expires.
    /// Zero is refused, as it would expire every consent the second it is given.
    pub validity_days: Option<u32>,
    /// Covers newsletters (Italian CRM plugin: "allow bulk sends").
    pub allow_bulk_email: bool,
    /// Covers one-to-one email and SMS (Italian CRM plugin: "allow single email").
    pub allow_single_email: bool,
    /// Covers phone calls (Italian CRM plugin: "allow contact by phone").
    pub allow_phone: bool,
}

/// A reason an operator may give to contact someone without valid consent
/// (WIT `justification-reason`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// The id the operator's choice is recorded under; unique.
    pub id: u32,
    /// Unique, stable code; not empty.
    pub code: String,
    /// What the operator picks from; not empty.
    pub label: String,
}

/// Why personal data is processed, with its default legal basis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purpose {
    /// The host's id, which [`Request::purpose`] and
    /// [`PurposeBasis::purpose_id`] refer to; unique.
    pub id: u32,
    /// Unique, stable code; not empty.
    pub code: String,
    /// What the operator sees; not empty.
    pub name: String,
    /// The basis used when the contact has no [`PurposeBasis`] of their own
    /// for this purpose.
    pub legal_basis: LegalBasis,
    /// Direct marketing purposes are covered by an Art. 21(3) objection.
    pub direct_marketing: bool,
}

/// A newsletter list a contact can opt in to or out of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionType {
    /// The host's id, which [`Request::subscription_type`] and
    /// [`Preference::subscription_type_id`] refer to; unique.
    pub id: u32,
    /// Unique, stable code; not empty.
    pub code: String,
    /// What the contact sees; not empty.
    pub name: String,
    /// Only contacts who opted in receive it.
    pub requires_opt_in: bool,
}

/// The admin's privacy switches (Italian CRM plugin, SuperOffice), each
/// named after the channel it guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Switches {
    /// Check consent before every single email and SMS (Italian CRM plugin:
    /// "single mail").
    pub check_single_email: bool,
    /// Check consent before every newsletter ("mailing list").
    pub check_bulk_email: bool,
    /// Check consent before every call ("per contact").
    pub check_phone: bool,
    /// Newsletters need real consent; when off, a legitimate interest also
    /// allows them (ePrivacy soft opt-in).
    pub e_marketing_privacy: bool,
}

/// Everything a policy is built from; [`Policy::new`](super::Policy::new)
/// validates it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Config {
    /// The kinds of consent a contact can give.
    pub consent_types: Vec<ConsentType>,
    /// The justification reasons, in the order the operator sees them.
    pub reasons: Vec<Reason>,
    /// The purposes of processing, each with its default legal basis.
    pub purposes: Vec<Purpose>,
    /// The newsletter lists.
    pub subscription_types: Vec<SubscriptionType>,
    /// Where consent is checked at all.
    pub switches: Switches,
}

/// One consent a contact gave, refused or withdrew.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConsentRecord {
    /// The [`ConsentType`] it was given for; a record of an unknown type is
    /// ignored (the admin may have deleted the type).
    pub type_id: u32,
    /// Where the consent stands.
    pub status: ConsentStatus,
    /// The basis the CRM recorded with it; the rules go by `status`.
    pub legal_basis: LegalBasis,
    /// When it was given or last renewed; validity counts from here, and a
    /// consent dated after the request's `now` is not valid yet.
    pub given_at: Timestamp,
    /// The host's id of the way it was given (form, phone, import, ...).
    pub method_id: u32,
}

/// The legal basis a contact's data has for one purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PurposeBasis {
    /// The [`Purpose`] it applies to.
    pub purpose_id: u32,
    /// The contact's basis; it replaces the purpose's default.
    pub legal_basis: LegalBasis,
}

/// A contact's subscription preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Preference {
    /// The [`SubscriptionType`] it applies to.
    pub subscription_type_id: u32,
    /// The contact's choice; with several for one type, an opt-out wins.
    pub state: SubscriptionState,
}

/// The contact's standing choices and rights (WIT `contact-flags`); they
/// apply before any switch or consent.
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
    /// Restriction, objection and opt-out of all.
    pub flags: ContactFlags,
    /// The contact's consent records, in any order.
    pub consents: &'a [ConsentRecord],
    /// The contact's own legal bases, per purpose.
    pub bases: &'a [PurposeBasis],
    /// The contact's subscription choices.
    pub preferences: &'a [Preference],
}

/// WIT `contact-state`: an owned contact, for callers that build one.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ContactState {
    /// Restriction, objection and opt-out of all.
    pub flags: ContactFlags,
    /// The contact's consent records, in any order.
    pub consents: Vec<ConsentRecord>,
    /// The contact's own legal bases, per purpose.
    pub bases: Vec<PurposeBasis>,
    /// The contact's subscription choices.
    pub preferences: Vec<Preference>,
}

impl ContactState {
    /// Borrows this contact as the view that
    /// [`Policy::decide`](super::Policy::decide) takes.
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
    /// How the contact would be reached.
    pub channel: Channel,
    /// The purpose of the contact, if the CRM knows it.
    pub purpose: Option<u32>,
    /// For newsletters: the subscription type being sent.
    pub subscription_type: Option<u32>,
    /// The time of the request, passed in by the host: the plugin has no
    /// clock, so a decision can be replayed.
    pub now: Timestamp,
}

/// Machine-readable grounds of a decision; [`explain`](super::explain)
/// gives the sentence for people. The order is the WIT's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    // allow
    /// Allowed: a valid consent covers the channel (Art. 6(1)(a)).
    Consent,
    /// Allowed: another legal basis covers the purpose (Art. 6(1)(b)-(f)).
    LegalBasis,
    /// Allowed: the admin switched consent checks off for the channel
    /// (Italian CRM plugin).
    NotChecked,
    // deny or justify
    /// No valid consent and no other basis: denied for a newsletter,
    /// otherwise the operator must justify.
    NoConsent,
    /// Like `NoConsent`, but some consent ran out: it must be renewed.
    ConsentExpired,
    /// Denied: a consent for the channel was withdrawn or revoked (Art. 7(3)).
    ConsentWithdrawn,
    /// Denied: a consent for the channel was refused (least permissive wins).
    ConsentRefused,
    /// Denied: the contact's basis for the purpose was withdrawn (SuperOffice).
    BasisWithdrawn,
    /// Denied: the contact objected to direct marketing (Art. 21(3):
    /// objection is absolute).
    Objected,
    /// Denied: processing is restricted (Art. 18), on every channel.
    Restricted,
    /// Denied: the contact opted out of all subscriptions (HubSpot).
    OptedOutOfAll,
    /// Denied: the contact opted out of this subscription (Art. 21(2)).
    OptedOut,
    /// Denied: the subscription requires an opt-in the contact never gave.
    NotOptedIn,
    /// Denied: the newsletter's subscription type is not configured.
    UnknownSubscriptionType,
    /// Denied: an operator would have to justify, but no reasons are
    /// configured to pick from.
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

/// The answer for one contact, with the reasons of a `Justify` filled in.
/// `Deny` carries no sentence: [`explain`](super::explain) gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow {
        /// `Consent`, `LegalBasis` or `NotChecked`.
        code: ReasonCode,
        /// The consent type that allowed it, when `code` is `Consent`.
        consent_type: Option<u32>,
        /// The legal basis that allowed it, when `code` is `LegalBasis`.
        legal_basis: Option<LegalBasis>,
        /// The earliest expiry among the records that allowed it.
        valid_until: Option<Timestamp>,
    },
    /// Do not contact.
    Deny {
        /// Why not.
        code: ReasonCode,
    },
    /// The operator may go ahead only after picking one of `reasons`, and
    /// the choice is recorded (Italian CRM plugin).
    Justify {
        /// `NoConsent` or `ConsentExpired`.
        code: ReasonCode,
        /// Ids of the reasons the operator may pick from, in config order.
        reasons: Vec<u32>,
    },
}

impl Decision {
    /// The reason code, whatever the outcome.
    pub fn code(&self) -> ReasonCode {
        match self {
            Decision::Allow { code, .. }
            | Decision::Deny { code }
            | Decision::Justify { code, .. } => *code,
        }
    }

    /// Allow, deny or justify, without the details.
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

/// A decision's kind, without its details (WIT `outcome`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Go ahead.
    Allow,
    /// Do not contact.
    Deny,
    /// Go ahead only with a recorded justification.
    Justify,
}

/// One contact's answer in a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Verdict {
    /// Allow, deny or justify.
    pub outcome: Outcome,
    /// Why.
    pub code: ReasonCode,
}

/// WIT `contact-row`: contact i owns the next `consents` entries of the
/// consents column, and likewise for bases and preferences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ContactRow {
    /// The contact's flags.
    pub flags: ContactFlags,
    /// How many entries of the consents column are this contact's.
    pub consents: u32,
    /// How many entries of the bases column are this contact's.
    pub bases: u32,
    /// How many entries of the preferences column are this contact's.
    pub preferences: u32,
}
