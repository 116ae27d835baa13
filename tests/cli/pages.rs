//! `consent link`, `contacts rotate-link`, `templates`, `outbox`, `links`
//! and the double opt-in and translation catalog commands.

use crm_consent::pages::{self, Language, PageError, Visitor};
use crm_consent::store::Store;

use super::support::Crm;

fn token(url: &str) -> &str {
    url.trim().rsplit('/').next().unwrap()
}

#[test]
fn a_consent_link_is_printed_alone_and_opens_the_form() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let out = crm.ok(&["consent", "link", &anna, "--types", "newsletter,email"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("http://127.0.0.1:8080/forms/"), "{out}");
    let store = Store::open(&crm.db).unwrap();
    let page = pages::form_page(&store, token(&out), Language::En).unwrap();
    let codes: Vec<_> = page.consents.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["newsletter", "email"]);
    let json = crm.json(&["consent", "link", &anna, "--types", "email"]);
    assert_eq!(json["consent_types"], serde_json::json!(["email"]));
    assert!(json["outbox"].is_null());
    assert!(json["url"].as_str().unwrap().contains("/forms/"));
}

#[test]
fn an_unknown_type_lists_the_valid_ones_with_a_stable_code() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let (status, e) = crm.json_err(&["consent", "link", &anna, "--types", "newsleter"]);
    assert_eq!(status, 1);
    assert_eq!(e["error"]["code"], "unknown_code");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.contains("did you mean `newsletter`?"), "{message}");
    assert_eq!(
        e["error"]["hint"],
        "list them with `crm-consent types list`"
    );
}

#[test]
fn emailing_a_link_writes_the_outbox_which_the_crm_acknowledges() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let out = crm.ok(&["consent", "link", &anna, "--types", "newsletter", "--email"]);
    let url = out.lines().next().unwrap();
    assert!(
        out.contains("emailed: outbox message 1 to anna@example.com"),
        "{out}"
    );
    let listed = crm.json(&["outbox", "list"]);
    assert_eq!(listed[0]["kind"], "form_link");
    assert!(listed[0]["body"].as_str().unwrap().contains(url));
    let text = crm.ok(&["outbox", "list"]);
    assert!(
        text.contains("form_link") && text.contains("waiting"),
        "{text}"
    );
    let shown = crm.ok(&["outbox", "show", "1"]);
    assert!(
        shown.starts_with("to: anna@example.com\nsubject: Your consent choices"),
        "{shown}"
    );
    crm.ok(&["outbox", "ack", "1"]);
    crm.ok(&["outbox", "ack", "1"]);
    assert_eq!(crm.json(&["outbox", "list"]), serde_json::json!([]));
    assert_eq!(
        crm.json(&["outbox", "list", "--all"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, e) = crm.json_err(&["outbox", "ack", "7"]);
    assert_eq!(e["error"]["code"], "unknown_message");
    let nomail = crm.json(&["contacts", "add", "--name", "Nomail"])["id"].to_string();
    let (_, e) = crm.json_err(&["consent", "link", &nomail, "--types", "email", "--email"]);
    assert_eq!(e["error"]["code"], "no_email");
}

#[test]
fn templates_are_shown_saved_refused_without_their_variable_and_reset() {
    let crm = Crm::ready();
    let all = crm.json(&["templates", "show"]);
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert_eq!(all[0]["built_in"], true);
    let (_, e) = crm.json_err(&[
        "templates",
        "set",
        "link_email",
        "--subject",
        "Hi",
        "--body",
        "Hello",
    ]);
    assert_eq!(e["error"]["code"], "missing_variable");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`form_link`")
    );
    let (_, e) = crm.json_err(&["templates", "set", "form", "--body", "<p>hi</p>"]);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`consents`"),
        "{e}"
    );
    let body = crm.dir.path().join("form.html");
    std::fs::write(&body, "<h2>{{ contact_name }}</h2>{{ consents }}").unwrap();
    crm.ok(&[
        "templates",
        "set",
        "form",
        "--body-file",
        body.to_str().unwrap(),
    ]);
    let shown = crm.ok(&["templates", "show", "form"]);
    assert!(shown.starts_with("== form (saved by tester"), "{shown}");
    crm.ok(&["templates", "reset", "form"]);
    assert_eq!(
        crm.json(&["templates", "show", "form"])[0]["built_in"],
        true
    );
    let (status, e) = crm.json_err(&["templates", "show", "mail"]);
    assert_eq!((status, e["error"]["code"].as_str()), (2, Some("usage")));
}

