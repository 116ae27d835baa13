use super::*;
use crate::store::{LedgerProblemKind, NewTranslation};

fn polish(version: Option<u32>) -> NewTranslation {
    NewTranslation {
        language: "PL".into(),
        title: "Newsletter".into(),
        text: "Chcę newsletter.".into(),
        version,
    }
}

#[test]
fn a_translation_is_a_ledger_entry_and_never_changes() {
    let (mut f, _, _) = with_people();
    let t = f
        .store
        .add_translation("newsletter", &polish(None), "admin")
        .unwrap();
    assert_eq!((t.language.as_str(), t.version), ("pl", 1));
    let e = f
        .store
        .add_translation("newsletter", &polish(Some(1)), "admin")
        .unwrap_err();
    assert!(
        e.to_string().contains("already has a `pl` translation"),
        "{e}"
    );
    let e = f
        .store
        .add_translation("newsletter", &polish(Some(7)), "admin")
        .unwrap_err();
    assert!(e.to_string().contains("no text version `7`"), "{e}");
    let mut bad = polish(None);
    bad.language = "polish".into();
    let e = f
        .store
        .add_translation("newsletter", &bad, "admin")
        .unwrap_err();
    assert!(e.to_string().contains("`polish`"), "{e}");
    assert_eq!(f.store.translations("newsletter").unwrap(), [t]);
    f.assert_verifies();
}

#[test]
fn ledger_verify_names_a_translation_edited_behind_the_stores_back() {
    let (mut f, _, _) = with_people();
    f.store
        .add_translation("newsletter", &polish(None), "admin")
        .unwrap();
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER consent_type_translations_no_update;
         UPDATE consent_type_translations SET text = 'Nie chcę.';",
    )
    .unwrap();
    let report = f.store.verify_ledger().unwrap();
    let problem = report.problem.unwrap();
    assert_eq!(problem.kind, LedgerProblemKind::ProjectionDiffers);
    assert_eq!(problem.table.as_deref(), Some("consent_type_translations"));
    assert!(
        problem.message.contains("holds text = `Nie chcę.`"),
        "{}",
        problem.message
    );
}

#[test]
fn the_double_opt_in_flag_is_in_the_ledger() {
    let (mut f, _, _) = with_people();
    f.store
        .set_requires_confirmation("email", true, "admin")
        .unwrap();
    f.assert_verifies();
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    conn.execute(
        "UPDATE consent_types SET requires_confirmation = 0 WHERE code = 'email'",
        [],
    )
    .unwrap();
    let problem = f.store.verify_ledger().unwrap().problem.unwrap();
    assert_eq!(problem.table.as_deref(), Some("consent_types"));
    assert!(
        problem.message.contains("requires_confirmation"),
        "{}",
        problem.message
    );
}
