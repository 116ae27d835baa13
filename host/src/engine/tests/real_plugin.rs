//! Tests against the real components when their builds are available:
//! `CRM_CONSENT_PLUGIN_WASM` (the plugin, from host/build.rs) and
//! `CRM_CONSENT_HOSTILE_WASM` (the misbehaving fixture). Read with
//! `option_env!` so that this module compiles before they exist; each test
//! passes vacuously (and says so) without its component.

use std::time::Instant;

use super::fixtures::{batch, config, contact, request};
use super::{NOT_HUNG, engine, engine_with};
use crate::engine::cache::Compiled;
use crate::engine::{
    ConsentRecord, ConsentStatus, ContactBatch, ContactState, Decision, Denied, EngineError,
    EngineOptions, LegalBasis, Outcome, ReasonCode, Verdict,
};
use crate::wit::{Allowed, ConfigError};
use std::time::Duration;

const PLUGIN: Option<&str> = option_env!("CRM_CONSENT_PLUGIN_WASM");
const HOSTILE: Option<&str> = option_env!("CRM_CONSENT_HOSTILE_WASM");

fn read(path: Option<&str>, name: &str) -> Option<Vec<u8>> {
    let Some(path) = path else {
        eprintln!("skipped: {name} is not set at build time");
        return None;
    };
    Some(std::fs::read(path).unwrap_or_else(|e| panic!("{name}={path}: {e}")))
}

fn plugin_bytes() -> Option<Vec<u8>> {
    read(PLUGIN, "CRM_CONSENT_PLUGIN_WASM")
}

const NOW: i64 = 1_750_000_000;
const DAY: i64 = 86_400;

/// A contact who gave the newsletter consent (type 1 of `fixtures::config`) a day ago.
pub(super) fn consenting_contact() -> ContactState {
    ContactState {
        consents: vec![ConsentRecord {
            type_id: 1,
            status: ConsentStatus::Given,
            legal_basis: LegalBasis::Consent,
            given_at: NOW - DAY,
            method_id: 1,
        }],
        ..contact()
    }
}

#[test]
fn the_real_plugin_validates_as_crm_consent_rules_0_1() {
    let Some(bytes) = plugin_bytes() else { return };
    let info = engine().validate(&bytes).expect("the real plugin is valid");
    assert!(info.api_version.starts_with("0.2."), "{info:?}");
    assert!(
        info.exports
            .iter()
            .any(|e| e.starts_with("crm:consent/rules@0.2.")),
        "{info:?}"
    );
    assert!(
        info.imports
            .iter()
            .all(|i| i.starts_with("crm:consent/types@")),
        "only the type-only interface: {info:?}"
    );
}

#[test]
fn the_real_plugin_allows_a_single_email_to_a_contact_with_consent() {
    let Some(bytes) = plugin_bytes() else { return };
    let mut policy = engine()
        .load(&bytes)
        .expect("loads")
        .policy(&config())
        .expect("a policy");
    let decision = policy.decide(&consenting_contact(), &request(NOW));
    assert!(
        matches!(
            decision,
            Decision::Allow(Allowed {
                code: ReasonCode::Consent,
                consent_type: Some(1),
                ..
            })
        ),
        "{decision:?}"
    );
    assert!(
        !matches!(policy.decide(&contact(), &request(NOW)), Decision::Allow(_)),
        "no consent, no single email"
    );
    assert!(!policy.explain(ReasonCode::Consent).is_empty());
}

#[test]
fn the_real_plugin_refuses_a_config_with_duplicate_ids() {
    let Some(bytes) = plugin_bytes() else { return };
    let mut cfg = config();
    let mut twin = cfg.consent_types[0].clone();
    twin.code = "phone".into();
    cfg.consent_types.push(twin);
    let error = engine()
        .load(&bytes)
        .unwrap()
        .policy(&cfg)
        .expect_err("refused");
    assert!(
        matches!(error, EngineError::Config(ConfigError::DuplicateId(_))),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("plugin refused the config: duplicate id: "),
        "{error}"
    );
}

