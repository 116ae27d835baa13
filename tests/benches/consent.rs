//! Speed, always against a native baseline measured in the same run:
//! - `decide`: one warm decision through the component vs the rules natively,
//!   and the component's fixed cost per call (a contact with no facts);
//! - `batch_100k`: a newsletter batch of 100k contacts, component vs native;
//! - `instantiate`: a fresh instance from the InstancePre, with its policy;
//! - `newsletter_100k_stored`: 100k contacts from SQLite to the recipient list
//!   (`CRM_CONSENT_BENCH_CONTACTS=1000000` for 1M);
//! - `fuel`: `decide` and the 100k batch with fuel metering on (the default)
//!   and off, to see what the deterministic budget costs;
//! - `loop_to_deny`: how long a looping plugin takes to be denied (stopped
//!   by its fuel, with the CLI's 2 s deadline as the backstop), against a
//!   normal decide in the same run.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use crm_consent::engine::{Decision, Engine, EngineOptions};
use crm_consent::hooks::{BulkMode, Operator, StoredHooks, columns};
use crm_consent::setup;
use crm_consent::store::{self, NewConsent, NewConsentType, NewContact, Store};
use crm_consent::wit::{Channel, ReasonCode, Request};
use crm_consent_plugin::rules as n;
use crm_consent_tests::*;

fn decide(c: &mut Criterion) {
    let cfg = sample_config();
    let mut wasm = plugin().policy(&cfg).unwrap();
    let native_policy = n::Policy::new(native::config(&cfg)).unwrap();
    let contact = five_records();
    let native_contact = native::contact(&contact);
    let req = Request {
        channel: Channel::SingleEmail,
        purpose: None,
        subscription_type: None,
        now: NOW,
    };
    let native_req = native::request(&req);
    let mut g = c.benchmark_group("decide");
    g.bench_function("wasm", |b| {
        b.iter(|| wasm.decide(black_box(&contact), black_box(&req)))
    });
    g.bench_function("native", |b| {
        b.iter(|| native_policy.decide(black_box(native_contact.view()), black_box(&native_req)))
    });
    // The fixed cost of a call (entering the plugin, allocating the empty
    // facts list, borrowing the policy, reading the answer back).
    let no_facts = crm_consent_tests::contact().build();
    g.bench_function("wasm_no_facts", |b| {
        b.iter(|| wasm.decide(black_box(&no_facts), black_box(&req)))
    });
    g.finish();
}

fn batch(c: &mut Criterion) {
    const N: usize = 100_000;
    let cfg = sample_config();
    let mut wasm = plugin().policy(&cfg).unwrap();
    let native_policy = n::Policy::new(native::config(&cfg)).unwrap();
    let contacts = crowd(N, NEWSLETTER, 400);
    let batch = columns(&contacts);
    let cols = native::columns(&contacts);
    let req = Request {
        channel: Channel::BulkEmail,
        purpose: None,
        subscription_type: Some(WEEKLY),
        now: NOW,
    };
    let native_req = native::request(&req);
    let mut g = c.benchmark_group("batch_100k");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);
    g.bench_function("wasm", |b| {
        b.iter(|| {
            wasm.decide_batch(black_box(&req), black_box(&batch))
                .unwrap()
        })
    });
    g.bench_function("native", |b| {
        b.iter(|| {
            native_policy
                .decide_batch(
                    black_box(&native_req),
                    &cols.rows,
                    &cols.consents,
                    &cols.bases,
                    &cols.preferences,
                )
                .unwrap()
        })
    });
    // The same integer columns the component receives, decided natively:
    // the difference to `wasm` is the boundary and the wasm code alone.
    g.bench_function("native_columns", |b| {
        let cols = native::batch_columns(&batch);
        b.iter(|| {
            native_policy
                .decide_columns(black_box(&native_req), black_box(&cols))
                .unwrap()
        })
    });
    g.finish();
}

