//! Double opt-in through the real plugin: a `requested` consent allows
//! nothing, the confirmed one does.

use chrono::Duration;

use super::super::links::issue_form_link;
use super::super::{Language, PageError, confirm, submit_form};
use super::*;
use crate::engine::{Engine, EngineOptions};
use crate::hooks::{BulkMode, Operator, StoredHooks};
use crate::setup::{self, Switch};
use crate::store::{ConsentStatus, OutboxKind};

/// A store with a double opt-in newsletter, the bundled plugin installed
/// and newsletters checked against consent.
fn double_opt_in() -> (Fixture, ContactId) {
    let (mut f, anna, _) = with_people();
    let s = &mut f.store;
    let news = consent_type("weekly", "Weekly news", true);
    s.add_consent_type_with_double_opt_in(&news, "admin")
        .unwrap();
    (f, anna)
}

fn engine() -> Engine {
    Engine::new(EngineOptions::default()).unwrap()
}

/// The confirmation link in the last outbox message.
fn confirm_token(f: &Fixture) -> String {
    let message = f.store.pending_messages(None, 100).unwrap().pop().unwrap();
    assert_eq!(message.kind, OutboxKind::Confirmation);
    let line = message
        .body
        .lines()
        .find(|l| l.contains("/confirm/"))
        .unwrap();
    token_of(line.trim()).to_owned()
}

#[test]
fn ticking_a_double_opt_in_type_records_requested_and_emails_a_confirmation() {
    let (mut f, anna) = double_opt_in();
    assert!(
        f.store
            .requires_confirmation(f.store.consent_type("weekly").unwrap().id)
            .unwrap()
    );
    let link = issue_form_link(&f.store, anna, &["weekly", "email"]).unwrap();
    let done = submit_form(
        &mut f.store,
        &link.token,
        &["weekly".into(), "email".into()],
        Language::En,
        &visitor(),
    )
    .unwrap();
    let statuses: Vec<_> = done.changes.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [ConsentStatus::Requested, ConsentStatus::Given]);
    assert_eq!(done.confirmations_sent, 1);
    let messages = f.store.pending_messages(None, 10).unwrap();
    let [message] = &messages[..] else {
        panic!("{messages:?}")
    };
    assert_eq!(
        (message.to.as_str(), message.contact_id),
        ("anna@example.com", anna)
    );
    assert_eq!(message.subject, "Please confirm your consent");
    assert!(
        message.body.contains("you agreed to: Weekly news."),
        "{}",
        message.body
    );
    assert!(
        message.body.contains("http://127.0.0.1:8080/preferences/"),
        "{}",
        message.body
    );
    assert_eq!(
        f.store.status("requested").unwrap().meaning,
        ConsentStatus::Requested
    );
    // Ticked again while waiting: nothing new, no second email.
    let again = submit_form(
        &mut f.store,
        &link.token,
        &["weekly".into(), "email".into()],
        Language::En,
        &visitor(),
    )
    .unwrap();
    assert!(again.changes.is_empty(), "{again:?}");
    f.assert_verifies();
}

#[test]
fn a_request_allows_nothing_until_the_contact_confirms() {
    let (mut f, anna) = double_opt_in();
    let engine = engine();
    setup::install(&mut f.store, &engine, crate::BUNDLED_PLUGIN, "admin").unwrap();
    setup::set_switch(&mut f.store, Switch::CheckBulkEmail, true, "admin").unwrap();
    let link = issue_form_link(&f.store, anna, &["weekly"]).unwrap();
    submit_form(
        &mut f.store,
        &link.token,
        &["weekly".into()],
        Language::En,
        &visitor(),
    )
    .unwrap();
    let token = confirm_token(&f);
    f.advance(Duration::hours(2));
    let at = f.now();
    let Fixture {
        store, _dir: keep, ..
    } = f;
    let mut hooks = StoredHooks::new(&engine, store);
    let op = Operator::new("olivia", at);
    let before = hooks.before_bulk_send(None, BulkMode::DryRun, &op).unwrap();
    assert!(!before.recipients.contains(&anna), "{before:?}");
    assert!(before.skipped.iter().any(|s| s.contact == anna));

    let done = confirm(hooks.store_mut(), &token, Language::En, &visitor()).unwrap();
    assert_eq!(done.code, "weekly");
    let entry = hooks
        .store()
        .ledger_entry(done.recorded.unwrap())
        .unwrap()
        .unwrap();
    assert_eq!((entry.status, entry.given_at), (ConsentStatus::Given, at));
    let after = hooks.before_bulk_send(None, BulkMode::DryRun, &op).unwrap();
    assert!(after.recipients.contains(&anna), "{after:?}");
    // A second click records nothing.
    let twice = confirm(hooks.store_mut(), &token, Language::En, &visitor()).unwrap();
    assert_eq!(twice.recorded, None);
    assert!(hooks.store().verify_ledger().unwrap().ok);
    drop(keep);
}

