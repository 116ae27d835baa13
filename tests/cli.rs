//! The `crm-consent` command line, in process: every command through
//! `crm_consent::cli::run` on a real SQLite file, with the bundled plugin.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

/// A fixed "now", so dates and expiries in the output never drift.
const NOW: &str = "2026-01-01T00:00:00Z";

/// One database in its own temporary directory, and the command line over it.
struct Crm {
    dir: TempDir,
    db: PathBuf,
}

impl Crm {
    /// No database yet.
    fn empty() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("consent.db");
        Crm { dir, db }
    }

    /// A database with the bundled plugin, every check on, and three types:
    /// newsletter (365 days, bulk), email (no expiry, single), phone (30 days).
    fn ready() -> Self {
        let crm = Crm::empty();
        crm.ok(&["init"]);
        crm.ok(&["setup", "install", "--bundled"]);
        crm.ok(&["setup", "enable"]);
        crm.ok(&[
            "types",
            "add",
            "newsletter",
            "--title",
            "Newsletter",
            "--text",
            "I want the newsletter",
            "--validity-days",
            "365",
            "--bulk",
        ]);
        crm.ok(&[
            "types",
            "add",
            "email",
            "--title",
            "Email",
            "--text",
            "You may email me",
            "--single",
        ]);
        crm.ok(&[
            "types",
            "add",
            "phone",
            "--title",
            "Phone",
            "--text",
            "You may call me",
            "--validity-days",
            "30",
            "--phone",
        ]);
        crm
    }

    fn cache_dir() -> PathBuf {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache")
    }

    fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut argv: Vec<String> = vec!["crm-consent".into()];
        argv.extend(args.iter().map(|a| a.to_string()));
        if !args.contains(&"--db") {
            argv.extend(["--db".into(), self.db.display().to_string()]);
        }
        if !args.contains(&"--now") {
            argv.extend(["--now".into(), NOW.into()]);
        }
        argv.extend([
            "--actor".into(),
            "tester".into(),
            "--cache-dir".into(),
            Crm::cache_dir().display().to_string(),
        ]);
        let mut out = Vec::new();
        crm_consent::cli::run(argv, &mut out)?;
        Ok(String::from_utf8(out).expect("output is UTF-8"))
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        match self.run(args) {
            Ok(out) => out,
            Err(e) => panic!("crm-consent {args:?} failed: {e:#}"),
        }
    }

    #[track_caller]
    fn err(&self, args: &[&str]) -> String {
        match self.run(args) {
            Ok(out) => panic!("crm-consent {args:?} should fail but printed:\n{out}"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[track_caller]
    fn json(&self, args: &[&str]) -> Value {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let out = self.ok(&with_json);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{out}"))
    }

    /// Adds a contact and returns its id.
    fn contact(&self, name: &str, consents: &[&str]) -> String {
        let email = format!("{}@example.com", name.to_lowercase());
        let mut args = vec![
            "contacts", "add", "--name", name, "--email", &email, "--phone", "+1 555",
        ];
        for c in consents {
            args.extend(["--consent", c]);
        }
        self.json(&args)["id"].to_string()
    }

    fn history_len(&self, contact: &str) -> usize {
        self.json(&["consent", "history", contact])
            .as_array()
            .expect("a list")
            .len()
    }
}

// ---------------------------------------------------------------- opening

#[test]
fn init_creates_a_database_and_a_second_init_refuses_to_overwrite_it() {
    let crm = Crm::empty();
    let out = crm.ok(&["init"]);
    assert!(out.contains("created consent database"), "{out}");
    assert!(crm.db.exists());
    let err = crm.err(&["init"]);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn a_missing_database_is_an_error_naming_the_path() {
    let crm = Crm::empty();
    for args in [
        &["types", "list"][..],
        &["ledger", "verify"],
        &["setup", "upgrade", "--bundled"],
    ] {
        let err = crm.err(args);
        assert!(err.contains(&crm.db.display().to_string()), "{err}");
        assert!(err.contains("crm-consent init"), "{err}");
    }
    assert!(!crm.db.exists(), "opening must not create the database");
}

#[test]
fn help_is_written_to_the_output_and_lists_the_commands() {
    let crm = Crm::empty();
    let out = crm.ok(&["--help"]);
    for command in [
        "init", "setup", "types", "consent", "check", "justify", "ledger", "demo",
    ] {
        assert!(out.contains(command), "{command} missing from:\n{out}");
    }
    let out = crm.ok(&["check", "--help"]);
    assert!(out.contains("bulk"), "{out}");
}

#[test]
fn an_unknown_command_is_a_usage_error() {
    let crm = Crm::empty();
    let err = crm.err(&["frobnicate"]);
    assert!(
        err.contains("unrecognized subcommand 'frobnicate'"),
        "{err}"
    );
}

#[test]
fn a_bad_now_is_refused() {
    let crm = Crm::empty();
    let err = crm.err(&["init", "--now", "yesterday"]);
    assert!(err.contains("--now") && err.contains("yesterday"), "{err}");
    assert!(!crm.db.exists());
}

// ---------------------------------------------------------------- setup

#[test]
fn setup_install_creates_the_database_and_lists_the_active_plugin() {
    let crm = Crm::empty();
    let out = crm.ok(&["setup", "install", "--bundled"]);
    assert!(out.contains("installed plugin #1"), "{out}");
    let list = crm.json(&["setup", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["active"], true);
    assert_eq!(list[0]["installed_by"], "tester");
    assert_eq!(list[0]["api_version"], "crm:consent@0.1.0");
}

#[test]
fn setup_install_reads_a_plugin_from_a_path() {
    let crm = Crm::empty();
    let out = crm.ok(&["setup", "install", crm_consent_tests::PLUGIN_WASM]);
    assert!(out.contains(crm_consent_tests::PLUGIN_WASM), "{out}");
    let err = crm.err(&["setup", "install", "/no/such/plugin.wasm"]);
    assert!(err.contains("/no/such/plugin.wasm"), "{err}");
}

#[test]
fn a_failed_plugin_install_leaves_the_active_plugin_untouched() {
    let crm = Crm::ready();
    let before = crm.json(&["setup", "list"]);
    let garbage = crm.dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"\0asm this is not a component").unwrap();
    let err = crm.err(&["setup", "install", garbage.to_str().unwrap()]);
    assert!(err.contains("garbage.wasm"), "{err}");
    assert!(err.contains("plugin refused"), "{err}");
    assert_eq!(crm.json(&["setup", "list"]), before);
    // The hooks still run on the old plugin.
    let id = crm.contact("Ann", &["email"]);
    assert!(crm.ok(&["check", "send", &id]).starts_with("allow"));
}

#[test]
fn upgrade_and_rollback_switch_the_active_plugin() {
    let crm = Crm::ready();
    let bundled = crm.json(&["setup", "list"])[0]["sha256"].clone();
    let upgraded = crm.json(&["setup", "upgrade", crm_consent_tests::HOSTILE_WASM]);
    assert_ne!(upgraded["sha256"], bundled);
    let list = crm.json(&["setup", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["active"], false);
    assert_eq!(list[1]["active"], true);

    let rolled = crm.json(&["setup", "rollback"]);
    assert_eq!(rolled["sha256"], bundled);
    let list = crm.json(&["setup", "list"]);
    assert_eq!(list[0]["active"], true);
    assert_eq!(list[1]["active"], false);

    let err = crm.err(&["setup", "rollback"]);
    assert!(err.contains("nothing to roll back to"), "{err}");
}

#[test]
fn upgrade_without_an_installed_plugin_is_refused() {
    let crm = Crm::empty();
    crm.ok(&["init"]);
    let err = crm.err(&["setup", "upgrade", "--bundled"]);
    assert!(err.contains("nothing to upgrade"), "{err}");
    assert_eq!(crm.json(&["setup", "list"]), serde_json::json!([]));
}

#[test]
fn switches_are_off_until_enabled_and_can_be_set_one_by_one() {
    let crm = Crm::empty();
    crm.ok(&["init"]);
    let s = crm.json(&["setup", "switches"]);
    assert_eq!(s["single_mail"], false);
    assert_eq!(s["e_marketing_privacy"], true);
    let s = crm.json(&["setup", "enable"]);
    assert_eq!(
        (
            s["single_mail"].clone(),
            s["mailing_list"].clone(),
            s["per_contact"].clone()
        ),
        (Value::Bool(true), Value::Bool(true), Value::Bool(true))
    );
    crm.ok(&["setup", "switch", "per-contact", "off"]);
    let out = crm.ok(&["setup", "switches"]);
    assert!(out.contains("per-contact") && out.contains("off"), "{out}");
    assert_eq!(crm.json(&["setup", "switches"])["per_contact"], false);
}

#[test]
fn an_unknown_switch_name_is_refused_and_changes_nothing() {
    let crm = Crm::empty();
    crm.ok(&["init"]);
    let before = crm.json(&["setup", "switches"]);
    let err = crm.err(&["setup", "switch", "single_mial", "on"]);
    assert!(err.contains("unknown switch \"single_mial\""), "{err}");
    assert_eq!(crm.json(&["setup", "switches"]), before);
}

// ---------------------------------------------------------------- catalog

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
        "--bulk",
        "true",
    ]);
    assert_eq!(t["title"], "Calls");
    assert_eq!(t["validity_days"], Value::Null);
    assert_eq!(t["allow_bulk"], true);
    assert_eq!(t["text_version"], 1);
}

#[test]
fn a_duplicate_type_code_is_refused_and_changes_nothing() {
    let crm = Crm::ready();
    let before = crm.json(&["types", "list"]);
    let err = crm.err(&["types", "add", "email", "--title", "Again", "--text", "x"]);
    assert!(
        err.contains("duplicate consent type code \"email\""),
        "{err}"
    );
    assert_eq!(crm.json(&["types", "list"]), before);
}

#[test]
fn an_unknown_type_code_is_an_error() {
    let crm = Crm::ready();
    let err = crm.err(&["types", "show", "fax"]);
    assert!(err.contains("unknown consent type code \"fax\""), "{err}");
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
    assert!(err.contains("unknown justification reason code"), "{err}");
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
        err.contains("\"crm_form\" is built in and cannot be edited"),
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
        "legitimate-interest",
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

// ---------------------------------------------------------------- contacts

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
        "legitimate-interest",
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
    assert!(err.contains("unknown consent type code \"fax\""), "{err}");
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
        assert!(err.contains("unknown contact id 99"), "{args:?}: {err}");
    }
}

