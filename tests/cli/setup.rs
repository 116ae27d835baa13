//! `setup`: installing, upgrading and rolling back the plugin; the switches.

use serde_json::Value;

use super::support::Crm;

#[test]
fn setup_install_needs_init_first_and_then_lists_the_active_plugin() {
    let crm = Crm::empty();
    // Only `init` creates a database.
    let err = crm.err(&["setup", "install", "--bundled"]);
    assert!(err.contains("crm-consent init"), "{err}");
    assert!(!crm.db.exists());
    crm.ok(&["init"]);
    let out = crm.ok(&["setup", "install", "--bundled"]);
    assert!(out.contains("installed plugin #1"), "{out}");
    let list = crm.json(&["setup", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["active"], true);
    assert_eq!(list[0]["installed_by"], "tester");
    assert_eq!(list[0]["api_version"], "crm:consent@0.2.0");
}

#[test]
fn setup_install_reads_a_plugin_from_a_path() {
    let crm = Crm::empty();
    crm.ok(&["init"]);
    let out = crm.ok(&["setup", "install", crm_consent_tests::PLUGIN_WASM]);
    assert!(out.contains(crm_consent_tests::PLUGIN_WASM), "{out}");
    let err = crm.err(&["setup", "install", "/no/such/plugin.wasm"]);
    assert!(err.contains("/no/such/plugin.wasm"), "{err}");
}

#[test]
fn a_failed_plugin_install_leaves_the_active_plugin_untouched() {
    let crm = Crm::ready();
    let before = crm.json(&["setup", "list"]);
    let garbage = crm.dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"\0asm this is not a component").unwrap();
    let err = crm.err(&["setup", "install", garbage.to_str().unwrap()]);
    assert!(err.contains("garbage.wasm"), "{err}");
    assert!(err.contains("plugin refused"), "{err}");
    assert_eq!(crm.json(&["setup", "list"]), before);
    // The hooks still run on the old plugin.
    let id = crm.contact("Ann", &["email"]);
    assert!(crm.ok(&["check", "send", &id]).starts_with("allow"));
}

#[test]
fn a_plugin_of_an_unsupported_contract_is_refused_in_one_line_saying_to_rebuild_it() {
    let crm = Crm::ready();
    let before = crm.json(&["setup", "list"]);
    // The shape of a 0.3.0 plugin's exports is enough: the version is read first.
    let old = wat::parse_str(
        r#"(component
             (core module $m (func (export "f")))
             (core instance $i (instantiate $m))
             (func $f (canon lift (core func $i "f")))
             (instance $rules (export "explain" (func $f)))
             (export "crm:consent/rules@0.3.0" (instance $rules)))"#,
    )
    .unwrap();
    let path = crm.dir.path().join("old.wasm");
    std::fs::write(&path, old).unwrap();
    let path = path.to_str().unwrap();
    let (status, err) = crm.fail(&["setup", "upgrade", path]);
    assert_eq!(status, 1);
    assert_eq!(
        err,
        format!(
            "error: cannot install {path}: plugin refused: the plugin targets \
             `crm:consent@0.3.0`, but this host runs `crm:consent@0.1.x` or \
             `crm:consent@0.2.x`; rebuild the plugin against `crm:consent@0.2.0`\n"
        )
    );
    let (_, json) = crm.json_err(&["setup", "install", path]);
    assert_eq!(json["error"]["code"], "incompatible_version");
    assert_eq!(crm.json(&["setup", "list"]), before);
}

