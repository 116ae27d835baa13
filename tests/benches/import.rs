//! Importing 100k consent rows from a csv file (issue 9's target: at most
//! 5 s on the 2-core machine), all in one transaction, with two baselines
//! measured in the same run:
//! - `record_consents`: the same 100k changes through the store's existing
//!   bulk write, with no file to read and no row to classify: what writing
//!   the entries costs;
//! - the dry run of the same import: reading, mapping and checking every
//!   row, without writing.
//!
//! `CRM_CONSENT_BENCH_ROWS` sets the row count (default 100k).

use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use crm_consent::import::{ImportFormat, ImportOptions, import};
use crm_consent::store::{
    ContactFlags, ContactKind, LegalBasis, NewConsent, NewConsentType, NewContact, Store,
};

fn rows() -> usize {
    std::env::var("CRM_CONSENT_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// A database with one consent type and `n` contacts (ids 1..=n), closed.
fn template(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("template.db");
    let mut s = Store::create(&path).unwrap();
    s.add_consent_type(
        &NewConsentType {
            code: "newsletter".into(),
            title: "Newsletter".into(),
            description: None,
            text: "I want the newsletter.".into(),
            validity_days: Some(365),
            allow_bulk_email: true,
            allow_single_email: false,
            allow_phone: false,
            text_valid_from: Some(Utc::now() - Duration::days(500)),
        },
        "bench",
    )
    .unwrap();
    let people: Vec<NewContact> = (0..n)
        .map(|i| NewContact {
            kind: ContactKind::Person,
            name: format!("Person {i}"),
            email: Some(format!("p{i}@example.com")),
            phone: None,
            flags: ContactFlags::default(),
        })
        .collect();
    s.add_contacts(&people, "bench").unwrap();
    drop(s);
    path
}

/// A fresh copy of the template to write into.
fn fresh(template: &Path, dir: &Path) -> Store {
    let path = dir.join("run.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    std::fs::copy(template, &path).unwrap();
    Store::open(&path).unwrap()
}

fn csv(n: usize) -> Vec<u8> {
    let mut out = String::from("contact,consent,status,date,way\n");
    for i in 0..n {
        let status = if i % 3 == 0 { "withdrawn" } else { "given" };
        let day = Utc::now().date_naive() - Duration::days((i % 400) as i64);
        out.push_str(&format!("{},newsletter,{status},{day},paper\n", i + 1));
    }
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    let n = rows();
    let dir = tempfile::tempdir().unwrap();
    let template = template(dir.path(), n);
    let file = csv(n);
    let consents: Vec<NewConsent> = (0..n)
        .map(|i| NewConsent {
            contact: crm_consent::ContactId(i as i64 + 1),
            consent_type: "newsletter".into(),
            status: if i % 3 == 0 { "withdrawn" } else { "given" }.into(),
            method: "import".into(),
            legal_basis: LegalBasis::Consent,
            given_at: Utc::now() - Duration::days((i % 400) as i64),
            source: "bench".into(),
            actor: "bench".into(),
            evidence: Some(serde_json::json!({"row": i + 2})),
            text_version: None,
        })
        .collect();
    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(40));
    let opts = |dry_run| ImportOptions {
        format: ImportFormat::Csv,
        dry_run,
        actor: "bench",
    };
    group.bench_function(format!("csv_{n}_rows"), |b| {
        b.iter_batched(
            || fresh(&template, dir.path()),
            |mut store| {
                let report = import(&mut store, &file, opts(false), &mut |_, _, _| {}).unwrap();
                assert_eq!(report.written, n);
                store
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function(format!("baseline_record_consents_{n}"), |b| {
        b.iter_batched(
            || fresh(&template, dir.path()),
            |mut store| {
                assert_eq!(store.record_consents(&consents).unwrap().len(), n);
                store
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function(format!("baseline_dry_run_{n}_rows"), |b| {
        b.iter_batched(
            || fresh(&template, dir.path()),
            |mut store| {
                let report = import(&mut store, &file, opts(true), &mut |_, _, _| {}).unwrap();
                assert_eq!(report.new, n);
                store
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
