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
