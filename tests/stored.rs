//! The hooks backed by a real SQLite store: a newsletter over 10k stored
//! contacts, the decision log, replay, and the justify flow.

use chrono::{DateTime, Duration, TimeZone, Utc};
use crm_consent::engine::Decision;
use crm_consent::hooks::{BulkMode, HookError, Operator, StoredHooks};
use crm_consent::setup::{self, Switch};
use crm_consent::store::{
    Channel, ContactFlags, ContactId, ContactKind, LegalBasis, NewConsent, NewConsentType,
    NewContact, NewPurpose, Outcome, ReasonId, Store, StoreError, SubscriptionState,
};
use crm_consent_tests::{NOW, engine, plugin_bytes};

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(NOW, 0).unwrap()
}

fn consent(contact: ContactId, code: &str, status: &str, days_ago: i64) -> NewConsent {
    NewConsent {
        contact,
        consent_type: code.into(),
        status: status.into(),
        method: "website".into(),
        legal_basis: LegalBasis::Consent,
        given_at: now() - Duration::days(days_ago),
        source: "test".into(),
        actor: "test".into(),
        evidence: None,
        text_version: None,
    }
}

/// A store with `n` contacts of every shape a newsletter meets, the plugin
/// installed and every check on.
fn crowd(dir: &std::path::Path, n: usize) -> (Store, Vec<ContactId>) {
    let mut s = Store::create(dir.join("crm.db")).unwrap();
    // The crowd's consents are dated relative to now(): record them then.
    s.set_clock(now);
    for (code, days, bulk, single, phone) in [
        ("newsletter", Some(365), true, false, false),
        ("email", None, false, true, false),
        ("calls", Some(30), false, false, true),
    ] {
        s.add_consent_type(
            &NewConsentType {
                code: code.into(),
                title: format!("{code} consent"),
                description: None,
                text: format!("I agree to {code}."),
                validity_days: days,
                allow_bulk_email: bulk,
                allow_single_email: single,
                allow_phone: phone,
                text_valid_from: Some(now() - Duration::days(1000)),
            },
            "admin",
        )
        .unwrap();
    }
    s.add_subscription_type("weekly", "Weekly news", false, "admin")
        .unwrap();
    s.add_purpose(
        &NewPurpose {
            code: "emarketing".into(),
            name: "E-marketing".into(),
            legal_basis: LegalBasis::Consent,
            direct_marketing: true,
        },
        "admin",
    )
    .unwrap();
    let people: Vec<NewContact> = (0..n)
        .map(|i| NewContact {
            kind: ContactKind::Person,
            name: format!("Person {i}"),
            email: (i % 11 != 10).then(|| format!("p{i}@example.com")),
            phone: None,
            flags: ContactFlags {
                restricted: i % 97 == 5,
                objected: i % 13 == 7,
                opted_out_of_all: false,
            },
        })
        .collect();
    let ids = s.add_contacts(&people, "test").unwrap();
    let mut consents = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        match i % 6 {
            0 => consents.push(consent(*id, "newsletter", "given", (i % 500) as i64)),
            1 => consents.push(consent(*id, "newsletter", "withdrawn", 3)),
            2 => consents.push(consent(*id, "email", "given", 10)),
            3 => {
                consents.push(consent(*id, "newsletter", "given", 100));
                consents.push(consent(*id, "calls", "refused", 50));
            }
            4 => consents.push(consent(*id, "newsletter", "refused", 20)),
            _ => {}
        }
    }
    s.record_consents(&consents).unwrap();
    for (i, id) in ids.iter().enumerate().filter(|(i, _)| i % 17 == 0) {
        let state = if i % 2 == 0 {
            SubscriptionState::OptedOut
        } else {
            SubscriptionState::OptedIn
        };
        s.set_preference(*id, "weekly", state, "test").unwrap();
    }
    for id in ids.iter().skip(3).step_by(101) {
        s.opt_out_of_all(*id, "test").unwrap();
    }
    for id in ids.iter().skip(5).step_by(7) {
        s.set_purpose_basis(*id, "emarketing", LegalBasis::LegitimateInterest, "test")
            .unwrap();
    }
    setup::install(&mut s, engine(), &plugin_bytes(), "admin").unwrap();
    for switch in [
        Switch::CheckBulkEmail,
        Switch::CheckSingleEmail,
        Switch::CheckPhone,
    ] {
        setup::set_switch(&mut s, switch, true, "admin").unwrap();
    }
    (s, ids)
}