#[test]
fn a_flag_change_needs_a_flag() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let err = crm.err(&["contacts", "flag", &id]);
    assert!(err.contains("--restrict"), "{err}");
}

// ---------------------------------------------------------------- consent

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
        err.contains("bad date in --given-at") && err.contains("01/12/2025"),
        "{err}"
    );
    assert_eq!(crm.history_len(&id), 0);
}

#[test]
fn invalid_json_evidence_is_refused_and_nothing_is_recorded() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let err = crm.err(&["consent", "grant", &id, "email", "--evidence", "{ip: 1}"]);
    assert!(err.contains("--evidence is not valid JSON"), "{err}");
    assert_eq!(crm.history_len(&id), 0);
}

#[test]
fn granting_an_unknown_type_method_or_status_is_refused() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let err = crm.err(&["consent", "grant", &id, "fax"]);
    assert!(err.contains("unknown consent type code \"fax\""), "{err}");
    let err = crm.err(&["consent", "grant", &id, "email", "--method", "pigeon"]);
    assert!(err.contains("\"pigeon\""), "{err}");
    let err = crm.err(&["consent", "grant", &id, "email", "--status", "maybe"]);
    assert!(err.contains("\"maybe\""), "{err}");
    assert_eq!(crm.history_len(&id), 0);
}

