//! The access and portability export of one contact with 1,000 ledger
//! entries (issue 9), as JSON-LD and as CSV. The baseline in the same run is
//! reading that contact's ledger rows alone (`consent_history`), which every
//! export does first; the rest is the texts, evidence, the other tables,
//! one scan of the decision log's bulk rows, and rendering.
//!
//! `CRM_CONSENT_BENCH_ENTRIES` sets the contact's ledger entries (default
//! 1,000); every fourth carries evidence, as a form submission would.

use std::hint::black_box;

use chrono::{Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use crm_consent::export::{ExportFormat, export_contact, render};
use crm_consent::store::{
    ContactFlags, ContactId, ContactKind, LegalBasis, NewConsent, NewConsentType, NewContact, Store,
};

fn entries() -> usize {
    std::env::var("CRM_CONSENT_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

/// A store with 200 other contacts and one contact whose ledger holds `n`
/// consent entries over five types.
fn store(dir: &std::path::Path, n: usize) -> (Store, ContactId) {
    let now = Utc::now();
    let mut s = Store::create(dir.join("bench.db")).unwrap();
    let codes = ["newsletter", "email", "phone", "sms", "events"];
    for code in codes {
        s.add_consent_type(
            &NewConsentType {
                code: code.into(),
                title: code.into(),
                description: None,
                text: format!("I agree to {code}, as described in our notice."),
                validity_days: Some(365),
                allow_bulk_email: true,
                allow_single_email: true,
                allow_phone: false,
                text_valid_from: Some(now - Duration::days(800)),
            },
            "bench",
        )
        .unwrap();
    }
    let person = |i: usize| NewContact {
        kind: ContactKind::Person,
        name: format!("Person {i}"),
        email: Some(format!("p{i}@example.com")),
        phone: Some("+48 600 000 000".into()),
        flags: ContactFlags::default(),
    };
    let others: Vec<NewContact> = (0..200).map(person).collect();
    s.add_contacts(&others, "bench").unwrap();
    let id = s.add_contact(&person(999_999), "bench").unwrap().id;
    let consents: Vec<NewConsent> = (0..n)
        .map(|i| NewConsent {
            contact: id,
            consent_type: codes[i % codes.len()].into(),
            status: if i % 3 == 2 { "withdrawn" } else { "given" }.into(),
            method: if i % 2 == 0 { "crm_form" } else { "email" }.into(),
            legal_basis: LegalBasis::Consent,
            given_at: now - Duration::days(700) + Duration::hours(i as i64),
            source: "bench".into(),
            actor: "bench".into(),
            evidence: (i % 4 == 0).then(|| {
                serde_json::json!({"ip": "192.0.2.1", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)"})
            }),
            text_version: None,
        })
        .collect();
    s.record_consents(&consents).unwrap();
    (s, id)
}

fn export(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let n = entries();
    let (store, id) = store(dir.path(), n);
    let now = Utc::now();
    let mut g = c.benchmark_group(format!("export_{n}_entries"));
    g.sample_size(20);
    g.bench_function("baseline_ledger_rows", |b| {
        b.iter(|| black_box(store.consent_history(id).unwrap()))
    });
    g.bench_function("read", |b| {
        b.iter(|| black_box(export_contact(&store, id, now).unwrap()))
    });
    for format in [ExportFormat::Json, ExportFormat::Csv] {
        g.bench_function(format!("read_and_render_{format}"), |b| {
            b.iter(|| {
                let e = export_contact(&store, id, now).unwrap();
                black_box(render(format, std::slice::from_ref(&e)).unwrap())
            })
        });
    }
    g.finish();
    let e = export_contact(&store, id, now).unwrap();
    for format in [ExportFormat::Json, ExportFormat::Csv] {
        let bytes = render(format, std::slice::from_ref(&e)).unwrap().len();
        eprintln!("export as {format}: {bytes} bytes");
    }
}

criterion_group!(benches, export);
criterion_main!(benches);
