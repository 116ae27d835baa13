//! Every default rule, through the real component and the real host.

use crm_consent::engine::{Decision, EngineError};
use crm_consent::hooks::{Context, Hooks};
use crm_consent::wit::{
    Channel, Config, ConsentStatus, ContactFlags, ContactState, LegalBasis, Outcome, ReasonCode,
    SubscriptionState,
};
use crm_consent_tests::*;

fn hooks_with(config: &Config) -> Hooks {
    Hooks::new(plugin(), config).expect("sample config is valid")
}

fn hooks() -> Hooks {
    hooks_with(&sample_config())
}

fn allow_code(d: &Decision) -> ReasonCode {
    match d {
        Decision::Allow(a) => a.code,
        other => panic!("expected allow, got {other:?}"),
    }
}

fn deny_code(d: &Decision) -> ReasonCode {
    match d {
        Decision::Deny(x) => x.code,
        other => panic!("expected deny, got {other:?}"),
    }
}

fn justify(d: &Decision) -> (ReasonCode, Vec<u32>) {
    match d {
        Decision::Justify(j) => (j.code, j.reasons.iter().map(|r| r.0).collect()),
        other => panic!("expected justify, got {other:?}"),
    }
}

fn newsletter(h: &Hooks, sub: Option<u32>, c: &ContactState, now: i64) -> (Outcome, ReasonCode) {
    let v = h
        .before_bulk_send(sub, std::slice::from_ref(c), Context::at(time(now)))
        .expect("batch is well formed");
    assert_eq!(v.len(), 1);
    (v[0].outcome, v[0].code)
}

#[test]
fn a_newsletter_reaches_a_contact_with_valid_bulk_consent() {
    let c = contact().given(NEWSLETTER, NOW - DAY).build();
    assert_eq!(
        newsletter(&hooks(), Some(WEEKLY), &c, NOW),
        (Outcome::Allow, ReasonCode::Consent)
    );
}

#[test]
fn a_newsletter_without_consent_is_denied_never_justified() {
    let c = contact().build();
    assert_eq!(
        newsletter(&hooks(), Some(WEEKLY), &c, NOW),
        (Outcome::Deny, ReasonCode::NoConsent)
    );
    // Consent for another channel does not count for bulk.
    let c = contact()
        .given(EMAIL, NOW - DAY)
        .given(PHONE, NOW - DAY)
        .build();
    assert_eq!(
        newsletter(&hooks(), Some(WEEKLY), &c, NOW),
        (Outcome::Deny, ReasonCode::NoConsent)
    );
}

#[test]
fn a_single_email_with_valid_consent_is_allowed_by_that_consent() {
    let d = hooks().before_send(
        &contact().given(EMAIL, NOW - 400 * DAY).build(),
        Context::at(time(NOW)),
    );
    let Decision::Allow(a) = d else {
        panic!("expected allow, got {d:?}")
    };
    assert_eq!(a.code, ReasonCode::Consent);
    assert_eq!(a.consent_type, Some(EMAIL));
    assert_eq!(a.valid_until, None, "the email type never expires");
}

#[test]
fn an_email_or_call_without_consent_asks_the_operator_for_a_configured_reason() {
    let h = hooks();
    let c = contact().given(NEWSLETTER, NOW - DAY).build();
    for d in [
        h.before_send(&c, Context::at(time(NOW))),
        h.before_dial(&c, Context::at(time(NOW))),
    ] {
        assert_eq!(
            justify(&d),
            (
                ReasonCode::NoConsent,
                vec![CUSTOMER_ASKED, CONTRACT_FOLLOW_UP]
            )
        );
    }
}

#[test]
fn a_consent_expires_at_the_exact_boundary_second() {
    let h = hooks();
    let given = NOW - 10 * DAY;
    let c = contact().given(PHONE, given).build();
    let expiry = given + 30 * DAY;
    let last_valid = h.before_dial(&c, Context::at(time(expiry - 1)));
    let Decision::Allow(a) = &last_valid else {
        panic!("expected allow, got {last_valid:?}")
    };
    assert_eq!(a.valid_until, Some(expiry));
    let at_expiry = h.before_dial(&c, Context::at(time(expiry)));
    assert_eq!(justify(&at_expiry).0, ReasonCode::ConsentExpired);
    // Bulk: the same boundary denies with consent-expired.
    let n = contact().given(NEWSLETTER, given).build();
    let nexp = given + 365 * DAY;
    assert_eq!(newsletter(&h, None, &n, nexp - 1).0, Outcome::Allow);
    assert_eq!(
        newsletter(&h, None, &n, nexp),
        (Outcome::Deny, ReasonCode::ConsentExpired)
    );
}

