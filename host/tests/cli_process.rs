//! The real `crm-consent` binary, one process per command: what survives a
//! restart, and what the exit codes and streams look like.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NOW: &str = "2026-01-01T00:00:00Z";

struct Bin {
    dir: tempfile::TempDir,
}

impl Bin {
    fn new() -> Self {
        Bin {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("consent.db")
    }

    /// Runs the binary in a fresh process, with the database and cache set
    /// through the environment as an operator's shell would.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_crm-consent"))
            .args(args)
            .args(["--now", NOW])
            .env("CRM_CONSENT_DB", self.db())
            .env("CRM_CONSENT_ACTOR", "process-test")
            .env(
                "CRM_CONSENT_CACHE",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache"),
            )
            .env_remove("RUST_LOG")
            .current_dir(self.dir.path())
            .output()
            .expect("the binary runs")
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "crm-consent {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }
}

#[test]
fn a_restart_of_the_process_keeps_everything() {
    let bin = Bin::new();
    bin.ok(&["init"]);
    bin.ok(&["setup", "install", "--bundled"]);
    bin.ok(&["setup", "enable"]);
    bin.ok(&[
        "types",
        "add",
        "email",
        "--text-valid-from",
        "2020-01-01",
        "--title",
        "Email",
        "--text",
        "You may email me",
        "--channels",
        "single_email",
    ]);
    let added = bin.ok(&[
        "contacts",
        "add",
        "--name",
        "Anna",
        "--email",
        "a@example.com",
    ]);
    assert!(added.starts_with("added contact 1"), "{added}");
    bin.ok(&["consent", "grant", "1", "email", "--method", "paper"]);

    // Every command below is a new process reading the same file.
    let shown = bin.ok(&["contacts", "show", "1"]);
    assert!(shown.contains("Anna") && shown.contains("email"), "{shown}");
    assert!(shown.contains("valid, no expiry"), "{shown}");
    let history = bin.ok(&["consent", "history", "1"]);
    assert!(
        history.contains("paper") && history.contains("process-test"),
        "{history}"
    );
    let verified = bin.ok(&["ledger", "verify"]);
    assert!(
        verified.starts_with("ledger verified: 26 entries"),
        "{verified}"
    );
    let decision = bin.ok(&["check", "send", "1"]);
    assert_eq!(decision.trim(), "allow (consent: email, no expiry)");
}

#[test]
fn an_error_exits_1_with_the_message_on_stderr() {
    let bin = Bin::new();
    let out = bin.run(&["types", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: no consent database at `"),
        "{stderr}"
    );
    assert!(stderr.contains(&bin.db().display().to_string()), "{stderr}");
}

#[test]
fn a_usage_error_exits_2() {
    let bin = Bin::new();
    let out = bin.run(&["setup", "switch", "single-mail", "maybe"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("maybe"), "{stderr}");
}

#[test]
fn the_demo_prints_a_newsletter_a_send_a_call_and_a_verified_ledger() {
    let bin = Bin::new();
    // The demo ignores CRM_CONSENT_DB: it writes its own file in the
    // current directory, never over the operator's database.
    let out = bin.ok(&["demo"]);
    assert!(bin.dir.path().join("crm-consent-demo.db").exists());
    assert!(!bin.db().exists());
    assert!(
        out.contains("== Newsletter") && out.contains("recipient(s)"),
        "{out}"
    );
    assert!(
        out.contains("== Send") && out.contains("allow (consent: email"),
        "{out}"
    );
    assert!(
        out.contains("== Call") && out.contains("justification #"),
        "{out}"
    );
    assert!(out.contains("ledger verified"), "{out}");
}

/// A database with the bundled plugin, every check on and an `email` type
/// for single emails; contact 1 consented, 2 did not, 3 is restricted.
fn three_contacts() -> Bin {
    let bin = Bin::new();
    bin.ok(&["init"]);
    bin.ok(&["setup", "install", "--bundled"]);
    bin.ok(&["setup", "enable"]);
    bin.ok(&[
        "types",
        "add",
        "email",
        "--text-valid-from",
        "2020-01-01",
        "--title",
        "Email",
        "--text",
        "You may email me",
        "--channels",
        "single_email",
    ]);
    for (name, consent) in [("Anna", Some("email")), ("Bob", None), ("Cleo", None)] {
        let email = format!("{}@example.com", name.to_lowercase());
        let mut args = vec!["contacts", "add", "--name", name, "--email", &email];
        args.extend(consent.map(|c| ["--consent", c]).iter().flatten());
        bin.ok(&args);
    }
    bin.ok(&["contacts", "flag", "3", "--restrict"]);
    bin
}

#[test]
fn a_check_exits_0_on_allow_3_on_deny_and_4_on_justify() {
    let bin = three_contacts();
    for channel in ["send", "dial", "sms"] {
        let out = bin.run(&["check", channel, "3"]);
        assert_eq!(out.status.code(), Some(3), "{channel}: deny");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with("deny:"), "{channel}: {stdout}");
        assert!(out.stderr.is_empty(), "{channel}: a deny is not an error");
    }
    let allowed = bin.run(&["check", "send", "1"]);
    assert_eq!(allowed.status.code(), Some(0));
    for channel in ["send", "dial", "sms"] {
        let out = bin.run(&["check", channel, "2"]);
        assert_eq!(out.status.code(), Some(4), "{channel}: justify");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with("justify (no_consent)"), "{stdout}");
    }
    // The same statuses with --json, whose output is still the decision.
    let out = bin.run(&["check", "send", "2", "--json"]);
    assert_eq!(out.status.code(), Some(4));
    let out = bin.run(&["check", "send", "3", "--json"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn a_script_that_checks_before_mailing_mails_only_on_an_allow() {
    let bin = three_contacts();
    let exe = env!("CARGO_BIN_EXE_crm-consent");
    for (contact, mailed) in [("1", true), ("2", false), ("3", false)] {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "\"$0\" check send {contact} --now {NOW} >/dev/null && echo mailed"
            ))
            .arg(exe)
            .env("CRM_CONSENT_DB", bin.db())
            .env(
                "CRM_CONSENT_CACHE",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache"),
            )
            .output()
            .expect("sh runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(stdout.contains("mailed"), mailed, "contact {contact}");
    }
}

#[test]
fn help_documents_the_exit_statuses() {
    let bin = Bin::new();
    let top = bin.ok(&["--help"]);
    assert!(top.contains("Exit status:"), "{top}");
    assert!(top.contains("3  `check send|dial|sms`: deny"), "{top}");
    assert!(top.contains("4  `check send|dial|sms`: justify"), "{top}");
    for channel in ["send", "dial", "sms"] {
        let help = bin.ok(&["check", channel, "--help"]);
        assert!(
            help.contains("0 allow, 3 deny, 4 justify first"),
            "{channel}: {help}"
        );
    }
}

#[test]
fn with_json_a_failure_is_one_json_object_on_stdout() {
    let bin = three_contacts();
    let out = bin.run(&["check", "send", "1", "--purpose", "nope", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(
        line.starts_with(r#"{"error":{"code":"unknown_code","message":"#),
        "{line}"
    );
    assert_eq!(line.lines().count(), 1, "{line}");
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(
        error,
        serde_json::json!({ "error": {
            "code": "unknown_code",
            "message": "unknown purpose `nope`",
            "hint": "list them with `crm-consent purposes list`",
        }})
    );
    // A bad command line too, with clap's exit status.
    let out = bin.run(&["frobnicate", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(error["error"]["code"], "usage");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("frobnicate"),
        "{error}"
    );
}

#[test]
fn in_text_a_failure_is_an_error_line_and_a_hint_on_stderr() {
    let bin = three_contacts();
    let out = bin.run(&["check", "send", "1", "--purpose", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: unknown purpose `nope`\nhint: list them with `crm-consent purposes list`\n"
    );
    let out = bin.run(&["consent", "grant", "2", "emial"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: unknown consent type `emial`; did you mean `email`? valid codes: email\n\
         hint: list them with `crm-consent types list`\n"
    );
}

#[test]
fn a_file_that_is_not_a_database_is_named_once() {
    let bin = Bin::new();
    std::fs::write(bin.db(), "this is a text file, not SQLite\n".repeat(64)).unwrap();
    let out = bin.run(&["types", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr,
        format!(
            "error: `{}` is not a crm-consent database: it is not an SQLite database; \
             point `--db` at a database made by `crm-consent init`\n",
            bin.db().display()
        )
    );
}
