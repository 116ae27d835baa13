//! `demo`: the README's first command.

use super::support::Crm;

#[test]
fn the_demo_runs_a_newsletter_a_send_and_a_call_and_verifies_the_ledger() {
    let crm = Crm::empty();
    let demo = crm.dir.path().join("demo.db");
    let demo = demo.to_str().unwrap();
    let out = crm.ok(&["demo", "--db", demo]);
    for heading in [
        "== Newsletter",
        "== Send",
        "== Call",
        "== Decision log",
        "== Consent ledger",
        "== Ledger verify",
    ] {
        assert!(out.contains(heading), "{heading} missing:\n{out}");
    }
    assert!(out.contains("2 recipient(s), 5 skipped"), "{out}");
    assert!(out.contains("allow (consent: email, no expiry)"), "{out}");
    assert!(out.contains("justify (consent_expired)"), "{out}");
    assert!(out.contains("allowed: justification #"), "{out}");
    assert!(out.contains("[objected]"), "{out}");
    assert!(out.contains("ledger verified: "), "{out}");
    assert!(out.contains("every projection rebuilt"), "{out}");

    // Run again over its own file: replaced, same result, as one JSON object.
    let again = crm.json(&["demo", "--db", demo]);
    assert_eq!(again["verify"]["ok"], true);
    assert_eq!(
        again["newsletter"]["recipients"].as_array().unwrap().len(),
        2
    );
    assert_eq!(again["contacts"].as_array().unwrap().len(), 7);
    // A form link and a preference-centre link for a demo contact, on the
    // address `demo --serve` listens on, that the store itself accepts.
    let form = again["pages"]["form"]["url"].as_str().unwrap();
    assert!(form.starts_with("http://127.0.0.1:8080/forms/"), "{form}");
    assert_eq!(
        again["pages"]["form"]["consent_types"],
        serde_json::json!(["newsletter", "email"])
    );
    let prefs = again["pages"]["preferences"]["url"].as_str().unwrap();
    assert!(
        prefs.starts_with("http://127.0.0.1:8080/preferences/"),
        "{prefs}"
    );
    assert!(
        out.contains("consent form (valid 14 days): http://127.0.0.1:8080/forms/"),
        "{out}"
    );
    // The demo database is a normal database afterwards.
    let list = crm.json(&["contacts", "list", "--db", demo]);
    assert_eq!(list.as_array().unwrap().len(), 7);
}

#[test]
fn the_demo_refuses_to_replace_a_database_it_did_not_create() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &["email"]);
    let err = crm.err(&["demo", "--db", crm.db.to_str().unwrap()]);
    assert!(err.contains("is not a demo database"), "{err}");
    assert_eq!(crm.history_len(&id), 1);
}
