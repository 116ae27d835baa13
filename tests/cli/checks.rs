//! `check` and `justify`: what the plugin decides, and the justify flow.

use crm_consent::cli::Finished;
use serde_json::Value;

use super::support::Crm;

#[test]
fn a_call_without_consent_asks_to_justify_and_lists_the_reasons() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let out = crm.ok(&["check", "dial", &id]);
    assert!(out.starts_with("justify (no_consent)"), "{out}");
    assert!(
        out.contains(&format!("crm-consent justify {id} dial")),
        "{out}"
    );
    assert!(
        out.contains("#2") && out.contains("existing_customer"),
        "{out}"
    );
    let checked = crm.json(&["check", "dial", &id]);
    assert_eq!(checked["outcome"], "justify", "{checked}");
    assert_eq!(checked["code"], "no_consent", "{checked}");
    assert_eq!(checked["offered_reasons"].as_array().unwrap().len(), 4);
}

#[test]
fn every_decision_spells_its_outcome_and_reason_code_in_snake_case() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &["email", "phone"]);
    let bob = crm.contact("Bob", &[]);
    let eva = crm.contact("Eva", &[]);
    crm.ok(&["contacts", "flag", &eva, "--restrict"]);
    let n = |id: &str| id.parse::<i64>().unwrap();

    let allowed = crm.json(&["check", "send", &anna]);
    assert_eq!(allowed["contact"], n(&anna));
    assert_eq!(allowed["channel"], "single_email");
    assert_eq!(allowed["outcome"], "allow");
    assert_eq!(allowed["code"], "consent");
    assert_eq!(allowed["consent_type"], "email");
    assert_eq!(allowed["valid_until"], Value::Null);
    assert_eq!(allowed["message"], Value::Null);
    let allowed = crm.json(&["check", "dial", &anna]);
    assert_eq!(allowed["channel"], "phone");
    assert_eq!(allowed["consent_type"], "phone");
    assert_eq!(allowed["valid_until"], "2026-01-31T00:00:00Z");

    for (channel, wire) in [("send", "single_email"), ("dial", "phone"), ("sms", "sms")] {
        let justify = crm.json(&["check", channel, &bob]);
        assert_eq!(justify["channel"], wire, "{justify}");
        assert_eq!(justify["outcome"], "justify", "{justify}");
        assert_eq!(justify["code"], "no_consent", "{justify}");
        let deny = crm.json(&["check", channel, &eva]);
        assert_eq!(deny["outcome"], "deny", "{deny}");
        assert_eq!(deny["code"], "restricted", "{deny}");
        assert!(deny["message"].as_str().unwrap().len() > 10, "{deny}");
    }

    // The decision log, the bulk send and a replay use the same spelling.
    let logged = crm.json(&["decisions", &bob]);
    assert_eq!(logged[0]["outcome"], "justify");
    assert_eq!(logged[0]["reason_code"], "no_consent");
    let bulk = crm.json(&["check", "bulk", "--dry-run"]);
    assert_eq!(bulk["skipped"][0]["contact"], n(&anna));
    assert_eq!(bulk["skipped"][0]["code"], "no_consent");
    assert_eq!(bulk["skipped"][2]["code"], "restricted");
    assert_eq!(
        bulk["summary"],
        serde_json::json!({ "no_consent": 2, "restricted": 1 })
    );
    let decision = logged[0]["id"].to_string();
    let replay = crm.json(&["decisions", "replay", &decision]);
    assert_eq!(replay["logged_code"], "no_consent", "{replay}");
    assert_eq!(replay["replayed_outcome"], "justify", "{replay}");
    assert_eq!(replay["replayed_code"], "no_consent", "{replay}");
    assert_eq!(replay["same"], true, "{replay}");
}

