use super::*;

#[test]
fn creating_a_database_runs_every_migration_from_empty() {
    let f = fixture();
    let version: i64 = f
        .store
        .raw()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, super::super::schema::MIGRATIONS.len() as i64);
    for table in [
        "contacts",
        "contact_personal",
        "contact_relations",
        "consent_types",
        "consent_type_texts",
        "statuses",
        "methods",
        "reasons",
        "purposes",
        "subscription_types",
        "subscription_preferences",
        "contact_purposes",
        "switches",
        "ledger",
        "consent_evidence",
        "consent_state",
        "ledger_head",
        "instance_key",
        "decision_head",
        "decisions",
        "contact_timeline",
        "plugins",
        "link_secret",
        "link_generations",
        "page_settings",
        "page_templates",
        "outbox",
        "consent_type_translations",
        "decision_configs",
    ] {
        count(&f.store, table);
    }
}

/// Puts the schema back before the CHECK_LISTS migration (the last one):
/// the decision log's CHECKs as `IN (...)` lists again.
pub(super) fn undo_check_lists_migration(path: &std::path::Path) {
    let back = super::super::schema::MIGRATIONS.len() - 1;
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA writable_schema = ON;
         UPDATE sqlite_schema SET sql = replace(replace(sql,
             'CHECK (channel = ''bulk_email'' OR channel = ''single_email''
        OR channel = ''phone'' OR channel = ''sms'')',
             'CHECK (channel IN (''bulk_email'', ''single_email'', ''phone'', ''sms''))'),
             'CHECK (outcome = ''allow'' OR outcome = ''deny''
        OR outcome = ''justify'' OR outcome = ''justified'')',
             'CHECK (outcome IN (''allow'', ''deny'', ''justify'', ''justified''))')
         WHERE type = 'table' AND name = 'decisions';
         PRAGMA writable_schema = RESET;
         PRAGMA user_version = {back};"
    ))
    .unwrap();
}

/// Puts the schema back before the DECISION_CONFIGS migration, as a
/// release that logged each config inline left it.
pub(super) fn undo_decision_configs_migration(path: &std::path::Path) {
    undo_check_lists_migration(path);
    let back = super::super::schema::MIGRATIONS.len() - 2;
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "DROP TABLE decision_configs; PRAGMA user_version = {back};"
    ))
    .unwrap();
}

/// Puts the schema back before the CHAIN migration.
fn undo_chain_migration(path: &std::path::Path) {
    undo_decision_configs_migration(path);
    // CHAIN is the migration before DECISION_CONFIGS.
    let back = super::super::schema::MIGRATIONS.len() - 3;
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "DROP INDEX plugins_chain_position; ALTER TABLE plugins DROP COLUMN chain_position;
         PRAGMA user_version = {back};"
    ))
    .unwrap();
}

/// Puts the schema back before the CAMPAIGNS migration.
fn undo_campaigns_migration(path: &std::path::Path) {
    undo_chain_migration(path);
    // CAMPAIGNS is the migration before CHAIN.
    let back = super::super::schema::MIGRATIONS.len() - 4;
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "DROP TABLE consent_campaign_members; DROP TABLE consent_campaigns;
         PRAGMA user_version = {back};"
    ))
    .unwrap();
}

/// Puts the schema back before the RIGHTS migration, as a release before
/// erasure left it. The timeline keeps its wider CHECK: the migration
/// rebuilds it either way.
fn undo_rights_migration(path: &std::path::Path) {
    undo_campaigns_migration(path);
    // RIGHTS is the migration before CAMPAIGNS.
    let back = super::super::schema::MIGRATIONS.len() - 5;
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "DROP TRIGGER decisions_scrub_only_erased; DROP TRIGGER contact_timeline_no_delete;
         CREATE TRIGGER contact_timeline_no_delete BEFORE DELETE ON contact_timeline
         BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;
         DROP TABLE tombstones; DROP TABLE relation_types; DROP TABLE contact_types;
         ALTER TABLE contacts DROP COLUMN erased_at;
         ALTER TABLE contacts DROP COLUMN erasure_ground;
         ALTER TABLE contacts DROP COLUMN awaiting_own_consent;
         PRAGMA user_version = {back};"
    ))
    .unwrap();
}

