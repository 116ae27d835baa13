//! The conformance kit: the committed vectors are what the generator makes
//! from the native rules, the real reference component passes all of them
//! through the real engine, and a wrong plugin fails naming the cases.

mod generate;

use std::collections::BTreeSet;

use crm_consent::conformance::{self, Check};
use crm_consent::wit::ReasonCode;
use crm_consent_tests::{
    VECTORS_FILE, assert_passes_every_vector, committed_vectors, engine, hostile_bytes,
    plugin_bytes,
};

/// Drift is caught: a change to the rules or the generator changes the
/// file, which must then be regenerated and reviewed.
#[test]
fn the_committed_vectors_are_what_the_generator_makes() {
    let made = generate::text();
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::write(VECTORS_FILE, &made).expect("write the vectors");
    }
    let on_disk = std::fs::read_to_string(VECTORS_FILE).unwrap_or_default();
    assert!(
        on_disk == made,
        "tests/conformance/vectors.json differs from what the generator makes; regenerate it \
         with `UPDATE_VECTORS=1 cargo test -p crm-consent-tests --test conformance` and \
         review the diff"
    );
}

/// Every reason code the rules can answer, every outcome and every pack
/// has cases, and the file is a few hundred cases.
#[test]
fn the_vectors_cover_every_rule() {
    let vectors = committed_vectors();
    let codes: BTreeSet<&str> = vectors
        .vectors
        .iter()
        .map(|v| v.expect.code.as_str())
        .collect();
    for code in ReasonCode::ALL {
        if *code != ReasonCode::PluginFault {
            assert!(
                codes.contains(code.as_str()),
                "no case answers `{}`",
                code.as_str()
            );
        }
    }
    let tags = vectors.tags();
    for tag in [
        "gdpr-core",
        "switches",
        "subscriptions",
        "justify",
        "art18",
        "art21",
        "expiry",
        "soft_opt_in",
        "bulk_email",
        "single_email",
        "phone",
        "sms",
    ] {
        assert!(tags.contains(tag), "no case tagged `{tag}`");
    }
    assert!(
        vectors.vectors.iter().any(|v| !v.expect.reasons.is_empty()),
        "some justify offers reasons"
    );
    let n = vectors.vectors.len();
    assert!((200..=2000).contains(&n), "{n} cases");
}

#[test]
fn the_reference_plugin_passes_every_vector() {
    assert_passes_every_vector(&plugin_bytes());
}

/// The hostile fixture, in its default mode, allows everything with
/// `not-checked`: a plugin that ignores the contact's rights.
#[test]
fn a_plugin_that_allows_everything_fails_naming_the_cases() {
    let vectors = committed_vectors();
    let report = conformance::run(engine(), &hostile_bytes(), &vectors, &[]).expect("runs");
    assert!(!report.passed_all());
    assert_eq!(report.passed + report.failed, report.selected);
    let restricted = report
        .mismatches
        .iter()
        .find(|m| m.id == "gdpr/restricted/single_email.no_purpose" && m.check == Check::Decide)
        .expect("the restricted case fails");
    assert_eq!(restricted.expected.code, ReasonCode::Restricted);
    assert_eq!(
        restricted.got.as_ref().unwrap().code,
        ReasonCode::NotChecked
    );
    // Where the vectors expect not-checked, the fixture is right.
    assert!(report.passed > 0);
    let checks_off = vectors.select(&["not_checked".into()]).unwrap().len();
    assert!(report.passed >= checks_off);
}

#[test]
fn tags_select_a_pack() {
    let vectors = committed_vectors();
    let tags = vec!["subscriptions".to_owned()];
    let report = conformance::run(engine(), &plugin_bytes(), &vectors, &tags).expect("runs");
    assert!(report.passed_all());
    assert!(report.selected > 0 && report.selected < vectors.vectors.len());
    let expected = vectors
        .vectors
        .iter()
        .filter(|v| v.pack == "subscriptions")
        .count();
    assert_eq!(report.selected, expected);
}

/// The same vectors under jco in Node, when `CRM_CONSENT_JCO` names a jco
/// binary (npm's `@bytecodealliance/jco` 1.35, with `node` on the PATH).
/// `.ci/run` installs it with the example plugins' tools
/// (`examples/plugins/js/package.json`) and sets the variable; without it
/// this test only says it was skipped.
#[test]
fn under_jco_the_reference_plugin_passes_and_a_wrong_one_fails() {
    let Some(jco) = std::env::var_os("CRM_CONSENT_JCO") else {
        eprintln!("skipped: set CRM_CONSENT_JCO=/path/to/jco to run the kit under jco in Node");
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/conformance/jco.mjs");
    let run = |wasm: &str| {
        let dir = tempfile::tempdir().unwrap();
        let transpiled = std::process::Command::new(&jco)
            .args(["transpile", wasm, "--name", "plugin", "-o"])
            .arg(dir.path())
            .output()
            .expect("jco runs");
        assert!(transpiled.status.success(), "{transpiled:?}");
        std::fs::write(dir.path().join("package.json"), r#"{"type": "module"}"#).unwrap();
        let out = std::process::Command::new("node")
            .arg(script)
            .arg(dir.path().join("plugin.js"))
            .arg(VECTORS_FILE)
            .output()
            .expect("node runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let n = committed_vectors().vectors.len();
    let (status, out) = run(crm_consent_tests::PLUGIN_WASM);
    assert_eq!(status, Some(0), "{out}");
    assert!(
        out.contains(&format!("{n} passed, 0 failed of {n} cases")),
        "{out}"
    );
    let (status, out) = run(crm_consent_tests::HOSTILE_WASM);
    assert_eq!(status, Some(5), "{out}");
    assert!(
        out.contains("FAIL gdpr/restricted/single_email.no_purpose (decide)"),
        "{out}"
    );
}
