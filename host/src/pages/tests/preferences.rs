use super::super::links::issue_preference_link;
use super::super::{
    Language, opt_out_of_everything, preference_page, resume_subscriptions, set_subscription,
    withdraw_consent,
};
use super::*;
use crate::engine::{Engine, EngineOptions};
use crate::hooks::{BulkMode, Operator, StoredHooks};
use crate::setup;
use crate::store::{ConsentStatus, SubscriptionState, TimelineKind};

#[test]
fn the_page_shows_every_subscription_and_consent_in_its_language() {
    let (mut f, anna, _) = with_people();
    grant(&mut f.store, anna, "newsletter", "given");
    grant(&mut f.store, anna, "email", "refused");
    f.store
        .set_preference(anna, "events", SubscriptionState::OptedOut, "olivia")
        .unwrap();
    let link = issue_preference_link(&f.store, anna).unwrap();
    let page = preference_page(&f.store, &link.token, Language::Pl).unwrap();
    assert_eq!(page.contact_name, "Anna Nowak");
    assert!(!page.opted_out_of_all);
    let subs: Vec<_> = page
        .subscriptions
        .iter()
        .map(|s| (s.code.as_str(), s.state))
        .collect();
    assert_eq!(
        subs,
        [
            ("newsletter", SubscriptionState::NotSpecified),
            ("product_news", SubscriptionState::NotSpecified),
            ("events", SubscriptionState::OptedOut),
            ("surveys", SubscriptionState::NotSpecified),
        ]
    );
    assert_eq!(page.subscriptions[2].label, "Wypisano");
    let consents: Vec<_> = page
        .consents
        .iter()
        .map(|c| (c.code.as_str(), c.status, c.can_withdraw, c.label.as_str()))
        .collect();
    assert_eq!(
        consents,
        [
            ("newsletter", ConsentStatus::Given, true, "Udzielona"),
            ("email", ConsentStatus::Refused, false, "Wycofana"),
        ]
    );
}

#[test]
fn opting_in_and_out_and_withdrawing_are_ledger_and_timeline_entries() {
    let (mut f, anna, _) = with_people();
    grant(&mut f.store, anna, "newsletter", "given");
    let link = issue_preference_link(&f.store, anna).unwrap();
    let t = &link.token;
    set_subscription(&mut f.store, t, "product_news", true).unwrap();
    set_subscription(&mut f.store, t, "events", false).unwrap();
    let seq = withdraw_consent(&mut f.store, t, "newsletter", Language::En, &visitor())
        .unwrap()
        .unwrap();
    // Nothing given: nothing to withdraw.
    assert_eq!(
        withdraw_consent(&mut f.store, t, "email", Language::En, &visitor()).unwrap(),
        None
    );
    assert_eq!(
        withdraw_consent(&mut f.store, t, "newsletter", Language::En, &visitor()).unwrap(),
        None
    );
    let entry = f.store.ledger_entry(seq).unwrap().unwrap();
    assert_eq!(
        (entry.status, entry.actor.as_str()),
        (ConsentStatus::Withdrawn, "contact via preference centre")
    );
    assert_eq!(
        f.store.evidence(seq).unwrap().unwrap()["token_id"]
            .as_str()
            .map(str::len),
        Some(22)
    );
    let page = preference_page(&f.store, t, Language::En).unwrap();
    assert_eq!(page.subscriptions[1].state, SubscriptionState::OptedIn);
    assert_eq!(page.subscriptions[2].state, SubscriptionState::OptedOut);
    let kinds: Vec<_> = f
        .store
        .timeline(anna)
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds[kinds.len() - 3..],
        [
            TimelineKind::Preference,
            TimelineKind::Preference,
            TimelineKind::ConsentChange
        ]
    );
    assert!(set_subscription(&mut f.store, t, "nope", true).is_err());
    f.assert_verifies();
}

#[test]
fn after_opting_out_of_everything_the_next_bulk_send_skips_the_contact() {
    let (mut f, anna, piotr) = with_people();
    let engine = Engine::new(EngineOptions::default()).unwrap();
    setup::install(&mut f.store, &engine, crate::BUNDLED_PLUGIN, "admin").unwrap();
    let anna_link = issue_preference_link(&f.store, anna).unwrap();
    let piotr_link = issue_preference_link(&f.store, piotr).unwrap();
    set_subscription(&mut f.store, &anna_link.token, "newsletter", true).unwrap();
    set_subscription(&mut f.store, &piotr_link.token, "newsletter", true).unwrap();
    let op = Operator::new("olivia", f.now());
    let Fixture {
        store, _dir: keep, ..
    } = f;
    let mut hooks = StoredHooks::new(&engine, store);
    let before = hooks
        .before_bulk_send(Some("newsletter"), BulkMode::DryRun, &op)
        .unwrap();
    assert_eq!(before.recipients, [anna, piotr]);

    // One click.
    opt_out_of_everything(hooks.store_mut(), &anna_link.token).unwrap();
    let after = hooks
        .before_bulk_send(Some("newsletter"), BulkMode::Send, &op)
        .unwrap();
    assert_eq!(after.recipients, [piotr]);
    let skipped = after.skipped.iter().find(|s| s.contact == anna).unwrap();
    assert_eq!(skipped.code, "opted_out_of_all");
    let page = preference_page(hooks.store(), &anna_link.token, Language::En).unwrap();
    assert!(page.opted_out_of_all);

    // Opting in to one list again ends the opt-out of everything.
    set_subscription(hooks.store_mut(), &anna_link.token, "newsletter", true).unwrap();
    let back = hooks
        .before_bulk_send(Some("newsletter"), BulkMode::DryRun, &op)
        .unwrap();
    assert_eq!(back.recipients, [anna, piotr]);
    opt_out_of_everything(hooks.store_mut(), &anna_link.token).unwrap();
    resume_subscriptions(hooks.store_mut(), &anna_link.token).unwrap();
    assert!(!hooks.store().contact(anna).unwrap().flags.opted_out_of_all);
    assert!(hooks.store().verify_ledger().unwrap().ok);
    drop(keep);
}
