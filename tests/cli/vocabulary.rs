//! The one vocabulary, pinned: the `--json` of every command family, with
//! its exact keys and the exact spelling of every channel, outcome, reason
//! code, status, legal basis and switch (README, *One vocabulary*).

use serde_json::{Value, json};

use super::support::Crm;

/// The keys of a JSON object, sorted.
#[track_caller]
fn keys(value: &Value) -> Vec<&str> {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

const TYPE_KEYS: [&str; 10] = [
    "allow_bulk_email",
    "allow_phone",
    "allow_single_email",
    "code",
    "created_at",
    "description",
    "id",
    "text_version",
    "title",
    "validity_days",
];

const CHECK_KEYS: [&str; 13] = [
    "chain",
    "channel",
    "code",
    "consent_type",
    "contact",
    "legal_basis",
    "logged",
    "message",
    "offered_reasons",
    "outcome",
    "plugin_sha256",
    "summary",
    "valid_until",
];

const DECISION_KEYS: [&str; 15] = [
    "actor",
    "at",
    "channel",
    "contact",
    "id",
    "justification",
    "outcome",
    "plugin_sha256",
    "reason",
    "reason_code",
    "recipients",
    "recorded_at",
    "request",
    "subscription_type",
    "summary",
];

#[test]
fn types_name_their_permissions_after_the_channels() {
    let crm = Crm::ready();
    let types = crm.json(&["types", "list"]);
    let permissions: Vec<(&str, bool, bool, bool)> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(keys(t), TYPE_KEYS);
            (
                t["code"].as_str().unwrap(),
                t["allow_bulk_email"].as_bool().unwrap(),
                t["allow_single_email"].as_bool().unwrap(),
                t["allow_phone"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        permissions,
        [
            ("newsletter", true, false, false),
            ("email", false, true, false),
            ("phone", false, false, true),
        ]
    );

    let shown = crm.json(&["types", "show", "email"]);
    let mut with_texts = TYPE_KEYS.to_vec();
    with_texts.push("texts");
    with_texts.sort_unstable();
    assert_eq!(keys(&shown), with_texts);
    let edited = crm.json(&["types", "edit", "email", "--channels", "single_email,phone"]);
    assert_eq!(keys(&edited), TYPE_KEYS);
    assert_eq!(
        (
            &edited["allow_bulk_email"],
            &edited["allow_single_email"],
            &edited["allow_phone"]
        ),
        (&json!(false), &json!(true), &json!(true))
    );
    let text = crm.ok(&["types", "show", "email"]);
    assert!(
        text.contains("bulk_email: no  single_email: yes  phone: yes"),
        "{text}"
    );
    let listed = crm.ok(&["types", "list"]);
    assert!(listed.contains("  single_email, phone  "), "{listed}");
}

#[test]
fn the_switches_are_the_three_checks_and_e_marketing_privacy() {
    let crm = Crm::empty();
    crm.ok(&["init"]);
    assert_eq!(
        crm.json(&["setup", "switches"]),
        json!({
            "check_single_email": false,
            "check_bulk_email": false,
            "check_phone": false,
            "e_marketing_privacy": true,
        })
    );
    assert_eq!(
        crm.json(&["setup", "enable"]),
        json!({
            "check_single_email": true,
            "check_bulk_email": true,
            "check_phone": true,
            "e_marketing_privacy": true,
        })
    );
    for (name, key) in [
        ("check_single_email", "check_single_email"),
        ("check_bulk_email", "check_bulk_email"),
        ("check_phone", "check_phone"),
        ("e_marketing_privacy", "e_marketing_privacy"),
    ] {
        let switches = crm.json(&["setup", "switch", name, "off"]);
        assert_eq!(switches[key], false, "{name}");
    }
    let text = crm.ok(&["setup", "switches"]);
    assert_eq!(
        text,
        "check_single_email   off\ncheck_bulk_email     off\ncheck_phone          off\n\
         e_marketing_privacy  off\n"
    );
}

#[test]
fn setup_lists_plugins_by_the_contract_they_speak() {
    let crm = Crm::ready();
    let list = crm.json(&["setup", "list"]);
    assert_eq!(
        keys(&list[0]),
        [
            "active",
            "api_version",
            "chain_position",
            "id",
            "installed_at",
            "installed_by",
            "sha256",
            "size"
        ]
    );
    assert_eq!(list[0]["api_version"], "crm:consent@0.2.0");
}

#[test]
fn each_check_hook_says_its_channel() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &["email", "phone"]);
    let mut channels = Vec::new();
    for hook in ["send", "dial", "sms"] {
        let checked = crm.json(&["check", hook, &anna]);
        assert_eq!(keys(&checked), CHECK_KEYS, "{hook}");
        channels.push(checked["channel"].as_str().unwrap().to_owned());
    }
    let bulk = crm.json(&["check", "bulk", "--dry-run"]);
    assert_eq!(
        keys(&bulk),
        [
            "chain_sha256",
            "channel",
            "logged",
            "plugin_sha256",
            "recipients",
            "skipped",
            "subscription_type",
            "summary"
        ]
    );
    channels.push(bulk["channel"].as_str().unwrap().to_owned());
    assert_eq!(channels, ["single_email", "phone", "sms", "bulk_email"]);
}