// ---------------------------------------------------------------- checks

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
    assert!(
        checked["decision"]["Justify"].is_object() || checked["decision"]["justify"].is_object(),
        "{checked}"
    );
    assert_eq!(checked["offered_reasons"].as_array().unwrap().len(), 4);
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
        err.contains("unknown justification reason code \"because\""),
        "{err}"
    );
    let err = crm.err(&["justify", &id, "dial", "--reason", "77"]);
    assert!(err.contains("unknown justification reason id 77"), "{err}");
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
    crm.ok(&["setup", "switch", "single-mail", "off"]);
    let out = crm.ok(&["check", "send", &id]);
    assert_eq!(
        out.trim(),
        "allow (not checked: the single-mail switch is off)"
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
        "legitimate-interest",
    ]);
    let id = crm.contact("Anna", &[]);
    crm.ok(&["contacts", "basis", &id, "sales", "legitimate-interest"]);
    let out = crm.ok(&["check", "dial", &id, "--purpose", "sales"]);
    assert_eq!(out.trim(), "allow (legal basis: legitimate_interest)");
    let err = crm.err(&["check", "dial", &id, "--purpose", "nope"]);
    assert!(err.contains("unknown purpose code \"nope\""), "{err}");
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
    crm.ok(&["subscriptions", "set", &anna, "weekly", "opted-in"]);
    crm.ok(&["subscriptions", "set", &bob, "weekly", "opted-in"]);
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
    assert!(
        err.contains("unknown subscription type code \"weekly\""),
        "{err}"
    );
}

// ---------------------------------------------------------------- audit

#[test]
fn ledger_verify_passes_on_an_untouched_ledger() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &["newsletter", "email"]);
    crm.ok(&["consent", "withdraw", &id, "email"]);
    let out = crm.ok(&["ledger", "verify"]);
    assert!(out.starts_with("ledger verified: 3 entries"), "{out}");
    let report = crm.json(&["ledger", "verify"]);
    assert_eq!(report["ok"], true);
    assert_eq!(report["entries"], 3);
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
            "DROP TRIGGER consent_ledger_no_update;
             DROP TRIGGER consent_ledger_no_delete;
             UPDATE consent_ledger SET source = 'forged' WHERE seq = 2;",
        )
        .unwrap();
    }
    let err = crm.err(&["ledger", "verify"]);
    assert!(err.contains("entry 2") && err.contains("edited"), "{err}");
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
    assert!(err.contains("decision 999"), "{err}");
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

// ---------------------------------------------------------------- demo

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
    assert!(out.contains("ledger verified: 13 entries"), "{out}");

    // Run again over its own file: replaced, same result, as one JSON object.
    let again = crm.json(&["demo", "--db", demo]);
    assert_eq!(again["verify"]["ok"], true);
    assert_eq!(
        again["newsletter"]["recipients"].as_array().unwrap().len(),
        2
    );
    assert_eq!(again["contacts"].as_array().unwrap().len(), 7);
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
