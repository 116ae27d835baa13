//! Rule packs over HTTP: upload one after the active plugin, see both
//! answer every hook, reorder and clear the chain, and bad chains refused.

use crm_consent::engine::with_manifest;
use serde_json::{Value, json};

use crate::support::{Server, expect, key, ready};

#[test]
fn an_uploaded_pack_answers_every_hook_and_the_chain_can_be_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let admin = key(&db, "admin");
    let op = key(&db, "operator");
    let server = Server::start(&db);

    // The reference rules again, under other bytes: a pack that agrees.
    let pack_bytes = with_manifest(crm_consent::BUNDLED_PLUGIN, "{}");
    let pack: Value = expect(
        server
            .client
            .post(server.url("/setup/packs"))
            .bearer_auth(&admin)
            .header("content-type", "application/wasm")
            .body(pack_bytes)
            .send()
            .unwrap(),
        201,
    );
    assert_eq!(
        (pack["active"].clone(), pack["chain_position"].clone()),
        (json!(false), json!(1))
    );
    let chain = server.read(&admin, "/setup/chain");
    assert_eq!(chain.as_array().unwrap().len(), 2, "{chain}");

    let decision = expect(
        server
            .post(&op, "/hooks/send", json!({"contact": 1}))
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(decision["outcome"], "justify", "{decision}");
    let steps = decision["chain"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{decision}");
    assert_eq!(steps[1]["plugin_sha256"], pack["sha256"]);
    assert_eq!(steps[1]["outcome"], "justify");
    assert_eq!(
        decision["plugin_sha256"], chain[0]["sha256"],
        "the active plugin is logged"
    );

    let put = |body: Value| {
        server
            .client
            .put(server.url("/setup/chain"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .unwrap()
    };
    let active = chain[0]["id"].clone();
    let refused = expect(put(json!({"packs": [active]})), 422);
    assert_eq!(refused["error"]["code"], "invalid_value", "{refused}");
    let unknown = expect(put(json!({"packs": [99]})), 404);
    assert_eq!(unknown["error"]["code"], "unknown_plugin", "{unknown}");
    assert_eq!(
        server.read(&admin, "/setup/chain"),
        chain,
        "refused: unchanged"
    );

    let cleared = expect(put(json!({"packs": []})), 200);
    assert_eq!(cleared.as_array().unwrap().len(), 1, "{cleared}");
    let alone = expect(
        server
            .post(&op, "/hooks/send", json!({"contact": 1}))
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(alone["chain"], json!([]), "{alone}");
    let verify = server.read(&admin, "/ledger/verify");
    assert_eq!(verify["ok"], true, "{verify}");
}
