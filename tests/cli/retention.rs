//! `retention`: campaigns, the run after their window, and the cascade.

use serde_json::Value;

use super::support::Crm;

/// The contact ids a run's JSON lists as erased, in order.
fn erased(run: &Value) -> Vec<i64> {
    run["erased"]
        .as_array()
        .expect("erased")
        .iter()
        .map(|e| e["contact"].as_i64().unwrap())
        .collect()
}

fn fates(run: &Value) -> Vec<(i64, String)> {
    run["decided"]
        .as_array()
        .expect("decided")
        .iter()
        .map(|d| {
            (
                d["contact"].as_i64().unwrap(),
                d["fate"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_run_erases_who_did_not_consent_one_level_down_and_a_dry_run_says_so_first() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let bob = crm.contact("Bob", &[]);
    let child = crm.contact("Cid", &[]);
    let grandchild = crm.contact("Dee", &[]);
    let gone = crm.contact("Eve", &[]);
    let late = crm.contact("Fay", &[]);
    // parent_child cascades from the parent to the child, one level only.
    crm.ok(&["contacts", "relate", &bob, &child, "parent_child"]);
    crm.ok(&["contacts", "relate", &child, &grandchild, "parent_child"]);
    let members = [anna.as_str(), &bob, &child, &gone].join(",");
    crm.ok(&[
        "retention",
        "campaign",
        "--type",
        "newsletter",
        "--window",
        "30",
        "--asked-at",
        "2025-11-01",
        "--contacts",
        &members,
    ]);
    // Fay's window ends 2026-01-19, after the fixed now (2026-01-01).
    crm.ok(&[
        "retention",
        "campaign",
        "--type",
        "newsletter",
        "--window",
        "30",
        "--asked-at",
        "2025-12-20",
        "--contacts",
        &late,
    ]);
    // Anna and Cid give the consent inside the window; Eve is erased on request.
    for who in [&anna, &child] {
        crm.ok(&[
            "consent",
            "grant",
            who,
            "newsletter",
            "--given-at",
            "2025-11-10",
        ]);
    }
    crm.ok(&["erase", &gone, "--ground", "consent_withdrawn"]);

    let dry = crm.json(&["retention", "run", "--dry-run"]);
    let head = crm.json(&["ledger", "verify"])["head"].clone();
    assert_eq!(dry["dry_run"], true);
    let id = |s: &str| s.parse::<i64>().unwrap();
    assert_eq!(
        fates(&dry),
        vec![
            (id(&anna), "kept".to_owned()),
            (id(&bob), "erased".to_owned()),
            // Cid gave it, but Bob's erasure takes his child along.
            (id(&child), "erased".to_owned()),
            (id(&gone), "already_erased".to_owned()),
        ]
    );
    assert_eq!(
        erased(&dry),
        vec![id(&bob), id(&child)],
        "never the grandchild"
    );
    assert!(
        dry["decided"][1]["why"]
            .as_str()
            .unwrap()
            .contains("newsletter"),
        "{dry}"
    );
    // The dry run wrote nothing.
    assert_eq!(crm.json(&["ledger", "verify"])["head"], head);
    assert_eq!(crm.json(&["contacts", "show", &bob])["name"], "Bob");

    let run = crm.json(&["retention", "run"]);
    assert_eq!(run["dry_run"], false);
    assert_eq!(fates(&run), fates(&dry), "the dry run equals the run");
    assert_eq!(erased(&run), erased(&dry));
    for who in [&bob, &child] {
        let shown = crm.json(&["contacts", "show", who]);
        assert_eq!(shown["name"], "", "{shown}");
        assert!(shown["email"].is_null(), "{shown}");
    }
    assert_eq!(crm.json(&["contacts", "show", &grandchild])["name"], "Dee");
    assert_eq!(crm.json(&["contacts", "show", &anna])["name"], "Anna");
    assert_eq!(crm.json(&["contacts", "show", &late])["name"], "Fay");
    assert_eq!(crm.json(&["ledger", "verify"])["ok"], true);

    // Idempotent: the next scheduled run finds nothing and writes nothing.
    let head = crm.json(&["ledger", "verify"])["head"].clone();
    let again = crm.json(&["retention", "run"]);
    assert_eq!(fates(&again), vec![]);
    assert_eq!(erased(&again), Vec::<i64>::new());
    assert_eq!(crm.json(&["ledger", "verify"])["head"], head);
    let list = crm.json(&["retention", "list"]);
    assert_eq!(list[0]["kept"], 1);
    assert_eq!(list[0]["erased"], 3);
    assert_eq!(list[0]["open"], 0);
    assert_eq!(list[1]["open"], 1);
}

#[test]
fn a_campaign_names_what_is_wrong_with_it() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let err = crm.err(&[
        "retention",
        "campaign",
        "--type",
        "newsleter",
        "--window",
        "30",
        "--contacts",
        &anna,
    ]);
    assert!(
        err.contains("`newsleter`") && err.contains("newsletter"),
        "{err}"
    );
    let err = crm.err(&[
        "retention",
        "campaign",
        "--type",
        "newsletter",
        "--window",
        "0",
        "--contacts",
        &anna,
    ]);
    assert!(err.contains("window") && err.contains("3650"), "{err}");
    let err = crm.err(&[
        "retention",
        "campaign",
        "--type",
        "newsletter",
        "--window",
        "30",
        "--contacts",
        "999",
    ]);
    assert!(err.contains("999"), "{err}");
    assert_eq!(crm.json(&["retention", "list"]), serde_json::json!([]));
}

#[test]
fn a_campaign_can_ask_whoever_a_filter_selects_and_send_them_form_links() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let bob = crm.contact("Bob", &[]);
    crm.ok(&[
        "consent",
        "grant",
        &anna,
        "newsletter",
        "--given-at",
        "2025-12-01",
    ]);
    // Everyone without a valid newsletter consent: Bob only.
    let campaign = crm.json(&[
        "retention",
        "campaign",
        "--type",
        "newsletter",
        "--window",
        "14",
        "--consent-type",
        "newsletter",
        "--not-valid",
    ]);
    assert_eq!(campaign["members"], 1, "{campaign}");
    let links = crm.json(&["retention", "links", "1"]);
    assert_eq!(links.as_array().unwrap().len(), 1, "{links}");
    assert_eq!(links[0]["contact"].to_string(), bob);
    assert_eq!(links[0]["consent_types"], serde_json::json!(["newsletter"]));
    assert!(
        links[0]["url"].as_str().unwrap().contains("/forms/"),
        "{links}"
    );
    let err = crm.err(&["retention", "links", "9"]);
    assert!(err.contains("campaign") && err.contains('9'), "{err}");
}
