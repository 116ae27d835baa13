//! Writes over HTTP: validation, idempotent retries, parallel grants, and
//! the hooks deciding from what the API recorded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use serde_json::{Value, json};

use crate::support::{Server, expect, grant, key, ok, ready};

fn ledger_head(server: &Server, key: &str) -> Value {
    let report = server.read(key, "/ledger/verify");
    assert_eq!(report["ok"], true, "{report}");
    report["entries"].clone()
}

#[test]
fn a_bad_request_is_a_422_that_names_the_field_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let server = Server::start(&db);
    let before = ledger_head(&server, &op);
    for (path, body, field) in [
        ("/contacts", json!({"name": 5}), "name"),
        ("/contacts", json!({"email": "a@b.c"}), "body"),
        ("/contacts", json!({"name": "  "}), "name"),
        (
            "/contacts/1/consents",
            json!({"consent_type": "email"}),
            "body",
        ),
        (
            "/contacts/1/consents",
            json!({"consent_type": "email", "method": "email", "given_at": "yesterday"}),
            "given_at",
        ),
        ("/hooks/send", json!({"contact": "one"}), "contact"),
        (
            "/hooks/justify",
            json!({"contact": 1, "channel": "fax", "reason": "x"}),
            "channel",
        ),
    ] {
        let body = expect(server.post(&op, path, body.clone()).send().unwrap(), 422);
        assert_eq!(body["error"]["field"], field, "{path} {body}");
    }
    // An unknown code lists the valid ones.
    let body = expect(
        server
            .post(&op, "/contacts/1/consents", grant("emial"))
            .send()
            .unwrap(),
        422,
    );
    assert_eq!(body["error"]["code"], "unknown_code");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("email"),
        "{body}"
    );
    assert_eq!(ledger_head(&server, &op), before);
    let contacts = server.read(&op, "/contacts");
    assert_eq!(contacts.as_array().unwrap().len(), 1);
}

#[test]
fn a_retry_with_the_same_idempotency_key_gets_the_first_answer_and_writes_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let other = key(&db, "operator");
    let server = Server::start(&db);
    let body = json!({"name": "Bruno", "email": "bruno@example.com"});
    let send = |key: &str, idem: &str, body: &Value| {
        server
            .post(key, "/contacts", body.clone())
            .header("Idempotency-Key", idem)
            .send()
            .unwrap()
    };
    let first = send(&op, "k-1", &body);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = expect(first, 201);
    let again = send(&op, "k-1", &body);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(expect(again, 201), first);
    // Another body under the same key is refused and writes nothing.
    let conflict = expect(send(&op, "k-1", &json!({"name": "Carla"})), 409);
    assert_eq!(conflict["error"]["code"], "idempotency_key_reused");
    // Keys are per caller: another key's `k-1` is a new request.
    let theirs = expect(send(&other, "k-1", &body), 201);
    assert_ne!(theirs["id"], first["id"]);
    let names: Vec<Value> = server
        .read(&op, "/contacts")
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Anna"), json!("Bruno"), json!("Bruno")]);
    ledger_head(&server, &op);
}

#[test]
fn a_hundred_parallel_grants_all_land_and_the_ledger_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let server = Server::start(&db);
    let ids: Vec<i64> = (0..100)
        .map(|i| {
            let c = expect(
                server
                    .post(
                        &op,
                        "/contacts",
                        json!({"name": format!("c{i}"), "email": format!("c{i}@example.com")}),
                    )
                    .send()
                    .unwrap(),
                201,
            );
            c["id"].as_i64().unwrap()
        })
        .collect();
    thread::scope(|s| {
        for id in &ids {
            let (server, op) = (&server, &op);
            s.spawn(move || {
                expect(
                    server
                        .post(op, &format!("/contacts/{id}/consents"), grant("email"))
                        .send()
                        .unwrap(),
                    201,
                );
            });
        }
    });
    let report = server.read(&op, "/ledger/verify");
    assert_eq!(report["ok"], true, "{report}");
    for id in ids {
        let current = server.read(&op, &format!("/contacts/{id}/consents"));
        assert_eq!(current[0]["consent_type"], "email");
        assert_eq!(current[0]["valid_now"], true);
    }
}

