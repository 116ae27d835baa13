//! Uploading a plugin with a limits manifest: over the caps it is refused
//! (422, naming the limit) before it is compiled; under the caps the admin
//! raised before `serve` started, it installs and decides.

use crm_consent::engine::with_manifest;
use serde_json::Value;

use crate::support::{Server, expect, key, ok, ready};

fn upload(server: &Server, key: &str, bytes: Vec<u8>) -> reqwest::blocking::Response {
    server
        .client
        .post(server.url("/setup/plugins"))
        .bearer_auth(key)
        .header("content-type", "application/wasm")
        .body(bytes)
        .send()
        .unwrap()
}

#[test]
fn an_upload_over_the_caps_is_a_422_naming_the_limit_and_one_under_raised_caps_installs() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let admin = key(&db, "admin");
    ok(&db, &["setup", "limits", "--max-memory-mib", "64"]);
    let server = Server::start(&db);
    let before = server.read(&admin, "/setup/plugins");

    let over = with_manifest(crm_consent::BUNDLED_PLUGIN, r#"{"core_instances": 38}"#);
    let body: Value = expect(upload(&server, &admin, over), 422);
    assert_eq!(body["error"]["code"], "plugin_over_limits", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("core_instances 38, over the cap of 8"),
        "{message}"
    );
    assert_eq!(
        server.read(&admin, "/setup/plugins"),
        before,
        "nothing stored"
    );

    let under = with_manifest(crm_consent::BUNDLED_PLUGIN, r#"{"memory_mib": 64}"#);
    let info: Value = expect(upload(&server, &admin, under), 201);
    assert_eq!(info["active"], true, "{info}");
    // The hooks decide with it: contact 1 has no consent yet.
    let op = key(&db, "operator");
    let decision = expect(
        server
            .post(&op, "/hooks/send", serde_json::json!({"contact": 1}))
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(decision["outcome"], "justify", "{decision}");
    assert_eq!(decision["plugin_sha256"], info["sha256"], "{decision}");
}