#[test]
fn a_consent_dated_in_the_future_is_not_yet_valid() {
    let c = contact().given(EMAIL, NOW + 60).build();
    assert_eq!(
        justify(&hooks().before_send(&c, Context::at(time(NOW)))).0,
        ReasonCode::NoConsent
    );
}

#[test]
fn renewed_counts_like_given_but_requested_expired_and_invalidated_do_not() {
    let h = hooks();
    let renewed = contact()
        .consent(EMAIL, ConsentStatus::Renewed, NOW - DAY)
        .build();
    assert_eq!(
        allow_code(&h.before_send(&renewed, Context::at(time(NOW)))),
        ReasonCode::Consent
    );
    for status in [ConsentStatus::Requested, ConsentStatus::Invalidated] {
        let c = contact().consent(EMAIL, status, NOW - DAY).build();
        assert_eq!(
            justify(&h.before_send(&c, Context::at(time(NOW)))).0,
            ReasonCode::NoConsent,
            "{status:?}"
        );
    }
    let c = contact()
        .consent(EMAIL, ConsentStatus::Expired, NOW - DAY)
        .build();
    assert_eq!(
        justify(&h.before_send(&c, Context::at(time(NOW)))).0,
        ReasonCode::ConsentExpired
    );
}

#[test]
fn withdrawn_refused_or_revoked_consent_denies_outright_instead_of_justify() {
    let h = hooks();
    for (status, code) in [
        (ConsentStatus::Withdrawn, ReasonCode::ConsentWithdrawn),
        (ConsentStatus::Revoked, ReasonCode::ConsentWithdrawn),
        (ConsentStatus::Refused, ReasonCode::ConsentRefused),
    ] {
        let c = contact().consent(EMAIL, status, NOW - DAY).build();
        assert_eq!(
            deny_code(&h.before_send(&c, Context::at(time(NOW)))),
            code,
            "{status:?}"
        );
        let c = contact().consent(NEWSLETTER, status, NOW - DAY).build();
        assert_eq!(newsletter(&h, Some(WEEKLY), &c, NOW), (Outcome::Deny, code));
    }
}

#[test]
fn when_records_conflict_the_least_permissive_wins() {
    let h = hooks();
    // A valid "everything" consent and a withdrawn newsletter consent: bulk is denied...
    let c = contact()
        .given(EVERYTHING, NOW - DAY)
        .consent(NEWSLETTER, ConsentStatus::Withdrawn, NOW - 2 * DAY)
        .build();
    assert_eq!(
        newsletter(&h, None, &c, NOW),
        (Outcome::Deny, ReasonCode::ConsentWithdrawn)
    );
    // ...but the withdrawal covers only the newsletter's channels: email is still allowed.
    assert_eq!(
        allow_code(&h.before_send(&c, Context::at(time(NOW)))),
        ReasonCode::Consent
    );
}

#[test]
fn allow_is_valid_until_the_earliest_expiry_of_the_records_that_allowed_it() {
    let h = hooks();
    let c = contact()
        .given(EVERYTHING, NOW - 100 * DAY)
        .given(NEWSLETTER, NOW - 300 * DAY)
        .build();
    let v = h
        .before_bulk_send(None, std::slice::from_ref(&c), Context::at(time(NOW)))
        .unwrap();
    assert_eq!(v[0].outcome, Outcome::Allow);
    let d = h.decide(&c, Channel::BulkEmail, Context::at(time(NOW)));
    let Decision::Allow(a) = d else {
        panic!("expected allow, got {d:?}")
    };
    assert_eq!(a.valid_until, Some(NOW - 300 * DAY + 365 * DAY));
    assert_eq!(a.consent_type, Some(NEWSLETTER));
}

