//! Unit tests of the rules, run natively with `cargo test -p crm-consent-plugin`.
//! One shared fixture config; each test changes only what it is about.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::*;

mod batch_tests;
mod config_tests;
mod consent_tests;
mod legal_basis_tests;
mod rights_tests;

pub(super) const NOW: Timestamp = 1_700_000_000;
pub(super) const DAY: i64 = SECONDS_PER_DAY;

// Consent types.
pub(super) const NEWSLETTER: u32 = 1; // bulk, 365 days
pub(super) const EMAIL: u32 = 2; // single email and SMS, 30 days
pub(super) const PHONE: u32 = 3; // phone, never expires
pub(super) const EVERYTHING: u32 = 4; // every channel, never expires

// Purposes.
pub(super) const SALES: u32 = 100; // contract, not direct marketing
pub(super) const MARKETING: u32 = 101; // consent, direct marketing
pub(super) const SOFT_OPT_IN: u32 = 102; // legitimate interest, direct marketing
pub(super) const NO_MAILINGS: u32 = 103; // withdrawn

// Subscription types.
pub(super) const WEEKLY: u32 = 200; // no opt-in needed
pub(super) const OFFERS: u32 = 201; // requires opt-in

pub(super) const REASONS: [u32; 2] = [11, 10];

fn s(x: &str) -> String {
    x.to_string()
}

pub(super) fn consent_type(
    id: u32,
    code: &str,
    days: Option<u32>,
    bulk: bool,
    single: bool,
    contact: bool,
) -> ConsentType {
    ConsentType {
        id,
        code: s(code),
        title: s(code),
        text_version: 1,
        validity_days: days,
        allow_bulk_email: bulk,
        allow_single_email: single,
        allow_phone: contact,
    }
}

pub(super) fn purpose(id: u32, code: &str, basis: LegalBasis, direct_marketing: bool) -> Purpose {
    Purpose {
        id,
        code: s(code),
        name: s(code),
        legal_basis: basis,
        direct_marketing,
    }
}

pub(super) fn config() -> Config {
    Config {
        consent_types: vec![
            consent_type(NEWSLETTER, "newsletter", Some(365), true, false, false),
            consent_type(EMAIL, "email", Some(30), false, true, false),
            consent_type(PHONE, "phone", None, false, false, true),
            consent_type(EVERYTHING, "everything", None, true, true, true),
        ],
        // Deliberately not sorted by id: the order shown is the admin's.
        reasons: vec![
            Reason {
                id: 11,
                code: s("callback"),
                label: s("Asked for a call back"),
            },
            Reason {
                id: 10,
                code: s("customer"),
                label: s("Existing customer"),
            },
        ],
        purposes: vec![
            purpose(SALES, "sales", LegalBasis::Contract, false),
            purpose(MARKETING, "marketing", LegalBasis::Consent, true),
            purpose(
                SOFT_OPT_IN,
                "soft-opt-in",
                LegalBasis::LegitimateInterest,
                true,
            ),
            purpose(NO_MAILINGS, "no-mailings", LegalBasis::Withdrawn, true),
        ],
        subscription_types: vec![
            SubscriptionType {
                id: WEEKLY,
                code: s("weekly"),
                name: s("Weekly"),
                requires_opt_in: false,
            },
            SubscriptionType {
                id: OFFERS,
                code: s("offers"),
                name: s("Offers"),
                requires_opt_in: true,
            },
        ],
        switches: Switches {
            check_single_email: true,
            check_bulk_email: true,
            check_phone: true,
            e_marketing_privacy: true,
        },
    }
}

pub(super) fn policy() -> Policy {
    Policy::new(config()).expect("the fixture config is valid")
}

pub(super) fn policy_with(change: impl FnOnce(&mut Config)) -> Policy {
    let mut c = config();
    change(&mut c);
    Policy::new(c).expect("the changed fixture config is valid")
}

pub(super) fn rec(type_id: u32, status: ConsentStatus, given_at: Timestamp) -> ConsentRecord {
    ConsentRecord {
        type_id,
        status,
        legal_basis: LegalBasis::Consent,
        given_at,
        method_id: 7,
    }
}

pub(super) fn given(type_id: u32, given_at: Timestamp) -> ConsentRecord {
    rec(type_id, ConsentStatus::Given, given_at)
}

pub(super) fn basis(purpose_id: u32, legal_basis: LegalBasis) -> PurposeBasis {
    PurposeBasis {
        purpose_id,
        legal_basis,
    }
}

pub(super) fn pref(subscription_type_id: u32, state: SubscriptionState) -> Preference {
    Preference {
        subscription_type_id,
        state,
    }
}

pub(super) fn req(channel: Channel) -> Request {
    Request {
        channel,
        purpose: None,
        subscription_type: None,
        now: NOW,
    }
}

pub(super) fn req_for(channel: Channel, purpose: u32) -> Request {
    Request {
        purpose: Some(purpose),
        ..req(channel)
    }
}

pub(super) fn contact() -> ContactState {
    ContactState::default()
}

pub(super) fn with_consents(consents: Vec<ConsentRecord>) -> ContactState {
    ContactState {
        consents,
        ..ContactState::default()
    }
}

pub(super) fn deny(code: ReasonCode) -> Decision {
    Decision::Deny { code }
}

pub(super) fn justify(code: ReasonCode) -> Decision {
    Decision::Justify {
        code,
        reasons: REASONS.to_vec(),
    }
}

pub(super) fn allow_consent(type_id: u32, valid_until: Option<Timestamp>) -> Decision {
    Decision::Allow {
        code: ReasonCode::Consent,
        consent_type: Some(type_id),
        legal_basis: None,
        valid_until,
    }
}

pub(super) fn allow_basis(b: LegalBasis) -> Decision {
    Decision::Allow {
        code: ReasonCode::LegalBasis,
        consent_type: None,
        legal_basis: Some(b),
        valid_until: None,
    }
}

pub(super) fn not_checked() -> Decision {
    Decision::Allow {
        code: ReasonCode::NotChecked,
        consent_type: None,
        legal_basis: None,
        valid_until: None,
    }
}

/// Decides, and checks on the way that the allocation-free verdict agrees.
pub(super) fn decide(p: &Policy, c: &ContactState, r: Request) -> Decision {
    let d = p.decide(c.view(), &r);
    assert_eq!(
        p.verdict(c.view(), &r),
        d.verdict(),
        "verdict and decide disagree"
    );
    d
}

pub(super) const ALL_CHANNELS: [Channel; 4] = [
    Channel::BulkEmail,
    Channel::SingleEmail,
    Channel::Phone,
    Channel::Sms,
];

pub(super) fn switches_off(c: &mut Config) {
    c.switches = Switches::default();
}
