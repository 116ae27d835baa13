//! `ledger verify`, the timeline, the decision log, replay and `--json`.

use super::support::Crm;

#[test]
fn ledger_verify_passes_on_an_untouched_ledger() {
    let crm = Crm::ready();
    let before = crm.json(&["ledger", "verify"])["entries"].as_u64().unwrap();
    let id = crm.contact("Anna", &["newsletter", "email"]);
    crm.ok(&["consent", "withdraw", &id, "email"]);
    let out = crm.ok(&["ledger", "verify"]);
    assert!(out.starts_with("ledger verified: "), "{out}");
    assert!(out.contains("every projection rebuilt"), "{out}");
    let report = crm.json(&["ledger", "verify"]);
    assert_eq!(report["ok"], true);
    // The contact, its two consents and the withdrawal.
    assert_eq!(report["entries"].as_u64().unwrap(), before + 4);
}

#[test]
fn ledger_verify_catches_a_row_edited_with_plain_sql() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &["newsletter"]);
    crm.contact("Bob", &["email"]);
    crm.ok(&["consent", "withdraw", &anna, "newsletter"]);
    {
        let conn = rusqlite::Connection::open(&crm.db).unwrap();
        // What an attacker with the file would do: drop the append-only
        // guards, then rewrite history.
        conn.execute_batch(
            "DROP TRIGGER ledger_no_update;
             DROP TRIGGER ledger_no_delete;
             UPDATE ledger SET actor = 'forged' WHERE seq = 2;",
        )
        .unwrap();
    }
    let err = crm.err(&["ledger", "verify"]);
    assert!(err.contains("entry 2") && err.contains("edited"), "{err}");
}

#[test]
fn ledger_verify_names_a_withdrawal_set_back_to_given_and_the_decision_changes_back_after_repair() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &["newsletter"]);
    crm.ok(&["consent", "withdraw", &anna, "newsletter"]);
    {
        // One plain UPDATE, no trigger dropped: the hooks would now allow.
        let conn = rusqlite::Connection::open(&crm.db).unwrap();
        conn.execute("UPDATE consent_state SET meaning = 1, status_id = 1", [])
            .unwrap();
    }
    let err = crm.err(&["ledger", "verify"]);
    assert!(
        err.contains("projection_differs") && err.contains("consent_state"),
        "{err}"
    );
}

#[test]
fn a_checkpoint_catches_a_rehashed_history_through_the_cli() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &["newsletter"]);
    crm.ok(&["consent", "withdraw", &anna, "newsletter"]);
    let cp = crm.ok(&["ledger", "checkpoint"]);
    let file = crm.dir.path().join("checkpoint.json");
    std::fs::write(&file, &cp).unwrap();
    let file = file.to_str().unwrap();
    assert!(
        crm.ok(&["ledger", "verify", "--checkpoint", file])
            .starts_with("ledger verified")
    );
    let mut forged: serde_json::Value = serde_json::from_str(&cp).unwrap();
    forged["ledger_entries"] = 1.into();
    std::fs::write(crm.dir.path().join("forged.json"), forged.to_string()).unwrap();
    let forged = crm.dir.path().join("forged.json");
    let err = crm.err(&["ledger", "verify", "--checkpoint", forged.to_str().unwrap()]);
    assert!(err.contains("signature"), "{err}");
    // Later history extends the checkpoint.
    crm.ok(&["consent", "grant", &anna, "newsletter"]);
    crm.ok(&["ledger", "verify", "--checkpoint", file]);
    {
        // Drop the last consent entry and re-point the head: alone, this
        // is a consistent shorter ledger once the projection follows.
        let conn = rusqlite::Connection::open(&crm.db).unwrap();
        conn.execute_batch(
            "DROP TRIGGER ledger_no_delete;
             PRAGMA foreign_keys = OFF;
             DELETE FROM ledger WHERE seq > (SELECT seq FROM ledger_head) - 3;
             UPDATE ledger_head SET seq = (SELECT max(seq) FROM ledger),
                 hash = (SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1);",
        )
        .unwrap();
    }
    let err = crm.err(&["ledger", "verify", "--checkpoint", file]);
    assert!(err.contains("ledger does not verify"), "{err}");
}

#[test]
fn the_timeline_and_the_decision_log_show_what_happened() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &["email"]);
    crm.ok(&["contacts", "flag", &id, "--restrict"]);
    crm.ok(&["check", "send", &id]);
    let timeline = crm.ok(&["timeline", &id]);
    for kind in ["created", "consent_change", "flag"] {
        assert!(timeline.contains(kind), "{kind} missing:\n{timeline}");
    }
    let decisions = crm.json(&["decisions", &id]);
    assert_eq!(decisions[0]["outcome"], "deny");
    let out = crm.ok(&["decisions", &id]);
    assert!(out.contains("deny") && out.contains("restricted"), "{out}");
    let err = crm.err(&["decisions"]);
    assert!(err.contains("say which contact"), "{err}");
}

#[test]
fn a_logged_decision_replays_the_same() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let checked = crm.json(&["check", "dial", &id]);
    let decision = checked["logged"].to_string();
    // What changed since does not matter: the replay uses what was logged.
    crm.ok(&["consent", "grant", &id, "phone"]);
    let out = crm.ok(&["decisions", "replay", &decision]);
    assert!(out.contains("same"), "{out}");
    let replay = crm.json(&["decisions", "replay", &decision]);
    assert_eq!(replay["same"], true);
    let err = crm.err(&["decisions", "replay", "999"]);
    assert!(err.contains("no decision has the id 999"), "{err}");
}

#[test]
fn json_output_parses_for_every_listing() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &["newsletter"]);
    for args in [
        &["types", "list"][..],
        &["reasons", "list"],
        &["statuses", "list"],
        &["methods", "list"],
        &["purposes", "list"],
        &["subscriptions", "list"],
        &["contacts", "list"],
        &["contacts", "show", &id],
        &["consent", "show", &id],
        &["consent", "history", &id],
        &["timeline", &id],
        &["decisions", &id],
        &["setup", "list"],
        &["setup", "switches"],
        &["check", "send", &id],
        &["check", "bulk", "--dry-run"],
        &["ledger", "verify"],
    ] {
        let value = crm.json(args);
        assert!(value.is_array() || value.is_object(), "{args:?}: {value}");
    }
}