#[test]
fn rotating_a_contacts_links_revokes_the_old_ones() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let old = crm.ok(&["consent", "link", &anna, "--types", "email"]);
    let prefs = crm.ok(&["links", "preferences", &anna]);
    let rotated = crm.json(&["contacts", "rotate-link", &anna]);
    assert_eq!(rotated["generation"], 1);
    let store = Store::open(&crm.db).unwrap();
    let e = pages::form_page(&store, token(&old), Language::En).unwrap_err();
    assert!(matches!(e, PageError::Revoked), "{e}");
    let prefs_url = prefs.lines().next().unwrap();
    let e = pages::preference_page(&store, token(prefs_url), Language::En).unwrap_err();
    assert!(matches!(e, PageError::Revoked), "{e}");
    let fresh = crm.ok(&["consent", "link", &anna, "--types", "email"]);
    pages::form_page(&store, token(&fresh), Language::En).unwrap();
}

#[test]
fn the_base_url_and_preference_period_are_settings() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let shown = crm.json(&["links", "settings"]);
    assert_eq!(shown["base_url"], "http://127.0.0.1:8080");
    assert_eq!(shown["preference_link_days"], 180);
    crm.ok(&[
        "links",
        "settings",
        "--base-url",
        "https://consent.example.com/",
        "--preference-days",
        "90",
    ]);
    let out = crm.ok(&["consent", "link", &anna, "--types", "email"]);
    assert!(
        out.starts_with("https://consent.example.com/forms/"),
        "{out}"
    );
    let (_, e) = crm.json_err(&["links", "settings", "--base-url", "ftp://x"]);
    assert_eq!(e["error"]["code"], "invalid_value");
}

#[test]
fn a_double_opt_in_type_and_a_translation_from_the_command_line() {
    let crm = Crm::ready();
    crm.ok(&[
        "types",
        "add",
        "weekly",
        "--title",
        "Weekly",
        "--text",
        "Weekly news",
        "--channels",
        "bulk_email",
        "--double-opt-in",
    ]);
    crm.ok(&["types", "double-opt-in", "email", "on"]);
    crm.ok(&[
        "types",
        "translate",
        "weekly",
        "--language",
        "pl",
        "--title",
        "Tygodnik",
        "--text",
        "Wiadomości co tydzień",
    ]);
    let (_, e) = crm.json_err(&[
        "types",
        "translate",
        "weekly",
        "--language",
        "pl",
        "--title",
        "T",
        "--text",
        "X",
    ]);
    assert_eq!(e["error"]["code"], "invalid_value");
    let anna = crm.contact("Anna", &[]);
    let out = crm.ok(&["consent", "link", &anna, "--types", "weekly,email"]);
    let mut store = Store::open(&crm.db).unwrap();
    let page = pages::form_page(&store, token(&out), Language::Pl).unwrap();
    assert_eq!(page.consents[0].title, "Tygodnik");
    assert!(page.consents.iter().all(|c| c.requires_confirmation));
    let ticked = vec!["weekly".to_owned()];
    pages::submit_form(
        &mut store,
        token(&out),
        &ticked,
        Language::Pl,
        &Visitor::default(),
    )
    .unwrap();
    let listed = crm.json(&["outbox", "list"]);
    assert_eq!(listed[0]["kind"], "confirmation");
    let verified = crm.json(&["ledger", "verify"]);
    assert_eq!(verified["ok"], true, "{verified}");
}