#[test]
fn upgrade_and_rollback_switch_the_active_plugin() {
    let crm = Crm::ready();
    let bundled = crm.json(&["setup", "list"])[0]["sha256"].clone();
    let upgraded = crm.json(&["setup", "upgrade", crm_consent_tests::HOSTILE_WASM]);
    assert_ne!(upgraded["sha256"], bundled);
    let list = crm.json(&["setup", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["active"], false);
    assert_eq!(list[1]["active"], true);

    let rolled = crm.json(&["setup", "rollback"]);
    assert_eq!(rolled["sha256"], bundled);
    let list = crm.json(&["setup", "list"]);
    assert_eq!(list[0]["active"], true);
    assert_eq!(list[1]["active"], false);

    let err = crm.err(&["setup", "rollback"]);
    assert!(err.contains("nothing to roll back to"), "{err}");
}

#[test]
fn upgrade_without_an_installed_plugin_is_refused() {
    let crm = Crm::empty();
    crm.ok(&["init"]);
    let err = crm.err(&["setup", "upgrade", "--bundled"]);
    assert!(err.contains("nothing to upgrade"), "{err}");
    assert_eq!(crm.json(&["setup", "list"]), serde_json::json!([]));
}

#[test]
fn switches_are_off_until_enabled_and_can_be_set_one_by_one() {
    let crm = Crm::empty();
    crm.ok(&["init"]);
    let s = crm.json(&["setup", "switches"]);
    assert_eq!(s["check_single_email"], false);
    assert_eq!(s["e_marketing_privacy"], true);
    let s = crm.json(&["setup", "enable"]);
    assert_eq!(
        (
            s["check_single_email"].clone(),
            s["check_bulk_email"].clone(),
            s["check_phone"].clone()
        ),
        (Value::Bool(true), Value::Bool(true), Value::Bool(true))
    );
    crm.ok(&["setup", "switch", "check_phone", "off"]);
    let out = crm.ok(&["setup", "switches"]);
    assert!(out.contains("check_phone          off"), "{out}");
    assert_eq!(crm.json(&["setup", "switches"])["check_phone"], false);
}

#[test]
fn the_old_switch_names_are_deprecated_aliases_of_the_new_ones() {
    let crm = Crm::empty();
    crm.ok(&["init"]);
    for (old, new) in [
        ("single-mail", "check_single_email"),
        ("mailing_list", "check_bulk_email"),
        ("per-contact", "check_phone"),
    ] {
        assert_eq!(
            crm.json(&["setup", "switch", old, "on"])[new],
            true,
            "{old}"
        );
    }
    // The kebab-case (WIT) spelling of a new name is the same switch.
    assert_eq!(
        crm.json(&["setup", "switch", "check-phone", "off"])["check_phone"],
        false
    );
    let help = crm.ok(&["setup", "switch", "--help"]);
    assert!(help.contains("check_single_email"), "{help}");
    assert!(!help.contains("single-mail"), "{help}");
}

#[test]
fn an_unknown_switch_name_is_refused_and_changes_nothing() {
    let crm = Crm::empty();
    crm.ok(&["init"]);
    let before = crm.json(&["setup", "switches"]);
    let err = crm.err(&["setup", "switch", "single_mial", "on"]);
    assert_eq!(
        err,
        "unknown switch `single_mial`; the switches are check_single_email, \
         check_bulk_email, check_phone and e_marketing_privacy"
    );
    assert_eq!(crm.json(&["setup", "switches"]), before);
}

/// A plugin built for `crm:consent@0.1.0` installs beside the bundled one,
/// is listed with its contract, and decides like it.
#[test]
fn a_plugin_built_for_0_1_installs_from_a_path_and_decides() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &["email"]);
    let bob = crm.contact("Bob", &[]);
    let before = (
        crm.json(&["check", "send", &anna]),
        crm.json(&["check", "dial", &bob]),
    );
    crm.ok(&["setup", "install", crm_consent_tests::PLUGIN_V0_1_WASM]);
    let list = crm.json(&["setup", "list"]);
    let active: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["active"] == true)
        .collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["api_version"], "crm:consent@0.1.0");
    let after = (
        crm.json(&["check", "send", &anna]),
        crm.json(&["check", "dial", &bob]),
    );
    assert_eq!(after.0["outcome"], "allow", "{}", after.0);
    assert_eq!(after.1["outcome"], "justify", "{}", after.1);
    for (old, new) in [(&before.0, &after.0), (&before.1, &after.1)] {
        assert_eq!(old["code"], new["code"]);
        assert_eq!(old["offered_reasons"], new["offered_reasons"]);
        assert_ne!(old["plugin_sha256"], new["plugin_sha256"], "{new}");
    }
}
