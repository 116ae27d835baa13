//! Steps 4-7 and 9: switches, consent records, and what is left without a ground.
use super::*;

// 4. Switches.

#[test]
fn each_switch_turned_off_lets_its_own_channels_through_unchecked() {
    let c = contact();
    let mailing = policy_with(|c| c.switches.check_bulk_email = false);
    assert_eq!(decide(&mailing, &c, req(Channel::BulkEmail)), not_checked());
    assert_eq!(
        decide(&mailing, &c, req(Channel::SingleEmail)),
        justify(ReasonCode::NoConsent)
    );

    let single = policy_with(|c| c.switches.check_single_email = false);
    assert_eq!(
        decide(&single, &c, req(Channel::SingleEmail)),
        not_checked()
    );
    assert_eq!(decide(&single, &c, req(Channel::Sms)), not_checked());
    assert_eq!(
        decide(&single, &c, req(Channel::Phone)),
        justify(ReasonCode::NoConsent)
    );

    let contact_switch = policy_with(|c| c.switches.check_phone = false);
    assert_eq!(
        decide(&contact_switch, &c, req(Channel::Phone)),
        not_checked()
    );
    assert_eq!(
        decide(&contact_switch, &c, req(Channel::BulkEmail)),
        deny(ReasonCode::NoConsent)
    );
}

#[test]
fn a_switch_turned_off_also_skips_withdrawn_consents() {
    let c = with_consents(vec![rec(PHONE, ConsentStatus::Withdrawn, NOW)]);
    assert_eq!(
        decide(&policy_with(switches_off), &c, req(Channel::Phone)),
        not_checked()
    );
}

// 5. Withdrawn and refused records.

#[test]
fn a_withdrawn_or_revoked_consent_outweighs_a_valid_one() {
    for status in [ConsentStatus::Withdrawn, ConsentStatus::Revoked] {
        let c = with_consents(vec![
            given(EMAIL, NOW - DAY),
            rec(EVERYTHING, status, NOW - 2 * DAY),
        ]);
        assert_eq!(
            decide(&policy(), &c, req(Channel::SingleEmail)),
            deny(ReasonCode::ConsentWithdrawn)
        );
    }
}

#[test]
fn a_refused_consent_outweighs_a_valid_one_and_withdrawn_outweighs_refused() {
    let c = with_consents(vec![
        given(PHONE, NOW - DAY),
        rec(PHONE, ConsentStatus::Refused, NOW),
    ]);
    assert_eq!(
        decide(&policy(), &c, req(Channel::Phone)),
        deny(ReasonCode::ConsentRefused)
    );
    let c = with_consents(vec![
        rec(PHONE, ConsentStatus::Refused, NOW),
        rec(PHONE, ConsentStatus::Revoked, NOW),
    ]);
    assert_eq!(
        decide(&policy(), &c, req(Channel::Phone)),
        deny(ReasonCode::ConsentWithdrawn)
    );
}

#[test]
fn records_of_types_that_do_not_cover_the_channel_are_ignored() {
    let c = with_consents(vec![
        rec(NEWSLETTER, ConsentStatus::Withdrawn, NOW),
        given(PHONE, NOW - DAY),
    ]);
    assert_eq!(
        decide(&policy(), &c, req(Channel::Phone)),
        allow_consent(PHONE, None)
    );
    let c = with_consents(vec![given(PHONE, NOW - DAY)]);
    assert_eq!(
        decide(&policy(), &c, req(Channel::Sms)),
        justify(ReasonCode::NoConsent)
    );
}

#[test]
fn records_of_unknown_consent_types_are_ignored() {
    let c = with_consents(vec![
        rec(77, ConsentStatus::Withdrawn, NOW),
        given(78, NOW - DAY),
    ]);
    assert_eq!(
        decide(&policy(), &c, req(Channel::Sms)),
        justify(ReasonCode::NoConsent)
    );
}

