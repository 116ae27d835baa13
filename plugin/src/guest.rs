//! The component glue (wasm32 only): WIT values are converted to
//! [`crate::rules`] types, the rules decide, and the answer is converted back.
//! No rule lives here.

use alloc::vec::Vec;
use core::cell::RefCell;

use crate::rules as r;
use bindings::exports::crm::consent::rules::{Guest, GuestPolicy, Policy as PolicyHandle};
use bindings::exports::crm::consent::types as w;

mod bindings {
    wit_bindgen::generate!({
        world: "consent-plugin",
        path: "../wit",
    });
}

/// The component itself: wit-bindgen's `export!` hangs the exported
/// `crm:consent/rules` interface on it.
struct Component;

/// The exported `policy` resource: one validated rules policy, and scratch
/// space to sort a contact's facts into, kept so that `decide` does not
/// allocate once warm.
struct Policy {
    rules: r::Policy,
    scratch: RefCell<Scratch>,
}

/// The vectors a contact's facts are sorted into, cleared and reused by
/// every `decide` of one policy.
#[derive(Default)]
struct Scratch {
    consents: Vec<r::ConsentRecord>,
    bases: Vec<r::PurposeBasis>,
    preferences: Vec<r::Preference>,
}

bindings::export!(Component with_types_in bindings);

impl Guest for Component {
    type Policy = Policy;

    fn explain(code: w::ReasonCode) -> alloc::string::String {
        r::explain(reason_code(code)).into()
    }
}

impl GuestPolicy for Policy {
    fn create(cfg: w::Config) -> Result<PolicyHandle, w::ConfigError> {
        r::Policy::new(config(cfg))
            .map(|rules| {
                PolicyHandle::new(Policy {
                    rules,
                    scratch: RefCell::default(),
                })
            })
            .map_err(|e| match e {
                r::ConfigError::DuplicateId(m) => w::ConfigError::DuplicateId(m),
                r::ConfigError::DuplicateCode(m) => w::ConfigError::DuplicateCode(m),
                r::ConfigError::EmptyField(m) => w::ConfigError::EmptyField(m),
                r::ConfigError::InvalidValue(m) => w::ConfigError::InvalidValue(m),
            })
    }

    fn decide(&self, contact: w::ContactState, req: w::Request) -> w::Decision {
        let mut scratch = self.scratch.borrow_mut();
        let Scratch {
            consents,
            bases,
            preferences,
        } = &mut *scratch;
        consents.clear();
        bases.clear();
        preferences.clear();
        for fact in contact.facts {
            match fact {
                w::Fact::Consent(c) => consents.push(consent_record(c)),
                w::Fact::Basis(b) => bases.push(purpose_basis(b)),
                w::Fact::Preference(p) => preferences.push(preference(p)),
            }
        }
        let view = r::Contact {
            flags: contact_flags(contact.flags),
            consents,
            bases,
            preferences,
        };
        decision(self.rules.rule(view, &request(req)))
    }

    fn reasons(&self, _channel: w::Channel) -> Vec<u32> {
        // The default rules offer every configured reason on every channel.
        self.rules.reasons().to_vec()
    }

    fn decide_batch(
        &self,
        req: w::Request,
        batch: w::ContactBatch,
    ) -> Result<Vec<w::Verdict>, w::BatchError> {
        // Integer lists arrive as vectors over the canonical ABI buffers:
        // nothing is copied before the rules read them.
        let cols = r::Columns {
            flags: &batch.flags,
            consent_counts: &batch.consent_counts,
            basis_counts: &batch.basis_counts,
            preference_counts: &batch.preference_counts,
            consent_types: &batch.consent_types,
            consent_statuses: &batch.consent_statuses,
            consent_given_at: &batch.consent_given_at,
            basis_purposes: &batch.basis_purposes,
            basis_legal_bases: &batch.basis_legal_bases,
            preference_types: &batch.preference_types,
            preference_states: &batch.preference_states,
        };
        match self.rules.decide_columns(&request(req), &cols) {
            Ok(verdicts) => Ok(verdicts.into_iter().map(verdict).collect()),
            Err(e) => Err(w::BatchError { message: e.message }),
        }
    }
}

