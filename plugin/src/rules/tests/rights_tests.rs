//! Steps 1-3: restriction, objection and subscription choices, which hold
//! even when the admin switched consent checks off.
use super::*;

fn flagged(restricted: bool, objected: bool, opted_out_of_all: bool) -> ContactState {
    ContactState {
        flags: ContactFlags {
            restricted,
            objected,
            opted_out_of_all,
        },
        // A valid consent on every channel, so only the flag can deny.
        consents: vec![given(EVERYTHING, NOW - DAY)],
        ..contact()
    }
}

fn bulk_to(sub: u32) -> Request {
    Request {
        subscription_type: Some(sub),
        ..req(Channel::BulkEmail)
    }
}

// 1. Restriction.

#[test]
fn a_restricted_contact_is_denied_on_every_channel_even_with_switches_off() {
    for p in [policy(), policy_with(switches_off)] {
        for ch in ALL_CHANNELS {
            assert_eq!(
                decide(&p, &flagged(true, false, false), req_for(ch, SALES)),
                deny(ReasonCode::Restricted)
            );
        }
    }
}

#[test]
fn restriction_is_reported_before_objection() {
    assert_eq!(
        decide(
            &policy(),
            &flagged(true, true, true),
            req(Channel::BulkEmail)
        ),
        deny(ReasonCode::Restricted)
    );
}

// 2. Objection.

#[test]
fn an_objection_denies_every_newsletter_even_with_switches_off() {
    for p in [policy(), policy_with(switches_off)] {
        let r = req_for(Channel::BulkEmail, SALES);
        assert_eq!(
            decide(&p, &flagged(false, true, false), r),
            deny(ReasonCode::Objected)
        );
    }
}

#[test]
fn an_objection_denies_one_to_one_contact_without_a_purpose_or_for_a_marketing_purpose() {
    for ch in [Channel::SingleEmail, Channel::Phone, Channel::Sms] {
        let c = flagged(false, true, false);
        assert_eq!(decide(&policy(), &c, req(ch)), deny(ReasonCode::Objected));
        assert_eq!(
            decide(&policy(), &c, req_for(ch, MARKETING)),
            deny(ReasonCode::Objected)
        );
        assert_eq!(
            decide(&policy_with(switches_off), &c, req_for(ch, MARKETING)),
            deny(ReasonCode::Objected)
        );
    }
}

#[test]
fn an_objection_treats_an_unknown_purpose_as_direct_marketing() {
    let r = req_for(Channel::Phone, 4242);
    assert_eq!(
        decide(&policy(), &flagged(false, true, false), r),
        deny(ReasonCode::Objected)
    );
}

#[test]
fn an_objection_does_not_cover_a_purpose_that_is_not_direct_marketing() {
    let r = req_for(Channel::Phone, SALES);
    assert_eq!(
        decide(&policy(), &flagged(false, true, false), r),
        allow_consent(EVERYTHING, None)
    );
}

// 3. Subscriptions (newsletters only).

#[test]
fn an_unknown_subscription_type_is_denied_before_opt_out_of_all() {
    let r = bulk_to(999);
    assert_eq!(
        decide(&policy(), &flagged(false, false, true), r),
        deny(ReasonCode::UnknownSubscriptionType)
    );
}

#[test]
fn opting_out_of_all_denies_newsletters_with_or_without_a_subscription_type_even_with_switches_off()
{
    for p in [policy(), policy_with(switches_off)] {
        let c = flagged(false, false, true);
        assert_eq!(
            decide(&p, &c, req(Channel::BulkEmail)),
            deny(ReasonCode::OptedOutOfAll)
        );
        assert_eq!(
            decide(&p, &c, bulk_to(WEEKLY)),
            deny(ReasonCode::OptedOutOfAll)
        );
    }
}

#[test]
fn opting_out_of_all_subscriptions_does_not_stop_one_to_one_email() {
    let d = decide(
        &policy(),
        &flagged(false, false, true),
        req(Channel::SingleEmail),
    );
    assert_eq!(d, allow_consent(EVERYTHING, None));
}

#[test]
fn an_opt_out_of_one_subscription_denies_it_even_with_switches_off() {
    for p in [policy(), policy_with(switches_off)] {
        let mut c = flagged(false, false, false);
        c.preferences = vec![pref(WEEKLY, SubscriptionState::OptedOut)];
        assert_eq!(decide(&p, &c, bulk_to(WEEKLY)), deny(ReasonCode::OptedOut));
        // Other subscriptions are not affected.
        c.preferences.push(pref(OFFERS, SubscriptionState::OptedIn));
        assert_ne!(decide(&p, &c, bulk_to(OFFERS)).outcome(), Outcome::Deny);
    }
}

#[test]
fn a_subscription_that_requires_opt_in_is_denied_unless_the_contact_opted_in() {
    let mut c = flagged(false, false, false);
    assert_eq!(
        decide(&policy(), &c, bulk_to(OFFERS)),
        deny(ReasonCode::NotOptedIn)
    );
    c.preferences = vec![pref(OFFERS, SubscriptionState::NotSpecified)];
    assert_eq!(
        decide(&policy(), &c, bulk_to(OFFERS)),
        deny(ReasonCode::NotOptedIn)
    );
    c.preferences = vec![pref(OFFERS, SubscriptionState::OptedIn)];
    assert_eq!(
        decide(&policy(), &c, bulk_to(OFFERS)),
        allow_consent(EVERYTHING, None)
    );
}

#[test]
fn a_subscription_without_opt_in_needs_no_preference() {
    let d = decide(&policy(), &flagged(false, false, false), bulk_to(WEEKLY));
    assert_eq!(d, allow_consent(EVERYTHING, None));
}

#[test]
fn with_conflicting_preferences_the_opt_out_wins() {
    let mut c = flagged(false, false, false);
    c.preferences = vec![
        pref(OFFERS, SubscriptionState::OptedIn),
        pref(OFFERS, SubscriptionState::OptedOut),
    ];
    assert_eq!(
        decide(&policy(), &c, bulk_to(OFFERS)),
        deny(ReasonCode::OptedOut)
    );
    c.preferences = vec![
        pref(OFFERS, SubscriptionState::OptedIn),
        pref(OFFERS, SubscriptionState::NotSpecified),
    ];
    assert_eq!(
        decide(&policy(), &c, bulk_to(OFFERS)),
        deny(ReasonCode::NotOptedIn)
    );
}
