//! Chained rule packs through the CLI: a pack installed after the active
//! plugin, its deny beating the active plugin's justify, a faulting pack
//! failing the chain closed, the replay of a chained decision, and the
//! chain's own setup errors.

use serde_json::Value;

use super::support::Crm;

const COLD_CALL: &str = env!("CRM_CONSENT_COLD_CALL_WASM");
const HOSTILE: &str = env!("CRM_CONSENT_HOSTILE_WASM");

fn steps(answer: &Value) -> Vec<(String, String)> {
    answer["chain"]
        .as_array()
        .unwrap_or_else(|| panic!("no chain: {answer}"))
        .iter()
        .map(|s| {
            (
                s["outcome"].as_str().unwrap().to_owned(),
                s["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(outcome: &str, code: &str) -> (String, String) {
    (outcome.to_owned(), code.to_owned())
}

#[test]
fn a_national_pack_denies_a_call_the_active_plugin_would_let_an_operator_justify() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let before = crm.json(&["check", "dial", &anna]);
    assert_eq!(before["outcome"], "justify", "{before}");
    assert_eq!(
        before["chain"],
        serde_json::json!([]),
        "one plugin: no steps"
    );

    let pack = crm.json(&["setup", "install", COLD_CALL, "--pack"]);
    assert_eq!(
        (pack["active"].clone(), pack["chain_position"].clone()),
        (false.into(), 1.into())
    );
    let chain = crm.json(&["setup", "chain"]);
    assert_eq!(chain.as_array().unwrap().len(), 2, "{chain}");
    assert_eq!(chain[1]["sha256"], pack["sha256"]);

    let denied = crm.json(&["check", "dial", &anna]);
    assert_eq!(
        (denied["outcome"].as_str(), denied["code"].as_str()),
        (Some("deny"), Some("no_consent"))
    );
    assert_eq!(
        steps(&denied),
        [pair("justify", "no_consent"), pair("deny", "no_consent")]
    );
    assert_eq!(denied["chain"][1]["plugin_sha256"], pack["sha256"]);
    assert!(
        denied["message"].as_str().unwrap().contains("UWG"),
        "the pack explains its deny: {denied}"
    );
    let text = crm.ok(&["check", "dial", &anna]);
    assert!(text.contains("(rule pack 1: "), "{text}");
    // A deny cannot be justified, whichever plugin gave it.
    let (_, err) = crm.json_err(&["justify", &anna, "dial", "--reason", "1"]);
    assert_eq!(err["error"]["code"], "nothing_to_justify", "{err}");

    // With consent to calls both allow; an email is not the pack's business.
    let bob = crm.contact("Bob", &["phone"]);
    let allowed = crm.json(&["check", "dial", &bob]);
    assert_eq!(allowed["outcome"], "allow", "{allowed}");
    assert_eq!(
        steps(&allowed),
        [pair("allow", "consent"), pair("allow", "consent")]
    );
    let email = crm.json(&["check", "send", &anna]);
    assert_eq!(steps(&email)[1], pair("allow", "not_checked"), "{email}");

    // The logged deny replays, plugin by plugin.
    let logged = denied["logged"].to_string();
    let replay = crm.json(&["decisions", "replay", &logged]);
    assert_eq!(replay["same"], true, "{replay}");
    assert_eq!(replay["chain"].as_array().unwrap().len(), 2, "{replay}");
    assert!(
        replay["chain"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["same"] == true)
    );
    let text = crm.ok(&["decisions", "replay", &logged]);
    assert!(
        text.contains("pack") && text.contains("deny (no_consent)"),
        "{text}"
    );

    // Clearing the chain gives the active plugin's answer back.
    let cleared = crm.json(&["setup", "chain", "--clear"]);
    assert_eq!(cleared.as_array().unwrap().len(), 1, "{cleared}");
    assert_eq!(crm.json(&["check", "dial", &anna])["outcome"], "justify");
    // And the old chained decision still replays: its plugins are installed.
    assert_eq!(crm.json(&["decisions", "replay", &logged])["same"], true);
    assert_eq!(crm.json(&["ledger", "verify"])["ok"], true);
}

/// A database whose first consent type is `trap`: the hostile fixture, as
/// a pack, traps on every contact with a consent record.
fn with_trap_type() -> Crm {
    let crm = Crm::installed();
    crm.ok(&[
        "types",
        "add",
        "trap",
        "--text-valid-from",
        "2020-01-01",
        "--title",
        "Calls",
        "--text",
        "You may call me",
        "--channels",
        "phone,bulk_email",
    ]);
    crm
}

#[test]
fn a_faulting_pack_fails_the_chain_closed_for_one_contact_and_for_a_batch() {
    let crm = with_trap_type();
    let anna = crm.contact("Anna", &["trap"]);
    assert_eq!(crm.json(&["check", "dial", &anna])["outcome"], "allow");
    crm.ok(&["setup", "install", HOSTILE, "--pack"]);

    let denied = crm.json(&["check", "dial", &anna]);
    assert_eq!(
        (denied["outcome"].as_str(), denied["code"].as_str()),
        (Some("deny"), Some("plugin_fault"))
    );
    assert_eq!(
        steps(&denied),
        [pair("allow", "consent"), pair("deny", "plugin_fault")]
    );
    // A fresh instance serves the next contact: the fault was that pack's.
    let bob = crm.contact("Bob", &[]);
    let next = crm.json(&["check", "dial", &bob]);
    assert_eq!(
        steps(&next),
        [pair("justify", "no_consent"), pair("allow", "not_checked")]
    );
    assert_eq!(next["outcome"], "justify");

    let bulk = crm.json(&["check", "bulk", "--dry-run"]);
    assert_eq!(bulk["recipients"], serde_json::json!([]), "{bulk}");
    assert_eq!(bulk["summary"]["plugin_fault"], 1, "{bulk}");
    assert_eq!(bulk["chain_sha256"].as_array().unwrap().len(), 2, "{bulk}");
}

#[test]
fn packs_are_checked_like_installs_and_a_refused_chain_changes_nothing() {
    let empty = Crm::empty();
    empty.ok(&["init"]);
    let (_, err) = empty.json_err(&["setup", "install", COLD_CALL, "--pack"]);
    assert_eq!(err["error"]["code"], "no_plugin", "{err}");

    let crm = Crm::ready();
    let over = crm.dir.path().join("over.wasm");
    let bytes = std::fs::read(COLD_CALL).unwrap();
    std::fs::write(
        &over,
        crm_consent::engine::with_manifest(&bytes, r#"{"core_instances": 38}"#),
    )
    .unwrap();
    let (_, err) = crm.json_err(&["setup", "install", over.to_str().unwrap(), "--pack"]);
    assert_eq!(err["error"]["code"], "plugin_over_limits", "{err}");
    assert_eq!(crm.json(&["setup", "chain"]).as_array().unwrap().len(), 1);

    let pack = crm.json(&["setup", "install", COLD_CALL, "--pack"]);
    let before = crm.json(&["setup", "chain"]);
    let active = before[0]["id"].to_string();
    let (_, err) = crm.json_err(&["setup", "chain", &active]);
    assert_eq!(err["error"]["code"], "invalid_value", "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is the active plugin"),
        "{err}"
    );
    let (_, err) = crm.json_err(&["setup", "chain", "99"]);
    assert_eq!(err["error"]["code"], "unknown_plugin", "{err}");
    assert_eq!(crm.json(&["setup", "chain"]), before);
    let id = pack["id"].to_string();
    assert_eq!(
        crm.json(&["setup", "chain", &id]),
        before,
        "setting the same chain again"
    );
    let list = crm.ok(&["setup", "list"]);
    assert!(list.lines().any(|l| l.starts_with("+1")), "{list}");
}