#[test]
fn requested_and_invalidated_records_neither_allow_nor_deny() {
    let c = with_consents(vec![
        rec(EMAIL, ConsentStatus::Requested, NOW - DAY),
        rec(EMAIL, ConsentStatus::Invalidated, NOW - DAY),
    ]);
    assert_eq!(
        decide(&policy(), &c, req(Channel::SingleEmail)),
        justify(ReasonCode::NoConsent)
    );
}

// 6. A withdrawn legal basis for the purpose.

#[test]
fn a_withdrawn_basis_for_the_purpose_denies_even_with_a_valid_consent() {
    let mut c = with_consents(vec![given(EVERYTHING, NOW - DAY)]);
    c.bases = vec![
        basis(MARKETING, LegalBasis::Consent),
        basis(MARKETING, LegalBasis::Withdrawn),
    ];
    for ch in ALL_CHANNELS {
        assert_eq!(
            decide(&policy(), &c, req_for(ch, MARKETING)),
            deny(ReasonCode::BasisWithdrawn)
        );
    }
}

#[test]
fn a_withdrawn_basis_for_another_purpose_or_no_purpose_does_not_deny() {
    let mut c = with_consents(vec![given(EVERYTHING, NOW - DAY)]);
    c.bases = vec![basis(SALES, LegalBasis::Withdrawn)];
    assert_eq!(
        decide(&policy(), &c, req_for(Channel::Sms, MARKETING)),
        allow_consent(EVERYTHING, None)
    );
    assert_eq!(
        decide(&policy(), &c, req(Channel::Sms)),
        allow_consent(EVERYTHING, None)
    );
}

// 7. Valid consents.

#[test]
fn a_valid_consent_allows_and_reports_its_type_and_expiry() {
    let c = with_consents(vec![given(NEWSLETTER, NOW - 10 * DAY)]);
    let d = decide(&policy(), &c, req(Channel::BulkEmail));
    assert_eq!(
        d,
        allow_consent(NEWSLETTER, Some(NOW - 10 * DAY + 365 * DAY))
    );
}

#[test]
fn a_renewed_consent_counts_like_a_given_one() {
    let c = with_consents(vec![rec(EMAIL, ConsentStatus::Renewed, NOW)]);
    assert_eq!(
        decide(&policy(), &c, req(Channel::Sms)),
        allow_consent(EMAIL, Some(NOW + 30 * DAY))
    );
}

#[test]
fn the_valid_consent_that_expires_first_is_reported() {
    let c = with_consents(vec![
        given(EVERYTHING, NOW),
        given(EMAIL, NOW - DAY),
        given(EMAIL, NOW - 2 * DAY),
        given(EMAIL, NOW),
    ]);
    let d = decide(&policy(), &c, req(Channel::SingleEmail));
    assert_eq!(d, allow_consent(EMAIL, Some(NOW - 2 * DAY + 30 * DAY)));
}

#[test]
fn among_consents_that_never_expire_the_first_is_reported() {
    let p = policy_with(|c| {
        c.consent_types
            .push(consent_type(5, "phone-2", None, false, false, true))
    });
    let c = with_consents(vec![given(5, NOW - DAY), given(PHONE, NOW - DAY)]);
    assert_eq!(decide(&p, &c, req(Channel::Phone)), allow_consent(5, None));
}

#[test]
fn a_consent_dated_in_the_future_is_not_yet_valid() {
    let c = with_consents(vec![given(PHONE, NOW + 1)]);
    assert_eq!(
        decide(&policy(), &c, req(Channel::Phone)),
        justify(ReasonCode::NoConsent)
    );
    let c = with_consents(vec![given(PHONE, NOW)]);
    assert_eq!(
        decide(&policy(), &c, req(Channel::Phone)),
        allow_consent(PHONE, None)
    );
}

