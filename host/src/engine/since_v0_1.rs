//! `crm:consent@0.1.0`, generated from the frozen `wit/since_v0_1/consent.wit`,
//! and the one conversion the host needs to run a 0.1 plugin: the config,
//! whose consent-type permissions and switches 0.1 named otherwise.
//! Everything else a 0.1 plugin takes and answers has the current shape and
//! names (see `versions`).
// Generated, and documented by the frozen WIT.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit/since_v0_1",
    world: "consent-plugin",
});

use exports::crm::consent::types as v0_1;

use super::bindings::{self as current, LegalBasis};

/// The current config in 0.1's words. `policy.create` runs once per
/// instance, so the copy is not on the hot path.
pub(crate) fn config(cfg: &current::Config) -> v0_1::Config {
    v0_1::Config {
        consent_types: cfg
            .consent_types
            .iter()
            .map(|t| v0_1::ConsentType {
                id: t.id,
                code: t.code.clone(),
                title: t.title.clone(),
                text_version: t.text_version,
                validity_days: t.validity_days,
                allow_bulk: t.allow_bulk_email,
                allow_single: t.allow_single_email,
                allow_contact: t.allow_phone,
            })
            .collect(),
        reasons: cfg
            .reasons
            .iter()
            .map(|r| v0_1::JustificationReason {
                id: r.id,
                code: r.code.clone(),
                label: r.label.clone(),
            })
            .collect(),
        purposes: cfg
            .purposes
            .iter()
            .map(|p| v0_1::Purpose {
                id: p.id,
                code: p.code.clone(),
                name: p.name.clone(),
                legal_basis: legal_basis(p.legal_basis),
                direct_marketing: p.direct_marketing,
            })
            .collect(),
        subscription_types: cfg
            .subscription_types
            .iter()
            .map(|s| v0_1::SubscriptionType {
                id: s.id,
                code: s.code.clone(),
                name: s.name.clone(),
                requires_opt_in: s.requires_opt_in,
            })
            .collect(),
        switches: v0_1::Switches {
            single_mail: cfg.switches.check_single_email,
            mailing_list: cfg.switches.check_bulk_email,
            per_contact: cfg.switches.check_phone,
            e_marketing_privacy: cfg.switches.e_marketing_privacy,
        },
    }
}

fn legal_basis(basis: LegalBasis) -> v0_1::LegalBasis {
    use v0_1::LegalBasis as Old;
    match basis {
        LegalBasis::Consent => Old::Consent,
        LegalBasis::Contract => Old::Contract,
        LegalBasis::LegalObligation => Old::LegalObligation,
        LegalBasis::VitalInterest => Old::VitalInterest,
        LegalBasis::PublicInterest => Old::PublicInterest,
        LegalBasis::OfficialAuthority => Old::OfficialAuthority,
        LegalBasis::LegitimateInterest => Old::LegitimateInterest,
        LegalBasis::Withdrawn => Old::Withdrawn,
    }
}

/// The 0.1 config type, for typing `policy.create`.
pub(crate) type Config = v0_1::Config;