#[test]
fn outcomes_codes_and_legal_bases_are_snake_case_in_check() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &["email"]);
    let bob = crm.contact("Bob", &[]);
    let allowed = crm.json(&["check", "send", &anna]);
    assert_eq!(
        (
            &allowed["outcome"],
            &allowed["code"],
            &allowed["consent_type"]
        ),
        (&json!("allow"), &json!("consent"), &json!("email"))
    );

    let justify = crm.json(&["check", "dial", &bob]);
    assert_eq!(
        (&justify["outcome"], &justify["code"]),
        (&json!("justify"), &json!("no_consent"))
    );
    assert_eq!(
        keys(&justify["offered_reasons"][0]),
        ["code", "id", "label"]
    );

    crm.ok(&["contacts", "flag", &bob, "--object"]);
    crm.ok(&[
        "purposes",
        "add",
        "sales",
        "--name",
        "Sales",
        "--basis",
        "legitimate_interest",
    ]);
    let by_basis = crm.json(&["check", "dial", &bob, "--purpose", "sales"]);
    assert_eq!(
        (
            &by_basis["outcome"],
            &by_basis["code"],
            &by_basis["legal_basis"]
        ),
        (
            &json!("allow"),
            &json!("legal_basis"),
            &json!("legitimate_interest")
        )
    );

    crm.ok(&["contacts", "flag", &bob, "--restrict"]);
    let denied = crm.json(&["check", "sms", &bob]);
    assert_eq!(
        (&denied["outcome"], &denied["code"], &denied["channel"]),
        (&json!("deny"), &json!("restricted"), &json!("sms"))
    );

    crm.ok(&["setup", "switch", "check_phone", "off"]);
    let unchecked = crm.json(&["check", "dial", &anna]);
    assert_eq!(
        (&unchecked["outcome"], &unchecked["code"]),
        (&json!("allow"), &json!("not_checked"))
    );

    let bulk = crm.json(&["check", "bulk", "--subscription", "newsletter", "--dry-run"]);
    let skipped = &bulk["skipped"][0];
    assert_eq!(keys(skipped), ["code", "contact", "message"]);
    assert_eq!(
        bulk["summary"],
        json!({ "not_opted_in": 1, "restricted": 1 })
    );
}

