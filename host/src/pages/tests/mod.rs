//! The pages, each test on a real SQLite file, with the bundled plugin
//! where a decision is asked.

mod double_opt_in;
mod form;
mod links;
mod outbox;
mod preferences;
mod translations;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};
use tempfile::TempDir;

use super::Visitor;
use crate::store::{
    ContactFlags, ContactId, ContactKind, LegalBasis, NewConsent, NewConsentType, NewContact, Store,
};

/// 2026-01-01T00:00:00Z.
pub(super) const START: i64 = 1_767_225_600;

/// A store whose clock the test moves.
pub(super) struct Fixture {
    pub _dir: TempDir,
    pub path: PathBuf,
    pub store: Store,
    clock: Arc<AtomicI64>,
}

impl Fixture {
    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.clock.load(Ordering::SeqCst), 0).unwrap()
    }

    /// Moves the store's clock forward.
    pub fn advance(&self, by: Duration) {
        self.clock.fetch_add(by.num_seconds(), Ordering::SeqCst);
    }

    /// `ledger verify` passes: every page write keeps the proof whole.
    pub fn assert_verifies(&self) {
        let report = self.store.verify_ledger().unwrap();
        assert!(report.ok, "{:?}", report.problem);
    }
}

pub(super) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consent.db");
    let clock = Arc::new(AtomicI64::new(START));
    let read = Arc::clone(&clock);
    let store = Store::create_with_clock(&path, move || {
        DateTime::from_timestamp(read.load(Ordering::SeqCst), 0).unwrap()
    })
    .unwrap();
    Fixture {
        _dir: dir,
        path,
        store,
        clock,
    }
}

pub(super) fn consent_type(code: &str, title: &str, bulk: bool) -> NewConsentType {
    NewConsentType {
        code: code.to_owned(),
        title: title.to_owned(),
        description: None,
        text: format!("I agree to {code}."),
        validity_days: Some(365),
        allow_bulk_email: bulk,
        allow_single_email: !bulk,
        allow_phone: false,
        text_valid_from: None,
    }
}

pub(super) fn person(store: &mut Store, name: &str, email: Option<&str>) -> ContactId {
    let new = NewContact {
        kind: ContactKind::Person,
        name: name.to_owned(),
        email: email.map(str::to_owned),
        phone: None,
        flags: ContactFlags::default(),
    };
    store.add_contact(&new, "olivia").unwrap().id
}

/// A store with a `newsletter` (bulk) and an `email` (single) type and
/// two contacts, Anna and Piotr.
pub(super) fn with_people() -> (Fixture, ContactId, ContactId) {
    let mut f = fixture();
    let s = &mut f.store;
    s.add_consent_type(&consent_type("newsletter", "Newsletter", true), "admin")
        .unwrap();
    s.add_consent_type(&consent_type("email", "Emails from us", false), "admin")
        .unwrap();
    let anna = person(s, "Anna Nowak", Some("anna@example.com"));
    let piotr = person(s, "Piotr Wiśniewski", Some("piotr@example.com"));
    (f, anna, piotr)
}

pub(super) fn visitor() -> Visitor {
    Visitor {
        ip: Some("192.0.2.10".to_owned()),
        user_agent: Some("Mozilla/5.0 (test)".to_owned()),
    }
}

/// A consent recorded by staff, not through a page.
pub(super) fn grant(store: &mut Store, contact: ContactId, code: &str, status: &str) {
    let now = store.clock_now();
    store
        .record_consent(&NewConsent {
            contact,
            consent_type: code.into(),
            status: status.to_owned(),
            method: "email".to_owned(),
            legal_basis: LegalBasis::Consent,
            given_at: now,
            source: "test".to_owned(),
            actor: "olivia".to_owned(),
            evidence: None,
            text_version: None,
        })
        .unwrap();
}

/// The contact's current status of a type, by its DPV name.
pub(super) fn status_of(store: &Store, contact: ContactId, code: &str) -> Option<String> {
    let id = store.consent_type(code).unwrap().id;
    store
        .current_consents(contact)
        .unwrap()
        .into_iter()
        .find(|c| c.consent_type_id == id)
        .map(|c| c.status.as_str().to_owned())
}

/// The token at the end of a link's path.
pub(super) fn token_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap()
}
