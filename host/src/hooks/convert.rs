//! Store types to WIT types and back. `hooks` is the only module that knows
//! both sides, so the mapping lives here and nowhere else.

use crate::engine as wit;
use crate::store;

pub fn status(s: store::ConsentStatus) -> wit::ConsentStatus {
    use store::ConsentStatus as S;
    match s {
        S::Requested => wit::ConsentStatus::Requested,
        S::Given => wit::ConsentStatus::Given,
        S::Renewed => wit::ConsentStatus::Renewed,
        S::Refused => wit::ConsentStatus::Refused,
        S::Withdrawn => wit::ConsentStatus::Withdrawn,
        S::Revoked => wit::ConsentStatus::Revoked,
        S::Expired => wit::ConsentStatus::Expired,
        S::Invalidated => wit::ConsentStatus::Invalidated,
    }
}

pub fn legal_basis(b: store::LegalBasis) -> wit::LegalBasis {
    use store::LegalBasis as B;
    match b {
        B::Consent => wit::LegalBasis::Consent,
        B::Contract => wit::LegalBasis::Contract,
        B::LegalObligation => wit::LegalBasis::LegalObligation,
        B::VitalInterest => wit::LegalBasis::VitalInterest,
        B::PublicInterest => wit::LegalBasis::PublicInterest,
        B::OfficialAuthority => wit::LegalBasis::OfficialAuthority,
        B::LegitimateInterest => wit::LegalBasis::LegitimateInterest,
        B::Withdrawn => wit::LegalBasis::Withdrawn,
    }
}

pub fn subscription_state(s: store::SubscriptionState) -> wit::SubscriptionState {
    use store::SubscriptionState as S;
    match s {
        S::OptedIn => wit::SubscriptionState::OptedIn,
        S::NotSpecified => wit::SubscriptionState::NotSpecified,
        S::OptedOut => wit::SubscriptionState::OptedOut,
    }
}

pub fn channel(c: store::Channel) -> wit::Channel {
    use store::Channel as C;
    match c {
        C::BulkEmail => wit::Channel::BulkEmail,
        C::SingleEmail => wit::Channel::SingleEmail,
        C::Phone => wit::Channel::Phone,
        C::Sms => wit::Channel::Sms,
    }
}

pub fn flags(f: store::ContactFlags) -> wit::ContactFlags {
    let mut out = wit::ContactFlags::empty();
    if f.restricted {
        out |= wit::ContactFlags::RESTRICTED;
    }
    if f.objected {
        out |= wit::ContactFlags::OBJECTED;
    }
    if f.opted_out_of_all {
        out |= wit::ContactFlags::OPTED_OUT_OF_ALL;
    }
    out
}

pub fn consent(r: &store::ConsentRow) -> wit::ConsentRecord {
    wit::ConsentRecord {
        type_id: r.type_id.0,
        status: status(r.status),
        legal_basis: legal_basis(r.legal_basis),
        given_at: r.given_at,
        method_id: r.method_id.0,
    }
}

pub fn basis(b: &store::PurposeBasis) -> wit::PurposeBasis {
    wit::PurposeBasis {
        purpose_id: b.purpose_id.0,
        legal_basis: legal_basis(b.legal_basis),
    }
}

pub fn preference(p: &store::Preference) -> wit::Preference {
    wit::Preference {
        subscription_type_id: p.subscription_type_id.0,
        state: subscription_state(p.state),
    }
}

pub fn contact_state(s: &store::ContactSnapshot) -> wit::ContactState {
    wit::ContactState {
        flags: flags(s.flags),
        consents: s.consents.iter().map(consent).collect(),
        bases: s.bases.iter().map(basis).collect(),
        preferences: s.preferences.iter().map(preference).collect(),
    }
}

/// Store columns to the batch's integer columns, without building a
/// contact state per contact.
pub fn batch(c: &store::Columns) -> wit::ContactBatch {
    let n = c.rows.len();
    let mut b = wit::ContactBatch::with_capacity(n);
    for r in &c.rows {
        b.flags.push(flags(r.flags).batch_bits());
        b.consent_counts.push(count(r.consents));
        b.basis_counts.push(count(r.bases));
        b.preference_counts.push(count(r.preferences));
    }
    b.consent_types
        .extend(c.consents.iter().map(|r| r.type_id.0));
    b.consent_statuses
        .extend(c.consents.iter().map(|r| status(r.status) as u8));
    b.consent_given_at
        .extend(c.consents.iter().map(|r| r.given_at));
    b.basis_purposes
        .extend(c.bases.iter().map(|x| x.purpose_id.0));
    b.basis_legal_bases
        .extend(c.bases.iter().map(|x| legal_basis(x.legal_basis) as u8));
    b.preference_types
        .extend(c.preferences.iter().map(|p| p.subscription_type_id.0));
    b.preference_states.extend(
        c.preferences
            .iter()
            .map(|p| subscription_state(p.state) as u8),
    );
    b
}

fn count(n: u32) -> u16 {
    u16::try_from(n).expect("at most 65535 entries per contact and column")
}

pub fn config(c: &store::StoredConfig) -> wit::Config {
    wit::Config {
        consent_types: c
            .consent_types
            .iter()
            .map(|t| wit::ConsentType {
                id: t.id.0,
                code: t.code.clone(),
                title: t.title.clone(),
                text_version: t.text_version,
                validity_days: t.validity_days,
                allow_bulk_email: t.allow_bulk_email,
                allow_single_email: t.allow_single_email,
                allow_phone: t.allow_phone,
            })
            .collect(),
        reasons: c
            .reasons
            .iter()
            .map(|r| wit::JustificationReason {
                id: r.id.0,
                code: r.code.clone(),
                label: r.label.clone(),
            })
            .collect(),
        purposes: c
            .purposes
            .iter()
            .map(|p| wit::Purpose {
                id: p.id.0,
                code: p.code.clone(),
                name: p.name.clone(),
                legal_basis: legal_basis(p.legal_basis),
                direct_marketing: p.direct_marketing,
            })
            .collect(),
        subscription_types: c
            .subscription_types
            .iter()
            .map(|s| wit::SubscriptionType {
                id: s.id.0,
                code: s.code.clone(),
                name: s.name.clone(),
                requires_opt_in: s.requires_opt_in,
            })
            .collect(),
        switches: wit::Switches {
            check_single_email: c.switches.check_single_email,
            check_bulk_email: c.switches.check_bulk_email,
            check_phone: c.switches.check_phone,
            e_marketing_privacy: c.switches.e_marketing_privacy,
        },
    }
}

/// The store's spelling of a reason code (snake_case, like its other enums).
pub fn reason_code(code: wit::ReasonCode) -> String {
    code.as_str().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_are_spelled_in_snake_case() {
        assert_eq!(reason_code(wit::ReasonCode::NoConsent), "no_consent");
        assert_eq!(reason_code(wit::ReasonCode::Consent), "consent");
        assert_eq!(
            reason_code(wit::ReasonCode::OptedOutOfAll),
            "opted_out_of_all"
        );
    }

    #[test]
    fn every_flag_survives_the_mapping() {
        let f = store::ContactFlags {
            restricted: true,
            objected: false,
            opted_out_of_all: true,
        };
        let w = flags(f);
        assert!(w.contains(wit::ContactFlags::RESTRICTED));
        assert!(!w.contains(wit::ContactFlags::OBJECTED));
        assert!(w.contains(wit::ContactFlags::OPTED_OUT_OF_ALL));
    }
}