#[test]
fn a_check_says_how_it_came_out_for_the_exit_status() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &["email"]);
    let bob = crm.contact("Bob", &[]);
    crm.ok(&["contacts", "flag", &bob, "--object"]);
    let eva = crm.contact("Eva", &[]);
    let finished = |args: &[&str]| crm.run_finished(args).unwrap().1;
    assert_eq!(finished(&["check", "send", &anna]), Finished::Done);
    assert_eq!(finished(&["check", "send", &bob]), Finished::Denied);
    assert_eq!(finished(&["check", "send", &eva]), Finished::JustifyNeeded);
    assert_eq!(finished(&["check", "bulk"]), Finished::Done);
    assert_eq!(Finished::Done.exit_code(), 0);
    assert_eq!(Finished::Denied.exit_code(), 3);
    assert_eq!(Finished::JustifyNeeded.exit_code(), 4);
}

#[test]
fn a_justification_by_code_or_id_is_recorded_and_logged() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let out = crm.ok(&[
        "justify",
        &id,
        "dial",
        "--reason",
        "existing_customer",
        "--text",
        "asked for a callback",
    ]);
    assert!(out.starts_with("allowed: justification #"), "{out}");
    assert!(out.contains("recorded"), "{out}");
    crm.ok(&["justify", &id, "send", "--reason", "3"]);
    let logged = crm.json(&["decisions", &id]);
    let outcomes: Vec<&str> = logged
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["justified", "justified"]);
    assert_eq!(logged[0]["justification"], "asked for a callback");
    let timeline = crm.ok(&["timeline", &id]);
    assert!(
        timeline.contains("justification") && timeline.contains("existing_customer"),
        "{timeline}"
    );
}

#[test]
fn justify_rejects_an_unknown_reason() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let err = crm.err(&["justify", &id, "dial", "--reason", "because"]);
    assert!(
        err.contains("unknown justification reason `because`"),
        "{err}"
    );
    let err = crm.err(&["justify", &id, "dial", "--reason", "77"]);
    assert!(
        err.contains("unknown justification reason id `77`"),
        "{err}"
    );
    assert_eq!(crm.json(&["decisions", &id]), serde_json::json!([]));
}

#[test]
fn justify_is_refused_when_the_plugin_allows_or_denies() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &["email"]);
    let err = crm.err(&["justify", &id, "send", "--reason", "contract"]);
    assert!(err.contains("nothing to justify"), "{err}");
    crm.ok(&["contacts", "flag", &id, "--restrict"]);
    let err = crm.err(&["justify", &id, "send", "--reason", "contract"]);
    assert!(err.contains("nothing to justify"), "{err}");
}

#[test]
fn a_restricted_contact_is_denied_on_every_channel() {
    let crm = Crm::ready();
    let id = crm.contact("Eva", &["email", "phone"]);
    crm.ok(&["contacts", "flag", &id, "--restrict"]);
    for channel in ["send", "dial", "sms"] {
        let out = crm.ok(&["check", channel, &id]);
        assert!(
            out.starts_with("deny:") && out.contains("[restricted]"),
            "{channel}: {out}"
        );
    }
}

#[test]
fn a_switch_that_is_off_allows_without_checking() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    crm.ok(&["setup", "switch", "check_single_email", "off"]);
    let out = crm.ok(&["check", "send", &id]);
    assert_eq!(
        out.trim(),
        "allow (not checked: the check_single_email switch is off)"
    );
    crm.ok(&["setup", "switch", "check_phone", "off"]);
    assert_eq!(
        crm.ok(&["check", "dial", &id]).trim(),
        "allow (not checked: the check_phone switch is off)"
    );
}

#[test]
fn a_legal_basis_for_the_purpose_allows_a_call() {
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
    let id = crm.contact("Anna", &[]);
    crm.ok(&["contacts", "basis", &id, "sales", "legitimate_interest"]);
    let out = crm.ok(&["check", "dial", &id, "--purpose", "sales"]);
    assert_eq!(out.trim(), "allow (legal basis: legitimate_interest)");
    let err = crm.err(&["check", "dial", &id, "--purpose", "nope"]);
    assert!(err.contains("unknown purpose `nope`"), "{err}");
}