#[test]
fn an_objection_to_direct_marketing_is_absolute_but_spares_service_contacts() {
    let h = hooks();
    let c = contact()
        .flags(ContactFlags::OBJECTED)
        .given(EVERYTHING, NOW - DAY)
        .basis(SALES, LegalBasis::LegitimateInterest)
        .build();
    assert_eq!(
        newsletter(&h, None, &c, NOW),
        (Outcome::Deny, ReasonCode::Objected)
    );
    assert_eq!(
        deny_code(&h.before_send(&c, Context::at(time(NOW)))),
        ReasonCode::Objected
    );
    let marketing_call = h.before_dial(&c, Context::at(time(NOW)).for_purpose(MARKETING));
    assert_eq!(deny_code(&marketing_call), ReasonCode::Objected);
    // A service call under the sales purpose is not direct marketing.
    let service_call = h.before_dial(&c, Context::at(time(NOW)).for_purpose(SALES));
    assert_eq!(allow_code(&service_call), ReasonCode::Consent);
}

#[test]
fn a_restriction_of_processing_denies_every_channel_even_with_switches_off() {
    let mut cfg = sample_config();
    let c = contact()
        .flags(ContactFlags::RESTRICTED)
        .given(EVERYTHING, NOW - DAY)
        .build();
    for on in [true, false] {
        cfg.switches.check_single_email = on;
        cfg.switches.check_bulk_email = on;
        cfg.switches.check_phone = on;
        let h = hooks_with(&cfg);
        assert_eq!(
            deny_code(&h.before_send(&c, Context::at(time(NOW)))),
            ReasonCode::Restricted
        );
        assert_eq!(
            deny_code(&h.before_dial(&c, Context::at(time(NOW)).for_purpose(SALES))),
            ReasonCode::Restricted
        );
        assert_eq!(
            newsletter(&h, None, &c, NOW),
            (Outcome::Deny, ReasonCode::Restricted)
        );
    }
}

#[test]
fn a_legitimate_interest_or_contract_allows_email_and_calls_for_its_purpose() {
    let h = hooks();
    for basis in [LegalBasis::LegitimateInterest, LegalBasis::Contract] {
        let c = contact().basis(MARKETING, basis).build();
        let ctx = Context::at(time(NOW)).for_purpose(MARKETING);
        for d in [h.before_send(&c, ctx), h.before_dial(&c, ctx)] {
            let Decision::Allow(a) = d else {
                panic!("expected allow, got {d:?}")
            };
            assert_eq!(
                (a.code, a.legal_basis),
                (ReasonCode::LegalBasis, Some(basis))
            );
        }
        // Without a purpose the basis does not apply.
        assert_eq!(
            justify(&h.before_send(&c, Context::at(time(NOW)))).0,
            ReasonCode::NoConsent
        );
    }
    // The purpose's default basis applies to contacts with no basis of their own.
    let d = h.before_dial(
        &contact().build(),
        Context::at(time(NOW)).for_purpose(SALES),
    );
    assert_eq!(allow_code(&d), ReasonCode::LegalBasis);
}

#[test]
fn a_legal_basis_never_overrides_a_withdrawal_or_an_objection() {
    let h = hooks();
    let ctx = Context::at(time(NOW)).for_purpose(MARKETING);
    let withdrawn = contact()
        .basis(MARKETING, LegalBasis::LegitimateInterest)
        .consent(EMAIL, ConsentStatus::Withdrawn, NOW - DAY)
        .build();
    assert_eq!(
        deny_code(&h.before_send(&withdrawn, ctx)),
        ReasonCode::ConsentWithdrawn
    );
    let objected = contact()
        .flags(ContactFlags::OBJECTED)
        .basis(MARKETING, LegalBasis::LegitimateInterest)
        .build();
    assert_eq!(
        deny_code(&h.before_send(&objected, ctx)),
        ReasonCode::Objected
    );
}

#[test]
fn a_purpose_whose_basis_was_withdrawn_is_denied() {
    let c = contact().basis(EMARKETING, LegalBasis::Withdrawn).build();
    let d = hooks().before_send(&c, Context::at(time(NOW)).for_purpose(EMARKETING));
    assert_eq!(deny_code(&d), ReasonCode::BasisWithdrawn);
}

