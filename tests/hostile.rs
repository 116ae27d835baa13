//! Hostile and broken plugins never take the host down: every fault fails
//! closed (deny with plugin-fault), is logged, and the next call gets a fresh
//! instance. So does an answer that breaks the contract. A plugin that loops
//! or traps in `explain` or `reasons` is refused at install, and a compiled
//! plugin in the cache runs only for the plugin it was compiled from. Files
//! that are not our component are refused by name.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crm_consent::engine::{Decision, Engine, EngineError, EngineOptions, FaultKind};
use crm_consent::hooks::{Context, Hooks};
use crm_consent::wit::{Config, ConsentStatus, ContactFlags, Outcome, ReasonCode, Verdict};
use crm_consent_tests::*;

#[path = "hostile/creep.rs"]
mod creep;

/// The hostile fixture misbehaves as its first consent type's code says.
fn hostile(mode: &str) -> Result<Hooks, EngineError> {
    let mut cfg: Config = sample_config();
    cfg.consent_types[0].code = mode.into();
    let plugin = engine()
        .load(&hostile_bytes())
        .expect("the hostile fixture is a valid component");
    Hooks::new(&plugin, &cfg)
}

fn assert_fault(d: &Decision, kind: &str) {
    match d {
        Decision::Deny(x) => {
            assert_eq!(x.code, ReasonCode::PluginFault, "{d:?}");
            assert!(
                x.message.contains(kind),
                "message {:?} should say {kind:?}",
                x.message
            );
        }
        other => panic!("a {kind} must fail closed, got {other:?}"),
    }
}

/// A contact with consents makes the fixture misbehave; an empty one does not,
/// so a second call shows that a fresh instance took over.
fn trigger() -> crm_consent::wit::ContactState {
    contact().given(NEWSLETTER, NOW - DAY).build()
}

#[test]
fn a_looping_plugin_is_stopped_by_its_fuel_budget_and_the_hook_denies() {
    let h = hostile("loop").unwrap();
    // The shared engine's deadline is 500 ms; the fuel budget stops the
    // loop first, whatever the machine's load.
    assert_fault(
        &h.before_send(&trigger(), Context::at(time(NOW))),
        "used up its budget of 10,000,000 fuel units",
    );
    let calm = h.before_send(&contact().build(), Context::at(time(NOW)));
    assert!(
        matches!(calm, Decision::Allow(_)),
        "a fresh instance serves the next call: {calm:?}"
    );
}

#[test]
fn a_plugin_that_grabs_memory_is_capped_and_the_hook_denies() {
    let h = hostile("oom").unwrap();
    assert_fault(
        &h.before_dial(&trigger(), Context::at(time(NOW))),
        "out of memory",
    );
    let calm = h.before_dial(&contact().build(), Context::at(time(NOW)));
    assert!(
        matches!(calm, Decision::Allow(_)),
        "a fresh instance serves the next call: {calm:?}"
    );
}

#[test]
fn a_trapping_plugin_fails_closed_for_every_contact_of_a_batch() {
    let h = hostile("trap").unwrap();
    assert_fault(
        &h.before_send(&trigger(), Context::at(time(NOW))),
        "trapped",
    );
    let contacts = vec![
        trigger(),
        contact().flags(ContactFlags::OBJECTED).build(),
        trigger(),
    ];
    let verdicts = h
        .before_bulk_send(None, &contacts, Context::at(time(NOW)))
        .unwrap();
    assert_eq!(verdicts.len(), 3);
    assert!(
        verdicts
            .iter()
            .all(|v| v.outcome == Outcome::Deny && v.code == ReasonCode::PluginFault)
    );
}

