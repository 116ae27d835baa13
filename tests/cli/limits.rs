//! `setup limits` and the limits manifest at install: a plugin asking more
//! than the caps is refused before it is compiled, naming the limit.

use crm_consent::engine::with_manifest;

use super::support::Crm;

/// The bundled plugin carrying `json` as its limits manifest, in a file.
fn plugin_asking(crm: &Crm, name: &str, json: &str) -> String {
    let path = crm.dir.path().join(name);
    std::fs::write(&path, with_manifest(crm_consent::BUNDLED_PLUGIN, json)).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn a_plugin_over_the_caps_is_refused_naming_the_limit_the_ask_and_the_cap() {
    let crm = Crm::ready();
    let before = crm.json(&["setup", "list"]);
    let path = plugin_asking(&crm, "python.wasm", r#"{"core_instances": 38}"#);
    let err = crm.err(&["setup", "upgrade", &path]);
    assert!(
        err.contains("plugin refused: the plugin asks for core_instances 38, over the cap of 8"),
        "{err}"
    );
    assert!(err.contains("crm-consent setup limits"), "{err}");
    let (_, json) = crm.json_err(&["setup", "upgrade", &path]);
    assert_eq!(json["error"]["code"], "plugin_over_limits");
    assert_eq!(crm.json(&["setup", "list"]), before, "nothing installed");
}

#[test]
fn raised_caps_let_the_plugin_install_and_decide() {
    let crm = Crm::ready();
    let caps = crm.json(&["setup", "limits"]);
    assert_eq!(caps["core_instances"], 8, "{caps}");
    assert_eq!(caps["memory_mib"], 32, "{caps}");
    let caps = crm.json(&[
        "setup",
        "limits",
        "--max-core-instances",
        "40",
        "--max-memory-mib",
        "64",
    ]);
    assert_eq!(caps["core_instances"], 40, "{caps}");
    assert_eq!(caps["memory_mib"], 64, "{caps}");
    // Stored: a later command sees them.
    assert_eq!(crm.json(&["setup", "limits"]), caps);
    let path = plugin_asking(
        &crm,
        "big.wasm",
        r#"{"core_instances": 40, "memory_mib": 64}"#,
    );
    crm.ok(&["setup", "upgrade", &path]);
    let id = crm.contact("Ann", &["email"]);
    assert!(crm.ok(&["check", "send", &id]).starts_with("allow"));
    // The active plugin asks 40: the cap cannot go below it.
    let (_, json) = crm.json_err(&["setup", "limits", "--max-core-instances", "20"]);
    assert_eq!(json["error"]["code"], "cap_below_active_plugin", "{json}");
    assert_eq!(crm.json(&["setup", "limits"])["core_instances"], 40);
}

#[test]
fn a_cap_below_the_defaults_and_a_malformed_manifest_are_refused() {
    let crm = Crm::ready();
    let err = crm.err(&["setup", "limits", "--max-memory-mib", "16"]);
    assert!(err.contains("memory_mib"), "{err}");
    let path = plugin_asking(&crm, "bad.wasm", r#"{"memory": 64}"#);
    let (_, json) = crm.json_err(&["setup", "upgrade", &path]);
    assert_eq!(json["error"]["code"], "invalid_limits_manifest", "{json}");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `memory`"),
        "{json}"
    );
}

#[test]
fn a_rollback_to_a_plugin_over_the_caps_now_in_force_is_refused() {
    let crm = Crm::ready();
    crm.ok(&["setup", "limits", "--max-core-instances", "40"]);
    let path = plugin_asking(&crm, "big.wasm", r#"{"core_instances": 40}"#);
    crm.ok(&["setup", "upgrade", &path]);
    // Bytes other than the bundled plugin's (those would reactivate #1).
    let small = plugin_asking(&crm, "small.wasm", r#"{"memory_mib": 32}"#);
    crm.ok(&["setup", "upgrade", &small]);
    // The small plugin is active and fits: the cap may go down again.
    crm.ok(&["setup", "limits", "--max-core-instances", "8"]);
    let before = crm.json(&["setup", "list"]);
    let (_, json) = crm.json_err(&["setup", "rollback"]);
    assert_eq!(json["error"]["code"], "plugin_over_limits", "{json}");
    assert_eq!(
        crm.json(&["setup", "list"]),
        before,
        "the small plugin stays active"
    );
}

#[test]
fn plugin_manifest_writes_the_section_install_reads_and_refuses_a_second() {
    let crm = Crm::ready();
    let bare = crm_consent_tests::PLUGIN_WASM;
    let out = crm.dir.path().join("asks.wasm");
    let out = out.to_str().unwrap();
    let written = crm.json(&[
        "plugin",
        "manifest",
        bare,
        "--out",
        out,
        "--core-instances",
        "38",
        "--batch-contact-us",
        "20",
    ]);
    assert_eq!(written["core_instances"], 38, "{written}");
    assert_eq!(written["batch_contact_us"], 20, "{written}");
    let err = crm.err(&["setup", "upgrade", out]);
    assert!(
        err.contains("the plugin asks for core_instances 38, over the cap of 8"),
        "{err}"
    );
    let again = crm.dir.path().join("twice.wasm");
    let err = crm.err(&[
        "plugin",
        "manifest",
        out,
        "--out",
        again.to_str().unwrap(),
        "--memory-mib",
        "64",
    ]);
    assert!(err.contains("two `crm-consent-limits` sections"), "{err}");
    assert!(!again.exists(), "nothing written");
}

/// The limits flags are one list in both commands: each flag sets its own
/// field, asked by `plugin manifest`, capped by `setup limits --max-…`.
#[test]
fn each_limits_flag_sets_its_own_field_in_both_commands() {
    let crm = Crm::ready();
    // Distinct values, each over its default cap, so a swap shows.
    let fields = [
        ("core_instances", "41"),
        ("memories", "42"),
        ("tables", "43"),
        ("memory_mib", "44"),
        ("call_ms", "60045"),
        ("batch_contact_us", "46"),
        ("call_fuel", "20000047"),
        ("batch_contact_fuel", "48048"),
    ];
    let args = |first: &[&str], prefix: &str, fields: &[(&str, &str)]| {
        let mut args: Vec<String> = first.iter().map(|a| a.to_string()).collect();
        for (field, value) in fields {
            args.push(format!("--{prefix}{}", field.replace('_', "-")));
            args.push(value.to_string());
        }
        args
    };
    let caps = args(&["setup", "limits"], "max-", &fields);
    let set = crm.json(&caps.iter().map(String::as_str).collect::<Vec<_>>());
    for (field, value) in fields {
        assert_eq!(set[field].to_string(), value, "{set}");
    }

    let out = crm.dir.path().join("asks.wasm");
    let out = out.to_str().unwrap();
    let bare = crm_consent_tests::PLUGIN_WASM;
    let mut asked = fields.to_vec();
    asked.extend([("recycle_after_calls", "49"), ("recycle_above_mib", "40")]);
    let ask = args(&["plugin", "manifest", bare, "--out", out], "", &asked);
    let written = crm.ok(&ask.iter().map(String::as_str).collect::<Vec<_>>());
    let json: Vec<String> = asked.iter().map(|(f, v)| format!("\"{f}\":{v}")).collect();
    let json = format!("{{{}}}", json.join(","));
    assert!(written.contains(&json), "{written}\nwants {json}");
}
