//! Hostile and broken plugins never take the host down: every fault fails
//! closed (deny with plugin-fault), is logged, and the next call gets a fresh
//! instance. Files that are not our component are refused by name.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crm_consent::engine::{Config, ContactFlags, Decision, EngineError, Outcome, ReasonCode};
use crm_consent::hooks::{Context, Hooks};
use crm_consent_tests::*;

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
fn trigger() -> crm_consent::engine::ContactState {
    contact().given(NEWSLETTER, NOW - DAY).build()
}

#[test]
fn a_looping_plugin_is_stopped_and_the_hook_denies() {
    let h = hostile("loop").unwrap();
    assert_fault(&h.before_send(&trigger(), Context::at(NOW)), "timed out");
    let calm = h.before_send(&contact().build(), Context::at(NOW));
    assert!(
        matches!(calm, Decision::Allow(_)),
        "a fresh instance serves the next call: {calm:?}"
    );
}

#[test]
fn a_plugin_that_grabs_memory_is_capped_and_the_hook_denies() {
    let h = hostile("oom").unwrap();
    assert_fault(
        &h.before_dial(&trigger(), Context::at(NOW)),
        "out of memory",
    );
    let calm = h.before_dial(&contact().build(), Context::at(NOW));
    assert!(
        matches!(calm, Decision::Allow(_)),
        "a fresh instance serves the next call: {calm:?}"
    );
}

#[test]
fn a_trapping_plugin_fails_closed_for_every_contact_of_a_batch() {
    let h = hostile("trap").unwrap();
    assert_fault(&h.before_send(&trigger(), Context::at(NOW)), "trapped");
    let contacts = vec![
        trigger(),
        contact().flags(ContactFlags::OBJECTED).build(),
        trigger(),
    ];
    let verdicts = h
        .before_bulk_send(None, &contacts, Context::at(NOW))
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

#[test]
fn a_plugin_fault_is_logged_with_the_plugins_hash() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let h = hostile("trap").unwrap();
    tracing::subscriber::with_default(subscriber, || {
        assert_fault(&h.before_send(&trigger(), Context::at(NOW)), "trapped");
    });
    let log = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
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
    assert!(msg.contains("crm:consent/rules@0.1"), "{msg}");
    assert!(
        msg.contains("hello"),
        "the error lists what it found: {msg}"
    );
}

#[test]
fn a_component_of_an_incompatible_api_version_is_refused() {
    let v2 = wat::parse_str(
        r#"(component
             (core module $m (func (export "f")))
             (core instance $i (instantiate $m))
             (func $f (canon lift (core func $i "f")))
             (instance $rules (export "explain" (func $f)))
             (export "crm:consent/rules@0.2.0" (instance $rules)))"#,
    )
    .unwrap();
    let msg = refused(&v2);
    assert!(msg.contains("0.2.0"), "{msg}");
}

#[test]
fn the_reference_plugin_imports_nothing_and_exports_the_rules() {
    let info = engine().validate(&plugin_bytes()).unwrap();
    assert!(info.imports.is_empty(), "imports: {:?}", info.imports);
    assert_eq!(
        info.exports,
        vec!["crm:consent/types@0.1.0", "crm:consent/rules@0.1.0"]
    );
    assert_eq!(info.api_version, "0.1.0");
    assert_eq!(info.sha256.len(), 64);
}
