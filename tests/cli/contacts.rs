//! `contacts`: adding, showing, listing, flags, bases and relations.

use serde_json::Value;

use super::support::Crm;

#[test]
fn a_contact_added_with_consents_shows_them_with_flags_and_bases() {
    let crm = Crm::ready();
    crm.ok(&[
        "purposes",
        "add",
        "sales",
        "--name",
        "Sales",
        "--basis",
        "legitimate_interest",
    ]);
    let id = crm.contact("Anna", &["newsletter", "email"]);
    crm.ok(&["contacts", "basis", &id, "sales", "contract"]);
    crm.ok(&["contacts", "flag", &id, "--object"]);
    let shown = crm.json(&["contacts", "show", &id]);
    assert_eq!(shown["name"], "Anna");
    assert_eq!(shown["flags"]["objected"], true);
    let consents = shown["consents"].as_array().unwrap();
    assert_eq!(consents.len(), 2);
    assert_eq!(consents[0]["consent_type"], "newsletter");
    assert_eq!(consents[0]["method"], "crm_form");
    assert_eq!(consents[0]["valid_until"], "2027-01-01T00:00:00Z");
    assert_eq!(consents[0]["valid_now"], true);
    assert_eq!(shown["bases"][0], serde_json::json!(["sales", "contract"]));
    let out = crm.ok(&["contacts", "show", &id]);
    assert!(out.contains("valid until 2027-01-01"), "{out}");
    assert!(out.contains("flags: objected"), "{out}");
    crm.ok(&["contacts", "flag", &id, "--unobject", "--restrict"]);
    let flags = crm.json(&["contacts", "show", &id])["flags"].clone();
    assert_eq!(
        (flags["objected"].clone(), flags["restricted"].clone()),
        (Value::Bool(false), Value::Bool(true))
    );
}

#[test]
fn contacts_are_listed_and_related() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let acme =
        crm.json(&["contacts", "add", "--name", "Acme", "--kind", "company"])["id"].to_string();
    crm.ok(&["contacts", "relate", &anna, &acme, "employee_company"]);
    let list = crm.json(&["contacts", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[1]["kind"], "company");
    let out = crm.ok(&["contacts", "show", &acme]);
    assert!(
        out.contains(&format!(
            "contact {anna} is employee_company of contact {acme}"
        )),
        "{out}"
    );
    let err = crm.err(&["contacts", "relate", &anna, &anna, "employee_company"]);
    assert!(!err.is_empty());
}

#[test]
fn adding_a_contact_with_an_unknown_consent_code_adds_nothing() {
    let crm = Crm::ready();
    let err = crm.err(&[
        "contacts",
        "add",
        "--name",
        "Bob",
        "--consent",
        "email",
        "--consent",
        "fax",
    ]);
    assert!(err.contains("unknown consent type `fax`"), "{err}");
    assert_eq!(crm.json(&["contacts", "list"]), serde_json::json!([]));
}

#[test]
fn an_unknown_contact_is_an_error() {
    let crm = Crm::ready();
    for args in [
        &["contacts", "show", "99"][..],
        &["consent", "history", "99"],
        &["check", "send", "99"],
    ] {
        let err = crm.err(args);
        assert!(err.contains("unknown contact id `99`"), "{args:?}: {err}");
    }
}

#[test]
fn a_flag_change_needs_a_flag() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let err = crm.err(&["contacts", "flag", &id]);
    assert!(err.contains("--restrict"), "{err}");
}