#[test]
fn a_newsletter_over_10k_stored_contacts_reaches_exactly_those_deciding_one_by_one_allows() {
    let dir = tempfile::tempdir().unwrap();
    let (store, ids) = crowd(dir.path(), 10_000);
    let mut hooks = StoredHooks::new(engine(), store);
    let op = Operator::new("test", now());
    for subscription in [None, Some("weekly")] {
        let bulk = hooks
            .before_bulk_send(subscription, BulkMode::DryRun, &op)
            .unwrap();
        let mut one_by_one = Vec::new();
        let mailable: Vec<ContactId> = ids
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 11 != 10)
            .map(|(_, id)| *id)
            .collect();
        for id in &mailable {
            let d = hooks.decide_newsletter(*id, subscription, &op).unwrap();
            if matches!(d.decision, Decision::Allow(_)) {
                one_by_one.push(*id);
            }
        }
        assert_eq!(bulk.recipients, one_by_one, "subscription {subscription:?}");
        assert!(
            bulk.recipients.len() > 1000,
            "a real mix: {} recipients",
            bulk.recipients.len()
        );
        assert_eq!(bulk.recipients.len() + bulk.skipped.len(), mailable.len());
        assert!(
            bulk.skipped
                .iter()
                .all(|s| !s.message.is_empty() && !s.code.is_empty())
        );
    }
}

#[test]
fn a_bulk_send_logs_its_summary_with_the_plugin_hash_and_a_dry_run_logs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = crowd(dir.path(), 300);
    let sha = store
        .plugins()
        .unwrap()
        .into_iter()
        .find(|p| p.active)
        .unwrap()
        .sha256;
    let mut hooks = StoredHooks::new(engine(), store);
    let op = Operator::new("olivia", now());
    let dry = hooks
        .before_bulk_send(Some("weekly"), BulkMode::DryRun, &op)
        .unwrap();
    assert_eq!(dry.logged, None);
    let sent = hooks
        .before_bulk_send(Some("weekly"), BulkMode::Send, &op)
        .unwrap();
    assert_eq!(sent.recipients, dry.recipients);
    let logged = hooks
        .store()
        .decision(sent.logged.unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(logged.plugin_sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(logged.channel, Channel::BulkEmail);
    let summary = logged.summary.unwrap();
    assert_eq!(summary["recipients"], sent.recipients.len());
    assert_eq!(summary["skipped"], sent.skipped.len());
}

#[test]
fn a_logged_deny_replays_to_the_same_decision_against_the_same_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let (store, ids) = crowd(dir.path(), 20);
    let mut hooks = StoredHooks::new(engine(), store);
    let op = Operator::new("olivia", now());
    // Contact 1 withdrew the newsletter.
    let d = hooks.decide_newsletter(ids[1], None, &op).unwrap();
    assert!(matches!(d.decision, Decision::Deny(_)), "{:?}", d.decision);
    let id = d.logged.expect("a deny is logged");
    // Whatever changes later, the replay decides with what was logged.
    hooks
        .store_mut()
        .record_consent(&consent(ids[1], "newsletter", "given", 0))
        .unwrap();
    let replay = hooks.replay(id).unwrap();
    assert!(replay.same, "{replay:?}");
    assert_eq!(replay.logged_code, "consent_withdrawn");
    assert!(matches!(replay.replayed, Decision::Deny(_)));
}

#[test]
fn an_allowed_send_is_not_logged_but_a_justify_is_and_the_justification_joins_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let (store, ids) = crowd(dir.path(), 20);
    let mut hooks = StoredHooks::new(engine(), store);
    let op = Operator::new("olivia", now());
    let allowed = hooks.before_send(ids[2], &op).unwrap(); // email consent
    assert!(matches!(allowed.decision, Decision::Allow(_)));
    assert_eq!(allowed.logged, None);

    let asked = hooks.before_send(ids[0], &op).unwrap(); // newsletter only
    let Decision::Justify(j) = &asked.decision else {
        panic!("{:?}", asked.decision)
    };
    assert!(asked.logged.is_some());
    let reason = j.reasons[0];
    let justified = hooks
        .justify(
            ids[0],
            Channel::SingleEmail,
            reason,
            "  asked us to write  ",
            &op,
        )
        .unwrap();
    let logged = hooks.store().decision(justified).unwrap().unwrap();
    assert_eq!(logged.outcome, Outcome::Justified);
    assert_eq!(logged.reason, Some(reason));
    assert_eq!(logged.justification.as_deref(), Some("asked us to write"));
    let timeline = hooks.store().timeline(ids[0]).unwrap();
    assert!(
        timeline.iter().any(|t| t.decision_id == Some(justified)),
        "{timeline:?}"
    );
}

