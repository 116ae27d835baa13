//! Every route: in the OpenAPI document, behind a key, behind its role.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Server, expect, key, ok, ready};

/// Every route, the least role it needs, and a path to call it with.
const ROUTES: &[(&str, &str, &str)] = &[
    ("POST", "/hooks/send", "operator"),
    ("POST", "/hooks/dial", "operator"),
    ("POST", "/hooks/sms", "operator"),
    ("POST", "/hooks/bulk", "operator"),
    ("POST", "/hooks/justify", "operator"),
    ("GET", "/contacts", "reader"),
    ("POST", "/contacts", "operator"),
    ("GET", "/contacts/{id}", "reader"),
    ("PUT", "/contacts/{id}/flags", "operator"),
    ("GET", "/contacts/{id}/consents", "reader"),
    ("POST", "/contacts/{id}/consents", "operator"),
    (
        "POST",
        "/contacts/{id}/consents/{consent_type}/withdraw",
        "operator",
    ),
    ("GET", "/contacts/{id}/consents/history", "reader"),
    ("GET", "/contacts/{id}/timeline", "reader"),
    ("GET", "/contacts/{id}/export", "operator"),
    ("POST", "/contacts/export", "operator"),
    ("GET", "/consent-types", "reader"),
    ("POST", "/consent-types", "admin"),
    ("GET", "/statuses", "reader"),
    ("POST", "/statuses", "admin"),
    ("GET", "/methods", "reader"),
    ("POST", "/methods", "admin"),
    ("GET", "/reasons", "reader"),
    ("POST", "/reasons", "admin"),
    ("GET", "/purposes", "reader"),
    ("POST", "/purposes", "admin"),
    ("GET", "/subscription-types", "reader"),
    ("POST", "/subscription-types", "admin"),
    ("GET", "/setup/plugins", "reader"),
    ("POST", "/setup/plugins", "admin"),
    ("POST", "/setup/packs", "admin"),
    ("GET", "/setup/chain", "reader"),
    ("PUT", "/setup/chain", "admin"),
    ("POST", "/setup/rollback", "admin"),
    ("GET", "/setup/switches", "reader"),
    ("PUT", "/setup/switches/{name}", "admin"),
    ("GET", "/decisions", "reader"),
    ("GET", "/decisions/{id}", "reader"),
    ("GET", "/decisions/{id}/replay", "reader"),
    ("GET", "/ledger/verify", "reader"),
    ("POST", "/contacts/{id}/form-links", "operator"),
    ("GET", "/contacts/{id}/preference-link", "operator"),
    ("GET", "/outbox", "operator"),
    ("POST", "/outbox/{id}/ack", "operator"),
    ("POST", "/contacts/{id}/erasure", "admin"),
    ("POST", "/contacts/{id}/rectification", "operator"),
    ("GET", "/contact-types", "reader"),
    ("POST", "/contact-types", "admin"),
    ("GET", "/relation-types", "reader"),
    ("POST", "/relation-types", "admin"),
    ("GET", "/retention/campaigns", "reader"),
    ("POST", "/retention/campaigns", "admin"),
    ("POST", "/retention/run", "admin"),
    ("POST", "/retention/campaigns/{id}/form-links", "operator"),
    ("POST", "/contacts/search", "reader"),
    ("POST", "/consents/fill", "operator"),
    ("POST", "/form-links/bulk", "operator"),
    ("GET", "/consents/expiring", "reader"),
    ("POST", "/consents/expiring/form-links", "operator"),
    ("POST", "/migrations/superoffice", "admin"),
    ("POST", "/imports", "operator"),
];

const ROLES: [&str; 3] = ["reader", "operator", "admin"];

fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{consent_type}", "email")
        .replace("{name}", "e-marketing-privacy")
}

#[test]
fn the_openapi_document_is_3_1_and_lists_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let server = Server::start(&db);
    // The document itself is public: a client generator needs no key.
    let doc: Value = expect(
        server
            .client
            .get(server.url("/openapi.json"))
            .send()
            .unwrap(),
        200,
    );
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, expected);
}

#[test]
fn every_route_needs_a_live_key_and_its_role() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let keys: Vec<String> = ROLES.iter().map(|r| key(&db, r)).collect();
    let revoked = key(&db, "admin");
    let id = revoked
        .strip_prefix("crmc_")
        .and_then(|r| r.split('_').next())
        .unwrap()
        .to_owned();
    ok(&db, &["keys", "revoke", &id]);
    let server = Server::start(&db);
    for (method, path, least) in ROUTES {
        let url = server.url(&concrete(path));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let send = |key: Option<&str>| {
            let mut req = server.client.request(method.clone(), &url).json(&json!({}));
            if let Some(k) = key {
                req = req.bearer_auth(k);
            }
            req.send().unwrap()
        };
        for (presented, code) in [
            (None, "missing_key"),
            (Some("crmc_1_not-the-secret"), "invalid_key"),
            (Some("nonsense"), "invalid_key"),
            (Some(revoked.as_str()), "revoked_key"),
        ] {
            let body = expect(send(presented), 401);
            assert_eq!(body["error"]["code"], code, "{method} {path}");
            assert!(
                body["error"]["hint"]
                    .as_str()
                    .unwrap()
                    .contains("keys create")
            );
        }
        let least = ROLES.iter().position(|r| r == least).unwrap();
        for (role, key) in ROLES.iter().zip(&keys) {
            let r = send(Some(key));
            let status = r.status().as_u16();
            if ROLES.iter().position(|x| x == role).unwrap() < least {
                let body = expect(r, 403);
                assert_eq!(
                    body["error"]["code"], "wrong_role",
                    "{method} {path} as {role}"
                );
                assert!(body["error"]["message"].as_str().unwrap().contains(role));
            } else {
                assert!(
                    status != 401 && status != 403 && status < 500,
                    "{method} {path} as {role}: {status} {}",
                    r.text().unwrap()
                );
            }
        }
    }
}

#[test]
fn an_unknown_route_is_a_json_404() {
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let server = Server::start(&db);
    let body = expect(
        server
            .client
            .get(server.url("/no-such-thing"))
            .send()
            .unwrap(),
        404,
    );
    assert_eq!(body["error"]["code"], "no_such_route");
}
