//! The catalogs: consent types, reasons, statuses, methods and purposes.

use serde_json::Value;

use super::support::Crm;

#[test]
fn types_are_listed_and_shown_with_their_text_versions() {
    let crm = Crm::ready();
    let out = crm.ok(&["types", "list"]);
    assert!(
        out.contains("newsletter") && out.contains("365 days"),
        "{out}"
    );
    assert!(out.contains("no expiry"), "{out}");
    crm.ok(&[
        "types",
        "edit",
        "newsletter",
        "--text",
        "I want the weekly newsletter",
    ]);
    let shown = crm.json(&["types", "show", "newsletter"]);
    assert_eq!(shown["text_version"], 2);
    assert_eq!(shown["texts"].as_array().unwrap().len(), 2);
    let out = crm.ok(&["types", "show", "newsletter"]);
    assert!(out.contains("text v1") && out.contains("text v2"), "{out}");
}

#[test]
fn editing_a_type_without_a_new_text_keeps_its_version() {
    let crm = Crm::ready();
    let t = crm.json(&[
        "types",
        "edit",
        "phone",
        "--title",
        "Calls",
        "--never-expires",
        "--channels",
        "bulk_email,phone",
    ]);
    assert_eq!(t["title"], "Calls");
    assert_eq!(t["validity_days"], Value::Null);
    assert_eq!(t["allow_bulk_email"], true);
    assert_eq!(t["allow_single_email"], false);
    assert_eq!(t["allow_phone"], true);
    assert_eq!(t["text_version"], 1);
}

#[test]
fn the_old_channel_flags_are_deprecated_aliases_of_channels() {
    let crm = Crm::ready();
    let old = crm.json(&[
        "types", "add", "old", "--title", "Old", "--text", "x", "--bulk", "--phone",
    ]);
    let new = crm.json(&[
        "types",
        "add",
        "new",
        "--title",
        "Old",
        "--text",
        "x",
        "--channels",
        "bulk_email,phone",
    ]);
    for key in ["allow_bulk_email", "allow_single_email", "allow_phone"] {
        assert_eq!(old[key], new[key], "{key}");
    }
    let edited = crm.json(&["types", "edit", "old", "--single", "true"]);
    assert_eq!(edited["allow_single_email"], true);
    let help = crm.ok(&["types", "add", "--help"]);
    assert!(help.contains("--channels"), "{help}");
    assert!(!help.contains("--bulk"), "hidden: {help}");
    // The values are the JSON's channel names, and only those.
    let err = crm.err(&[
        "types",
        "add",
        "x",
        "--title",
        "X",
        "--text",
        "x",
        "--channels",
        "bulk",
    ]);
    assert!(
        err.contains("[possible values: bulk_email, single_email, phone]"),
        "{err}"
    );
}

#[test]
fn a_duplicate_type_code_is_refused_and_changes_nothing() {
    let crm = Crm::ready();
    let before = crm.json(&["types", "list"]);
    let err = crm.err(&[
        "types",
        "add",
        "email",
        "--title",
        "Again",
        "--text",
        "x",
        "--channels",
        "single_email",
    ]);
    assert!(
        err.contains("duplicate consent type code `email`; choose another code"),
        "{err}"
    );
    assert_eq!(crm.json(&["types", "list"]), before);
}

#[test]
fn a_type_that_allows_no_channel_is_refused() {
    let crm = Crm::ready();
    let before = crm.json(&["types", "list"]);
    let err = crm.err(&[
        "types", "add", "nothing", "--title", "Nothing", "--text", "x",
    ]);
    assert!(err.contains("at least one channel"), "{err}");
    // `--channels` cannot name no channel; the deprecated flag can try.
    let err = crm.err(&["types", "edit", "email", "--single", "false"]);
    assert!(err.contains("at least one channel"), "{err}");
    assert_eq!(crm.json(&["types", "list"]), before);
}

#[test]
fn an_unknown_type_code_is_an_error() {
    let crm = Crm::ready();
    let err = crm.err(&["types", "show", "fax"]);
    assert!(err.contains("unknown consent type `fax`"), "{err}");
    let err = crm.err(&[
        "types",
        "add",
        "x",
        "--title",
        "X",
        "--text",
        "x",
        "--validity-days",
        "0",
    ]);
    assert!(err.contains("validity_days"), "{err}");
}

