//! Per-plugin limits: the `crm-consent-limits` manifest is read before
//! compiling, checked against the caps, and each plugin's stores run with
//! what it declared.

use std::time::Duration;

use super::fixtures::{component_wat, config, request};
use super::real_plugin::consenting_contact;
use super::{engine, engine_with};
use crate::BUNDLED_PLUGIN;
use crate::engine::{
    CORE_INSTANCES_PER_COMPONENT, Decision, EngineError, EngineOptions, FaultKind,
    MEMORIES_PER_COMPONENT, PluginLimits, Recycling, TABLES_PER_COMPONENT, with_manifest,
};

const NOW: i64 = 1_750_000_000;

/// Caps an admin raised for a Python plugin: 40 core instances, 64 MiB, 2 s.
fn raised_caps() -> PluginLimits {
    PluginLimits {
        core_instances: 40,
        memories: 4,
        tables: 64,
        memory_bytes: 64 << 20,
        call_timeout: Duration::from_secs(2),
        batch_time_per_contact: Duration::from_micros(20),
        call_fuel: 50_000_000,
        batch_contact_fuel: 200_000,
    }
}

/// A component whose core code does not validate (a function that returns
/// nothing but declares an i32): compiling it fails at once.
fn uncompilable() -> Vec<u8> {
    component_wat("(component (core module (func (result i32))))")
}

