//! Retention over HTTP: a campaign, a dry run, the run, and a second run
//! that finds nothing.

use serde_json::{Value, json};

use crate::support::{Server, expect, grant, key, ready};

fn fates(run: &Value) -> Vec<(i64, String)> {
    run["decided"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["contact"].as_i64().unwrap(),
                d["fate"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_campaign_runs_over_http_as_its_dry_run_said() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let (admin, op) = (key(&db, "admin"), key(&db, "operator"));
    let server = Server::start(&db);
    let bob = expect(
        server
            .post(
                &op,
                "/contacts",
                json!({"name": "Bob", "email": "bob@example.com"}),
            )
            .send()
            .unwrap(),
        201,
    )["id"]
        .as_i64()
        .unwrap();
    let campaign = expect(
        server
            .post(
                &admin,
                "/retention/campaigns",
                json!({"consent_type": "newsletter", "window_days": 30,
                       "asked_at": "2025-01-01T00:00:00Z", "contacts": [1, bob]}),
            )
            .send()
            .unwrap(),
        201,
    );
    assert_eq!(campaign["members"], 2);
    assert_eq!(campaign["window_ends_at"], "2025-01-31T00:00:00Z");
    let path = format!("/retention/campaigns/{}/form-links", campaign["id"]);
    let links = expect(server.post(&op, &path, json!({})).send().unwrap(), 200);
    assert_eq!(links.as_array().unwrap().len(), 2, "{links}");
    assert_eq!(links[1]["contact"], bob);
    assert_eq!(links[1]["consent_types"], json!(["newsletter"]));
    expect(
        server
            .post(&op, "/contacts/1/consents", grant("newsletter"))
            .send()
            .unwrap(),
        201,
    );
    let dry = expect(
        server
            .post(&admin, "/retention/run", json!({"dry_run": true}))
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(
        fates(&dry),
        vec![(1, "kept".to_owned()), (bob, "erased".to_owned())]
    );
    assert_eq!(server.read(&op, &format!("/contacts/{bob}"))["name"], "Bob");
    let run = expect(
        server
            .post(&admin, "/retention/run", json!({}))
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(fates(&run), fates(&dry));
    assert_eq!(run["erased"][0]["contact"], bob);
    assert_eq!(server.read(&op, &format!("/contacts/{bob}"))["name"], "");
    let again = expect(
        server
            .post(&admin, "/retention/run", json!({}))
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(fates(&again), vec![]);
    let list = server.read(&op, "/retention/campaigns");
    assert_eq!(list[0]["kept"], 1);
    assert_eq!(list[0]["erased"], 1);
    assert_eq!(server.read(&op, "/ledger/verify")["ok"], true);
}