#[test]
fn a_consent_is_valid_until_the_second_before_its_expiry_and_expired_at_it() {
    let given_at = NOW - 30 * DAY;
    let c = with_consents(vec![given(EMAIL, given_at)]);
    let at = |now| Request {
        now,
        ..req(Channel::SingleEmail)
    };
    assert_eq!(
        decide(&policy(), &c, at(NOW - 1)),
        allow_consent(EMAIL, Some(NOW))
    );
    assert_eq!(
        decide(&policy(), &c, at(NOW)),
        justify(ReasonCode::ConsentExpired)
    );
    assert_eq!(
        decide(&policy(), &c, at(NOW + 1)),
        justify(ReasonCode::ConsentExpired)
    );
}

// 9. No ground.

#[test]
fn an_expired_consent_or_an_expired_record_is_reported_as_expired() {
    let c = with_consents(vec![given(EMAIL, NOW - 31 * DAY)]);
    assert_eq!(
        decide(&policy(), &c, req(Channel::Sms)),
        justify(ReasonCode::ConsentExpired)
    );
    let c = with_consents(vec![rec(NEWSLETTER, ConsentStatus::Expired, NOW - DAY)]);
    assert_eq!(
        decide(&policy(), &c, req(Channel::BulkEmail)),
        deny(ReasonCode::ConsentExpired)
    );
    // An expired record of a type for another channel is not relevant.
    assert_eq!(
        decide(&policy(), &c, req(Channel::Sms)),
        justify(ReasonCode::NoConsent)
    );
}

#[test]
fn a_newsletter_without_consent_is_denied_because_nobody_can_justify_it() {
    assert_eq!(
        decide(&policy(), &contact(), req(Channel::BulkEmail)),
        deny(ReasonCode::NoConsent)
    );
}

#[test]
fn one_to_one_contact_without_consent_asks_for_a_reason_from_the_configured_list_in_order() {
    for ch in [Channel::SingleEmail, Channel::Phone, Channel::Sms] {
        let d = decide(&policy(), &contact(), req(ch));
        assert_eq!(
            d,
            Decision::Justify {
                code: ReasonCode::NoConsent,
                reasons: vec![11, 10]
            }
        );
    }
}

#[test]
fn without_configured_reasons_one_to_one_contact_without_consent_is_denied() {
    let p = policy_with(|c| c.reasons.clear());
    let c = with_consents(vec![given(EMAIL, NOW - 40 * DAY)]);
    assert_eq!(
        decide(&p, &c, req(Channel::SingleEmail)),
        deny(ReasonCode::NoReasonsConfigured)
    );
}

#[test]
fn extreme_timestamps_never_panic() {
    let edges = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
    for given_at in edges {
        for now in edges {
            let c = with_consents(vec![given(EMAIL, given_at), given(PHONE, given_at)]);
            for ch in ALL_CHANNELS {
                let _ = decide(&policy(), &c, Request { now, ..req(ch) });
            }
        }
    }
    // Saturated: given at i64::MAX - 1 is valid at that second.
    let c = with_consents(vec![given(EMAIL, i64::MAX - 1)]);
    let d = decide(
        &policy(),
        &c,
        Request {
            now: i64::MAX - 1,
            ..req(Channel::Sms)
        },
    );
    assert_eq!(d, allow_consent(EMAIL, Some(i64::MAX)));
}

// explain

#[test]
fn every_reason_code_has_its_own_sentence() {
    let mut seen: Vec<&str> = Vec::new();
    for code in ReasonCode::ALL {
        let text = explain(code);
        assert!(text.ends_with('.') && text.len() > 20, "{code:?}: {text}");
        assert!(!seen.contains(&text), "{code:?} repeats a sentence");
        seen.push(text);
    }
    assert_eq!(
        explain(ReasonCode::Restricted),
        "Processing of this contact's data is restricted (GDPR Art. 18)."
    );
    assert_eq!(
        explain(ReasonCode::PluginFault),
        "The consent plugin failed; the action is denied to be safe."
    );
}
