//! Erasure, rectification and the type catalogs over HTTP: the same library
//! calls as the CLI, behind their roles.

use serde_json::{Value, json};

use crate::support::{Server, expect, key, ready};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn file_bytes(db: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    bytes.extend(std::fs::read(db.with_file_name("consent.db-wal")).unwrap_or_default());
    bytes
}

#[test]
fn an_erasure_over_http_cascades_one_level_and_leaves_nothing_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let admin = key(&db, "admin");
    let op = key(&db, "operator");
    let server = Server::start(&db);
    let add = |name: &str, email: &str| -> i64 {
        let r = server
            .post(&op, "/contacts", json!({"name": name, "email": email}))
            .header("Idempotency-Key", format!("add-{name}"))
            .send()
            .unwrap();
        expect(r, 201)["id"].as_i64().unwrap()
    };
    let parent = add("Xenia Parentowa", "xenia.parent@example.org");
    let child = add("Yuri Childov", "yuri.child@example.org");
    let grandchild = add("Zed Grandchild", "zed.grand@example.org");
    let relate = |from: i64, to: i64| {
        crate::support::ok(
            &db,
            &[
                "contacts",
                "relate",
                &from.to_string(),
                &to.to_string(),
                "parent_child",
            ],
        );
    };
    relate(parent, child);
    relate(child, grandchild);
    let path = format!("/contacts/{parent}/erasure");
    let r = server
        .post(&op, &path, json!({"ground": "objection"}))
        .send()
        .unwrap();
    assert_eq!(expect(r, 403)["error"]["code"], "wrong_role");
    let r = server
        .post(&admin, &path, json!({"ground": "boredom"}))
        .send()
        .unwrap();
    let err = expect(r, 422);
    assert!(err.to_string().contains("child_services"), "{err}");
    let dry = expect(
        server
            .post(
                &admin,
                &path,
                json!({"ground": "objection", "dry_run": true}),
            )
            .send()
            .unwrap(),
        200,
    );
    let real = expect(
        server
            .post(&admin, &path, json!({"ground": "objection"}))
            .header("Idempotency-Key", "erase-parent")
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(real["erased"], dry["erased"]);
    let ids: Vec<i64> = real["erased"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["contact"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [parent, child], "never the grandchild");
    assert_eq!(real["wal"], "deferred", "inside the idempotent request");
    let shown = server.read(&op, &format!("/contacts/{grandchild}"));
    assert_eq!(shown["name"], "Zed Grandchild");
    let again = server
        .post(&admin, &path, json!({"ground": "objection"}))
        .send()
        .unwrap();
    assert_eq!(expect(again, 410)["error"]["code"], "contact_erased");
    let verify = server.read(&op, "/ledger/verify");
    assert_eq!(verify["ok"], true, "{verify}");
    // The idempotent answers of the two adds quoted the names: gone too.
    let bytes = file_bytes(&db);
    for s in [
        "Xenia Parentowa",
        "xenia.parent@example.org",
        "Yuri Childov",
        "yuri.child@",
    ] {
        assert!(!contains(&bytes, s), "`{s}` is still in the file");
    }
    assert!(
        contains(&bytes, "Zed Grandchild"),
        "the check must be able to see data"
    );
    // The re-add block answers 409 with what to do.
    let r = server
        .post(
            &op,
            "/contacts",
            json!({"name": "X", "email": "Xenia.Parent@example.org"}),
        )
        .send()
        .unwrap();
    let err = expect(r, 409);
    assert_eq!(err["error"]["code"], "erased_before");
    let r = server
        .post(
            &op,
            "/contacts",
            json!({"name": "X", "email": "xenia.parent@example.org", "awaiting_own_consent": true}),
        )
        .send()
        .unwrap();
    assert_eq!(expect(r, 201)["awaiting_own_consent"], true);
}

#[test]
fn rectification_and_the_type_catalogs_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let admin = key(&db, "admin");
    let op = key(&db, "operator");
    let reader = key(&db, "reader");
    let server = Server::start(&db);
    let r = server
        .post(
            &op,
            "/contacts/1/rectification",
            json!({"name": "Anna Nowak", "phone": "+48 1"}),
        )
        .send()
        .unwrap();
    let report = expect(r, 200);
    assert_eq!(report["changed"], json!(["name", "phone"]));
    assert_eq!(report["contact"]["name"], "Anna Nowak");
    let timeline = server.read(&reader, "/contacts/1/timeline");
    let last: &Value = timeline.as_array().unwrap().last().unwrap();
    assert_eq!(last["kind"], "rectification");
    let r = server
        .post(
            &op,
            "/contacts/1/rectification",
            json!({"email": "no-at-sign"}),
        )
        .send()
        .unwrap();
    assert_eq!(expect(r, 422)["error"]["field"], "email");

    let types = server.read(&reader, "/contact-types");
    assert_eq!(types.as_array().unwrap().len(), 4);
    let r = server
        .post(
            &op,
            "/contact-types",
            json!({"code": "boat", "name": "Boat"}),
        )
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = server
        .post(
            &admin,
            "/contact-types",
            json!({"code": "boat", "name": "Boat"}),
        )
        .send()
        .unwrap();
    assert_eq!(expect(r, 201)["code"], "boat");
    let r = server
        .post(
            &admin,
            "/relation-types",
            json!({"code": "owner_boat", "name": "Owner", "from_type": "person",
                   "to_type": "ship", "cascade": "from_to"}),
        )
        .send()
        .unwrap();
    let err = expect(r, 422);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("valid codes: boat, car"),
        "{err}"
    );
    let relations = server.read(&reader, "/relation-types");
    let parent_child = relations
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "parent_child")
        .unwrap();
    assert_eq!(parent_child["cascade"], "from_to");
}