/// Puts the schema back before the LINKS migration, as a release before
/// the contact pages left it.
fn undo_links_migration(path: &std::path::Path) {
    undo_rights_migration(path);
    // LINKS is the migration before RIGHTS.
    let back = super::super::schema::MIGRATIONS.len() - 6;
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "DROP TABLE link_secret; DROP TABLE link_generations; DROP TABLE page_settings;
         DROP TABLE page_templates; DROP TABLE outbox; DROP TABLE consent_type_translations;
         ALTER TABLE consent_types DROP COLUMN requires_confirmation;
         PRAGMA user_version = {back};"
    ))
    .unwrap();
}

/// Whether inserting a decision builds a temporary b-tree (an `IN` list).
fn decision_insert_builds_a_temporary_btree(conn: &rusqlite::Connection) -> bool {
    let mut program = conn
        .prepare(
            "EXPLAIN INSERT INTO decisions (at, recorded_at, channel, outcome, reason_code,
                 request, actor, prev_hash, hash)
             VALUES (0, 0, 'phone', 'deny', 'x', '{}', 'a', 'p', 'h')",
        )
        .unwrap();
    let opcodes: Vec<String> = program
        .query_map([], |row| row.get(1))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    opcodes.iter().any(|op| op == "OpenEphemeral")
}

#[test]
fn an_older_decision_log_gets_its_check_lists_as_comparisons_and_still_verifies() {
    let f = fixture();
    let mut store = f.store;
    let anna = person(&mut store, "Anna", None);
    store.log_refusal(&refusal(anna, logged_config(1))).unwrap();
    assert!(!decision_insert_builds_a_temporary_btree(store.raw()));
    drop(store);
    undo_check_lists_migration(&f.path);
    let old = rusqlite::Connection::open(&f.path).unwrap();
    assert!(decision_insert_builds_a_temporary_btree(&old), "not undone");
    drop(old);
    let mut store = Store::open(&f.path).unwrap();
    assert!(!decision_insert_builds_a_temporary_btree(store.raw()));
    // The comparisons accept and refuse what the lists did.
    let bad = store.raw().execute(
        "INSERT INTO decisions (at, recorded_at, channel, outcome, reason_code,
             request, actor, prev_hash, hash)
         VALUES (0, 0, 'phone', 'maybe', 'x', '{}', 'a', 'p', 'h')",
        [],
    );
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("CHECK constraint failed"),
        "an unknown outcome was stored"
    );
    store.log_refusal(&refusal(anna, logged_config(2))).unwrap();
    assert!(store.verify_ledger().unwrap().ok);
    assert_eq!(count(&store, "decisions"), 2);
}

#[test]
fn an_older_database_gains_a_link_secret_and_still_verifies() {
    let (f, anna) = with_types();
    let mut store = f.store;
    store
        .record_consent(&consent(anna, "newsletter", "given", 1))
        .unwrap();
    drop(store);
    undo_links_migration(&f.path);
    let mut store = Store::open(&f.path).unwrap();
    assert_eq!(store.link_secret().unwrap().len(), 32);
    let newsletter = store.consent_type("newsletter").unwrap().id;
    assert!(!store.requires_confirmation(newsletter).unwrap());
    assert!(store.verify_ledger().unwrap().ok);
    store
        .set_requires_confirmation("newsletter", true, "admin")
        .unwrap();
    assert!(store.verify_ledger().unwrap().ok);
    // Another installation, another secret.
    assert_ne!(
        store.link_secret().unwrap(),
        fixture().store.link_secret().unwrap()
    );
}

#[test]
fn an_older_database_gains_the_type_catalogs_and_still_verifies() {
    let (f, anna) = with_types();
    let mut store = f.store;
    store
        .record_consent(&consent(anna, "newsletter", "given", 1))
        .unwrap();
    drop(store);
    undo_rights_migration(&f.path);
    let mut store = Store::open(&f.path).unwrap();
    assert!(store.verify_ledger().unwrap().ok);
    let types: Vec<String> = store
        .contact_types()
        .unwrap()
        .into_iter()
        .map(|t| t.code)
        .collect();
    assert!(types.contains(&"person".to_owned()), "{types:?}");
    store
        .erase(
            anna,
            &ErasureRequest::new(ErasureGround::ConsentWithdrawn, "dpo"),
        )
        .unwrap();
    assert!(store.verify_ledger().unwrap().ok);
}