#[test]
fn reasons_can_be_added_edited_listed_and_deleted() {
    let crm = Crm::ready();
    let r = crm.json(&[
        "reasons",
        "add",
        "complaint",
        "--label",
        "Handling a complaint",
    ]);
    assert_eq!(r["code"], "complaint");
    crm.ok(&[
        "reasons",
        "edit",
        "complaint",
        "--label",
        "Answering a complaint",
    ]);
    let out = crm.ok(&["reasons", "list"]);
    assert!(out.contains("Answering a complaint"), "{out}");
    crm.ok(&["reasons", "delete", "complaint"]);
    assert!(!crm.ok(&["reasons", "list"]).contains("complaint"));
    let err = crm.err(&["reasons", "delete", "complaint"]);
    assert!(
        err.contains("unknown justification reason `complaint`"),
        "{err}"
    );
}

#[test]
fn custom_statuses_map_to_a_dpv_meaning_and_built_in_ones_are_locked() {
    let crm = Crm::ready();
    let s = crm.json(&[
        "statuses",
        "add",
        "double_opt_in",
        "--name",
        "Confirmed twice",
        "--means",
        "given",
    ]);
    assert_eq!(s["meaning"], "given");
    let s = crm.json(&["statuses", "edit", "double_opt_in", "--means", "renewed"]);
    assert_eq!(s["meaning"], "renewed");
    assert_eq!(s["name"], "Confirmed twice");
    let err = crm.err(&["statuses", "edit", "given", "--name", "Yes"]);
    assert!(err.contains("built in and cannot be edited"), "{err}");
    let err = crm.err(&["statuses", "delete", "withdrawn"]);
    assert!(err.contains("built in"), "{err}");
    crm.ok(&["statuses", "delete", "double_opt_in"]);
    let out = crm.ok(&["statuses", "list"]);
    assert!(
        out.contains("given") && !out.contains("double_opt_in"),
        "{out}"
    );
}

#[test]
fn a_custom_status_can_be_used_to_grant_consent() {
    let crm = Crm::ready();
    crm.ok(&[
        "statuses",
        "add",
        "confirmed",
        "--name",
        "Confirmed",
        "--means",
        "given",
    ]);
    let id = crm.contact("Cy", &[]);
    crm.ok(&["consent", "grant", &id, "email", "--status", "confirmed"]);
    assert!(
        crm.ok(&["check", "send", &id])
            .starts_with("allow (consent: email")
    );
}

#[test]
fn editing_a_locked_built_in_method_is_refused_and_changes_nothing() {
    let crm = Crm::ready();
    let before = crm.json(&["methods", "list"]);
    let err = crm.err(&["methods", "rename", "crm_form", "--name", "Form"]);
    assert!(
        err.contains("`crm_form` is built in and cannot be edited"),
        "{err}"
    );
    let err = crm.err(&["methods", "delete", "crm_form"]);
    assert!(err.contains("crm_form"), "{err}");
    assert_eq!(crm.json(&["methods", "list"]), before);
}

#[test]
fn methods_can_be_added_renamed_and_deleted() {
    let crm = Crm::ready();
    crm.ok(&["methods", "add", "fair", "--name", "At a trade fair"]);
    crm.ok(&["methods", "rename", "email", "--name", "By e-mail"]);
    let out = crm.ok(&["methods", "list"]);
    assert!(
        out.contains("At a trade fair") && out.contains("By e-mail"),
        "{out}"
    );
    crm.ok(&["methods", "delete", "fair"]);
    assert!(!crm.ok(&["methods", "list"]).contains("fair"));
}

#[test]
fn purposes_can_be_added_edited_and_deleted() {
    let crm = Crm::ready();
    let p = crm.json(&[
        "purposes",
        "add",
        "sales",
        "--name",
        "Sales and service",
        "--basis",
        "legitimate_interest",
    ]);
    assert_eq!(p["legal_basis"], "legitimate_interest");
    assert_eq!(p["direct_marketing"], false);
    let p = crm.json(&[
        "purposes",
        "add",
        "e_marketing",
        "--name",
        "E-marketing",
        "--direct-marketing",
    ]);
    assert_eq!(p["legal_basis"], "consent");
    let p = crm.json(&[
        "purposes",
        "edit",
        "sales",
        "--name",
        "Sales",
        "--new-code",
        "sales_service",
    ]);
    assert_eq!(p["code"], "sales_service");
    let out = crm.ok(&["purposes", "list"]);
    assert!(
        out.contains("sales_service") && out.contains("direct marketing"),
        "{out}"
    );
    crm.ok(&["purposes", "delete", "e_marketing"]);
    let err = crm.err(&["purposes", "add", "sales_service", "--name", "Again"]);
    assert!(err.contains("duplicate purpose code"), "{err}");
}