#[test]
fn the_real_plugin_decides_a_batch_and_refuses_mismatched_columns() {
    let Some(bytes) = plugin_bytes() else { return };
    let mut policy = engine().load(&bytes).unwrap().policy(&config()).unwrap();
    assert_eq!(
        policy
            .decide_batch(&request(NOW), &batch(3))
            .expect("verdicts")
            .len(),
        3
    );

    let mut mismatched: ContactBatch = batch(1);
    mismatched.consent_counts[0] = 2; // but the consent columns are empty
    let error = policy
        .decide_batch(&request(NOW), &mismatched)
        .expect_err("refused");
    assert!(matches!(error, EngineError::Batch(_)), "{error:?}");
}

#[test]
fn the_real_plugin_is_read_back_from_the_cache() {
    let Some(bytes) = plugin_bytes() else { return };
    let dir = tempfile::tempdir().expect("a temp dir");
    let opts = EngineOptions {
        cache_dir: Some(dir.path().to_owned()),
        call_timeout: Duration::from_secs(1),
        ..EngineOptions::default()
    };
    let first = engine_with(opts.clone()).load(&bytes).expect("compiles");
    assert_eq!(first.inner.compiled, Compiled::Miss);
    let again = engine_with(opts)
        .load(&bytes)
        .expect("loads from the cache");
    assert_eq!(again.inner.compiled, Compiled::Hit);
    let mut policy = again.policy(&config()).expect("a policy");
    assert!(matches!(
        policy.decide(&consenting_contact(), &request(NOW)),
        Decision::Allow(_)
    ));
}

#[test]
fn the_hostile_plugin_fails_closed_for_every_kind_of_fault() {
    let Some(bytes) = read(HOSTILE, "CRM_CONSENT_HOSTILE_WASM") else {
        return;
    };
    // A small memory limit: committing 32 MiB page by page, as the hostile
    // plugin does, takes about 20 ms, so under the default limit its "oom"
    // could meet a deadline first. The deadline is a minute away, so the
    // loop can only be stopped by its fuel.
    let engine = engine_with(EngineOptions {
        memory_limit_bytes: 4 << 20,
        call_timeout: std::time::Duration::from_secs(60),
        ..EngineOptions::default()
    });
    let plugin = engine
        .load(&bytes)
        .expect("the hostile plugin is a valid component");
    for (code, says) in [
        (
            "loop",
            "plugin used up its budget of 10,000,000 fuel units (it probably loops)",
        ),
        ("oom", "plugin ran out of memory (limit 4 MiB)"),
        (
            "trap",
            "plugin trapped: wasm `unreachable` instruction executed",
        ),
    ] {
        let mut cfg = config();
        cfg.consent_types[0].code = code.into();
        let mut policy = plugin.policy(&cfg).expect("create behaves");
        let started = Instant::now();
        // The fixture misbehaves only for a contact with a consent record.
        let decision = policy.decide(&consenting_contact(), &request(NOW));
        assert!(
            started.elapsed() < NOT_HUNG,
            "{code}: took {:?}",
            started.elapsed()
        );
        assert_eq!(
            decision,
            Decision::Deny(Denied {
                code: ReasonCode::PluginFault,
                message: says.into()
            }),
            "{code}"
        );
        assert!(
            matches!(policy.decide(&contact(), &request(NOW)), Decision::Allow(_)),
            "{code}: a fresh instance serves the next call"
        );
        let triggering = ContactBatch::from_contacts(&[consenting_contact(), contact()]);
        let verdicts = policy
            .decide_batch(&request(NOW), &triggering)
            .expect("fails closed");
        let fault = Verdict {
            outcome: Outcome::Deny,
            code: ReasonCode::PluginFault,
        };
        assert_eq!(verdicts, vec![fault; 2], "{code}");
    }
    let mut cfg = config();
    cfg.consent_types[0].code = "trap-create".into();
    let error = plugin.policy(&cfg).expect_err("create traps");
    assert!(matches!(error, EngineError::Fault { .. }), "{error:?}");
}

#[test]
fn the_real_plugin_passes_its_install_self_test() {
    let Some(bytes) = plugin_bytes() else {
        return;
    };
    let mut policy = engine().load(&bytes).unwrap().policy(&config()).unwrap();
    policy
        .self_test()
        .expect("every sentence and every channel's reasons");
    assert!(!policy.explain(ReasonCode::PluginFault).is_empty());
}
