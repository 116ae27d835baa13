//! Step 8: legal bases other than consent.
use super::*;

const ONE_TO_ONE: [Channel; 3] = [Channel::SingleEmail, Channel::Phone, Channel::Sms];

const GRANTING: [LegalBasis; 6] = [
    LegalBasis::Contract,
    LegalBasis::LegalObligation,
    LegalBasis::VitalInterest,
    LegalBasis::PublicInterest,
    LegalBasis::OfficialAuthority,
    LegalBasis::LegitimateInterest,
];

fn with_bases(bases: Vec<PurposeBasis>) -> ContactState {
    ContactState { bases, ..contact() }
}

#[test]
fn every_basis_but_consent_and_withdrawn_allows_one_to_one_contact() {
    for b in GRANTING {
        for ch in ONE_TO_ONE {
            let d = decide(
                &policy(),
                &with_bases(vec![basis(MARKETING, b)]),
                req_for(ch, MARKETING),
            );
            assert_eq!(d, allow_basis(b), "{b:?} {ch:?}");
        }
    }
    let d = decide(
        &policy(),
        &with_bases(vec![basis(MARKETING, LegalBasis::Consent)]),
        req_for(Channel::Sms, MARKETING),
    );
    assert_eq!(d, justify(ReasonCode::NoConsent));
}

#[test]
fn a_valid_consent_is_reported_before_a_legal_basis() {
    let mut c = with_bases(vec![basis(SALES, LegalBasis::Contract)]);
    c.consents = vec![given(PHONE, NOW)];
    assert_eq!(
        decide(&policy(), &c, req_for(Channel::Phone, SALES)),
        allow_consent(PHONE, None)
    );
}

#[test]
fn the_purposes_default_basis_applies_when_the_contact_has_none() {
    assert_eq!(
        decide(&policy(), &contact(), req_for(Channel::Phone, SALES)),
        allow_basis(LegalBasis::Contract)
    );
    // The contact's own basis replaces the default.
    let c = with_bases(vec![basis(SALES, LegalBasis::Consent)]);
    assert_eq!(
        decide(&policy(), &c, req_for(Channel::Phone, SALES)),
        justify(ReasonCode::NoConsent)
    );
}

#[test]
fn an_unknown_purpose_or_no_purpose_has_no_default_basis() {
    assert_eq!(
        decide(&policy(), &contact(), req_for(Channel::Phone, 4242)),
        justify(ReasonCode::NoConsent)
    );
    assert_eq!(
        decide(&policy(), &contact(), req(Channel::Phone)),
        justify(ReasonCode::NoConsent)
    );
    // But a contact's own basis for an unknown purpose still counts.
    let c = with_bases(vec![basis(4242, LegalBasis::VitalInterest)]);
    assert_eq!(
        decide(&policy(), &c, req_for(Channel::Phone, 4242)),
        allow_basis(LegalBasis::VitalInterest)
    );
}

#[test]
fn a_withdrawn_default_basis_gives_no_ground_but_is_not_a_withdrawal_by_the_contact() {
    let d = decide(
        &policy(),
        &contact(),
        req_for(Channel::SingleEmail, NO_MAILINGS),
    );
    assert_eq!(d, justify(ReasonCode::NoConsent));
}

#[test]
fn with_several_bases_for_a_purpose_every_one_must_grant() {
    let c = with_bases(vec![
        basis(SALES, LegalBasis::Contract),
        basis(SALES, LegalBasis::Consent),
    ]);
    assert_eq!(
        decide(&policy(), &c, req_for(Channel::Phone, SALES)),
        justify(ReasonCode::NoConsent)
    );
    let c = with_bases(vec![
        basis(SALES, LegalBasis::Contract),
        basis(SALES, LegalBasis::LegalObligation),
    ]);
    assert_eq!(
        decide(&policy(), &c, req_for(Channel::Phone, SALES)),
        allow_basis(LegalBasis::Contract)
    );
}

#[test]
fn a_newsletter_on_legitimate_interest_is_allowed_only_with_e_marketing_privacy_off() {
    let soft = policy_with(|c| c.switches.e_marketing_privacy = false);
    let r = req_for(Channel::BulkEmail, SOFT_OPT_IN);
    assert_eq!(
        decide(&soft, &contact(), r),
        allow_basis(LegalBasis::LegitimateInterest)
    );
    assert_eq!(
        decide(&policy(), &contact(), r),
        deny(ReasonCode::NoConsent)
    );
}

#[test]
fn a_newsletter_is_never_allowed_by_a_basis_other_than_legitimate_interest() {
    let soft = policy_with(|c| c.switches.e_marketing_privacy = false);
    for b in GRANTING
        .into_iter()
        .filter(|b| *b != LegalBasis::LegitimateInterest)
    {
        let c = with_bases(vec![basis(SALES, b)]);
        assert_eq!(
            decide(&soft, &c, req_for(Channel::BulkEmail, SALES)),
            deny(ReasonCode::NoConsent),
            "{b:?}"
        );
    }
}

#[test]
fn an_expired_consent_with_no_other_basis_is_reported_as_expired_for_a_purpose() {
    let mut c = with_bases(vec![basis(MARKETING, LegalBasis::Consent)]);
    c.consents = vec![given(EMAIL, NOW - 30 * DAY)];
    assert_eq!(
        decide(&policy(), &c, req_for(Channel::SingleEmail, MARKETING)),
        justify(ReasonCode::ConsentExpired)
    );
}