#[test]
fn soft_opt_in_on_legitimate_interest_reaches_newsletters_only_without_e_marketing_privacy() {
    let mut cfg = sample_config();
    let c = contact()
        .basis(EMARKETING, LegalBasis::LegitimateInterest)
        .build();
    let ctx = Context::at(time(NOW)).for_purpose(EMARKETING);
    let strict = hooks_with(&cfg);
    let v = strict
        .before_bulk_send(Some(WEEKLY), std::slice::from_ref(&c), ctx)
        .unwrap();
    assert_eq!(
        (v[0].outcome, v[0].code),
        (Outcome::Deny, ReasonCode::NoConsent)
    );
    cfg.switches.e_marketing_privacy = false;
    let soft = hooks_with(&cfg);
    let v = soft
        .before_bulk_send(Some(WEEKLY), std::slice::from_ref(&c), ctx)
        .unwrap();
    assert_eq!(
        (v[0].outcome, v[0].code),
        (Outcome::Allow, ReasonCode::LegalBasis)
    );
}

#[test]
fn each_switch_turned_off_allows_its_own_channel_unchecked_and_no_other() {
    let c = contact().build();
    let mut cfg = sample_config();
    cfg.switches.check_bulk_email = false;
    let h = hooks_with(&cfg);
    assert_eq!(
        newsletter(&h, Some(WEEKLY), &c, NOW),
        (Outcome::Allow, ReasonCode::NotChecked)
    );
    assert_eq!(
        justify(&h.before_send(&c, Context::at(time(NOW)))).0,
        ReasonCode::NoConsent
    );

    let mut cfg = sample_config();
    cfg.switches.check_single_email = false;
    let h = hooks_with(&cfg);
    assert_eq!(
        allow_code(&h.before_send(&c, Context::at(time(NOW)))),
        ReasonCode::NotChecked
    );
    assert_eq!(
        allow_code(&h.decide(&c, Channel::Sms, Context::at(time(NOW)))),
        ReasonCode::NotChecked
    );
    assert_eq!(
        justify(&h.before_dial(&c, Context::at(time(NOW)))).0,
        ReasonCode::NoConsent
    );

    let mut cfg = sample_config();
    cfg.switches.check_phone = false;
    let h = hooks_with(&cfg);
    assert_eq!(
        allow_code(&h.before_dial(&c, Context::at(time(NOW)))),
        ReasonCode::NotChecked
    );
    assert_eq!(
        newsletter(&h, None, &c, NOW),
        (Outcome::Deny, ReasonCode::NoConsent)
    );
}

#[test]
fn subscription_preferences_gate_newsletters() {
    let h = hooks();
    let base = contact().given(NEWSLETTER, NOW - DAY);
    let out = base
        .clone()
        .preference(WEEKLY, SubscriptionState::OptedOut)
        .build();
    assert_eq!(
        newsletter(&h, Some(WEEKLY), &out, NOW),
        (Outcome::Deny, ReasonCode::OptedOut)
    );
    let all_out = base.clone().flags(ContactFlags::OPTED_OUT_OF_ALL).build();
    assert_eq!(
        newsletter(&h, Some(WEEKLY), &all_out, NOW),
        (Outcome::Deny, ReasonCode::OptedOutOfAll)
    );
    let unspecified = base.clone().build();
    assert_eq!(
        newsletter(&h, Some(BETA), &unspecified, NOW),
        (Outcome::Deny, ReasonCode::NotOptedIn)
    );
    let opted_in = base
        .clone()
        .preference(BETA, SubscriptionState::OptedIn)
        .build();
    assert_eq!(
        newsletter(&h, Some(BETA), &opted_in, NOW),
        (Outcome::Allow, ReasonCode::Consent)
    );
    assert_eq!(
        newsletter(&h, Some(999), &opted_in, NOW),
        (Outcome::Deny, ReasonCode::UnknownSubscriptionType)
    );
}

#[test]
fn an_unsubscribe_is_honoured_even_when_the_mailing_list_switch_is_off() {
    let mut cfg = sample_config();
    cfg.switches.check_bulk_email = false;
    let c = contact()
        .preference(WEEKLY, SubscriptionState::OptedOut)
        .build();
    assert_eq!(
        newsletter(&hooks_with(&cfg), Some(WEEKLY), &c, NOW),
        (Outcome::Deny, ReasonCode::OptedOut)
    );
}

#[test]
fn without_configured_reasons_a_missing_consent_is_a_deny() {
    let mut cfg = sample_config();
    cfg.reasons.clear();
    let d = hooks_with(&cfg).before_send(&contact().build(), Context::at(time(NOW)));
    assert_eq!(deny_code(&d), ReasonCode::NoReasonsConfigured);
}