// --- WIT -> rules -----------------------------------------------------------

fn config(c: w::Config) -> r::Config {
    r::Config {
        consent_types: c
            .consent_types
            .into_iter()
            .map(|t| r::ConsentType {
                id: t.id,
                code: t.code,
                title: t.title,
                text_version: t.text_version,
                validity_days: t.validity_days,
                allow_bulk: t.allow_bulk,
                allow_single: t.allow_single,
                allow_contact: t.allow_contact,
            })
            .collect(),
        reasons: c
            .reasons
            .into_iter()
            .map(|x| r::Reason {
                id: x.id,
                code: x.code,
                label: x.label,
            })
            .collect(),
        purposes: c
            .purposes
            .into_iter()
            .map(|p| r::Purpose {
                id: p.id,
                code: p.code,
                name: p.name,
                legal_basis: legal_basis(p.legal_basis),
                direct_marketing: p.direct_marketing,
            })
            .collect(),
        subscription_types: c
            .subscription_types
            .into_iter()
            .map(|s| r::SubscriptionType {
                id: s.id,
                code: s.code,
                name: s.name,
                requires_opt_in: s.requires_opt_in,
            })
            .collect(),
        switches: r::Switches {
            single_mail: c.switches.single_mail,
            mailing_list: c.switches.mailing_list,
            per_contact: c.switches.per_contact,
            e_marketing_privacy: c.switches.e_marketing_privacy,
        },
    }
}

fn request(q: w::Request) -> r::Request {
    r::Request {
        channel: match q.channel {
            w::Channel::BulkEmail => r::Channel::BulkEmail,
            w::Channel::SingleEmail => r::Channel::SingleEmail,
            w::Channel::Phone => r::Channel::Phone,
            w::Channel::Sms => r::Channel::Sms,
        },
        purpose: q.purpose,
        subscription_type: q.subscription_type,
        now: q.now,
    }
}

fn contact_flags(f: w::ContactFlags) -> r::ContactFlags {
    let has = |flag: w::ContactFlags| (f & flag).bits() != 0;
    r::ContactFlags {
        restricted: has(w::ContactFlags::RESTRICTED),
        objected: has(w::ContactFlags::OBJECTED),
        opted_out_of_all: has(w::ContactFlags::OPTED_OUT_OF_ALL),
    }
}

fn consent_record(c: w::ConsentRecord) -> r::ConsentRecord {
    use r::ConsentStatus as S;
    r::ConsentRecord {
        type_id: c.type_id,
        status: match c.status {
            w::ConsentStatus::Requested => S::Requested,
            w::ConsentStatus::Given => S::Given,
            w::ConsentStatus::Renewed => S::Renewed,
            w::ConsentStatus::Refused => S::Refused,
            w::ConsentStatus::Withdrawn => S::Withdrawn,
            w::ConsentStatus::Revoked => S::Revoked,
            w::ConsentStatus::Expired => S::Expired,
            w::ConsentStatus::Invalidated => S::Invalidated,
        },
        legal_basis: legal_basis(c.legal_basis),
        given_at: c.given_at,
        method_id: c.method_id,
    }
}

fn purpose_basis(b: w::PurposeBasis) -> r::PurposeBasis {
    r::PurposeBasis {
        purpose_id: b.purpose_id,
        legal_basis: legal_basis(b.legal_basis),
    }
}

fn preference(p: w::Preference) -> r::Preference {
    r::Preference {
        subscription_type_id: p.subscription_type_id,
        state: match p.state {
            w::SubscriptionState::OptedIn => r::SubscriptionState::OptedIn,
            w::SubscriptionState::NotSpecified => r::SubscriptionState::NotSpecified,
            w::SubscriptionState::OptedOut => r::SubscriptionState::OptedOut,
        },
    }
}

fn legal_basis(b: w::LegalBasis) -> r::LegalBasis {
    use r::LegalBasis as L;
    match b {
        w::LegalBasis::Consent => L::Consent,
        w::LegalBasis::Contract => L::Contract,
        w::LegalBasis::LegalObligation => L::LegalObligation,
        w::LegalBasis::VitalInterest => L::VitalInterest,
        w::LegalBasis::PublicInterest => L::PublicInterest,
        w::LegalBasis::OfficialAuthority => L::OfficialAuthority,
        w::LegalBasis::LegitimateInterest => L::LegitimateInterest,
        w::LegalBasis::Withdrawn => L::Withdrawn,
    }
}

