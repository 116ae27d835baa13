//! `consent`: granting, withdrawing, and what the history proves.

use super::support::Crm;

#[test]
fn a_granted_consent_allows_a_send_and_shows_in_history() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    assert!(crm.ok(&["check", "send", &id]).starts_with("justify"));
    let entry = crm.json(&[
        "consent",
        "grant",
        &id,
        "email",
        "--method",
        "paper",
        "--source",
        "trade fair",
        "--given-at",
        "2025-12-01",
        "--evidence",
        r#"{"ip":"192.0.2.7"}"#,
    ]);
    assert!(entry["evidence_hash"].is_string());
    let out = crm.ok(&["check", "send", &id]);
    assert_eq!(out.trim(), "allow (consent: email, no expiry)");
    let history = crm.json(&["consent", "history", &id]);
    assert_eq!(history[0]["consent_type"], "email");
    assert_eq!(history[0]["method"], "paper");
    assert_eq!(history[0]["actor"], "tester");
    assert_eq!(history[0]["text_version"], 1);
    assert_eq!(history[0]["text"], "You may email me");
    assert_eq!(history[0]["given_at"], "2025-12-01T00:00:00Z");
    let out = crm.ok(&["consent", "history", &id]);
    assert!(
        out.contains("email") && out.contains("paper") && out.contains("trade fair"),
        "{out}"
    );
    let out = crm.ok(&["consent", "show", &id]);
    assert!(out.contains("valid, no expiry"), "{out}");
}

#[test]
fn a_withdrawn_consent_denies_a_send() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &["email"]);
    crm.ok(&["consent", "withdraw", &id, "email", "--method", "email"]);
    let out = crm.ok(&["check", "send", &id]);
    assert!(
        out.starts_with("deny: ") && out.contains("[consent_withdrawn]"),
        "{out}"
    );
    assert_eq!(crm.history_len(&id), 2);
    let shown = crm.json(&["consent", "show", &id]);
    assert_eq!(shown[0]["status"], "withdrawn");
    assert_eq!(shown[0]["valid_now"], false);
}

#[test]
fn an_expired_consent_asks_for_a_justification() {
    let crm = Crm::ready();
    let id = crm.contact("Bruno", &[]);
    crm.ok(&["consent", "grant", &id, "phone", "--given-at", "2025-11-01"]);
    let out = crm.ok(&["check", "dial", &id]);
    assert!(out.starts_with("justify (consent_expired)"), "{out}");
    assert!(
        crm.ok(&["consent", "show", &id])
            .contains("expired 2025-12-01")
    );
}

#[test]
fn a_bad_date_is_refused_and_nothing_is_recorded() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let err = crm.err(&["consent", "grant", &id, "email", "--given-at", "01/12/2025"]);
    assert!(
        err.contains("bad date in `--given-at`: `01/12/2025`"),
        "{err}"
    );
    assert_eq!(crm.history_len(&id), 0);
}

#[test]
fn invalid_json_evidence_is_refused_and_nothing_is_recorded() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let err = crm.err(&["consent", "grant", &id, "email", "--evidence", "{ip: 1}"]);
    assert!(err.contains("`--evidence` is not valid JSON"), "{err}");
    assert_eq!(crm.history_len(&id), 0);
}

#[test]
fn granting_an_unknown_type_method_or_status_is_refused() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let err = crm.err(&["consent", "grant", &id, "fax"]);
    assert!(err.contains("unknown consent type `fax`"), "{err}");
    let err = crm.err(&["consent", "grant", &id, "email", "--method", "pigeon"]);
    assert!(err.contains("`pigeon`"), "{err}");
    let err = crm.err(&["consent", "grant", &id, "email", "--status", "maybe"]);
    assert!(err.contains("`maybe`"), "{err}");
    assert_eq!(crm.history_len(&id), 0);
}
