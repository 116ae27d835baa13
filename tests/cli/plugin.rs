//! `crm-consent plugin test`: the conformance kit on the command line.

use crm_consent::cli::{Finished, exit};
use crm_consent_tests::{HOSTILE_WASM, PLUGIN_WASM};

use crate::support::Crm;

#[test]
fn the_reference_plugin_passes_the_bundled_vectors() {
    let crm = Crm::empty();
    let (out, finished) = crm.run_finished(&["plugin", "test", PLUGIN_WASM]).unwrap();
    assert_eq!(finished, Finished::Done, "{out}");
    assert!(out.contains(" passed, 0 failed of "), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
}

#[test]
fn a_wrong_plugin_fails_naming_each_case_and_exits_5() {
    let crm = Crm::empty();
    let (out, finished) = crm.run_finished(&["plugin", "test", HOSTILE_WASM]).unwrap();
    assert_eq!(finished, Finished::Failed);
    assert_eq!(finished.exit_code(), exit::FAILED);
    assert!(
        out.contains("FAIL gdpr/restricted/single_email.no_purpose (decide)\n  expected: {\"outcome\":\"deny\",\"code\":\"restricted\"}\n  got:      {\"outcome\":\"allow\",\"code\":\"not_checked\"}"),
        "{out}"
    );
    assert!(!out.contains(" 0 failed"), "{out}");
}

#[test]
fn tags_select_cases_and_json_is_the_report() {
    let crm = Crm::empty();
    let report = crm.json(&[
        "plugin",
        "test",
        PLUGIN_WASM,
        "--tags",
        "subscriptions,art18",
    ]);
    let selected = report["selected"].as_u64().unwrap();
    assert!(selected > 0);
    assert_eq!(report["passed"].as_u64(), Some(selected));
    assert_eq!(
        report["tags"],
        serde_json::json!(["subscriptions", "art18"])
    );
    assert_eq!(report["contract"], "crm:consent@0.2.0");

    let message = crm.err(&["plugin", "test", PLUGIN_WASM, "--tags", "sundays"]);
    assert!(
        message.starts_with("no case has the tag `sundays`"),
        "{message}"
    );
    assert!(message.contains("gdpr-core"), "{message}");
}

#[test]
fn a_vectors_file_of_the_wrong_shape_is_named_with_its_path() {
    let crm = Crm::empty();
    let file = crm.dir.path().join("bad.json");
    let bad = r#"{"format": 1, "contract": "crm:consent@0.2.0", "about": "", "configs": {},
        "vectors": [{"id": "a", "pack": "p", "tags": [], "config": "c",
          "contact": {"flags": {}, "consents": [], "bases": [], "preferences": []},
          "request": {"channel": "fax", "purpose": null, "subscription_type": null, "now": 0},
          "expect": {"outcome": "allow", "code": "consent"}}]}"#;
    std::fs::write(&file, bad).unwrap();
    let path = file.display().to_string();
    let (status, json) = crm.json_err(&["plugin", "test", PLUGIN_WASM, "--vectors", &path]);
    assert_eq!(status, exit::ERROR);
    assert_eq!(json["error"]["code"], "invalid_vectors");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(message.contains("vectors[0].request.channel"), "{message}");
    assert!(message.contains("unknown variant `fax`"), "{message}");

    std::fs::write(&file, bad.replace("\"fax\"", "\"sms\"")).unwrap();
    let message = crm.err(&["plugin", "test", PLUGIN_WASM, "--vectors", &path]);
    assert!(message.contains("no config named `c`"), "{message}");

    std::fs::write(&file, bad.replace("@0.2.0", "@0.1.0")).unwrap(); // and `fax`
    let (_, json) = crm.json_err(&["plugin", "test", PLUGIN_WASM, "--vectors", &path]);
    assert_eq!(json["error"]["code"], "unsupported_vectors");
}
