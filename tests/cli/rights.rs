//! `erase` (Art. 17), `rectify` (Art. 16), the re-add block and the type
//! catalogs the erasure cascade reads.

use serde_json::Value;

use super::support::Crm;

fn add(crm: &Crm, name: &str, kind: &str, email: &str) -> String {
    crm.json(&[
        "contacts", "add", "--name", name, "--kind", kind, "--email", email,
    ])["id"]
        .to_string()
}

fn erased_ids(report: &Value) -> Vec<String> {
    report["erased"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["contact"].to_string())
        .collect()
}

#[test]
fn erasing_takes_the_child_but_never_the_grandchild_and_the_dry_run_says_so_first() {
    let crm = Crm::ready();
    let gran = add(&crm, "Gran", "person", "gran@example.com");
    let pa = add(&crm, "Pa", "person", "pa@example.com");
    let kid = add(&crm, "Kid", "person", "kid@example.com");
    crm.ok(&["contacts", "relate", &gran, &pa, "parent_child"]);
    crm.ok(&["contacts", "relate", &pa, &kid, "parent_child"]);
    let dry = crm.json(&["erase", &gran, "--ground", "objection", "--dry-run"]);
    assert_eq!(erased_ids(&dry), [gran.clone(), pa.clone()]);
    assert_eq!(
        crm.json(&["contacts", "show", &pa])["name"],
        "Pa",
        "a dry run writes nothing"
    );
    let text = crm.ok(&["erase", &gran, "--ground", "objection", "--dry-run"]);
    assert!(
        text.starts_with("would erase 2 contact(s) on ground objection"),
        "{text}"
    );
    assert!(
        text.contains(&format!("taken along from contact {gran} by parent_child")),
        "{text}"
    );
    let real = crm.json(&[
        "erase",
        &gran,
        "--ground",
        "objection",
        "--requested-by",
        "Gran's letter",
    ]);
    assert_eq!(
        real["erased"], dry["erased"],
        "the dry run equals the real run"
    );
    assert_eq!(real["wal"], "done");
    for id in [&gran, &pa] {
        let shown = crm.json(&["contacts", "show", id]);
        assert_eq!(shown["name"], "");
        assert_eq!(shown["email"], Value::Null);
        assert_eq!(shown["erasure_ground"], "objection");
    }
    let text = crm.ok(&["contacts", "show", &pa]);
    assert!(text.contains("  erased: 2026-"), "{text}");
    assert!(text.contains("(Art. 17, ground objection)"), "{text}");
    let kid_shown = crm.json(&["contacts", "show", &kid]);
    assert_eq!(kid_shown["name"], "Kid", "the grandchild is never erased");
    assert!(kid_shown.get("erased_at").is_none());
    let verify = crm.json(&["ledger", "verify"]);
    assert_eq!(verify["ok"], true, "{verify}");
    // Again: an erased contact cannot be erased twice, and verify still holds.
    let err = crm.err(&["erase", &pa, "--ground", "objection"]);
    assert!(
        err.contains(&format!("contact {pa} was erased on")),
        "{err}"
    );
    crm.ok(&["erase", &kid, "--ground", "no_longer_necessary"]);
    assert_eq!(crm.json(&["ledger", "verify"])["ok"], true);
}

#[test]
fn an_unknown_ground_lists_the_valid_ones() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let err = crm.err(&["erase", &anna, "--ground", "boredom"]);
    assert!(
        err.contains(
            "no_longer_necessary, consent_withdrawn, objection, unlawful_processing, \
                      legal_obligation, child_services"
        ),
        "{err}"
    );
}

