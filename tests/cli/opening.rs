//! Opening the database, help, usage errors and `--now`.

use super::support::Crm;

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
