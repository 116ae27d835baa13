use super::fixtures::{
    CONTRACT_V0_1, Script, component_wat, config, contact, request, scripted, scripted_plugin,
};
use super::{engine, engine_with};
use crate::engine::error::{CONTRACT, Supported};
use crate::engine::{
    API_PACKAGE, API_VERSION, Channel, ContactFlags, ContactState, Decision, EngineError,
    EngineOptions, Plugin, Policy, SUPPORTED_API_VERSIONS,
};

fn refusal(bytes: &[u8]) -> EngineError {
    engine().validate(bytes).expect_err("the bytes are refused")
}

#[test]
fn empty_bytes_are_not_a_component() {
    let error = refusal(b"");
    assert!(matches!(error, EngineError::NotAComponent(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "not a WebAssembly component: the file is empty"
    );
}

#[test]
fn random_bytes_are_refused_naming_the_magic_number() {
    let error = refusal(&[0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03, 0xff]);
    assert!(matches!(error, EngineError::NotAComponent(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("magic number 00 61 73 6d (found de ad be ef)"),
        "{error}"
    );
}

#[test]
fn a_bare_magic_number_is_refused_as_truncated() {
    assert_eq!(
        refusal(b"\0asm").to_string(),
        "not a WebAssembly component: truncated after 4 bytes"
    );
}

#[test]
fn plain_text_is_refused_as_text() {
    let error = refusal(b"hello, I am a consent plugin");
    assert_eq!(
        error.to_string(),
        "not a WebAssembly component: this is text (`hello, I am a consent pl`...), \
         not WebAssembly; pass the plugin's .wasm file"
    );
}

#[test]
fn webassembly_text_is_refused_as_wat() {
    let error = refusal(b"(component)");
    assert!(
        error.to_string().contains("WebAssembly text (WAT)"),
        "{error}"
    );
}

#[test]
fn a_core_module_is_refused_as_not_a_component() {
    let error = refusal(&component_wat("(module (func (export \"decide\")))"));
    assert!(matches!(error, EngineError::NotAComponent(_)), "{error:?}");
    assert!(
        error.to_string().contains("core WebAssembly module"),
        "{error}"
    );
}

#[test]
fn a_truncated_component_is_invalid() {
    let bytes = scripted_plugin();
    let error = refusal(&bytes[..bytes.len() / 2]);
    assert!(
        matches!(error, EngineError::InvalidComponent(_)),
        "{error:?}"
    );
}

#[test]
fn a_component_without_the_rules_export_is_refused_listing_its_exports() {
    let bytes = component_wat(
        r#"(component
             (core module $m (func (export "f")))
             (core instance $i (instantiate $m))
             (func (export "hello") (canon lift (core func $i "f"))))"#,
    );
    let error = refusal(&bytes);
    assert_eq!(
        error.to_string(),
        "the component does not export `crm:consent/rules@0.2.x` (its exports: hello); \
         build it against the `consent-plugin` world of `crm:consent@0.2.0`"
    );
}

#[test]
fn an_empty_component_is_refused_as_exporting_nothing() {
    let error = refusal(&component_wat("(component)"));
    assert_eq!(
        error.to_string(),
        "the component does not export `crm:consent/rules@0.2.x` (its exports: none); \
         build it against the `consent-plugin` world of `crm:consent@0.2.0`"
    );
}

#[test]
fn a_plugin_built_for_0_1_0_loads_reports_its_version_and_decides() {
    // 0.1.0 spelled the consent-type and switches fields otherwise
    // (`allow-bulk`, `single-mail`, ...): the same layout, another contract.
    let bytes = scripted(&Script {
        version: "0.1.0",
        contract: CONTRACT_V0_1,
        ..Script::default()
    });
    let info = engine().validate(&bytes).expect("0.1 plugins run");
    assert_eq!(info.api_version, "0.1.0");
    assert_eq!(
        info.exports,
        ["crm:consent/types@0.1.0", "crm:consent/rules@0.1.0"]
    );
    let plugin = engine().load(&bytes).unwrap();
    let mut policy = plugin
        .policy(&config())
        .expect("create takes the converted config");
    assert!(matches!(
        policy.decide(&contact(), &request(1_750_000_000)),
        Decision::Allow(_)
    ));
    assert_eq!(policy.reasons(Channel::BulkEmail).unwrap(), vec![7, 1]);
    // The same contract at a later patch is the same version.
    let patch = scripted(&Script {
        version: "0.1.4",
        contract: &CONTRACT_V0_1.replace("crm:consent@0.1.0", "crm:consent@0.1.4"),
        ..Script::default()
    });
    assert_eq!(engine().validate(&patch).unwrap().api_version, "0.1.4");
}

#[test]
fn a_0_1_0_plugin_with_the_0_2_field_names_is_refused_as_wrong_types() {
    // What 0.1.0 is, is its WIT: a component claiming it with 0.2's
    // `allow-bulk-email` is neither contract.
    let error = refusal(&scripted(&Script {
        version: "0.1.0",
        ..Script::default()
    }));
    assert!(matches!(error, EngineError::WrongTypes { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("the component exports `crm:consent/rules@0.1.0` with types other"),
        "{error}"
    );
}

#[test]
fn rules_0_3_0_and_1_0_0_are_refused_naming_the_supported_versions() {
    for version in ["0.3.0", "1.0.0"] {
        let error = refusal(&scripted(&Script {
            version,
            ..Script::default()
        }));
        assert_eq!(
            error.to_string(),
            format!(
                "the plugin targets `crm:consent@{version}`, but this host runs \
                 `crm:consent@0.1.x` or `crm:consent@0.2.x`; rebuild the plugin against \
                 `crm:consent@0.2.0`"
            )
        );
    }
}

#[test]
fn an_empty_instance_named_rules_0_3_0_is_an_incompatible_api_version() {
    let bytes = component_wat(
        r#"(component (instance $rules) (export "crm:consent/rules@0.3.0" (instance $rules)))"#,
    );
    assert!(
        matches!(refusal(&bytes), EngineError::IncompatibleVersion { found } if found == "0.3.0")
    );
}

#[test]
fn an_unversioned_rules_export_is_told_which_version_to_build_against() {
    let bytes = component_wat(
        r#"(component (instance $rules) (export "crm:consent/rules" (instance $rules)))"#,
    );
    assert_eq!(
        refusal(&bytes).to_string(),
        "the plugin targets an unversioned `crm:consent`, but this host runs \
         `crm:consent@0.1.x` or `crm:consent@0.2.x`; rebuild the plugin against \
         `crm:consent@0.2.0`"
    );
}

#[test]
fn rules_0_2_5_is_accepted_as_semver_compatible() {
    let info = engine()
        .validate(&scripted(&Script {
            version: "0.2.5",
            ..Script::default()
        }))
        .expect("0.2.5 is compatible with 0.2.0");
    assert_eq!(info.api_version, "0.2.5");
}

#[test]
fn a_component_importing_a_function_is_refused() {
    let error = refusal(&scripted(&Script {
        world_extra: "    import log: func(message: string);",
        core_extra: r#"(import "$root" "log" (func (param i32 i32)))"#,
        ..Script::default()
    }));
    assert_eq!(
        error.to_string(),
        "the component imports log (a function), but a consent plugin must import nothing; \
         build it against the `consent-plugin` world, without WASI"
    );
}

#[test]
fn a_rules_export_with_other_types_is_refused() {
    let error = refusal(&scripted(&Script {
        contract_edit: Some((
            "explain: func(code: reason-code) -> string;",
            "explain: func(code: reason-code) -> u32;",
        )),
        ..Script::default()
    }));
    assert!(matches!(error, EngineError::WrongTypes { .. }), "{error:?}");
    assert!(
        error.to_string().starts_with(
            "the component exports `crm:consent/rules@0.2.0` with types other than the \
                 contract's ("
        ),
        "{error}"
    );
}

#[test]
fn a_valid_plugin_reports_its_hash_version_and_exports_and_imports_nothing() {
    let bytes = scripted_plugin();
    let info = engine()
        .validate(&bytes)
        .expect("the scripted plugin is valid");
    assert_eq!(info.sha256.len(), 64);
    assert!(
        info.sha256
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(info.api_version, "0.2.0");
    assert_eq!(
        info.exports,
        ["crm:consent/types@0.2.0", "crm:consent/rules@0.2.0"]
    );
    assert!(info.imports.is_empty(), "{:?}", info.imports);

    let plugin = engine().load(&bytes).expect("it loads");
    assert_eq!(plugin.sha256(), info.sha256);
    assert_eq!(plugin.info(), &info);
}

#[test]
fn a_plugin_built_against_the_world_without_export_types_is_refused() {
    // wit-component then imports the `types` interface instead of exporting it.
    let error = refusal(&scripted(&Script {
        contract_edit: Some(("    export types;\n", "")),
        ..Script::default()
    }));
    assert_eq!(
        error.to_string(),
        "the component does not export `crm:consent/types@0.2.x` \
         (its exports: crm:consent/rules@0.2.0); \
         build it against the `consent-plugin` world of `crm:consent@0.2.0`"
    );
}

#[test]
fn invalid_options_are_refused_by_name() {
    let zero_memory = EngineOptions {
        memory_limit_bytes: 0,
        ..EngineOptions::default()
    };
    let zero_timeout = EngineOptions {
        call_timeout: std::time::Duration::ZERO,
        ..EngineOptions::default()
    };
    let zero_instances = EngineOptions {
        max_instances: 0,
        ..EngineOptions::default()
    };
    for (opts, says) in [
        (zero_memory, "memory_limit_bytes"),
        (zero_timeout, "`call_timeout` is zero"),
        (zero_instances, "`max_instances` is zero"),
    ] {
        let error = crate::engine::Engine::new(opts).expect_err("refused");
        assert!(error.to_string().contains(says), "{error}");
    }
}

#[test]
fn several_engines_live_side_by_side_in_parallel_threads() {
    let bytes = scripted_plugin();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let engine = engine_with(EngineOptions {
                    max_instances: 8,
                    call_timeout: std::time::Duration::from_secs(1),
                    ..EngineOptions::default()
                });
                let mut policy = engine
                    .load(&bytes)
                    .and_then(|plugin| plugin.policy(&super::fixtures::config()))
                    .expect("a policy");
                let decision =
                    policy.decide(&super::fixtures::contact(), &super::fixtures::request(0));
                assert!(
                    matches!(decision, crate::engine::Decision::Allow(_)),
                    "{decision:?}"
                );
            });
        }
    });
}

#[test]
fn the_messages_name_the_package_and_the_api_version() {
    let minor = API_VERSION.rsplit_once('.').expect("x.y.z").0;
    assert!(
        Supported
            .to_string()
            .ends_with(&format!("`{API_PACKAGE}@{minor}.x`"))
    );
    assert_eq!(CONTRACT, format!("{API_PACKAGE}@{API_VERSION}"));
    assert_eq!(SUPPORTED_API_VERSIONS.last(), Some(&API_VERSION));
}

#[test]
fn contact_state_round_trips_through_json_with_flags_as_booleans() {
    let state = ContactState {
        flags: ContactFlags::OBJECTED | ContactFlags::OPTED_OUT_OF_ALL,
        ..super::fixtures::contact()
    };
    let json = serde_json::to_value(&state).expect("serializes");
    assert_eq!(
        json["flags"],
        serde_json::json!({"restricted": false, "objected": true, "opted_out_of_all": true})
    );
    let back: ContactState = serde_json::from_value(json).expect("deserializes");
    assert_eq!(back, state);
}

#[test]
fn plugins_are_send_and_sync_and_policies_are_send() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Plugin>();
    send::<Policy>();
    send_sync::<crate::engine::Engine>();
}

#[test]
fn api_versions_are_matched_by_their_breaking_part() {
    use crate::engine::versions::ApiVersion;
    for (version, api) in [
        ("0.2.0", ApiVersion::V0_2),
        ("0.2.7", ApiVersion::V0_2),
        ("0.2.12+build.3", ApiVersion::V0_2),
        ("0.1.0", ApiVersion::V0_1),
        ("0.1.9", ApiVersion::V0_1),
    ] {
        assert_eq!(ApiVersion::of(version), Some(api), "{version}");
    }
    for version in [
        "0.3.0",
        "1.2.0",
        "0.0.1",
        "0.2.0-rc.1",
        "0.1.0-rc.1",
        "0.2",
        "0.2.x",
        "",
    ] {
        assert_eq!(ApiVersion::of(version), None, "{version}");
    }
}