#[test]
fn the_justify_flow_refuses_an_unknown_reason_a_reason_not_offered_and_a_deny() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, ids) = crowd(dir.path(), 20);
    let spare = store
        .add_reason("spare", "Offered only after a config change", "admin")
        .unwrap();
    let mut hooks = StoredHooks::new(engine(), store);
    let op = Operator::new("olivia", now());
    let before = hooks.store().decisions(ids[0]).unwrap().len();

    let err = hooks
        .justify(ids[0], Channel::SingleEmail, ReasonId(999), "", &op)
        .unwrap_err();
    assert!(
        matches!(
            err,
            HookError::Store(StoreError::UnknownReason(ReasonId(999)))
        ),
        "{err}"
    );
    assert!(err.to_string().contains("999"), "{err}");

    // Contact 7 objected (i % 13 == 7): nothing to justify, the deny stands.
    let err = hooks
        .justify(ids[7], Channel::SingleEmail, spare.id, "", &op)
        .unwrap_err();
    assert!(matches!(err, HookError::NothingToJustify(_)), "{err}");
    assert!(err.to_string().contains("objected"), "{err}");

    let err = hooks
        .justify(
            ids[0],
            Channel::SingleEmail,
            spare.id,
            &"x".repeat(2001),
            &op,
        )
        .unwrap_err();
    assert!(matches!(err, HookError::TextTooLong(2001)), "{err}");
    assert_eq!(
        hooks.store().decisions(ids[0]).unwrap().len(),
        before,
        "nothing was logged"
    );
}

#[test]
fn without_an_installed_plugin_a_hook_says_how_to_install_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(dir.path().join("crm.db")).unwrap();
    let id = store
        .add_contact(
            &NewContact {
                kind: ContactKind::Person,
                name: "Ann".into(),
                email: Some("ann@example.com".into()),
                phone: None,
                flags: ContactFlags::default(),
            },
            "test",
        )
        .unwrap()
        .id;
    let mut hooks = StoredHooks::new(engine(), store);
    let err = hooks
        .before_send(id, &Operator::new("olivia", now()))
        .unwrap_err();
    assert!(matches!(err, HookError::NoPlugin), "{err}");
    assert!(err.to_string().contains("setup install"), "{err}");
}

#[test]
fn a_config_change_reaches_the_next_decision_without_restarting() {
    let dir = tempfile::tempdir().unwrap();
    let (store, ids) = crowd(dir.path(), 20);
    let mut hooks = StoredHooks::new(engine(), store);
    let op = Operator::new("olivia", now());
    assert!(matches!(
        hooks.before_send(ids[0], &op).unwrap().decision,
        Decision::Justify(_)
    ));
    setup::set_switch(hooks.store_mut(), Switch::CheckSingleEmail, false, "admin").unwrap();
    assert!(matches!(
        hooks.before_send(ids[0], &op).unwrap().decision,
        Decision::Allow(_)
    ));
}

#[test]
fn a_config_change_by_another_connection_reaches_the_next_decision() {
    // The HTTP pool: hooks keep their policy while the ledger's head stays,
    // and an admin's change on another connection moves it.
    let dir = tempfile::tempdir().unwrap();
    let (store, ids) = crowd(dir.path(), 20);
    let mut hooks = StoredHooks::new(engine(), store);
    let op = Operator::new("olivia", now());
    for _ in 0..2 {
        assert!(matches!(
            hooks.before_send(ids[0], &op).unwrap().decision,
            Decision::Justify(_)
        ));
    }
    let mut admin = Store::open(dir.path().join("crm.db")).unwrap();
    setup::set_switch(&mut admin, Switch::CheckSingleEmail, false, "admin").unwrap();
    assert!(matches!(
        hooks.before_send(ids[0], &op).unwrap().decision,
        Decision::Allow(_)
    ));
}

#[test]
fn a_decision_made_by_a_plugin_of_an_unsupported_contract_says_which_contract_replays_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(dir.path().join("old.db")).unwrap();
    // What a database written by a later release could hold: the plugin
    // that decided, for a contract this host does not run (0.1 plugins run:
    // tests/versions.rs), and the decision with the config in its words.
    let old = wat::parse_str(
        r#"(component
             (core module $m (func (export "f")))
             (core instance $i (instantiate $m))
             (func $f (canon lift (core func $i "f")))
             (instance $rules (export "explain" (func $f)))
             (export "crm:consent/rules@0.3.0" (instance $rules)))"#,
    )
    .unwrap();
    let plugin = store
        .install_plugin(&old, "crm:consent@0.3.0", "admin")
        .unwrap();
    let id = store
        .log_decision(&crm_consent::store::NewDecision {
            at: now(),
            contact: None,
            channel: Channel::SingleEmail,
            outcome: Outcome::Deny,
            reason_code: "consent_withdrawn".into(),
            subscription_type: None,
            summary: None,
            recipients: None,
            plugin_sha256: Some(plugin.sha256),
            request: serde_json::json!({
                "config": { "switches": { "single_mail": true } },
                "request": { "channel": "SingleEmail" }
            }),
            actor: "olivia".into(),
        })
        .unwrap();
    let mut hooks = StoredHooks::new(engine(), store);
    let error = hooks.replay(id).unwrap_err();
    assert!(matches!(error, HookError::NotReplayable(..)), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "decision {id} cannot be replayed: it was made by a plugin for \
             `crm:consent@0.3.0`, which this host cannot run; replay it with the \
             crm-consent release of that contract"
        )
    );
}