fn instantiate(c: &mut Criterion) {
    let cfg = sample_config();
    let mut g = c.benchmark_group("instantiate");
    g.bench_function("policy_from_instance_pre", |b| {
        b.iter(|| plugin().policy(black_box(&cfg)).unwrap())
    });
    g.bench_function("native_policy", |b| {
        b.iter_batched(
            || native::config(&cfg),
            |cfg| n::Policy::new(black_box(cfg)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// A store with `n` contacts with an email and their consents, the active
/// plugin installed and the check_bulk_email switch on.
fn stored_crowd(dir: &std::path::Path, n: usize) -> Store {
    let now = Utc.timestamp_opt(NOW, 0).unwrap();
    let mut s = Store::create(dir.join("bench.db")).unwrap();
    // The crowd's consents are dated relative to NOW: record them then.
    s.set_clock(move || now);
    for (code, days, bulk, single) in [
        ("newsletter", Some(365), true, false),
        ("email", None, false, true),
    ] {
        s.add_consent_type(
            &NewConsentType {
                code: code.into(),
                title: code.into(),
                description: None,
                text: format!("I agree to the {code}."),
                validity_days: days,
                allow_bulk_email: bulk,
                allow_single_email: single,
                allow_phone: false,
                text_valid_from: Some(now - chrono::Duration::days(500)),
            },
            "bench",
        )
        .unwrap();
    }
    let people: Vec<NewContact> = (0..n)
        .map(|i| NewContact {
            kind: store::ContactKind::Person,
            name: format!("Person {i}"),
            email: Some(format!("p{i}@example.com")),
            phone: None,
            flags: store::ContactFlags {
                objected: i % 7 == 3,
                ..Default::default()
            },
        })
        .collect();
    let ids = s.add_contacts(&people, "bench").unwrap();
    let consents: Vec<NewConsent> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 5 != 4)
        .flat_map(|(i, id)| {
            let given = now - chrono::Duration::days((i % 400) as i64);
            let status = if i % 5 == 2 { "withdrawn" } else { "given" };
            ["newsletter", "email"].map(|code| NewConsent {
                contact: *id,
                consent_type: code.into(),
                status: status.into(),
                method: "import".into(),
                legal_basis: store::LegalBasis::Consent,
                given_at: given,
                source: "bench".into(),
                actor: "bench".into(),
                evidence: None,
                text_version: None,
            })
        })
        .collect();
    s.record_consents(&consents).unwrap();
    setup::install(&mut s, engine(), &plugin_bytes(), "bench").unwrap();
    setup::set_switch(&mut s, setup::Switch::CheckBulkEmail, true, "bench").unwrap();
    s
}

/// How many stored contacts the newsletter bench uses: 100k by default,
/// `CRM_CONSENT_BENCH_CONTACTS=1000000` for the 1M target (its setup takes
/// minutes).
fn stored_contacts() -> usize {
    std::env::var("CRM_CONSENT_BENCH_CONTACTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}

fn newsletter_stored(c: &mut Criterion) {
    let n = stored_contacts();
    let dir = tempfile::tempdir().unwrap();
    // Built on first use, so a filtered run of the other benches skips it.
    let mut hooks: Option<StoredHooks> = None;
    let op = Operator::new("bench", Utc.timestamp_opt(NOW, 0).unwrap());
    let mut g = c.benchmark_group(format!("newsletter_{}k_stored", n / 1000));
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.bench_function("sqlite_to_recipients", |b| {
        let h =
            hooks.get_or_insert_with(|| StoredHooks::new(engine(), stored_crowd(dir.path(), n)));
        b.iter(|| h.before_bulk_send(None, BulkMode::DryRun, &op).unwrap())
    });
    g.bench_function("sqlite_read_only", |b| {
        let h =
            hooks.get_or_insert_with(|| StoredHooks::new(engine(), stored_crowd(dir.path(), n)));
        b.iter(|| h.store().newsletter_columns(None).unwrap())
    });
    g.finish();
}

fn fuel(c: &mut Criterion) {
    const N: usize = 100_000;
    let cfg = sample_config();
    let metered = |fuel_on: bool| {
        let engine = Engine::new(EngineOptions {
            call_timeout: std::time::Duration::from_millis(500),
            fuel: if fuel_on {
                EngineOptions::default().fuel
            } else {
                None
            },
            ..EngineOptions::default()
        })
        .unwrap();
        engine.load(&plugin_bytes()).unwrap().policy(&cfg).unwrap()
    };
    let mut on = metered(true);
    let mut off = metered(false);
    let contact = five_records();
    let req = Request {
        channel: Channel::SingleEmail,
        purpose: None,
        subscription_type: None,
        now: NOW,
    };
    let contacts = crowd(N, NEWSLETTER, 400);
    let batch = columns(&contacts);
    let bulk = Request {
        channel: Channel::BulkEmail,
        purpose: None,
        subscription_type: Some(WEEKLY),
        now: NOW,
    };
    let mut g = c.benchmark_group("fuel");
    g.bench_function("decide_fuel_on", |b| {
        b.iter(|| on.decide(black_box(&contact), black_box(&req)))
    });
    g.bench_function("decide_fuel_off", |b| {
        b.iter(|| off.decide(black_box(&contact), black_box(&req)))
    });
    g.sample_size(20);
    g.bench_function("batch_100k_fuel_on", |b| {
        b.iter(|| {
            on.decide_batch(black_box(&bulk), black_box(&batch))
                .unwrap()
        })
    });
    g.bench_function("batch_100k_fuel_off", |b| {
        b.iter(|| {
            off.decide_batch(black_box(&bulk), black_box(&batch))
                .unwrap()
        })
    });
    g.finish();
}

fn loop_to_deny(c: &mut Criterion) {
    // The CLI's options: a 2 s wall-clock deadline, the default fuel.
    let engine = Engine::new(EngineOptions {
        call_timeout: std::time::Duration::from_secs(2),
        max_instances: 4,
        ..EngineOptions::default()
    })
    .unwrap();
    let mut cfg = sample_config();
    let mut normal = engine.load(&plugin_bytes()).unwrap().policy(&cfg).unwrap();
    // The hostile fixture loops in `decide` for a contact with a consent.
    cfg.consent_types[0].code = "loop".into();
    let mut looping = engine.load(&hostile_bytes()).unwrap().policy(&cfg).unwrap();
    let contact = five_records();
    let req = Request {
        channel: Channel::SingleEmail,
        purpose: None,
        subscription_type: None,
        now: NOW,
    };
    let mut g = c.benchmark_group("loop_to_deny");
    g.sample_size(20);
    g.bench_function("normal_decide", |b| {
        b.iter(|| normal.decide(black_box(&contact), black_box(&req)))
    });
    // Until the deny is in hand: the loop runs out of fuel, the fault is
    // logged and a fresh instance is built for the next call.
    g.bench_function("looping_decide", |b| {
        b.iter(|| {
            let d = looping.decide(black_box(&contact), black_box(&req));
            assert!(matches!(&d, Decision::Deny(x) if x.code == ReasonCode::PluginFault));
            d
        })
    });
    // A looping batch gets a budget that grows with the batch (10M + 6,000
    // per contact), so it runs longer before it is stopped.
    let contacts = crowd(100_000, NEWSLETTER, 400);
    let batch = columns(&contacts);
    let bulk = Request {
        channel: Channel::BulkEmail,
        ..req
    };
    g.sample_size(10);
    g.bench_function("looping_batch_100k", |b| {
        b.iter(|| {
            let verdicts = looping.decide_batch(black_box(&bulk), &batch).unwrap();
            assert_eq!(verdicts[0].code, ReasonCode::PluginFault);
            verdicts
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    decide,
    batch,
    instantiate,
    newsletter_stored,
    fuel,
    loop_to_deny
);
criterion_main!(benches);
