//! A plugin built for `crm:consent@0.1.0` (the reference rules bound to the
//! frozen 0.1 WIT, tests/fixtures/plugin-v0_1) runs beside 0.2 plugins: it
//! loads and says so, passes the conformance vectors, decides every contact
//! exactly as the 0.2 reference plugin does, installs, decides through the
//! stored hooks and replays, also from a log written in 0.1's words.

use chrono::{DateTime, TimeZone, Utc};
use crm_consent::engine::Decision;
use crm_consent::hooks::{Operator, StoredHooks};
use crm_consent::setup::{self, Switch};
use crm_consent::store::{
    ContactFlags as StoreFlags, ContactKind, LegalBasis, NewConsent, NewConsentType, NewContact,
    NewDecision, Store,
};
use crm_consent::wit::{Channel, ConsentStatus, ContactBatch, ContactFlags, Request};
use crm_consent_tests::*;

#[test]
fn the_0_1_plugin_loads_and_reports_its_version() {
    let info = engine().validate(&plugin_v0_1_bytes()).expect("0.1 runs");
    assert_eq!(info.api_version, "0.1.0");
    assert_eq!(
        info.exports,
        ["crm:consent/types@0.1.0", "crm:consent/rules@0.1.0"]
    );
    assert!(info.imports.is_empty(), "{:?}", info.imports);
}

#[test]
fn the_0_1_plugin_passes_every_conformance_vector_like_the_0_2_plugin() {
    for bytes in [plugin_v0_1_bytes(), plugin_bytes()] {
        assert_passes_every_vector(&bytes);
    }
}

/// Contacts of every shape under every channel, with each switch off in
/// turn: the converted config must reach the 0.1 rules field for field
/// (a switch mapped to the wrong check would differ here).
#[test]
fn the_0_1_plugin_decides_every_contact_like_the_0_2_plugin() {
    let old = engine().load(&plugin_v0_1_bytes()).unwrap();
    let contacts: Vec<_> = (0..600i64)
        .map(|i| {
            let status = [
                ConsentStatus::Given,
                ConsentStatus::Withdrawn,
                ConsentStatus::Refused,
            ][(i % 3) as usize];
            let mut c = contact();
            if i % 5 != 4 {
                c = c.consent(
                    [NEWSLETTER, EMAIL, PHONE, EVERYTHING][(i % 4) as usize],
                    status,
                    NOW - (i % 400) * DAY,
                );
            }
            if i % 7 == 3 {
                c = c.flags(ContactFlags::OBJECTED);
            }
            c.build()
        })
        .collect();
    let batch = ContactBatch::from_contacts(&contacts);
    for off in 0..4 {
        let mut cfg = sample_config();
        match off {
            0 => cfg.switches.check_single_email = false,
            1 => cfg.switches.check_bulk_email = false,
            2 => cfg.switches.check_phone = false,
            _ => cfg.switches.e_marketing_privacy = false,
        }
        let mut new_policy = plugin().policy(&cfg).unwrap();
        let mut old_policy = old.policy(&cfg).unwrap();
        for &channel in Channel::ALL {
            for purpose in [None, Some(MARKETING), Some(EMARKETING)] {
                let req = Request {
                    channel,
                    purpose,
                    subscription_type: None,
                    now: NOW,
                };
                let expected = new_policy.decide_batch(&req, &batch).unwrap();
                assert_eq!(old_policy.decide_batch(&req, &batch).unwrap(), expected);
                for c in contacts.iter().take(60) {
                    assert_eq!(
                        old_policy.decide(c, &req),
                        new_policy.decide(c, &req),
                        "{channel:?} {purpose:?} {c:?}"
                    );
                }
            }
        }
    }
}

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(NOW, 0).unwrap()
}

/// A store with a newsletter consent type and a contact who withdrew it,
/// the 0.1 plugin installed and active, every check on.
fn store_with_the_0_1_plugin(dir: &std::path::Path) -> (Store, crm_consent::store::ContactId) {
    let mut s = Store::create(dir.join("crm.db")).unwrap();
    s.set_clock(now);
    s.add_consent_type(
        &NewConsentType {
            code: "newsletter".into(),
            title: "Newsletter".into(),
            description: None,
            text: "I agree to the newsletter.".into(),
            validity_days: Some(365),
            allow_bulk_email: true,
            allow_single_email: false,
            allow_phone: false,
            text_valid_from: Some(now() - chrono::Duration::days(1000)),
        },
        "admin",
    )
    .unwrap();
    let ann = s
        .add_contact(
            &NewContact {
                kind: ContactKind::Person,
                name: "Ann".into(),
                email: Some("ann@example.com".into()),
                phone: None,
                flags: StoreFlags::default(),
            },
            "test",
        )
        .unwrap()
        .id;
    s.record_consent(&NewConsent {
        contact: ann,
        consent_type: "newsletter".into(),
        status: "withdrawn".into(),
        method: "website".into(),
        legal_basis: LegalBasis::Consent,
        given_at: now() - chrono::Duration::days(3),
        source: "test".into(),
        actor: "test".into(),
        evidence: None,
        text_version: None,
    })
    .unwrap();
    let info = setup::install(&mut s, engine(), &plugin_v0_1_bytes(), "admin").unwrap();
    assert_eq!(info.api_version, "crm:consent@0.1.0");
    assert!(info.active);
    for switch in [
        Switch::CheckBulkEmail,
        Switch::CheckSingleEmail,
        Switch::CheckPhone,
    ] {
        setup::set_switch(&mut s, switch, true, "admin").unwrap();
    }
    (s, ann)
}

#[test]
fn the_0_1_plugin_installs_decides_through_the_hooks_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let (store, ann) = store_with_the_0_1_plugin(dir.path());
    let mut hooks = StoredHooks::new(engine(), store);
    let op = Operator::new("olivia", now());
    let d = hooks.decide_newsletter(ann, None, &op).unwrap();
    let Decision::Deny(denied) = &d.decision else {
        panic!("a withdrawn newsletter consent denies: {:?}", d.decision)
    };
    assert_eq!(denied.code.as_str(), "consent_withdrawn");
    assert_eq!(d.plugin_sha256, sha256(&plugin_v0_1_bytes()));
    let id = d.logged.expect("a deny is logged");
    let replay = hooks.replay(id).unwrap();
    assert!(replay.same, "{replay:?}");

    // A host from before 0.2.0 logged the config in 0.1's words.
    let logged = hooks.store().decision(id).unwrap().unwrap();
    let old_words = serde_json::to_string(&logged.request)
        .unwrap()
        .replace("\"allow_bulk_email\"", "\"allow_bulk\"")
        .replace("\"allow_single_email\"", "\"allow_single\"")
        .replace("\"allow_phone\"", "\"allow_contact\"")
        .replace("\"check_single_email\"", "\"single_mail\"")
        .replace("\"check_bulk_email\"", "\"mailing_list\"")
        .replace("\"check_phone\"", "\"per_contact\"");
    assert!(old_words.contains("\"mailing_list\":true"), "{old_words}");
    let old_id = hooks
        .store_mut()
        .log_decision(&NewDecision {
            at: now(),
            contact: logged.contact,
            channel: logged.channel,
            outcome: logged.outcome,
            reason_code: logged.reason_code.clone(),
            subscription_type: None,
            summary: None,
            recipients: None,
            plugin_sha256: logged.plugin_sha256.clone(),
            request: serde_json::from_str(&old_words).unwrap(),
            actor: "olivia".into(),
        })
        .unwrap();
    let replay = hooks.replay(old_id).unwrap();
    assert!(replay.same, "{replay:?}");
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