#[test]
fn the_database_runs_in_wal_mode_with_foreign_keys_on() {
    let f = fixture();
    let mode: String = f
        .store
        .raw()
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    let fks: bool = f
        .store
        .raw()
        .query_row("PRAGMA foreign_keys", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert!(fks);
}

#[test]
fn opening_a_missing_database_fails_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.db");
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(&err, StoreError::MissingDatabase(p) if *p == path));
    assert!(err.to_string().contains("nope.db"), "{err}");
    assert!(!path.exists(), "open must not create the file");
}

#[test]
fn creating_over_an_existing_database_fails() {
    let f = fixture();
    let err = Store::create(&f.path).unwrap_err();
    assert!(matches!(err, StoreError::DatabaseExists(_)), "{err}");
}

#[test]
fn another_programs_sqlite_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        .unwrap();
    drop(other);
    let before = std::fs::read(&path).unwrap();
    for result in [Store::open(&path), Store::open_read_only(&path)] {
        let err = result.unwrap_err();
        assert!(matches!(err, StoreError::NotOurDatabase { .. }), "{err}");
        assert!(
            err.to_string().contains("not a crm-consent database"),
            "{err}"
        );
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "no schema was written into it"
    );
}

#[test]
fn a_file_that_is_not_sqlite_at_all_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "x".repeat(4096)).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotOurDatabase { .. }), "{err}");
}

#[test]
fn an_empty_file_is_not_a_database_until_init() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    for result in [Store::open(&path), Store::open_read_only(&path)] {
        let err = result.unwrap_err();
        assert!(matches!(err, StoreError::NotInitialized(_)), "{err}");
        assert!(err.to_string().contains("crm-consent init"), "{err}");
    }
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
}

#[test]
fn our_databases_carry_the_application_id() {
    let f = fixture();
    let id: i32 = f
        .store
        .raw()
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap();
    assert_eq!(id, super::super::schema::APPLICATION_ID);
}

#[test]
fn processes_opening_one_database_at_once_all_succeed_and_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consent.db");
    drop(Store::create(&path).unwrap());
    // Put the schema one migration back, as an older release left it.
    undo_links_migration(&path);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || Store::open(&path).map(|_| ()))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert!(store.webhook().unwrap().is_none());
    assert!(store.due_notifications(Utc::now(), 10).unwrap().is_empty());
    assert_eq!(store.link_settings().unwrap().preference_link_days, 180);
    assert!(store.verify_ledger().unwrap().ok);
}

#[test]
fn a_database_from_a_newer_release_is_refused_readably() {
    let f = fixture();
    f.store
        .raw()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = Store::open(&f.path).unwrap_err().to_string();
    assert!(err.contains("newer crm-consent"), "{err}");
    assert!(!err.contains('\n'), "one readable line: {err}");
}

#[test]
fn a_read_only_store_reads_and_refuses_writes() {
    let mut f = fixture();
    person(&mut f.store, "Anna", None);
    drop(f.store);
    let mut store = Store::open_read_only(&f.path).unwrap();
    assert!(store.is_read_only());
    assert_eq!(store.contacts(None, 10).unwrap().len(), 1);
    assert!(store.verify_ledger().unwrap().ok);
    let err = store.add_reason("x", "X", "alice").unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly(_)), "{err}");
}

#[test]
fn a_new_database_has_the_built_in_catalog_and_default_switches() {
    let f = fixture();
    let statuses: Vec<_> = f
        .store
        .statuses()
        .unwrap()
        .into_iter()
        .map(|s| (s.code, s.meaning, s.built_in))
        .collect();
    assert_eq!(
        statuses,
        [
            ("given".to_owned(), ConsentStatus::Given, true),
            ("refused".to_owned(), ConsentStatus::Refused, true),
            ("withdrawn".to_owned(), ConsentStatus::Withdrawn, true),
            ("expired".to_owned(), ConsentStatus::Expired, true),
        ]
    );
    let methods = f.store.methods().unwrap();
    assert_eq!(methods.len(), 6);
    assert!(methods.iter().all(|m| m.built_in));
    let locked: Vec<_> = methods
        .iter()
        .filter(|m| m.locked)
        .map(|m| m.code.as_str())
        .collect();
    assert_eq!(locked, ["crm_form"]);
    assert_eq!(f.store.method("crm_form").unwrap().name, "Via the CRM form");
    assert!(f.store.reasons().unwrap().len() >= 3);
    assert_eq!(f.store.subscription_types().unwrap().len(), 4);
    assert_eq!(f.store.switches().unwrap(), Switches::default());
    assert_eq!(
        Switches::default(),
        Switches {
            check_single_email: false,
            check_bulk_email: false,
            check_phone: false,
            e_marketing_privacy: true
        }
    );
}