#[test]
fn a_deny_carries_the_plugins_sentence_for_people() {
    let h = hooks();
    let c = contact().flags(ContactFlags::RESTRICTED).build();
    let Decision::Deny(d) = h.before_send(&c, Context::at(time(NOW))) else {
        panic!("expected deny")
    };
    assert!(d.message.contains("restricted"), "{}", d.message);
    assert_eq!(d.message, h.explain(ReasonCode::Restricted));
}

#[test]
fn a_bad_config_is_refused_with_an_error_naming_the_entry() {
    type Breakage = Box<dyn Fn(&mut Config)>;
    let cases: Vec<(Breakage, &str)> = vec![
        (
            Box::new(|c| c.consent_types[1].code = "newsletter".into()),
            "newsletter",
        ),
        (Box::new(|c| c.consent_types[1].id = NEWSLETTER), "1"),
        (Box::new(|c| c.consent_types[0].title.clear()), "title"),
        (
            Box::new(|c| c.consent_types[2].validity_days = Some(0)),
            "phone",
        ),
        (
            Box::new(|c| c.reasons[1].code = "customer-asked".into()),
            "customer-asked",
        ),
        (Box::new(|c| c.subscription_types[0].name.clear()), "weekly"),
    ];
    for (break_it, named) in cases {
        let mut cfg = sample_config();
        break_it(&mut cfg);
        match Hooks::new(plugin(), &cfg) {
            Err(e @ EngineError::Config(_)) => {
                let msg = e.to_string();
                assert!(msg.contains(named), "error {msg:?} should name {named:?}");
            }
            Err(other) => panic!("expected a config error, got {other}"),
            Ok(_) => panic!("config naming {named:?} should be refused"),
        }
    }
}

#[test]
fn a_batch_decides_every_contact_as_single_decisions_would() {
    let h = hooks();
    let contacts = vec![
        contact().given(NEWSLETTER, NOW - DAY).build(),
        contact().build(),
        contact()
            .flags(ContactFlags::OBJECTED)
            .given(NEWSLETTER, NOW - DAY)
            .build(),
        contact().given(EVERYTHING, NOW - 800 * DAY).build(),
        contact()
            .given(NEWSLETTER, NOW - DAY)
            .preference(WEEKLY, SubscriptionState::OptedOut)
            .build(),
        contact()
            .consent(NEWSLETTER, ConsentStatus::Refused, NOW)
            .build(),
    ];
    let verdicts = h
        .before_bulk_send(Some(WEEKLY), &contacts, Context::at(time(NOW)))
        .unwrap();
    assert_eq!(verdicts.len(), contacts.len());
    let codes: Vec<_> = verdicts.iter().map(|v| v.code).collect();
    assert_eq!(
        codes,
        vec![
            ReasonCode::Consent,
            ReasonCode::NoConsent,
            ReasonCode::Objected,
            ReasonCode::ConsentExpired,
            ReasonCode::OptedOut,
            ReasonCode::ConsentRefused,
        ]
    );
    assert!(
        h.before_bulk_send(Some(WEEKLY), &[], Context::at(time(NOW)))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn every_fact_of_a_contact_reaches_the_plugin_and_nothing_of_the_last_one() {
    let h = hooks();
    // The first contact leaves two withdrawn consents in the plugin's memory.
    let withdrawn = contact()
        .consent(EMAIL, ConsentStatus::Withdrawn, NOW - DAY)
        .consent(EMAIL, ConsentStatus::Withdrawn, NOW - DAY)
        .build();
    assert_eq!(
        deny_code(&h.before_send(&withdrawn, Context::at(time(NOW)))),
        ReasonCode::ConsentWithdrawn
    );
    // The next has one consent of another channel, a basis and a preference:
    // three facts of three kinds, each read from its own slot.
    let next = contact()
        .given(PHONE, NOW - DAY)
        .basis(SALES, LegalBasis::Contract)
        .preference(WEEKLY, SubscriptionState::OptedIn)
        .build();
    assert_eq!(
        allow_code(&h.before_send(&next, Context::at(time(NOW)).for_purpose(SALES))),
        ReasonCode::LegalBasis
    );
    // And a basis alone is seen as the contact's own, not the purpose's default.
    let objecting = contact().basis(SALES, LegalBasis::Withdrawn).build();
    assert_eq!(
        deny_code(&h.before_send(&objecting, Context::at(time(NOW)).for_purpose(SALES))),
        ReasonCode::BasisWithdrawn
    );
}
