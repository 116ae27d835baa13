//! Search by filter, bulk fill, bulk form links, re-consent and the
//! SuperOffice upgrade over HTTP.

use serde_json::{Value, json};

use crate::support::{Server, expect, key, ok, ready};

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().or(c["contact"].as_i64()).unwrap())
        .collect()
}

#[test]
fn search_fill_links_and_migration_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    ok(
        &db,
        &[
            "contacts",
            "add",
            "--name",
            "Acme",
            "--kind",
            "company",
            "--email",
            "hi@acme.example",
        ],
    );
    ok(
        &db,
        &["consent", "grant", "1", "email", "--method", "email"],
    );
    let (reader, operator, admin) = (key(&db, "reader"), key(&db, "operator"), key(&db, "admin"));
    let server = Server::start(&db);

    let search = |filter: Value| {
        expect(
            server
                .post(&reader, "/contacts/search", filter)
                .send()
                .unwrap(),
            200,
        )
    };
    assert_eq!(ids(&search(json!({}))), [1, 2]);
    assert_eq!(ids(&search(json!({"kind": "company"}))), [2]);
    assert_eq!(
        ids(&search(json!({"consent_type": "email", "valid": true}))),
        [1]
    );
    let bad = expect(
        server
            .post(&reader, "/contacts/search", json!({"status": "gvien"}))
            .send()
            .unwrap(),
        422,
    );
    assert_eq!(bad["error"]["code"], "unknown_code");
    let bad = expect(
        server
            .post(&reader, "/contacts/search", json!({"colour": "red"}))
            .send()
            .unwrap(),
        422,
    );
    assert!(
        bad["error"]["message"].as_str().unwrap().contains("colour"),
        "{bad}"
    );

    // Fill: an unknown status writes nothing; then one entry per change.
    let fill = |status: &str| {
        json!({"filter": {"kind": "company"}, "consent_type": "newsletter",
               "status": status, "method": "paper"})
    };
    let r = server
        .post(&operator, "/consents/fill", fill("gvien"))
        .send()
        .unwrap();
    assert_eq!(expect(r, 422)["error"]["code"], "unknown_code");
    let done = expect(
        server
            .post(&operator, "/consents/fill", fill("given"))
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(ids(&done["changed"]), [2]);
    let history = server.read(&reader, "/contacts/2/consents/history");
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["seq"], done["changed"][0]["seq"]);
    let again = expect(
        server
            .post(&operator, "/consents/fill", fill("given"))
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(again["skipped"], json!([2]));

    // Bulk links: each opens its form page over HTTP.
    let links = expect(
        server
            .post(
                &operator,
                "/form-links/bulk",
                json!({"filter": {}, "consent_types": ["newsletter"]}),
            )
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(ids(&links), [1, 2]);
    assert_eq!(links[1]["email"], "hi@acme.example");
    let url = links[1]["url"].as_str().unwrap();
    let path = &url[url.find("/forms/").unwrap()..];
    let page = server
        .client
        .get(format!("{}{path}", server.base))
        .send()
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().unwrap().contains("Newsletter"));
    // The same links as CSV, parsed back.
    let r = server
        .post(
            &operator,
            "/form-links/bulk",
            json!({"consent_types": ["newsletter"]}),
        )
        .header("Accept", "text/csv")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = r.text().unwrap();
    let mut table = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        table.headers().unwrap(),
        vec!["contact_id", "email", "url", "consent_types", "expires_at"]
    );
    let rows: Vec<csv::StringRecord> = table.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (&rows[1][0], &rows[1][1], &rows[1][3]),
        ("2", "hi@acme.example", "newsletter")
    );
    let path = &rows[0][2][rows[0][2].find("/forms/").unwrap()..];
    let page = server
        .client
        .get(format!("{}{path}", server.base))
        .send()
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);

    // Nothing expires: these types have no validity period.
    let soon = server.read(&reader, "/consents/expiring?within=30");
    assert_eq!(soon, json!([]));
    let none = expect(
        server
            .post(
                &operator,
                "/consents/expiring/form-links",
                json!({"within": 30}),
            )
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(none, json!([]));

    // The upgrade: admin only; a second run changes nothing.
    let body = json!({"marks": [{"contact": 1, "mailed": true}, {"contact": "hi@acme.example", "no_mailings": true}]});
    let r = server
        .post(&operator, "/migrations/superoffice", body.clone())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let first = expect(
        server
            .post(&admin, "/migrations/superoffice", body.clone())
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(first["sales_and_service"], 2);
    assert_eq!(first["e_marketing_on"], 1);
    assert_eq!(first["e_marketing_withdrawn"], 1);
    let second = expect(
        server
            .post(&admin, "/migrations/superoffice", body)
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(second["changes"], json!([]));
    assert_eq!(second["purposes_created"], json!([]));
}