#[test]
fn a_request_withdrawn_before_its_confirmation_is_not_given_by_the_old_link() {
    let (mut f, anna) = double_opt_in();
    let link = issue_form_link(&f.store, anna, &["weekly"]).unwrap();
    submit_form(
        &mut f.store,
        &link.token,
        &["weekly".into()],
        Language::En,
        &visitor(),
    )
    .unwrap();
    let token = confirm_token(&f);
    // Unticked again: the pending request is cancelled (Art. 7(3)).
    let cancelled = submit_form(&mut f.store, &link.token, &[], Language::En, &visitor()).unwrap();
    assert_eq!(cancelled.changes[0].status, ConsentStatus::Withdrawn);
    let e = confirm(&mut f.store, &token, Language::En, &visitor()).unwrap_err();
    assert!(matches!(e, PageError::Superseded), "{e}");
    assert_eq!(
        status_of(&f.store, anna, "weekly").as_deref(),
        Some("withdrawn")
    );
    f.assert_verifies();
}

#[test]
fn a_confirmation_link_expires_and_the_form_can_ask_again() {
    let (mut f, anna) = double_opt_in();
    let link = issue_form_link(&f.store, anna, &["weekly"]).unwrap();
    submit_form(
        &mut f.store,
        &link.token,
        &["weekly".into()],
        Language::En,
        &visitor(),
    )
    .unwrap();
    let token = confirm_token(&f);
    f.advance(Duration::days(14));
    let e = confirm(&mut f.store, &token, Language::En, &visitor()).unwrap_err();
    assert!(matches!(e, PageError::Expired { .. }), "{e}");
    let fresh = issue_form_link(&f.store, anna, &["weekly"]).unwrap();
    let again = submit_form(
        &mut f.store,
        &fresh.token,
        &["weekly".into()],
        Language::En,
        &visitor(),
    )
    .unwrap();
    assert_eq!(again.changes[0].status, ConsentStatus::Requested);
    assert_eq!(f.store.pending_messages(None, 10).unwrap().len(), 2);
    let token = confirm_token(&f);
    confirm(&mut f.store, &token, Language::En, &visitor()).unwrap();
    assert_eq!(
        status_of(&f.store, anna, "weekly").as_deref(),
        Some("given")
    );
    f.assert_verifies();
}

#[test]
fn without_an_email_address_nothing_is_recorded() {
    let (mut f, _) = double_opt_in();
    let nomail = person(&mut f.store, "No Mail", None);
    let link = issue_form_link(&f.store, nomail, &["weekly", "email"]).unwrap();
    let head = f.store.ledger_head().unwrap();
    let e = submit_form(
        &mut f.store,
        &link.token,
        &["weekly".into(), "email".into()],
        Language::En,
        &visitor(),
    )
    .unwrap_err();
    assert!(matches!(e, PageError::NoEmail(c) if c == nomail), "{e}");
    assert_eq!(f.store.ledger_head().unwrap(), head);
    assert!(f.store.pending_messages(None, 10).unwrap().is_empty());
}

#[test]
fn double_opt_in_can_be_turned_on_for_an_existing_type() {
    let (mut f, anna, _) = with_people();
    f.store
        .set_requires_confirmation("newsletter", true, "admin")
        .unwrap();
    let link = issue_form_link(&f.store, anna, &["newsletter"]).unwrap();
    let done = submit_form(
        &mut f.store,
        &link.token,
        &["newsletter".into()],
        Language::En,
        &visitor(),
    )
    .unwrap();
    assert_eq!(done.changes[0].status, ConsentStatus::Requested);
    f.assert_verifies();
}