#[test]
fn the_lookup_tables_match_the_enums() {
    let f = fixture();
    let names = |table: &str| -> Vec<(i64, String)> {
        let mut stmt = f
            .store
            .raw()
            .prepare(&format!("SELECT code, name FROM {table} ORDER BY code"))
            .unwrap();
        stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let expect = |all: Vec<(u8, &str)>| -> Vec<(i64, String)> {
        all.into_iter()
            .map(|(c, n)| (c.into(), n.to_owned()))
            .collect()
    };
    assert_eq!(
        names("dpv_statuses"),
        expect(
            ConsentStatus::ALL
                .iter()
                .map(|s| (s.code(), s.as_str()))
                .collect()
        )
    );
    assert_eq!(
        names("legal_bases"),
        expect(
            LegalBasis::ALL
                .iter()
                .map(|s| (s.code(), s.as_str()))
                .collect()
        )
    );
    assert_eq!(
        names("subscription_states"),
        expect(
            SubscriptionState::ALL
                .iter()
                .map(|s| (s.code(), s.as_str()))
                .collect()
        )
    );
}

#[test]
fn reopening_the_file_keeps_everything() {
    let (mut f, anna) = with_types();
    let edit = ConsentTypeEdit {
        text: Some("I want the weekly newsletter.".to_owned()),
        ..ConsentTypeEdit::default()
    };
    f.store
        .edit_consent_type("newsletter", &edit, "admin")
        .unwrap();
    // Given to the new text, so after it was written.
    let mut given = NewConsent {
        given_at: now(),
        ..consent(anna, "newsletter", "given", 3)
    };
    given.evidence = Some(serde_json::json!({"ip": "192.0.2.1"}));
    let entry = f.store.record_consent(&given).unwrap();
    f.store
        .set_switches(
            &Switches {
                check_bulk_email: true,
                ..Switches::default()
            },
            "admin",
        )
        .unwrap();
    f.store
        .set_preference(anna, "newsletter", SubscriptionState::OptedIn, "anna")
        .unwrap();
    let plugin = f
        .store
        .install_plugin(b"\0asm fake", "crm:consent@0.2.0", "admin")
        .unwrap();
    let before = (
        f.store.contact(anna).unwrap(),
        f.store.consent_types().unwrap(),
        f.store.contact_snapshot(anna).unwrap(),
        f.store.timeline(anna).unwrap(),
        f.store.config_snapshot().unwrap(),
    );
    let path = f.path.clone();
    drop(f.store);

    let store = Store::open(&path).unwrap();
    let after = (
        store.contact(anna).unwrap(),
        store.consent_types().unwrap(),
        store.contact_snapshot(anna).unwrap(),
        store.timeline(anna).unwrap(),
        store.config_snapshot().unwrap(),
    );
    assert_eq!(before, after);
    assert_eq!(
        store.consent_history(anna).unwrap(),
        std::slice::from_ref(&entry)
    );
    assert_eq!(store.evidence(entry.seq).unwrap(), given.evidence);
    assert_eq!(store.active_plugin().unwrap().unwrap().info, plugin);
    assert!(store.verify_ledger().unwrap().ok);
    assert_eq!(after.1[0].text_version, 2);
}

#[test]
fn dates_parse_from_days_and_rfc3339_and_bad_ones_are_named() {
    assert_eq!(
        parse_date("given_at", "2024-01-01").unwrap(),
        day(1) - chrono::Duration::hours(12)
    );
    assert_eq!(
        parse_date("given_at", "2024-01-01T12:00:00Z").unwrap(),
        day(1)
    );
    assert_eq!(
        parse_date("given_at", "2024-01-01T14:00:00+02:00").unwrap(),
        day(1)
    );
    let err = parse_date("given_at", "31/12/2023").unwrap_err();
    assert!(matches!(
        err,
        StoreError::BadDate {
            field: "given_at",
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "bad date in `given_at`: `31/12/2023` (expected YYYY-MM-DD or an RFC 3339 time)"
    );
}