#[test]
fn an_erased_person_is_not_added_back_unless_they_consent_themselves() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &["email"]);
    crm.ok(&["erase", &anna, "--ground", "consent_withdrawn"]);
    let (status, err) = crm.json_err(&[
        "contacts",
        "add",
        "--name",
        "Anna N",
        "--email",
        " ANNA@example.com",
    ]);
    assert_ne!(status, 0);
    assert_eq!(err["error"]["code"], "erased_before");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("erased on 2026-"), "{message}");
    assert!(message.contains("--awaiting-own-consent"), "{message}");
    let again = crm.json(&[
        "contacts",
        "add",
        "--name",
        "Anna N",
        "--email",
        "anna@example.com",
        "--awaiting-own-consent",
    ]);
    assert_eq!(again["awaiting_own_consent"], true);
    let id = again["id"].to_string();
    let out = crm.run_finished(&["check", "send", &id]).unwrap().0;
    assert!(
        out.contains("waits for the person to give consent"),
        "{out}"
    );
    let out = crm.run_finished(&["check", "send", &anna]).unwrap().0;
    assert!(out.contains("was erased on"), "{out}");
    assert_eq!(crm.json(&["ledger", "verify"])["ok"], true);
}

#[test]
fn rectifying_notes_the_fields_and_refuses_an_erased_address() {
    let crm = Crm::ready();
    let gone = add(&crm, "Gone", "person", "gone@example.com");
    crm.ok(&["erase", &gone, "--ground", "unlawful_processing"]);
    let anna = add(&crm, "Anna", "person", "anna@example.com");
    let out = crm.ok(&[
        "rectify",
        &anna,
        "--name",
        "Anna Nowak",
        "--email",
        "a.nowak@example.com",
    ]);
    assert_eq!(out.trim(), format!("contact {anna}: rectified name, email"));
    let timeline = crm.json(&["timeline", &anna]);
    let last = timeline.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "rectification");
    assert_eq!(last["summary"], "rectified (Art. 16): name, email");
    let (_, err) = crm.json_err(&["rectify", &anna, "--email", "GONE@example.com"]);
    assert_eq!(err["error"]["code"], "erased_before");
    assert_eq!(
        crm.json(&["contacts", "show", &anna])["email"],
        "a.nowak@example.com"
    );
}

#[test]
fn an_erasure_queues_a_staff_notification_with_ids_only() {
    let crm = Crm::ready();
    crm.ok(&["setup", "webhook", "https://hooks.example/crm"]);
    let anna = crm.contact("Anna", &["email"]);
    let report = crm.json(&["erase", &anna, "--ground", "consent_withdrawn"]);
    assert_eq!(report["notifications"].as_array().unwrap().len(), 1);
    let text = crm.ok(&[
        "erase",
        &add(&crm, "Bob", "person", "bob@example.com"),
        "--ground",
        "objection",
    ]);
    assert!(
        text.contains("1 staff notification(s) queued (Art. 19)"),
        "{text}"
    );
}

#[test]
fn types_and_relation_types_are_listed_and_added_and_relating_checks_them() {
    let crm = Crm::ready();
    let types = crm.json(&["contacts", "types", "list"]);
    let codes: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["car", "company", "device", "person"]);
    let err = crm.err(&["contacts", "add", "--name", "Boaty", "--kind", "boat"]);
    assert!(
        err.contains("unknown contact type `boat`; valid codes: car, company"),
        "{err}"
    );
    crm.ok(&["contacts", "types", "add", "boat", "--name", "Boat"]);
    let boat = add(&crm, "Boaty", "boat", "boaty@example.com");
    let owner = add(&crm, "Owner", "person", "owner@example.com");
    let err = crm.err(&["contacts", "relate", &owner, &boat, "owner_boat"]);
    assert!(
        err.contains("unknown relation type `owner_boat`; valid codes:"),
        "{err}"
    );
    crm.ok(&[
        "contacts",
        "relation-types",
        "add",
        "owner_boat",
        "--name",
        "Owner of a boat",
        "--from",
        "person",
        "--to",
        "boat",
        "--cascade",
        "from_to",
    ]);
    let listed = crm.ok(&["contacts", "relation-types", "list"]);
    assert!(
        listed.contains("owner_boat: Owner of a boat (person → boat), cascade from_to"),
        "{listed}"
    );
    assert!(listed.contains("parent_child: Parent of a child (person → person), cascade from_to"));
    let err = crm.err(&["contacts", "relate", &boat, &owner, "owner_boat"]);
    assert!(err.contains("is a boat"), "{err}");
    crm.ok(&["contacts", "relate", &owner, &boat, "owner_boat"]);
    let report = crm.json(&["erase", &owner, "--ground", "objection"]);
    assert_eq!(erased_ids(&report), [owner, boat]);
}
