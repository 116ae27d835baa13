//! The rules compiled natively and the component agree on random cases: the
//! same config, contact and request give the same decision, one by one and
//! in batches. Times cluster around expiry boundaries on purpose. A chain of
//! rule packs decides a batch as it decides each contact alone.

use crm_consent::engine::{Chain, Decision, Plugin};
use crm_consent::hooks::columns;
use crm_consent::wit::Outcome;
use crm_consent::wit::{
    Channel, Config, ConsentRecord, ConsentStatus, ContactFlags, ContactState, LegalBasis,
    Preference, PurposeBasis, Request, SubscriptionState,
};
use crm_consent_plugin::rules as n;
use crm_consent_tests::{DAY, NOW, cold_call_bytes, engine, native, plugin, sample_config};
use proptest::prelude::*;

fn status() -> impl Strategy<Value = ConsentStatus> {
    prop_oneof![
        Just(ConsentStatus::Requested),
        Just(ConsentStatus::Given),
        Just(ConsentStatus::Renewed),
        Just(ConsentStatus::Refused),
        Just(ConsentStatus::Withdrawn),
        Just(ConsentStatus::Revoked),
        Just(ConsentStatus::Expired),
        Just(ConsentStatus::Invalidated),
    ]
}

fn basis() -> impl Strategy<Value = LegalBasis> {
    prop_oneof![
        Just(LegalBasis::Consent),
        Just(LegalBasis::Contract),
        Just(LegalBasis::LegalObligation),
        Just(LegalBasis::VitalInterest),
        Just(LegalBasis::PublicInterest),
        Just(LegalBasis::OfficialAuthority),
        Just(LegalBasis::LegitimateInterest),
        Just(LegalBasis::Withdrawn),
    ]
}

fn channel() -> impl Strategy<Value = Channel> {
    prop_oneof![
        Just(Channel::BulkEmail),
        Just(Channel::SingleEmail),
        Just(Channel::Phone),
        Just(Channel::Sms),
    ]
}

fn sub_state() -> impl Strategy<Value = SubscriptionState> {
    prop_oneof![
        Just(SubscriptionState::OptedIn),
        Just(SubscriptionState::NotSpecified),
        Just(SubscriptionState::OptedOut),
    ]
}

fn record() -> impl Strategy<Value = ConsentRecord> {
    // Type 5 is unknown to the config; days and the ±2 s jitter land on and
    // around the 30, 365 and 730-day expiries of the sample types.
    (1u32..=5, status(), basis(), 0i64..800, -2i64..=2).prop_map(
        |(type_id, status, legal_basis, days, jitter)| ConsentRecord {
            type_id,
            status,
            legal_basis,
            given_at: NOW - days * DAY + jitter,
            method_id: 1,
        },
    )
}

fn contact_state() -> impl Strategy<Value = ContactState> {
    (
        any::<(bool, bool, bool)>(),
        prop::collection::vec(record(), 0..5),
        prop::collection::vec((10u32..=13, basis()), 0..3),
        prop::collection::vec((20u32..=22, sub_state()), 0..3),
    )
        .prop_map(|((r, o, a), consents, bases, prefs)| {
            let mut flags = ContactFlags::empty();
            for (on, f) in [
                (r, ContactFlags::RESTRICTED),
                (o, ContactFlags::OBJECTED),
                (a, ContactFlags::OPTED_OUT_OF_ALL),
            ] {
                if on {
                    flags |= f;
                }
            }
            ContactState {
                flags,
                consents,
                bases: bases
                    .into_iter()
                    .map(|(purpose_id, legal_basis)| PurposeBasis {
                        purpose_id,
                        legal_basis,
                    })
                    .collect(),
                preferences: prefs
                    .into_iter()
                    .map(|(subscription_type_id, state)| Preference {
                        subscription_type_id,
                        state,
                    })
                    .collect(),
            }
        })
}

fn request() -> impl Strategy<Value = Request> {
    (
        channel(),
        prop::option::of(10u32..=13),
        prop::option::of(20u32..=22),
        -3i64..=3,
    )
        .prop_map(|(channel, purpose, subscription_type, jitter)| Request {
            channel,
            purpose,
            subscription_type,
            now: NOW + jitter,
        })
}

fn config() -> impl Strategy<Value = Config> {
    (any::<[bool; 4]>(), any::<bool>()).prop_map(|(s, no_reasons)| {
        let mut cfg = sample_config();
        cfg.switches.check_single_email = s[0];
        cfg.switches.check_bulk_email = s[1];
        cfg.switches.check_phone = s[2];
        cfg.switches.e_marketing_privacy = s[3];
        if no_reasons {
            cfg.reasons.clear();
        }
        cfg
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_component_and_the_native_rules_decide_alike(
        cfg in config(),
        cases in prop::collection::vec((contact_state(), request()), 1..16),
    ) {
        let mut wasm = plugin().policy(&cfg).unwrap();
        let native_policy = n::Policy::new(native::config(&cfg)).unwrap();
        for (contact, req) in &cases {
            let from_wasm = wasm.decide(contact, req);
            let owned = native::contact(contact);
            let from_native = native_policy.decide(owned.view(), &native::request(req));
            prop_assert_eq!(from_wasm, native::wit_decision(&from_native));
        }
    }

    #[test]
    fn batches_agree_with_the_native_batch(
        cfg in config(),
        contacts in prop::collection::vec(contact_state(), 0..40),
        req in request(),
    ) {
        let mut wasm = plugin().policy(&cfg).unwrap();
        let native_policy = n::Policy::new(native::config(&cfg)).unwrap();
        let batch = columns(&contacts);
        let from_wasm = wasm.decide_batch(&req, &batch).unwrap();
        let cols = native::columns(&contacts);
        let from_native = native_policy
            .decide_batch(&native::request(&req), &cols.rows, &cols.consents, &cols.bases, &cols.preferences)
            .unwrap();
        prop_assert_eq!(from_wasm.len(), from_native.len());
        for (w, v) in from_wasm.iter().zip(&from_native) {
            prop_assert_eq!((w.outcome, w.code), (native::wit_outcome(v.outcome), native::wit_code(v.code)));
        }
    }

    #[test]
    fn a_chains_batch_agrees_with_its_single_decisions(
        cfg in config(),
        contacts in prop::collection::vec(contact_state(), 0..40),
        req in request(),
    ) {
        let mut chain = Chain::new(vec![
            plugin().policy(&cfg).unwrap(),
            cold_call().policy(&cfg).unwrap(),
        ]).unwrap();
        let batch = chain.decide_batch(&req, &columns(&contacts)).unwrap();
        prop_assert_eq!(batch.verdicts.len(), contacts.len());
        for (contact, verdict) in contacts.iter().zip(&batch.verdicts) {
            let single = chain.decide(contact, &req).decision;
            let (outcome, code) = match &single {
                Decision::Allow(a) => (Outcome::Allow, a.code),
                Decision::Deny(d) => (Outcome::Deny, d.code),
                Decision::Justify(j) => (Outcome::Justify, j.code),
            };
            prop_assert_eq!((verdict.outcome, verdict.code), (outcome, code));
        }
    }
}

fn cold_call() -> &'static Plugin {
    static PACK: std::sync::OnceLock<Plugin> = std::sync::OnceLock::new();
    PACK.get_or_init(|| {
        engine()
            .load(&cold_call_bytes())
            .expect("the cold-call pack loads")
    })
}