#[test]
fn a_plugin_over_the_caps_is_refused_before_it_is_compiled() {
    let engine = engine();
    // Without a manifest the bytes reach the compiler, which refuses them...
    let compiled = engine.load(&uncompilable()).unwrap_err();
    assert!(
        matches!(compiled, EngineError::InvalidComponent(_)),
        "{compiled}"
    );
    // ...with one over the caps, the manifest is refused first: nothing was compiled.
    let bytes = with_manifest(&uncompilable(), r#"{"core_instances": 38}"#);
    let error = engine.load(&bytes).unwrap_err();
    let EngineError::OverCap { limit, asked, cap } = &error else {
        panic!("expected the cap refusal, got {error}");
    };
    assert_eq!(
        (*limit, asked.as_str(), cap.as_str()),
        ("core_instances", "38", "8")
    );
    assert!(
        error
            .to_string()
            .contains("core_instances 38, over the cap of 8"),
        "{error}"
    );
    // A huge declared memory names its unit.
    let bytes = with_manifest(&uncompilable(), r#"{"memory_mib": 4096}"#);
    let error = engine.check_limits(&bytes).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("memory_mib 4096 MiB, over the cap of 32 MiB"),
        "{error}"
    );
}

#[test]
fn the_bundled_plugin_keeps_the_tight_defaults() {
    let engine = engine_with(EngineOptions {
        caps: Some(raised_caps()),
        ..EngineOptions::default()
    });
    let plugin = engine
        .load(BUNDLED_PLUGIN)
        .expect("the bundled plugin loads");
    let limits = plugin.limits();
    assert_eq!(limits.core_instances, CORE_INSTANCES_PER_COMPONENT);
    assert_eq!(limits.memories, MEMORIES_PER_COMPONENT);
    assert_eq!(limits.tables, TABLES_PER_COMPONENT);
    assert_eq!(
        limits.memory_bytes,
        32 << 20,
        "raised caps give it nothing more"
    );
    assert_eq!(limits.call_timeout, Duration::from_millis(10));
}

#[test]
fn a_plugin_under_raised_caps_loads_with_its_own_limits_and_decides() {
    let engine = engine_with(EngineOptions {
        caps: Some(raised_caps()),
        ..EngineOptions::default()
    });
    let json =
        r#"{"core_instances": 40, "memory_mib": 64, "call_ms": 1500, "batch_contact_us": 10}"#;
    let bytes = with_manifest(BUNDLED_PLUGIN, json);
    let plugin = engine.load(&bytes).expect("under the caps, it loads");
    let limits = *plugin.limits();
    assert_eq!(limits.core_instances, 40);
    assert_eq!(limits.memory_bytes, 64 << 20);
    assert_eq!(limits.call_timeout, Duration::from_millis(1500));
    assert_eq!(limits.batch_time_per_contact, Duration::from_micros(10));
    assert_eq!(
        limits.memories, MEMORIES_PER_COMPONENT,
        "undeclared: default"
    );
    let mut policy = plugin.policy(&config()).expect("a policy");
    let decision = policy.decide(&consenting_contact(), &request(NOW));
    assert!(matches!(decision, Decision::Allow(_)), "{decision:?}");
    // The same manifest is over the default caps.
    let error = super::engine().load(&bytes).unwrap_err();
    assert!(matches!(error, EngineError::OverCap { .. }), "{error}");
}

#[test]
fn the_appended_section_is_honoured() {
    // The reference plugin's memory starts above 1 MiB (its stack alone is
    // 1 MiB): declared 1 MiB, its store refuses to create that memory.
    let bytes = with_manifest(BUNDLED_PLUGIN, r#"{"memory_mib": 1}"#);
    let error = engine().load(&bytes).unwrap_err();
    match &error {
        EngineError::Fault { fault, .. } => {
            assert_eq!(fault.kind(), FaultKind::OutOfMemory, "{error}");
        }
        EngineError::Instantiate(detail) => assert!(detail.contains("memory"), "{error}"),
        other => panic!("expected a memory refusal, got {other}"),
    }
    // One core instance is fewer than the component holds.
    let bytes = with_manifest(BUNDLED_PLUGIN, r#"{"core_instances": 1}"#);
    let error = engine().load(&bytes).unwrap_err();
    assert!(error.to_string().contains("instance"), "{error}");
    // A manifest asking the defaults changes nothing.
    let bytes = with_manifest(BUNDLED_PLUGIN, r#"{"memory_mib": 32}"#);
    engine().load(&bytes).expect("the defaults, declared");
}

#[test]
fn a_malformed_manifest_is_a_clear_error() {
    let engine = engine();
    for (json, says) in [
        ("{core_instances: 40}", "is not valid"),
        (r#"{"memory": 64}"#, "unknown field `memory`"),
        (r#"{"call_ms": -1}"#, "invalid value"),
        (r#"{"call_ms": 0}"#, "`call_ms` is zero"),
    ] {
        let bytes = with_manifest(&uncompilable(), json);
        let error = engine.load(&bytes).unwrap_err();
        assert!(matches!(error, EngineError::Manifest(_)), "{json}: {error}");
        assert!(error.to_string().contains(says), "{json}: {error}");
    }
    let twice = with_manifest(&with_manifest(BUNDLED_PLUGIN, "{}"), "{}");
    let error = engine.load(&twice).unwrap_err();
    assert!(
        error.to_string().contains("two `crm-consent-limits`"),
        "{error}"
    );
}

#[test]
fn caps_below_the_defaults_are_refused() {
    let error = crate::engine::Engine::new(EngineOptions {
        caps: Some(PluginLimits {
            memory_bytes: 16 << 20,
            ..raised_caps()
        }),
        ..EngineOptions::default()
    })
    .unwrap_err();
    assert!(matches!(error, EngineError::Options(_)), "{error}");
    assert!(error.to_string().contains("memory_mib"), "{error}");
}

#[test]
fn without_caps_an_embedder_may_raise_the_default_memory() {
    let engine = engine_with(EngineOptions {
        memory_limit_bytes: 64 << 20,
        ..EngineOptions::default()
    });
    assert_eq!(engine.caps().memory_bytes, 64 << 20);
    let plugin = engine.load(BUNDLED_PLUGIN).expect("loads");
    assert_eq!(plugin.limits().memory_bytes, 64 << 20);
}

#[test]
fn recycling_defaults_to_three_quarters_of_the_memory_and_is_read_from_the_manifest() {
    let engine = engine();
    let plugin = engine.load(BUNDLED_PLUGIN).unwrap();
    assert_eq!(
        *plugin.recycling(),
        Recycling {
            after_calls: None,
            above_bytes: 24 << 20,
        }
    );
    let bytes = with_manifest(
        BUNDLED_PLUGIN,
        r#"{"memory_mib": 16, "recycle_after_calls": 100000}"#,
    );
    let recycling = *engine.load(&bytes).unwrap().recycling();
    assert_eq!(recycling.after_calls, Some(100_000));
    assert_eq!(
        recycling.above_bytes,
        12 << 20,
        "three quarters of its own limit"
    );
    let bytes = with_manifest(BUNDLED_PLUGIN, r#"{"recycle_above_mib": 32}"#);
    assert_eq!(
        engine.load(&bytes).unwrap().recycling().above_bytes,
        32 << 20
    );
}

#[test]
fn recycling_that_could_never_work_is_refused_before_compiling() {
    let engine = engine();
    for (json, says) in [
        (
            r#"{"recycle_after_calls": 0}"#,
            "`recycle_after_calls` is zero",
        ),
        (r#"{"recycle_above_mib": 0}"#, "`recycle_above_mib` is 0"),
        (
            r#"{"memory_mib": 8, "recycle_above_mib": 9}"#,
            "`recycle_above_mib` is 9, but it must be between 1 and the plugin's memory limit (8 MiB)",
        ),
    ] {
        let bytes = with_manifest(&uncompilable(), json);
        let error = engine.check_limits(&bytes).unwrap_err();
        assert!(matches!(error, EngineError::Manifest(_)), "{json}: {error}");
        assert!(error.to_string().contains(says), "{json}: {error}");
    }
}

#[test]
fn a_plugin_runs_under_the_fuel_its_manifest_asks_never_under_the_default() {
    use crate::engine::fuel::{DEFAULT_BATCH_FUEL_PER_CONTACT, DEFAULT_CALL_FUEL};
    let engine = engine_with(EngineOptions {
        caps: Some(raised_caps()),
        ..EngineOptions::default()
    });
    let asks = with_manifest(
        BUNDLED_PLUGIN,
        r#"{"call_fuel": 30000000, "batch_contact_fuel": 150000}"#,
    );
    let plugin = engine.load(&asks).expect("under the caps, it loads");
    assert_eq!(
        (
            plugin.limits().call_fuel,
            plugin.limits().batch_contact_fuel
        ),
        (30_000_000, 150_000)
    );
    let mut policy = plugin.policy(&config()).unwrap();
    policy.decide(&consenting_contact(), &request(NOW));
    // What is left after a decide is more than the default budget: the
    // call was armed with the plugin's own.
    assert!(policy.fuel_left().unwrap() > DEFAULT_CALL_FUEL);

    let less = with_manifest(BUNDLED_PLUGIN, r#"{"batch_contact_fuel": 10}"#);
    let limits = *engine.load(&less).unwrap().limits();
    assert_eq!(limits.batch_contact_fuel, DEFAULT_BATCH_FUEL_PER_CONTACT);

    let over = with_manifest(BUNDLED_PLUGIN, r#"{"batch_contact_fuel": 300000}"#);
    let error = engine.load(&over).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("batch_contact_fuel 300000, over the cap of 200000"),
        "{error}"
    );
    let zero = with_manifest(BUNDLED_PLUGIN, r#"{"call_fuel": 0}"#);
    assert!(matches!(engine.load(&zero), Err(EngineError::Manifest(_))));
}
