//! What schemathesis found: every answer is JSON the document describes,
//! including axum's own rejections (bad paths, wrong methods, large or
//! non-JSON bodies), and a refused request writes nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Server, expect, key, ok, ready};

/// POSTs `body` over a plain socket and returns the status and body. The
/// server answers a too-large body before reading it and closes the
/// connection, which an HTTP client may report as a failed send instead.
fn raw_post(server: &Server, key: &str, path: &str, body: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /api/v1{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut writer = stream.try_clone().unwrap();
    let body = body.to_vec();
    let sending = std::thread::spawn(move || {
        // The server may stop reading once it has answered.
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(&body);
    });
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let _ = sending.join();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// The ledger length and the contacts, which no refused request may change.
fn state(server: &Server, key: &str) -> (Value, Value) {
    let report = server.read(key, "/ledger/verify");
    assert_eq!(report["ok"], true, "{report}");
    (report["entries"].clone(), server.read(key, "/contacts"))
}

#[test]
fn axum_rejections_are_json_errors_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let server = Server::start(&db);
    let before = state(&server, &op);

    // A path segment that is not UTF-8: a 422 naming it, but only after the
    // key was checked.
    let r = server.get(&op, "/contacts/%FF").send().unwrap();
    let body = expect(r, 422);
    assert_eq!(body["error"]["field"], "id", "{body}");
    let r = server
        .client
        .get(server.url("/contacts/%FF"))
        .send()
        .unwrap();
    assert_eq!(expect(r, 401)["error"]["code"], "missing_key");
    let r = server
        .client
        .post(server.url("/contacts/%FF/consents/%FE/withdraw"))
        .bearer_auth(&op)
        .json(&json!({"method": "email"}))
        .send()
        .unwrap();
    expect(r, 422);

    // A method the route does not take: 405 with `Allow`, as JSON.
    let r = server
        .client
        .request(Method::DELETE, server.url("/contacts/1"))
        .bearer_auth(&op)
        .send()
        .unwrap();
    let allow = r.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET"), "{allow}");
    assert_eq!(expect(r, 405)["error"]["code"], "method_not_allowed");

    // More than 1 MiB of JSON: 413, as JSON.
    let (status, body) = raw_post(&server, &op, "/contacts", &vec![b' '; 2 * 1024 * 1024]);
    assert_eq!(status, 413, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "body_too_large");

    // A body sent as a form: 415 naming the header and what to send.
    let r = server
        .client
        .post(server.url("/contacts"))
        .bearer_auth(&op)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(r#"{"name":"Form"}"#)
        .send()
        .unwrap();
    let body = expect(r, 415);
    assert_eq!(body["error"]["field"], "Content-Type", "{body}");
    assert!(
        body["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );

    // JSON with a charset parameter, or a `+json` type, is JSON.
    for ct in ["application/json; charset=utf-8", "application/merge+json"] {
        let r = server
            .client
            .post(server.url("/hooks/dial"))
            .bearer_auth(&op)
            .header("content-type", ct)
            .body(r#"{"contact":1}"#)
            .send()
            .unwrap();
        expect(r, 200);
    }

    // An empty contact kind is refused in words, not with a type name.
    let r = server
        .post(&op, "/contacts", json!({"name": "K", "kind": ""}))
        .send()
        .unwrap();
    let body = expect(r, 422);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("contact kind"), "{body}");
    assert!(!message.contains("ContactKind"), "{body}");

    assert_eq!(state(&server, &op), before);
}

#[test]
fn a_page_limit_out_of_range_is_refused_not_clamped() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let reader = key(&db, "reader");
    let server = Server::start(&db);
    for limit in ["0", "1001", "2147483648"] {
        let r = server
            .get(&reader, &format!("/contacts?limit={limit}"))
            .send()
            .unwrap();
        assert_eq!(expect(r, 422)["error"]["field"], "limit", "{limit}");
    }
    for limit in ["1", "1000"] {
        server.read(&reader, &format!("/contacts?limit={limit}"));
    }
}

#[test]
fn a_replay_answers_as_the_cli_does_and_a_missing_decision_is_a_404() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let server = Server::start(&db);
    // Anna has no consent for calls yet: a justify, logged as decision 1.
    let checked = expect(
        server
            .post(&op, "/hooks/dial", json!({"contact": 1}))
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(checked["outcome"], "justify", "{checked}");
    let replay = server.read(&op, "/decisions/1/replay");
    let cli: Value =
        serde_json::from_str(&ok(&db, &["--json", "decisions", "replay", "1"])).unwrap();
    assert_eq!(replay, cli);
    assert_eq!(replay["replayed_outcome"], "justify");
    assert_eq!(replay["replayed_code"], "no_consent");
    assert_eq!(replay["same"], true);

    let r = server.get(&op, "/decisions/99/replay").send().unwrap();
    assert_eq!(expect(r, 404)["error"]["code"], "unknown_decision");
}

#[test]
fn a_newsletter_needs_no_body() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let server = Server::start(&db);
    let r = server
        .client
        .post(server.url("/hooks/bulk"))
        .bearer_auth(&op)
        .send()
        .unwrap();
    let sent = expect(r, 200);
    assert!(sent["recipients"].is_array(), "{sent}");
    // `null` is the document's "no body" too.
    let r = server.post(&op, "/hooks/bulk", Value::Null).send().unwrap();
    expect(r, 200);
}

#[test]
fn a_body_must_be_an_object_not_fields_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let server = Server::start(&db);
    let before = state(&server, &op);
    for (path, body) in [
        ("/hooks/bulk", json!([null, null])),
        ("/hooks/dial", json!([1])),
        ("/contacts", json!(["Anna"])),
        ("/contacts", json!("Anna")),
    ] {
        let r = server.post(&op, path, body.clone()).send().unwrap();
        let got = expect(r, 422);
        assert_eq!(got["error"]["field"], "body", "{path} {body}: {got}");
    }
    assert_eq!(state(&server, &op), before);
}

#[test]
fn the_document_lists_the_error_statuses_and_the_real_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let server = Server::start(&db);
    let doc: Value = server
        .client
        .get(server.url("/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let envelope = json!({"$ref": "#/components/schemas/ErrorEnvelope"});
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = &op["responses"];
            for status in ["401", "403", "422", "503"] {
                assert_eq!(
                    responses[status]["content"]["application/json"]["schema"], envelope,
                    "{method} {path} {status}"
                );
            }
            if method == "post" || method == "put" {
                assert!(responses["409"].is_object(), "{method} {path}");
            }
            if op.get("requestBody").is_some() {
                assert!(responses["413"].is_object(), "{method} {path}");
            }
        }
    }
    let schemas = &doc["components"]["schemas"];
    // Evidence is any JSON value, not only an object.
    let evidence = &schemas["GrantRequest"]["properties"]["evidence"];
    assert!(evidence.get("type").is_none(), "{evidence}");
    // A replay is documented as it is sent: codes, not the plugin's variants.
    let replay = &doc["paths"]["/decisions/{id}/replay"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"]["$ref"];
    let name = replay.as_str().unwrap().rsplit('/').next().unwrap();
    assert!(schemas[name]["properties"]["replayed_code"].is_object());
    // A plugin upload can be sent as plain bytes.
    let upload = &doc["paths"]["/setup/plugins"]["post"]["requestBody"]["content"];
    assert!(upload["application/octet-stream"].is_object(), "{upload}");
    // The bulk send's body is optional.
    assert_ne!(
        doc["paths"]["/hooks/bulk"]["post"]["requestBody"]["required"],
        true
    );
}
