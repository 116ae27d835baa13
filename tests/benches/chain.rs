//! What chained rule packs cost (issue 11): the reference plugin alone
//! against a chain of three (the reference rules, the cold-call pack and
//! the reference rules again under other bytes), for one `decide` and for
//! a 100k-contact batch, all in the same run. Each link runs in its own
//! store, so a chain of n costs about n calls plus the combination.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crm_consent::engine::{Chain, Plugin, with_manifest};
use crm_consent::hooks::columns;
use crm_consent::wit::{Channel, Request};
use crm_consent_tests::*;

fn chain_of(plugins: &[&Plugin]) -> Chain {
    let cfg = sample_config();
    Chain::new(plugins.iter().map(|p| p.policy(&cfg).unwrap()).collect()).unwrap()
}

fn three() -> Vec<Plugin> {
    let pack = engine().load(&cold_call_bytes()).unwrap();
    let again = engine()
        .load(&with_manifest(&plugin_bytes(), "{}"))
        .unwrap();
    vec![pack, again]
}

fn phone(now: i64) -> Request {
    Request {
        channel: Channel::Phone,
        purpose: None,
        subscription_type: None,
        now,
    }
}

fn decide(c: &mut Criterion) {
    let packs = three();
    let mut one = chain_of(&[plugin()]);
    let mut chained = chain_of(&[plugin(), &packs[0], &packs[1]]);
    let contact = five_records();
    let req = phone(NOW);
    let mut g = c.benchmark_group("chain_decide");
    g.bench_function("one_plugin", |b| {
        b.iter(|| one.decide(black_box(&contact), black_box(&req)))
    });
    g.bench_function("three_plugins", |b| {
        b.iter(|| chained.decide(black_box(&contact), black_box(&req)))
    });
    g.finish();
}

fn batch(c: &mut Criterion) {
    const N: usize = 100_000;
    let packs = three();
    let mut one = chain_of(&[plugin()]);
    let mut chained = chain_of(&[plugin(), &packs[0], &packs[1]]);
    let contacts = crowd(N, NEWSLETTER, 400);
    let batch = columns(&contacts);
    let req = phone(NOW);
    let mut g = c.benchmark_group("chain_batch_100k");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);
    g.bench_function("one_plugin", |b| {
        b.iter(|| {
            one.decide_batch(black_box(&req), black_box(&batch))
                .unwrap()
        })
    });
    g.bench_function("three_plugins", |b| {
        b.iter(|| {
            chained
                .decide_batch(black_box(&req), black_box(&batch))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, decide, batch);
criterion_main!(benches);