/// The two enums list the same 16 codes in the same order.
const CODES: [(w::ReasonCode, r::ReasonCode); 16] = [
    (w::ReasonCode::Consent, r::ReasonCode::Consent),
    (w::ReasonCode::LegalBasis, r::ReasonCode::LegalBasis),
    (w::ReasonCode::NotChecked, r::ReasonCode::NotChecked),
    (w::ReasonCode::NoConsent, r::ReasonCode::NoConsent),
    (w::ReasonCode::ConsentExpired, r::ReasonCode::ConsentExpired),
    (
        w::ReasonCode::ConsentWithdrawn,
        r::ReasonCode::ConsentWithdrawn,
    ),
    (w::ReasonCode::ConsentRefused, r::ReasonCode::ConsentRefused),
    (w::ReasonCode::BasisWithdrawn, r::ReasonCode::BasisWithdrawn),
    (w::ReasonCode::Objected, r::ReasonCode::Objected),
    (w::ReasonCode::Restricted, r::ReasonCode::Restricted),
    (w::ReasonCode::OptedOutOfAll, r::ReasonCode::OptedOutOfAll),
    (w::ReasonCode::OptedOut, r::ReasonCode::OptedOut),
    (w::ReasonCode::NotOptedIn, r::ReasonCode::NotOptedIn),
    (
        w::ReasonCode::UnknownSubscriptionType,
        r::ReasonCode::UnknownSubscriptionType,
    ),
    (
        w::ReasonCode::NoReasonsConfigured,
        r::ReasonCode::NoReasonsConfigured,
    ),
    (w::ReasonCode::PluginFault, r::ReasonCode::PluginFault),
];

// Checked at compile time, so indexing by discriminant below is exact.
const _: () = {
    let mut i = 0;
    while i < CODES.len() {
        assert!(CODES[i].0 as usize == i && CODES[i].1 as usize == i);
        i += 1;
    }
};

fn reason_code(c: w::ReasonCode) -> r::ReasonCode {
    CODES[c as usize].1
}

// --- rules -> WIT -----------------------------------------------------------

fn wit_code(c: r::ReasonCode) -> w::ReasonCode {
    CODES[c as usize].0
}

fn decision(d: r::Ruling) -> w::Decision {
    match d {
        r::Ruling::Allow {
            code,
            consent_type,
            legal_basis,
            valid_until,
        } => w::Decision::Allow(w::Allowed {
            code: wit_code(code),
            consent_type,
            legal_basis: legal_basis.map(wit_basis),
            valid_until,
        }),
        r::Ruling::Deny(code) => w::Decision::Deny(wit_code(code)),
        r::Ruling::Justify(code) => w::Decision::Justify(wit_code(code)),
    }
}

fn verdict(v: r::Verdict) -> w::Verdict {
    w::Verdict {
        outcome: match v.outcome {
            r::Outcome::Allow => w::Outcome::Allow,
            r::Outcome::Deny => w::Outcome::Deny,
            r::Outcome::Justify => w::Outcome::Justify,
        },
        code: wit_code(v.code),
    }
}

fn wit_basis(b: r::LegalBasis) -> w::LegalBasis {
    use r::LegalBasis as L;
    match b {
        L::Consent => w::LegalBasis::Consent,
        L::Contract => w::LegalBasis::Contract,
        L::LegalObligation => w::LegalBasis::LegalObligation,
        L::VitalInterest => w::LegalBasis::VitalInterest,
        L::PublicInterest => w::LegalBasis::PublicInterest,
        L::OfficialAuthority => w::LegalBasis::OfficialAuthority,
        L::LegitimateInterest => w::LegalBasis::LegitimateInterest,
        L::Withdrawn => w::LegalBasis::Withdrawn,
    }
}

// The no_std runtime (allocator, panic handler, `cabi_realloc`, libc's
// mem* functions), shared with the hostile test fixture.
include!("runtime.rs");
