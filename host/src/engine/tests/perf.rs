//! A rough timing of the hot path, for `cargo test --release -- --ignored`.
//! The criterion benches are the reference; this only checks the engine
//! overhead quickly without them.

use std::time::Instant;

use super::engine;
use super::fixtures::{batch, config, contact, request, scripted_plugin};
use crate::engine::{ConsentRecord, ConsentStatus, ContactState, LegalBasis, Policy, ReasonCode};

fn time(name: &str, policy: &mut Policy, contact: &ContactState) {
    let req = request(1_750_000_000);
    for _ in 0..10_000 {
        std::hint::black_box(policy.decide(contact, &req));
    }
    let rounds = 200_000u32;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(policy.decide(std::hint::black_box(contact), &req));
    }
    let per_call = started.elapsed() / rounds;
    let started = Instant::now();
    let contacts = batch(1000);
    for _ in 0..100 {
        std::hint::black_box(policy.decide_batch(&req, &contacts).expect("verdicts"));
    }
    let per_contact = started.elapsed() / (100 * 1000);
    let empty = batch(0);
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(policy.decide_batch(&req, &empty).expect("verdicts"));
    }
    let empty_batch = started.elapsed() / rounds;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(policy.explain(ReasonCode::Consent));
    }
    let explain = started.elapsed() / rounds;
    eprintln!(
        "{name}: decide {per_call:?}/call, batch {per_contact:?}/contact, \
         empty batch {empty_batch:?}/call, cached explain {explain:?}"
    );
}

#[test]
#[ignore = "timing; run with --release -- --ignored"]
fn decide_on_a_warm_instance() {
    let consenting = ContactState {
        consents: vec![ConsentRecord {
            type_id: 1,
            status: ConsentStatus::Given,
            legal_basis: LegalBasis::Consent,
            given_at: 1_749_000_000,
            method_id: 1,
        }],
        ..contact()
    };
    let mut scripted = engine()
        .load(&scripted_plugin())
        .unwrap()
        .policy(&config())
        .unwrap();
    time("scripted, empty contact", &mut scripted, &contact());
    time("scripted, one consent", &mut scripted, &consenting);
    if let Some(path) = option_env!("CRM_CONSENT_PLUGIN_WASM") {
        let bytes = std::fs::read(path).unwrap();
        let mut real = engine().load(&bytes).unwrap().policy(&config()).unwrap();
        time("real plugin, empty contact", &mut real, &contact());
        time("real plugin, one consent", &mut real, &consenting);
    }
}

/// The fuel the reference plugin uses, behind the defaults in `fuel.rs`.
/// `cargo test -p crm-consent --lib fuel_use -- --ignored --nocapture`.
#[test]
#[ignore = "measurement; prints the fuel the reference plugin uses"]
fn fuel_use_of_the_reference_plugin() {
    use crate::engine::{
        ConsentType, ContactBatch, EngineOptions, FuelBudget, Preference, PurposeBasis,
        SubscriptionState,
    };
    let Some(path) = option_env!("CRM_CONSENT_PLUGIN_WASM") else {
        return;
    };
    let bytes = std::fs::read(path).unwrap();
    let budget = 1u64 << 40;
    let engine = super::engine_with(EngineOptions {
        call_timeout: std::time::Duration::from_secs(600),
        fuel: Some(FuelBudget {
            call: budget,
            setup: budget,
            batch_base: budget,
            batch_per_contact: 0,
        }),
        ..EngineOptions::default()
    });
    let plugin = engine.load(&bytes).unwrap();
    let used = |policy: &Policy| budget - policy.fuel_left().unwrap();
    let record = |type_id: u32, at: i64| ConsentRecord {
        type_id,
        status: ConsentStatus::Given,
        legal_basis: LegalBasis::Consent,
        given_at: at,
        method_id: 1,
    };
    let req = request(1_750_000_000);

    let mut policy = plugin.policy(&config()).unwrap();
    eprintln!("create (1 type): {}", used(&policy));
    let five = ContactState {
        consents: (0..5).map(|i| record(1 + i % 2, 1_749_000_000)).collect(),
        ..contact()
    };
    policy.decide(&five, &req);
    eprintln!("decide, 5 records: {}", used(&policy));
    let many = ContactState {
        consents: (0..1000)
            .map(|i| record(1 + i % 3, 1_749_000_000 - i64::from(i)))
            .collect(),
        bases: (0..100)
            .map(|i| PurposeBasis {
                purpose_id: i,
                legal_basis: LegalBasis::LegitimateInterest,
            })
            .collect(),
        preferences: (0..100)
            .map(|i| Preference {
                subscription_type_id: i,
                state: SubscriptionState::OptedIn,
            })
            .collect(),
        ..contact()
    };
    let decision = policy.decide(&many, &req);
    eprintln!(
        "decide, 1000 records + 100 bases + 100 preferences: {} ({decision:?})",
        used(&policy)
    );
    let decision = policy.decide(&five, &req);
    eprintln!("decide, 5 records, again: {} ({decision:?})", used(&policy));
    policy.explain(ReasonCode::NoConsent);
    eprintln!("explain: {}", used(&policy));
    let mixed: Vec<ContactState> = (0..1_000_000)
        .map(|i| match i % 5 {
            0 => ContactState {
                consents: vec![record(1, 1_749_000_000)],
                ..contact()
            },
            1 => ContactState {
                consents: vec![record(1, 1_749_000_000), record(2, 1_749_000_000)],
                ..contact()
            },
            _ => contact(),
        })
        .collect();
    for n in [100_000, 1_000_000] {
        let cols = ContactBatch::from_contacts(&mixed[..n]);
        let mut bulk = req;
        bulk.channel = crate::engine::Channel::BulkEmail;
        policy.decide_batch(&bulk, &cols).unwrap();
        let fuel = used(&policy);
        eprintln!("batch of {n}: {fuel} ({} per contact)", fuel / n as u64);
    }
    let mut big = config();
    big.consent_types = (1..=1000)
        .map(|id| ConsentType {
            id,
            code: format!("type-{id}"),
            ..config().consent_types[0].clone()
        })
        .collect();
    let policy = plugin.policy(&big).unwrap();
    eprintln!("create (1000 types): {}", used(&policy));
}