#[test]
fn a_dry_run_newsletter_shows_who_is_skipped_and_logs_nothing() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &["newsletter"]);
    let bob = crm.contact("Bob", &[]);
    let out = crm.ok(&["check", "bulk", "--dry-run", "--show-skipped"]);
    assert!(out.contains("1 recipient(s), 1 skipped"), "{out}");
    assert!(out.contains(&format!("skipped {bob}:")), "{out}");
    assert!(out.contains("dry run: nothing logged"), "{out}");
    let bulk = crm.json(&["check", "bulk", "--dry-run"]);
    assert_eq!(
        bulk["recipients"],
        serde_json::json!([anna.parse::<i64>().unwrap()])
    );
    assert_eq!(bulk["logged"], Value::Null);
    let bulk = crm.json(&["check", "bulk"]);
    assert!(bulk["logged"].is_i64(), "{bulk}");
    // The summary names no contact, so it is not in a contact's decisions.
    assert_eq!(crm.json(&["decisions", &anna]), serde_json::json!([]));
}

#[test]
fn subscription_choices_decide_who_gets_a_newsletter() {
    let crm = Crm::ready();
    crm.ok(&["subscriptions", "add", "weekly", "--name", "Weekly news"]);
    crm.ok(&[
        "subscriptions",
        "edit",
        "weekly",
        "--requires-opt-in",
        "true",
    ]);
    let anna = crm.contact("Anna", &["newsletter"]);
    let bob = crm.contact("Bob", &["newsletter"]);
    let cleo = crm.contact("Cleo", &["newsletter"]);
    crm.ok(&["subscriptions", "set", &anna, "weekly", "opted_in"]);
    crm.ok(&["subscriptions", "set", &bob, "weekly", "opted_in"]);
    crm.ok(&["subscriptions", "opt-out-all", &bob]);
    let bulk = crm.json(&["check", "bulk", "--subscription", "weekly", "--dry-run"]);
    assert_eq!(
        bulk["recipients"],
        serde_json::json!([anna.parse::<i64>().unwrap()])
    );
    let out = crm.ok(&[
        "check",
        "bulk",
        "--subscription",
        "weekly",
        "--dry-run",
        "--show-skipped",
    ]);
    assert!(
        out.contains(&format!("skipped {bob}:")) && out.contains("[opted_out_of_all]"),
        "{out}"
    );
    assert!(
        out.contains(&format!("skipped {cleo}:")) && out.contains("[not_opted_in]"),
        "{out}"
    );
    let shown = crm.json(&["contacts", "show", &anna]);
    assert_eq!(
        shown["preferences"][0],
        serde_json::json!(["weekly", "opted_in"])
    );
    let list = crm.ok(&["subscriptions", "list"]);
    assert!(
        list.contains("weekly") && list.contains("newsletter"),
        "{list}"
    );
    crm.ok(&["subscriptions", "delete", "weekly"]);
    let err = crm.err(&["check", "bulk", "--subscription", "weekly"]);
    assert!(err.contains("unknown subscription type `weekly`"), "{err}");
}

/// Issue 7: a plugin that loops is stopped by its fuel budget, which does
/// not depend on how loaded the machine is, not by the wall clock; the
/// time it takes is measured in `cargo bench` (`loop_to_deny`).
#[test]
fn a_looping_plugin_is_denied_by_its_fuel_budget_through_the_cli() {
    let crm = Crm::empty();
    crm.ok(&["init"]);
    crm.ok(&["setup", "install", crm_consent_tests::HOSTILE_WASM]);
    crm.ok(&["setup", "enable"]);
    // The hostile fixture loops in `decide` once its first type is `loop`.
    crm.ok(&[
        "types",
        "add",
        "loop",
        "--title",
        "Loop",
        "--text",
        "x",
        "--channels",
        "single_email",
        "--text-valid-from",
        "2020-01-01",
    ]);
    let id = crm.contact("Anna", &["loop"]);
    let decision = crm.json(&["check", "send", &id]);
    assert_eq!(decision["outcome"], "deny", "{decision}");
    assert_eq!(decision["code"], "plugin_fault", "{decision}");
    assert!(
        decision["message"].as_str().unwrap().contains("fuel"),
        "stopped by the fuel budget, not the clock: {decision}"
    );
}
