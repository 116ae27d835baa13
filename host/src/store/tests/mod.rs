//! Store tests, each on a real SQLite file in its own temp directory.

mod bulk;
mod catalog;
mod columns;
mod contacts;
mod decision_configs;
mod decisions;
mod erasure;
mod fill;
mod group_commit;
mod ledger;
mod opening;
mod packs;
mod plugins;
mod reading;
mod retention;
mod state_cache;
mod superoffice;
mod verify;

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use tempfile::TempDir;

use super::*;

/// A fresh store in a temp directory that lives as long as the fixture.
pub(super) struct Fixture {
    pub _dir: TempDir,
    pub path: PathBuf,
    pub store: Store,
}

pub(super) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consent.db");
    // Recorded times come from the store's clock: the tests' histories are
    // dated in January 2024, so the clock stands after them.
    let store = Store::create_with_clock(&path, now).unwrap();
    Fixture {
        _dir: dir,
        path,
        store,
    }
}

/// The fixture clock's time: day 1000, long after every test's history.
pub(super) fn now() -> DateTime<Utc> {
    day(1000)
}

/// Noon UTC on a day of January 2024 (day 0 is 31 December 2023).
pub(super) fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).unwrap() + chrono::Duration::days(n - 1)
}

pub(super) fn person(store: &mut Store, name: &str, email: Option<&str>) -> ContactId {
    let new = NewContact {
        kind: ContactKind::Person,
        name: name.to_owned(),
        email: email.map(str::to_owned),
        phone: None,
        flags: ContactFlags::default(),
    };
    store.add_contact(&new, "alice").unwrap().id
}

pub(super) fn newsletter_type() -> NewConsentType {
    NewConsentType {
        code: "newsletter".to_owned(),
        title: "Newsletter".to_owned(),
        description: None,
        text: "I want the monthly newsletter.".to_owned(),
        validity_days: Some(365),
        allow_bulk_email: true,
        allow_single_email: false,
        allow_phone: false,
        // The tests record consents given from day 1 on.
        text_valid_from: Some(day(0)),
    }
}

pub(super) fn phone_type() -> NewConsentType {
    NewConsentType {
        code: "phone".to_owned(),
        title: "Phone marketing".to_owned(),
        text: "You may call me about offers.".to_owned(),
        validity_days: None,
        allow_bulk_email: false,
        allow_phone: true,
        ..newsletter_type()
    }
}

/// A consent change for `contact` with the usual defaults.
pub(super) fn consent(contact: ContactId, type_code: &str, status: &str, given: i64) -> NewConsent {
    NewConsent {
        contact,
        consent_type: type_code.into(),
        status: status.to_owned(),
        method: "email".to_owned(),
        legal_basis: LegalBasis::Consent,
        given_at: day(given),
        source: "web form".to_owned(),
        actor: "alice".to_owned(),
        evidence: None,
        text_version: None,
    }
}

/// A store with two consent types and one contact.
pub(super) fn with_types() -> (Fixture, ContactId) {
    let mut f = fixture();
    f.store
        .add_consent_type(&newsletter_type(), "admin")
        .unwrap();
    f.store.add_consent_type(&phone_type(), "admin").unwrap();
    let anna = person(&mut f.store, "Anna Nowak", Some("anna@example.com"));
    (f, anna)
}

pub(super) fn count(store: &Store, table: &str) -> i64 {
    store
        .raw()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .unwrap()
}

/// A hook's deny, with the config it was made under, as hooks log it.
pub(super) fn refusal(contact: ContactId, config: serde_json::Value) -> NewDecision {
    NewDecision {
        at: day(2),
        contact: Some(contact),
        channel: Channel::Phone,
        outcome: Outcome::Deny,
        reason_code: "withdrawn".to_owned(),
        subscription_type: None,
        summary: None,
        recipients: None,
        plugin_sha256: Some("ab".repeat(32)),
        request: serde_json::json!({
            "config": config,
            "contact": {"consents": [], "flags": []},
            "request": {"channel": "phone", "now": 1_704_196_800},
        }),
        actor: "alice".to_owned(),
    }
}

/// A config of `n`, about 500 bytes, in the JSON the decision log keeps.
pub(super) fn logged_config(n: i64) -> serde_json::Value {
    serde_json::json!({"consent_types": [{"id": n, "code": "calls", "text": "x".repeat(500)}], "switches": {}})
}