#[test]
fn the_hooks_decide_from_what_the_api_recorded_and_a_justification_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let reader = key(&db, "reader");
    let server = Server::start(&db);
    let ask = |hook: &str| {
        expect(
            server
                .post(&op, hook, json!({"contact": 1}))
                .send()
                .unwrap(),
            200,
        )
    };
    let before = ask("/hooks/send");
    assert_eq!(before["outcome"], "justify");
    assert_eq!(before["channel"], "single_email");
    let reason = before["offered_reasons"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let justified = expect(
        server
            .post(&op, "/hooks/justify", json!({"contact": 1, "channel": "single_email", "reason": reason, "text": "asked for a quote"}))
            .send()
            .unwrap(),
        201,
    );
    assert_eq!(justified["reason"]["code"], reason.as_str());
    expect(
        server
            .post(&op, "/contacts/1/consents", grant("email"))
            .send()
            .unwrap(),
        201,
    );
    let after = ask("/hooks/dial");
    assert_eq!(after["outcome"], "allow", "{after}");
    assert_eq!(after["consent_type"], "email");
    expect(
        server
            .post(
                &op,
                "/contacts/1/consents/email/withdraw",
                json!({"method": "email"}),
            )
            .send()
            .unwrap(),
        201,
    );
    let withdrawn = ask("/hooks/dial");
    assert_eq!(withdrawn["outcome"], "deny");
    assert_eq!(withdrawn["code"], "consent_withdrawn");
    // The deny was logged, and replays to the same answer.
    let logged = withdrawn["logged"].as_i64().unwrap();
    let replay = server.read(&reader, &format!("/decisions/{logged}/replay"));
    assert_eq!(replay["same"], true, "{replay}");
    let bulk = expect(
        server
            .post(&op, "/hooks/bulk", json!({"dry_run": true}))
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(bulk["recipients"], json!([]));
    assert_eq!(bulk["logged"], Value::Null);
}

/// The outcome of a dial to contact 1.
fn dial_outcome(server: &Server, op: &str) -> String {
    let answer = expect(
        server
            .post(op, "/hooks/dial", json!({"contact": 1}))
            .send()
            .unwrap(),
        200,
    );
    answer["outcome"].as_str().unwrap().to_owned()
}

/// The pool remembers a contact's state while the ledger's head stays put;
/// a change recorded by another process (the CLI) moves the head, and the
/// very next hook decides from it.
#[test]
fn a_consent_recorded_by_another_process_decides_the_next_hook() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let server = Server::start(&db);
    let dial = || dial_outcome(&server, &op);
    // Asked often enough that every pooled connection has seen contact 1.
    for _ in 0..50 {
        assert_eq!(dial(), "justify");
    }
    ok(
        &db,
        &["consent", "grant", "1", "email", "--method", "phone"],
    );
    assert_eq!(dial(), "allow");
    ok(
        &db,
        &["consent", "withdraw", "1", "email", "--method", "email"],
    );
    assert_eq!(dial(), "deny");
}

/// While other clients dial the same contact without pause (so every pooled
/// connection keeps remembering its state), each change the API
/// acknowledges decides the very next dial.
#[test]
fn under_concurrent_dials_each_acknowledged_change_decides_the_next_dial() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let server = Server::start(&db);
    let dial = || dial_outcome(&server, &op);
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    dial();
                }
            });
        }
        // Stops the dialers also when an assertion below fails.
        let _stop = Stop(&stop);
        let change = |path: &str, body: Value| {
            expect(server.post(&op, path, body).send().unwrap(), 201);
        };
        for round in 0..10 {
            change("/contacts/1/consents", grant("email"));
            assert_eq!(dial(), "allow", "round {round}, after the grant");
            change(
                "/contacts/1/consents/email/withdraw",
                json!({"method": "email"}),
            );
            assert_eq!(dial(), "deny", "round {round}, after the withdrawal");
        }
    });
}

struct Stop<'a>(&'a AtomicBool);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
