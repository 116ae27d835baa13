//! Configs cited by hash (`decision_configs`).

use rusqlite::Connection;

use super::*;

fn stored_request(f: &Fixture, id: DecisionId) -> String {
    f.store
        .raw()
        .query_row("SELECT request FROM decisions WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap()
}

fn problem(f: &Fixture) -> LedgerProblem {
    let report = f.store.verify_ledger().unwrap();
    assert!(!report.ok, "verify passed after tampering: {report:?}");
    report.problem.unwrap()
}

#[test]
fn a_config_is_stored_once_and_read_back_in_its_place() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let first = f
        .store
        .log_decision(&refusal(anna, logged_config(1)))
        .unwrap();
    let second = f
        .store
        .log_refusal(&refusal(anna, logged_config(1)))
        .unwrap();
    let other = f
        .store
        .log_decision(&refusal(anna, logged_config(2)))
        .unwrap();
    assert_eq!(count(&f.store, "decision_configs"), 2);
    let raw = stored_request(&f, first);
    assert!(raw.contains("\"config_sha256\":"), "{raw}");
    assert!(!raw.contains("\"config\":"), "{raw}");
    // The request's own JSON, its config swapped for the config's hash.
    let mut expected = refusal(anna, logged_config(1)).request;
    let fields = expected.as_object_mut().unwrap();
    let config = serde_json::to_string(&fields.remove("config").unwrap()).unwrap();
    let sha256 = crate::store::chain::sha256_hex(config.as_bytes());
    fields.insert("config_sha256".into(), sha256.into());
    assert_eq!(raw, serde_json::to_string(&expected).unwrap());
    for (id, n) in [(first, 1), (second, 1), (other, 2)] {
        let d = f.store.decision(id).unwrap().unwrap();
        assert_eq!(d.request, refusal(anna, logged_config(n)).request);
    }
    assert_eq!(f.store.decisions(anna).unwrap().len(), 3);
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn an_edited_or_missing_config_is_named_by_verify() {
    for sql in [
        "UPDATE decision_configs SET config = replace(config, 'calls', 'email')",
        "DELETE FROM decision_configs",
    ] {
        let mut f = fixture();
        let anna = person(&mut f.store, "Anna", None);
        f.store
            .log_decision(&refusal(anna, logged_config(1)))
            .unwrap();
        assert!(f.store.verify_ledger().unwrap().ok);
        let conn = Connection::open(&f.path).unwrap();
        let refused = conn.execute(sql, []).unwrap_err().to_string();
        assert!(refused.contains("append-only"), "{sql}: {refused}");
        conn.execute_batch(
            "DROP TRIGGER decision_configs_no_update; DROP TRIGGER decision_configs_no_delete;",
        )
        .unwrap();
        conn.execute(sql, []).unwrap();
        let p = problem(&f);
        assert_eq!(p.kind, LedgerProblemKind::DecisionLog, "{sql}");
        assert_eq!(p.table.as_deref(), Some("decision_configs"), "{sql}");
    }
}

#[test]
fn a_row_logged_before_the_table_keeps_its_config_inline() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let old = f
        .store
        .log_decision_inline(&refusal(anna, logged_config(1)))
        .unwrap();
    drop(f.store);
    super::opening::undo_decision_configs_migration(&f.path);
    f.store = Store::open(&f.path).unwrap();
    assert!(stored_request(&f, old).contains("\"config\":"));
    let new = f
        .store
        .log_decision(&refusal(anna, logged_config(1)))
        .unwrap();
    assert!(stored_request(&f, new).contains("\"config_sha256\":"));
    for id in [old, new] {
        let d = f.store.decision(id).unwrap().unwrap();
        assert_eq!(d.request, refusal(anna, logged_config(1)).request);
    }
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn a_hook_cites_its_loaded_config_as_a_logged_request_would_be_cited() {
    use crate::engine::{Engine, EngineOptions};
    use crate::hooks::{Operator, StoredHooks};

    // No phone consent: a justify, logged.
    let (mut f, anna) = with_types();
    let piotr = person(&mut f.store, "Piotr", None);
    let on = Switches {
        check_phone: true,
        ..Switches::default()
    };
    f.store.set_switches(&on, "admin").unwrap();
    let engine = Engine::new(EngineOptions::default()).unwrap();
    crate::setup::install(&mut f.store, &engine, crate::BUNDLED_PLUGIN, "admin").unwrap();
    let op = Operator::new("olivia", now());
    let Fixture { store, _dir, .. } = f;
    let mut hooks = StoredHooks::new(&engine, store);
    let logged: Vec<DecisionId> = [anna, piotr, anna]
        .into_iter()
        .map(|c| {
            let d = hooks.before_dial(c, &op).unwrap();
            d.logged.unwrap_or_else(|| panic!("{:?}", d.decision))
        })
        .collect();
    let store = hooks.into_store();
    // One config row for every refusal under one loaded config.
    assert_eq!(count(&store, "decision_configs"), 1);
    for id in logged {
        let raw: String = store
            .raw()
            .query_row("SELECT request FROM decisions WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap();
        // Byte for byte what citing the whole evidence makes of it, so one
        // log holds one form whichever way a row came in.
        let read = store.decision(id).unwrap().unwrap();
        let (cited, config) = crate::store::decision_configs::cite(&read.request).unwrap();
        assert_eq!(raw, cited);
        assert!(read.request["config"].is_object(), "{raw}");
        let config = config.unwrap();
        let stored: String = store
            .raw()
            .query_row("SELECT config FROM decision_configs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, config.text);
    }
    assert!(store.verify_ledger().unwrap().ok);
}