#[test]
fn a_plugin_that_traps_while_reading_its_config_is_refused() {
    match hostile("trap-create") {
        Err(e @ EngineError::Fault { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("trapped") && msg.contains("creating the policy"),
                "{msg}"
            );
        }
        Err(other) => panic!("expected a fault, got {other}"),
        Ok(_) => panic!("a policy whose create traps must not be usable"),
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What `f` logs through `tracing`, as text.
fn logged(f: impl FnOnce()) -> String {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
}

#[test]
fn a_plugin_fault_is_logged_with_the_plugins_hash() {
    let h = hostile("trap").unwrap();
    let log = logged(|| {
        assert_fault(
            &h.before_send(&trigger(), Context::at(time(NOW))),
            "trapped",
        );
    });
    assert!(log.contains("ERROR"), "{log}");
    assert!(
        log.contains(&h.plugin_sha256()),
        "the log names the plugin: {log}"
    );
}

fn refused(bytes: &[u8]) -> String {
    match engine().load(bytes) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("{} bytes should have been refused", bytes.len()),
    }
}

#[test]
fn a_file_that_is_not_wasm_is_refused_as_not_a_component() {
    let msg = refused(b"#!/bin/sh\necho definitely not wasm\n");
    assert!(msg.contains("not a WebAssembly component"), "{msg}");
}

#[test]
fn a_core_module_is_refused_as_not_a_component() {
    let module = wat::parse_str("(module (func (export \"decide\")))").unwrap();
    let msg = refused(&module);
    assert!(msg.contains("not a WebAssembly component"), "{msg}");
}

#[test]
fn a_component_of_another_world_is_refused_naming_the_expected_interface() {
    let other = wat::parse_str(
        r#"(component
             (core module $m (func (export "f")))
             (core instance $i (instantiate $m))
             (func (export "hello") (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    let msg = refused(&other);
    assert!(msg.contains("crm:consent/rules@0.2"), "{msg}");
    assert!(
        msg.contains("hello"),
        "the error lists what it found: {msg}"
    );
}

#[test]
fn a_component_of_an_unsupported_version_is_refused_naming_the_supported_ones() {
    for version in ["0.3.0", "1.0.0"] {
        let future = wat::parse_str(format!(
            r#"(component
                 (core module $m (func (export "f")))
                 (core instance $i (instantiate $m))
                 (func $f (canon lift (core func $i "f")))
                 (instance $rules (export "explain" (func $f)))
                 (export "crm:consent/rules@{version}" (instance $rules)))"#
        ))
        .unwrap();
        assert_eq!(
            refused(&future),
            format!(
                "the plugin targets `crm:consent@{version}`, but this host runs \
                 `crm:consent@0.1.x` or `crm:consent@0.2.x`; rebuild the plugin against \
                 `crm:consent@0.2.0`"
            )
        );
    }
}

#[test]
fn the_reference_plugin_imports_nothing_and_exports_the_rules() {
    let info = engine().validate(&plugin_bytes()).unwrap();
    assert!(info.imports.is_empty(), "imports: {:?}", info.imports);
    assert_eq!(
        info.exports,
        vec!["crm:consent/types@0.2.0", "crm:consent/rules@0.2.0"]
    );
    assert_eq!(info.api_version, "0.2.0");
    assert_eq!(info.sha256.len(), 64);
}

const FAULT: Verdict = Verdict {
    outcome: Outcome::Deny,
    code: ReasonCode::PluginFault,
};

fn withdrawn() -> crm_consent::wit::ContactState {
    contact()
        .consent(NEWSLETTER, ConsentStatus::Withdrawn, NOW - DAY)
        .build()
}

#[test]
fn an_allow_carrying_plugin_fault_sends_no_newsletter_to_a_withdrawn_contact() {
    let h = hostile("allow-fault").unwrap();
    let verdicts = h
        .before_bulk_send(
            None,
            &[withdrawn(), contact().build()],
            Context::at(time(NOW)),
        )
        .unwrap();
    assert_eq!(verdicts, vec![FAULT; 2]);
    assert_fault(
        &h.before_send(&withdrawn(), Context::at(time(NOW))),
        "`plugin_fault`, a code only the host may set",
    );
}

#[test]
fn a_deny_carrying_plugin_fault_is_logged_as_an_invalid_answer() {
    let h = hostile("deny-fault").unwrap();
    let log = logged(|| {
        assert_fault(
            &h.before_send(&withdrawn(), Context::at(time(NOW))),
            "a deny with `plugin_fault`",
        );
    });
    assert!(
        log.contains("ERROR") && log.contains("invalid-answer"),
        "{log}"
    );
    assert!(
        log.contains(&h.plugin_sha256()),
        "the log names the plugin: {log}"
    );
}

#[test]
fn an_allow_carrying_a_deny_code_fails_closed() {
    let h = hostile("allow-deny-code").unwrap();
    assert_fault(
        &h.before_send(&withdrawn(), Context::at(time(NOW))),
        "an allow carrying the deny code `consent_withdrawn`",
    );
    let verdicts = h
        .before_bulk_send(None, &[withdrawn()], Context::at(time(NOW)))
        .unwrap();
    assert_eq!(verdicts, vec![FAULT]);
}

#[test]
fn a_deny_carrying_an_allow_code_fails_closed() {
    let h = hostile("deny-allow-code").unwrap();
    assert_fault(
        &h.before_dial(&contact().build(), Context::at(time(NOW))),
        "a deny carrying the allow code `consent`",
    );
    let verdicts = h
        .before_bulk_send(None, &[contact().build()], Context::at(time(NOW)))
        .unwrap();
    assert_eq!(verdicts, vec![FAULT]);
}

#[test]
fn reason_ids_the_config_does_not_have_fail_closed() {
    let h = hostile("unknown-reason").unwrap();
    assert_fault(
        &h.before_dial(&contact().build(), Context::at(time(NOW))),
        "reason id `999999` for `phone`",
    );
}

fn self_test(mode: &str) -> EngineError {
    let mut cfg: Config = sample_config();
    cfg.consent_types[0].code = mode.into();
    let plugin = engine().load(&hostile_bytes()).unwrap();
    let mut policy = plugin.policy(&cfg).expect("create behaves");
    policy.self_test().expect_err("the self-test fails")
}

#[test]
fn a_looping_explain_fails_the_self_test_on_its_fuel_budget() {
    match self_test("loop-explain") {
        EngineError::SelfTest { call, fault } => {
            assert_eq!(call, "explain(consent)");
            assert_eq!(fault.kind(), FaultKind::OutOfFuel);
        }
        other => panic!("expected a self-test failure, got {other}"),
    }
}

#[test]
fn a_trapping_reasons_fails_the_self_test() {
    match self_test("trap-reasons") {
        EngineError::SelfTest { call, fault } => {
            assert_eq!(call, "reasons(bulk_email)");
            assert_eq!(fault.kind(), FaultKind::Trap);
        }
        other => panic!("expected a self-test failure, got {other}"),
    }
}

#[test]
fn setup_install_refuses_a_plugin_whose_explain_loops_and_keeps_none_active() {
    use crm_consent::setup;
    use crm_consent::store::{NewConsentType, Store};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(dir.path().join("crm.db")).unwrap();
    // The hostile fixture reads its mode from the first consent type's code.
    store
        .add_consent_type(
            &NewConsentType {
                code: "loop-explain".into(),
                title: "Hostile".into(),
                description: None,
                text: "I agree.".into(),
                validity_days: Some(365),
                allow_bulk_email: true,
                allow_single_email: true,
                allow_phone: true,
                text_valid_from: None,
            },
            "admin",
        )
        .unwrap();
    let error = setup::install(&mut store, engine(), &hostile_bytes(), "admin")
        .expect_err("refused at install");
    let message = error.to_string();
    assert!(
        message.contains("self-test") && message.contains("explain("),
        "{message}"
    );
    assert!(
        setup::plugins(&store).unwrap().is_empty(),
        "nothing installed"
    );
    // The reference plugin passes the same self-test.
    setup::install(&mut store, engine(), &plugin_bytes(), "admin").unwrap();
}

/// The cache file an engine wrote for the plugin with `sha256`.
fn cache_file(dir: &std::path::Path, sha256: &str) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(sha256) && name.ends_with(".cwasm")
        })
        .expect("a cache file for the plugin")
}

#[test]
fn a_cache_file_of_another_plugin_copied_under_the_active_plugins_name_does_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let cached = || {
        Engine::new(EngineOptions {
            cache_dir: Some(dir.path().to_owned()),
            call_timeout: std::time::Duration::from_millis(500),
            ..EngineOptions::default()
        })
        .unwrap()
    };
    let engine = cached();
    let real = engine.load(&plugin_bytes()).unwrap();
    let hostile = engine.load(&hostile_bytes()).unwrap();
    // The hostile plugin, in its default mode, allows everything.
    std::fs::copy(
        cache_file(dir.path(), hostile.sha256()),
        cache_file(dir.path(), real.sha256()),
    )
    .unwrap();

    let reloaded = cached().load(&plugin_bytes()).unwrap();
    assert_eq!(reloaded.sha256(), real.sha256());
    let h = Hooks::new(&reloaded, &sample_config()).unwrap();
    let restricted = contact().flags(ContactFlags::RESTRICTED).build();
    match h.before_send(&restricted, Context::at(time(NOW))) {
        Decision::Deny(d) => assert_eq!(d.code, ReasonCode::Restricted),
        other => panic!("the real rules must decide (Art. 18), got {other:?}"),
    }
}
