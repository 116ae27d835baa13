//! `GET /contacts/{id}/export`: the access and portability export over
//! HTTP, as JSON-LD and as CSV, checked against what the API recorded.

use reqwest::blocking::Response;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::support::{Server, expect, key, ready};

fn header(r: &Response, name: reqwest::header::HeaderName) -> String {
    r.headers()[name].to_str().unwrap().to_owned()
}

/// Grant, withdraw and regrant with evidence, a justification through the
/// real plugin, a newsletter that reached the contact, and a restriction.
fn record(server: &Server, op: &str) -> Value {
    for (status, evidence) in [
        ("given", json!({"ip": "192.0.2.1"})),
        ("withdrawn", Value::Null),
        ("given", json!({"ip": "192.0.2.7", "user_agent": "curl"})),
    ] {
        let body = json!({"consent_type": "newsletter", "method": "email",
            "status": status, "evidence": evidence});
        expect(
            server
                .post(op, "/contacts/1/consents", body)
                .send()
                .unwrap(),
            201,
        );
    }
    let dial = expect(
        server
            .post(op, "/hooks/dial", json!({"contact": 1}))
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(dial["outcome"], "justify", "{dial}");
    let body = json!({"contact": 1, "channel": "phone", "reason": "existing_customer",
        "text": "asked for a call back"});
    expect(server.post(op, "/hooks/justify", body).send().unwrap(), 201);
    let bulk = expect(
        server.post(op, "/hooks/bulk", json!({})).send().unwrap(),
        200,
    );
    assert_eq!(bulk["recipients"], json!([1]), "{bulk}");
    let flags = json!({"restricted": true, "objected": false, "opted_out_of_all": false});
    let r = server
        .client
        .put(server.url("/contacts/1/flags"))
        .bearer_auth(op)
        .json(&flags);
    expect(r.send().unwrap(), 200);
    bulk
}

#[test]
fn the_export_answers_json_ld_and_csv_with_what_the_api_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let server = Server::start(&db);
    let bulk = record(&server, &op);
    let history = server.read(&op, "/contacts/1/consents/history");

    let r = server.get(&op, "/contacts/1/export").send().unwrap();
    assert_eq!(header(&r, CONTENT_TYPE), "application/ld+json");
    assert!(header(&r, CONTENT_DISPOSITION).contains("contact-1.json"));
    let e = expect(r, 200);
    assert_eq!(e["@context"]["dpv"], "https://w3id.org/dpv#");
    assert_eq!(e["data_subject"]["email"], "anna@example.com");
    assert_eq!(e["data_subject"]["flags"]["restricted"], true);
    let events = e["consent_records"][0]["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    for (ev, h) in events.iter().zip(history.as_array().unwrap()) {
        assert_eq!(ev["seq"], h["seq"]);
        assert_eq!(ev["hash"], h["hash"]);
        assert_eq!(ev["status_code"], h["status_code"]);
        assert_eq!(ev["notice"]["text"], h["text"]);
        assert_eq!(ev["evidence_sha256"], h["evidence_hash"]);
        assert_eq!(ev["actor"], "api:operator");
    }
    assert_eq!(events[1]["status"], "dpv:ConsentWithdrawn");
    assert_eq!(
        events[2]["evidence"],
        json!({"ip": "192.0.2.7", "user_agent": "curl"})
    );
    assert_eq!(e["justifications"][0]["text"], "asked for a call back");
    assert_eq!(e["justifications"][0]["reason"], "existing_customer");
    assert_eq!(e["bulk_sends"][0]["decision"], bulk["logged"]);
    assert_eq!(e["timeline"], server.read(&op, "/contacts/1/timeline"));

    let r = server
        .get(&op, "/contacts/1/export?format=csv")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(header(&r, CONTENT_TYPE), "text/csv; charset=utf-8");
    assert!(header(&r, CONTENT_DISPOSITION).contains("contact-1.csv"));
    let text = r.text().unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let col = |name: &str| columns.iter().position(|c| c == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let consents: Vec<_> = rows
        .iter()
        .filter(|r| &r[col("kind")] == "consent")
        .collect();
    assert_eq!(consents.len(), 3);
    for (row, h) in consents.iter().zip(history.as_array().unwrap()) {
        assert_eq!(row[col("hash")], h["hash"]);
        assert_eq!(row[col("value")], h["status_code"]);
    }
    let justification = rows
        .iter()
        .find(|r| &r[col("kind")] == "justification")
        .unwrap();
    assert_eq!(&justification[col("detail")], "asked for a call back");
    let flag = rows
        .iter()
        .find(|r| &r[col("kind")] == "flag" && &r[col("subject")] == "restricted")
        .unwrap();
    assert_eq!(&flag[col("value")], "true");
}

#[test]
fn an_unknown_contact_is_a_404_and_an_unknown_format_lists_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let reader = key(&db, "reader");
    let server = Server::start(&db);
    let body = expect(server.get(&op, "/contacts/999/export").send().unwrap(), 404);
    assert_eq!(body["error"]["code"], "unknown_contact", "{body}");
    let body = expect(
        server
            .get(&op, "/contacts/1/export?format=xml")
            .send()
            .unwrap(),
        422,
    );
    assert_eq!(body["error"]["field"], "format", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`xml`") && message.contains("json, csv"),
        "{body}"
    );
    // Personal data and evidence: not for readers.
    let body = expect(
        server.get(&reader, "/contacts/1/export").send().unwrap(),
        403,
    );
    assert_eq!(body["error"]["code"], "wrong_role");
}

#[test]
fn a_filter_exports_the_contacts_it_selects_as_an_array() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    let server = Server::start(&db);
    expect(
        server
            .post(
                &op,
                "/contacts/1/consents",
                json!({"consent_type": "newsletter", "method": "email"}),
            )
            .send()
            .unwrap(),
        201,
    );
    let r = server
        .post(
            &op,
            "/contacts/export",
            json!({"filter": {"consent_type": "newsletter", "valid": true}}),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(header(&r, CONTENT_TYPE).starts_with("application/ld+json"));
    let all: Value = r.json().unwrap();
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");
    assert_eq!(all[0]["data_subject"]["id"], 1);
    let none = server
        .post(
            &op,
            "/contacts/export",
            json!({"format": "csv", "filter": {"objected": true}}),
        )
        .send()
        .unwrap();
    assert_eq!(none.status(), 200);
    assert!(header(&none, CONTENT_TYPE).starts_with("text/csv"));
    let body = expect(
        server
            .post(
                &op,
                "/contacts/export",
                json!({"filter": {"consent_type": "newsleter"}}),
            )
            .send()
            .unwrap(),
        422,
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("newsletter"),
        "{body}"
    );
}