#[test]
fn a_justification_names_the_channel_of_its_hook() {
    let crm = Crm::ready();
    let bob = crm.contact("Bob", &[]);
    for (hook, channel) in [("send", "single_email"), ("dial", "phone"), ("sms", "sms")] {
        let done = crm.json(&["justify", &bob, hook, "--reason", "contact_request"]);
        assert_eq!(keys(&done), ["channel", "contact", "decision", "reason"]);
        assert_eq!(done["channel"], channel, "{hook}");
        assert_eq!(done["reason"]["code"], "contact_request");
    }
}

#[test]
fn the_decision_log_spells_everything_it_keeps_in_snake_case() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &["email"]);
    crm.ok(&["consent", "withdraw", &anna, "email"]);
    let denied = crm.json(&["check", "send", &anna]);
    assert_eq!(denied["code"], "consent_withdrawn");
    crm.ok(&["justify", &anna, "dial", "--reason", "contract"]);

    let log = crm.json(&["decisions", &anna]);
    let log = log.as_array().unwrap();
    let spelled: Vec<(&str, &str, &str)> = log
        .iter()
        .map(|d| {
            assert_eq!(keys(d), DECISION_KEYS);
            (
                d["channel"].as_str().unwrap(),
                d["outcome"].as_str().unwrap(),
                d["reason_code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        spelled,
        [
            ("single_email", "deny", "consent_withdrawn"),
            ("phone", "justified", "no_consent"),
        ]
    );

    // What the plugin saw, kept for replay, in the same words.
    let request = &log[0]["request"];
    assert_eq!(keys(request), ["config", "contact", "request"]);
    assert_eq!(request["request"]["channel"], "single_email");
    let consent = &request["contact"]["consents"][0];
    assert_eq!(
        keys(consent),
        ["given_at", "legal_basis", "method_id", "status", "type_id"]
    );
    assert_eq!(
        (&consent["status"], &consent["legal_basis"]),
        (&json!("withdrawn"), &json!("consent"))
    );
    assert_eq!(
        keys(&request["contact"]["flags"]),
        ["objected", "opted_out_of_all", "restricted"]
    );
    let config = &request["config"];
    assert_eq!(
        config["switches"],
        json!({
            "check_single_email": true,
            "check_bulk_email": true,
            "check_phone": true,
            "e_marketing_privacy": true,
        })
    );
    assert_eq!(
        keys(&config["consent_types"][0]),
        [
            "allow_bulk_email",
            "allow_phone",
            "allow_single_email",
            "code",
            "id",
            "text_version",
            "title",
            "validity_days"
        ]
    );

    let replay = crm.json(&["decisions", "replay", &log[0]["id"].to_string()]);
    assert_eq!(
        replay,
        json!({
            "decision": log[0]["id"],
            "logged_outcome": "deny",
            "logged_code": "consent_withdrawn",
            "replayed_outcome": "deny",
            "replayed_code": "consent_withdrawn",
            "chain": [],
            "same": true,
        })
    );
}

#[test]
fn a_bulk_send_is_logged_on_the_bulk_email_channel() {
    let crm = Crm::ready();
    crm.contact("Anna", &["newsletter"]);
    let sent = crm.json(&["check", "bulk"]);
    let id = sent["logged"].as_i64().expect("a send is logged");
    let store = crm_consent::Store::open(&crm.db).unwrap();
    let logged = store
        .decision(crm_consent::store::DecisionId(id))
        .unwrap()
        .expect("logged");
    let logged = serde_json::to_value(logged).unwrap();
    assert_eq!(keys(&logged), DECISION_KEYS);
    assert_eq!(
        (
            &logged["channel"],
            &logged["outcome"],
            &logged["reason_code"]
        ),
        (
            &json!("bulk_email"),
            &json!("allow"),
            &json!("bulk_summary")
        )
    );
    assert_eq!(
        keys(&logged["summary"]),
        ["codes", "contacts", "recipients", "skipped"]
    );
    assert_eq!(logged["request"]["request"]["channel"], "bulk_email");
    // A summary has no single-contact request to replay.
    let (_, replay) = crm.json_err(&["decisions", "replay", &id.to_string()]);
    assert_eq!(replay["error"]["code"], "not_replayable");
}

#[test]
fn consents_contacts_and_catalogs_spell_statuses_bases_and_states_in_snake_case() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let acme =
        crm.json(&["contacts", "add", "--name", "Acme", "--kind", "company"])["id"].to_string();
    let given = crm.json(&["consent", "grant", &anna, "email"]);
    assert_eq!(
        (&given["status"], &given["legal_basis"]),
        (&json!("given"), &json!("consent"))
    );
    let withdrawn = crm.json(&["consent", "withdraw", &anna, "email"]);
    assert_eq!(withdrawn["status"], "withdrawn");
    let shown = crm.json(&["consent", "show", &anna]);
    assert_eq!(
        (
            &shown[0]["status"],
            &shown[0]["meaning"],
            &shown[0]["legal_basis"],
            &shown[0]["method"]
        ),
        (
            &json!("withdrawn"),
            &json!("withdrawn"),
            &json!("consent"),
            &json!("crm_form")
        )
    );
    let history = crm.json(&["consent", "history", &anna]);
    assert_eq!(history[1]["status_code"], "withdrawn");

    crm.ok(&[
        "purposes",
        "add",
        "sales",
        "--name",
        "Sales",
        "--basis",
        "legal_obligation",
    ]);
    let purpose = &crm.json(&["purposes", "list"])[0];
    assert_eq!(
        keys(purpose),
        ["code", "direct_marketing", "id", "legal_basis", "name"]
    );
    assert_eq!(purpose["legal_basis"], "legal_obligation");
    assert_eq!(
        crm.json(&["contacts", "basis", &anna, "sales", "vital_interest"]),
        json!({ "contact": anna.parse::<i64>().unwrap(), "purpose": "sales", "legal_basis": "vital_interest" })
    );
    assert_eq!(
        crm.json(&["subscriptions", "set", &anna, "newsletter", "opted_out"])["state"],
        "opted_out"
    );
    let related = crm.json(&["contacts", "relate", &anna, &acme, "employee_company"]);
    assert_eq!(related["kind"], "employee_company");
    assert_eq!(
        crm.json(&["contacts", "flag", &anna, "--restrict"]),
        json!({ "restricted": true, "objected": false, "opted_out_of_all": false })
    );

    let contact = crm.json(&["contacts", "show", &anna]);
    assert_eq!(contact["kind"], "person");
    // Pairs of the catalog code and the value.
    assert_eq!(contact["bases"], json!([["sales", "vital_interest"]]));
    assert_eq!(contact["preferences"], json!([["newsletter", "opted_out"]]));
    assert_eq!(contact["relations"][0]["kind"], "employee_company");

    let statuses = crm.json(&["statuses", "list"]);
    let meanings: Vec<&str> = statuses
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["meaning"].as_str().unwrap())
        .collect();
    assert_eq!(meanings, ["given", "refused", "withdrawn", "expired"]);

    let kinds: Vec<String> = crm
        .json(&["timeline", &anna])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    for kind in [
        "created",
        "consent_change",
        "purpose",
        "preference",
        "relation",
        "flag",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

#[test]
fn the_ledger_reports_in_snake_case() {
    let crm = Crm::ready();
    let report = crm.json(&["ledger", "verify"]);
    assert_eq!(
        keys(&report),
        ["decisions", "entries", "head", "ok", "problem"]
    );
    assert_eq!(
        (&report["ok"], &report["problem"]),
        (&json!(true), &Value::Null)
    );
    let checkpoint = crm.json(&["ledger", "checkpoint"]);
    assert_eq!(
        keys(&checkpoint),
        [
            "at",
            "decision_entries",
            "decision_head",
            "format",
            "ledger_entries",
            "ledger_head",
            "public_key",
            "signature"
        ]
    );
}
