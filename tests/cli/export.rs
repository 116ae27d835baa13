//! `export`: a contact's whole record (Art. 15 and 20), checked field by
//! field against what the other commands recorded and show.

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::support::Crm;

/// The real clock: a new text version counts from when it is recorded, so
/// the consent that names it must be given after that, by this clock.
fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Runs with `--now` set to the real clock.
fn live(crm: &Crm, args: &[&str]) -> String {
    let at = now();
    let mut with = args.to_vec();
    with.extend(["--now", &at]);
    crm.ok(&with)
}

fn live_json(crm: &Crm, args: &[&str]) -> Value {
    let mut with = args.to_vec();
    with.push("--json");
    serde_json::from_str(&live(crm, &with)).unwrap()
}

/// What was recorded for Anna, and the ids the export must name.
struct Recorded {
    anna: String,
    acme: String,
    bob: String,
    bulk: Value,
    justified: Value,
}

/// Grant, withdraw, a new text and a regrant with evidence, a purpose
/// basis, a subscription, a justification through the real plugin, a bulk
/// send that reached Anna, a relation and an objection.
fn record(crm: &Crm) -> Recorded {
    let anna = crm.contact("Anna", &[]);
    let bob = crm.contact("Bob", &[]);
    let acme = live_json(
        crm,
        &["contacts", "add", "--name", "Acme", "--kind", "company"],
    )["id"]
        .to_string();
    live(
        crm,
        &[
            "consent",
            "grant",
            &anna,
            "newsletter",
            "--method",
            "email",
            "--given-at",
            "2025-06-01",
            "--source",
            "web form",
            "--evidence",
            r#"{"ip":"192.0.2.1"}"#,
        ],
    );
    live(
        crm,
        &[
            "consent",
            "withdraw",
            &anna,
            "newsletter",
            "--method",
            "email",
        ],
    );
    live(
        crm,
        &[
            "types",
            "edit",
            "newsletter",
            "--text",
            "I want the weekly newsletter",
        ],
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    live(
        crm,
        &[
            "consent",
            "grant",
            &anna,
            "newsletter",
            "--evidence",
            r#"{"ip":"192.0.2.9","user_agent":"Firefox"}"#,
        ],
    );
    live(crm, &["consent", "grant", &bob, "newsletter"]);
    live(
        crm,
        &[
            "purposes",
            "add",
            "marketing",
            "--name",
            "Marketing",
            "--direct-marketing",
        ],
    );
    live(
        crm,
        &[
            "contacts",
            "basis",
            &anna,
            "marketing",
            "legitimate_interest",
        ],
    );
    live(
        crm,
        &["subscriptions", "set", &anna, "newsletter", "opted_in"],
    );
    let check = live_json(crm, &["check", "dial", &anna]);
    assert_eq!(check["outcome"], "justify", "{check}");
    let justified = live_json(
        crm,
        &[
            "justify",
            &anna,
            "dial",
            "--reason",
            "existing_customer",
            "--text",
            "asked for a callback",
        ],
    );
    let bulk = live_json(crm, &["check", "bulk"]);
    let n = |id: &str| json!(id.parse::<i64>().unwrap());
    assert!(
        bulk["recipients"].as_array().unwrap().contains(&n(&anna)),
        "{bulk}"
    );
    assert!(
        bulk["recipients"].as_array().unwrap().contains(&n(&bob)),
        "{bulk}"
    );
    live(
        crm,
        &["contacts", "relate", &anna, &acme, "employee_company"],
    );
    live(crm, &["contacts", "flag", &anna, "--object"]);
    Recorded {
        anna,
        acme,
        bob,
        bulk,
        justified,
    }
}

#[test]
fn the_json_export_holds_everything_recorded_in_dpv_terms() {
    let crm = Crm::ready();
    let r = record(&crm);
    let e = live_json(&crm, &["export", &r.anna, "--format", "json"]);
    let anna: i64 = r.anna.parse().unwrap();

    assert_eq!(e["@context"]["dpv"], "https://w3id.org/dpv#");
    let shown = crm.json(&["contacts", "show", &r.anna]);
    let subject = &e["data_subject"];
    assert_eq!(subject["@type"], "dpv:DataSubject");
    assert_eq!(subject["id"], anna);
    for field in ["kind", "name", "email", "phone", "created_at"] {
        assert_eq!(subject[field], shown[field], "{field}");
    }
    assert_eq!(subject["name"], "Anna");
    assert_eq!(subject["phone"], "+1 555");
    assert_eq!(
        subject["flags"],
        json!({"restricted": false, "objected": true, "opted_out_of_all": false})
    );
    assert_eq!(e["controller"]["set"], false);

    consent_record(&crm, &e, &r);

    let purposes = e["purposes"].as_array().unwrap();
    assert_eq!(purposes.len(), 1, "{purposes:?}");
    assert_eq!(purposes[0]["code"], "marketing");
    assert_eq!(purposes[0]["legal_basis"], "dpv:LegitimateInterest");
    assert_eq!(purposes[0]["legal_basis_code"], "legitimate_interest");
    assert_eq!(purposes[0]["direct_marketing"], true);
    assert_eq!(e["subscriptions"][0]["code"], "newsletter");
    assert_eq!(e["subscriptions"][0]["state"], "opted_in");
    assert_eq!(e["subscriptions"].as_array().unwrap().len(), 1);
    let relation = &e["relations"][0];
    assert_eq!(relation["from"], anna);
    assert_eq!(relation["to"].to_string(), r.acme);
    assert_eq!(relation["kind"], "employee_company");

    decisions(&crm, &e, &r);
    assert_eq!(e["timeline"], crm.json(&["timeline", &r.anna]));
    // The snapshot is the ledger's head when read.
    let head = crm.json(&["ledger", "verify"])["head"].clone();
    assert_eq!(e["snapshot"]["ledger_seq"], head["seq"]);
    assert_eq!(e["snapshot"]["ledger_hash"], head["hash"]);
}

/// The newsletter record: ISO/IEC TS 27560 fields, and each event against
/// `consent history`.
fn consent_record(crm: &Crm, e: &Value, r: &Recorded) {
    let records = e["consent_records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "only the newsletter has entries");
    let rec = &records[0];
    let anna: i64 = r.anna.parse().unwrap();
    assert_eq!(rec["@type"], json!(["dpv:ConsentRecord", "dpv:Consent"]));
    assert_eq!(rec["record_id"], format!("{anna}:newsletter"));
    assert!(rec["schema_version"].as_str().unwrap().contains("27560"));
    assert_eq!(rec["pii_principal_id"], anna);
    assert_eq!(
        rec["data_subject"],
        format!("urn:crm-consent:contact:{anna}")
    );
    assert_eq!(rec["purpose"]["code"], "newsletter");
    assert_eq!(rec["purpose"]["title"], "Newsletter");
    assert_eq!(rec["processing"]["channels"], json!(["bulk_email"]));
    assert_eq!(rec["status"], "dpv:ConsentGiven");
    assert_eq!(rec["status_code"], "given");
    assert_eq!(rec["legal_basis"], "dpv:Consent");
    assert_eq!(rec["valid"], true);
    assert_eq!(rec["notice"]["version"], 2);
    assert_eq!(rec["notice"]["text"], "I want the weekly newsletter");
    assert_eq!(rec["indication_method"], "crm_form");

    let history = crm.json(&["consent", "history", &r.anna]);
    let history = history.as_array().unwrap();
    let events = rec["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(rec["current_seq"], history[2]["seq"]);
    for (ev, h) in events.iter().zip(history) {
        for (ours, theirs) in [
            ("seq", "seq"),
            ("hash", "hash"),
            ("prev_hash", "prev_hash"),
            ("status_code", "status_code"),
            ("legal_basis_code", "legal_basis"),
            ("indicated_at", "given_at"),
            ("recorded_at", "recorded_at"),
            ("indication_method", "method"),
            ("source", "source"),
            ("actor", "actor"),
            ("evidence_sha256", "evidence_hash"),
        ] {
            assert_eq!(ev[ours], h[theirs], "{ours} of entry {}", h["seq"]);
        }
        assert_eq!(ev["notice"]["version"], h["text_version"]);
        assert_eq!(ev["notice"]["text"], h["text"]);
        assert_eq!(ev["legal_basis"], "dpv:Consent");
    }
    let statuses: Vec<&Value> = events.iter().map(|ev| &ev["status"]).collect();
    assert_eq!(
        statuses,
        [
            &json!("dpv:ConsentGiven"),
            &json!("dpv:ConsentWithdrawn"),
            &json!("dpv:ConsentGiven")
        ]
    );
    assert_eq!(events[0]["indicated_at"], "2025-06-01T00:00:00Z");
    assert_eq!(events[0]["source"], "web form");
    assert_eq!(events[0]["evidence"], json!({"ip": "192.0.2.1"}));
    assert_eq!(events[1]["evidence"], Value::Null);
    assert_eq!(
        events[2]["evidence"],
        json!({"ip": "192.0.2.9", "user_agent": "Firefox"})
    );
    assert_eq!(events[0]["indication_method_name"], "By email");
    assert_eq!(events[0]["notice"]["text"], "I want the newsletter");
    assert_eq!(events[0]["expires_at"], "2026-06-01T00:00:00Z");
    assert_eq!(
        events[1]["expires_at"],
        Value::Null,
        "a withdrawal does not expire"
    );
    let given: chrono::DateTime<Utc> = events[2]["indicated_at"].as_str().unwrap().parse().unwrap();
    let expires = (given + Duration::days(365)).to_rfc3339_opts(SecondsFormat::Secs, true);
    assert_eq!(events[2]["expires_at"], expires);
    assert_eq!(rec["expires_at"], expires);
}

/// The justification, the plugin's own decisions and the bulk send.
fn decisions(crm: &Crm, e: &Value, r: &Recorded) {
    let logged = crm.json(&["decisions", &r.anna]);
    let logged = logged.as_array().unwrap();
    let justified: Vec<&Value> = logged
        .iter()
        .filter(|d| d["outcome"] == "justified")
        .collect();
    assert_eq!(justified.len(), 1);
    let j = &e["justifications"][0];
    assert_eq!(e["justifications"].as_array().unwrap().len(), 1);
    assert_eq!(j["decision"], r.justified["decision"]);
    assert_eq!(j["decision"], justified[0]["id"]);
    assert_eq!(j["outcome"], "justified");
    assert_eq!(j["channel"], "phone");
    assert_eq!(j["missing"], "no_consent");
    assert_eq!(j["reason"], "existing_customer");
    assert!(j["reason_label"].as_str().unwrap().contains("soft opt-in"));
    assert_eq!(j["text"], "asked for a callback");
    assert_eq!(j["plugin_sha256"], justified[0]["plugin_sha256"]);
    assert_eq!(j["at"], justified[0]["at"]);
    let others: Vec<&Value> = logged
        .iter()
        .filter(|d| d["outcome"] != "justified")
        .collect();
    assert_eq!(
        e["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        others
    );
    assert_eq!(others[0]["outcome"], "justify");

    let bulk = e["bulk_sends"].as_array().unwrap();
    assert_eq!(bulk.len(), 1, "{bulk:?}");
    assert_eq!(bulk[0]["decision"], r.bulk["logged"]);
    assert_eq!(bulk[0]["outcome"], "allow");
    assert_eq!(bulk[0]["channel"], "bulk_email");
    assert_eq!(bulk[0]["plugin_sha256"], r.bulk["plugin_sha256"]);
    // The other recipients are other people's data.
    assert!(bulk[0].get("recipients").is_none(), "{bulk:?}");
    let text = e.to_string();
    assert!(!text.contains("bob@example.com") && !text.contains("\"Bob\""));
    let _ = &r.bob;
}

#[test]
fn the_csv_export_has_a_kind_column_and_parses_back() {
    let crm = Crm::ready();
    let r = record(&crm);
    let out = live(&crm, &["export", &r.anna, "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, crm_consent::export::CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let of = |kind: &str| -> Vec<&csv::StringRecord> {
        rows.iter().filter(|r| &r[col("kind")] == kind).collect()
    };
    assert!(rows.iter().all(|row| row[col("contact_id")] == *r.anna));
    let field = |subject: &str| {
        of("profile")
            .into_iter()
            .find(|row| &row[col("subject")] == subject)
            .unwrap()[col("value")]
        .to_owned()
    };
    assert_eq!(field("name"), "Anna");
    assert_eq!(field("email"), "anna@example.com");
    assert_eq!(field("phone"), "+1 555");
    assert_eq!(field("kind"), "person");
    let flag = |subject: &str| {
        of("flag")
            .into_iter()
            .find(|row| &row[col("subject")] == subject)
            .unwrap()[col("value")]
        .to_owned()
    };
    assert_eq!(
        (flag("restricted"), flag("objected")),
        ("false".into(), "true".into())
    );

    let history = crm.json(&["consent", "history", &r.anna]);
    let consents = of("consent");
    assert_eq!(consents.len(), 3);
    for (row, h) in consents.iter().zip(history.as_array().unwrap()) {
        assert_eq!(row[col("ref")], h["seq"].to_string());
        assert_eq!(row[col("hash")], h["hash"]);
        assert_eq!(row[col("subject")], *"newsletter");
        assert_eq!(row[col("value")], h["status_code"]);
        assert_eq!(row[col("method")], h["method"]);
        assert_eq!(row[col("text")], h["text"]);
        assert_eq!(row[col("text_version")], h["text_version"].to_string());
        assert_eq!(row[col("legal_basis")], *"consent");
        assert_eq!(row[col("at")], h["given_at"]);
        assert_eq!(row[col("recorded_at")], h["recorded_at"]);
    }
    assert_eq!(consents[1][col("meaning")], *"dpv:ConsentWithdrawn");
    let evidence: Value = serde_json::from_str(&consents[2][col("evidence")]).unwrap();
    assert_eq!(
        evidence,
        json!({"ip": "192.0.2.9", "user_agent": "Firefox"})
    );
    assert_eq!(consents[2][col("detail")], *"in force");

    let purpose = &of("purpose")[0];
    assert_eq!(
        (&purpose[col("subject")], &purpose[col("value")]),
        ("marketing", "legitimate_interest")
    );
    assert_eq!(purpose[col("meaning")], *"dpv:LegitimateInterest");
    let sub = &of("subscription")[0];
    assert_eq!(
        (&sub[col("subject")], &sub[col("value")]),
        ("newsletter", "opted_in")
    );
    let rel = &of("relation")[0];
    assert_eq!(
        (&rel[col("subject")], &rel[col("value")]),
        ("employee_company", r.acme.as_str())
    );
    let j = &of("justification")[0];
    assert_eq!(j[col("ref")], r.justified["decision"].to_string());
    assert_eq!(
        (&j[col("subject")], &j[col("value")]),
        ("phone", "existing_customer")
    );
    assert_eq!(j[col("detail")], *"asked for a callback");
    assert_eq!(of("decision")[0][col("value")], *"justify");
    let bulk = &of("bulk_send")[0];
    assert_eq!(bulk[col("ref")], r.bulk["logged"].to_string());
    assert_eq!(bulk[col("value")], *"allow");
    let timeline = crm.json(&["timeline", &r.anna]);
    assert_eq!(of("timeline").len(), timeline.as_array().unwrap().len());
    assert_eq!(of("timeline")[0][col("detail")], timeline[0]["summary"]);
}

#[test]
fn an_export_goes_to_a_file_and_names_the_controller_once_set() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &["newsletter"]);
    let file = crm.dir.path().join("anna.json");
    let said = crm.ok(&["export", &id, "--out", file.to_str().unwrap()]);
    assert!(
        said.starts_with(&format!("exported contact {id} as json to ")),
        "{said}"
    );
    let e: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(e["controller"]["set"], false);
    assert!(
        e["controller"]["note"]
            .as_str()
            .unwrap()
            .contains("setup controller")
    );

    crm.ok(&["setup", "controller", "Example Ltd, privacy@example.com"]);
    assert_eq!(
        crm.json(&["setup", "controller"])["controller"],
        "Example Ltd, privacy@example.com"
    );
    let e: Value = serde_json::from_str(&crm.ok(&["export", &id])).unwrap();
    assert_eq!(e["controller"]["name"], "Example Ltd, privacy@example.com");
    assert_eq!(
        e["consent_records"][0]["controller"]["name"],
        "Example Ltd, privacy@example.com"
    );
}

#[test]
fn an_unknown_contact_or_format_is_refused_clearly() {
    let crm = Crm::ready();
    let (status, err) = crm.json_err(&["export", "999"]);
    assert_eq!(status, 1);
    assert_eq!(err["error"]["code"], "unknown_contact", "{err}");
    assert!(
        err["error"]["message"].as_str().unwrap().contains("999"),
        "{err}"
    );
    let id = crm.contact("Anna", &[]);
    let err = crm
        .run(&["export", &id, "--format", "xml"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("`xml`") && err.contains("json, csv"), "{err}");
}

/// Another connection records consents in pairs (two types, one
/// transaction each) while exports run: every export must see whole pairs,
/// a timeline entry per ledger entry, a projection at the last entry and the
/// ledger head at the last entry. Reading the parts in separate
/// transactions breaks these within a few hundred writes.
#[test]
fn an_export_is_one_snapshot_while_another_connection_writes() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use crm_consent::export::export_contact;
    use crm_consent::store::{ContactId, LegalBasis, NewConsent, Store, TimelineKind};

    let crm = Crm::ready();
    let contact = ContactId(crm.contact("Anna", &[]).parse().unwrap());
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, done) = (crm.db.clone(), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut store = Store::open(&db).unwrap();
            for n in 0..300 {
                let pair = ["newsletter", "email"].map(|t| NewConsent {
                    contact,
                    consent_type: t.into(),
                    status: if n % 2 == 0 { "given" } else { "withdrawn" }.into(),
                    method: "email".into(),
                    legal_basis: LegalBasis::Consent,
                    given_at: Utc::now(),
                    source: "snapshot test".into(),
                    actor: "writer".into(),
                    evidence: Some(json!({ "n": n })),
                    text_version: None,
                });
                store.record_consents(&pair).unwrap();
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let reader = Store::open(&crm.db).unwrap();
    let mut exports = 0;
    while !done.load(Ordering::SeqCst) {
        let e = export_contact(&reader, contact, Utc::now()).unwrap();
        let counts: Vec<usize> = e.consents.iter().map(|r| r.events.len()).collect();
        let events: usize = counts.iter().sum();
        let notes = e
            .timeline
            .iter()
            .filter(|t| t.kind == TimelineKind::ConsentChange)
            .count();
        assert_eq!(notes, events, "timeline and ledger of different moments");
        if events > 0 {
            assert_eq!(counts, [counts[0], counts[0]], "half a transaction seen");
            for r in &e.consents {
                let last = r.events.last().unwrap();
                assert_eq!(r.current.as_ref().unwrap().seq, last.seq);
                assert_eq!(r.current.as_ref().unwrap().status, last.status);
            }
            let newest = e
                .consents
                .iter()
                .map(|r| r.events.last().unwrap().seq)
                .max();
            assert_eq!(Some(e.ledger_head.seq), newest, "head of another moment");
        }
        exports += 1;
    }
    writer.join().unwrap();
    assert!(exports > 10, "only {exports} exports ran during the writes");
}

/// A filter's list of contacts: one snapshot, in the order given, each with
/// its own bulk sends; an unknown id among them exports none.
#[test]
fn several_contacts_export_from_one_call_in_the_order_given() {
    use crm_consent::export::{ExportFormat, export_contacts, render};
    use crm_consent::store::{ContactId, Store};

    let crm = Crm::ready();
    let anna = crm.contact("Anna", &["newsletter"]);
    let bob = crm.contact("Bob", &["newsletter"]);
    let cleo = crm.contact("Cleo", &[]);
    let bulk = crm.json(&["check", "bulk"]);
    let id = |s: &str| ContactId(s.parse().unwrap());
    let store = Store::open_read_only(&crm.db).unwrap();
    let list = [id(&bob), id(&cleo), id(&anna)];
    let exports = export_contacts(&store, &list, Utc::now()).unwrap();
    let ids: Vec<ContactId> = exports.iter().map(|e| e.contact.id).collect();
    assert_eq!(ids, list);
    let sends: Vec<usize> = exports.iter().map(|e| e.bulk_sends.len()).collect();
    assert_eq!(sends, [1, 0, 1], "Cleo had no consent, so no newsletter");
    assert_eq!(
        exports[0].bulk_sends[0].decision.0,
        bulk["logged"].as_i64().unwrap()
    );
    assert!(
        exports
            .iter()
            .all(|e| e.ledger_head == exports[0].ledger_head)
    );

    let csv = render(ExportFormat::Csv, &exports).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let mut seen: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    seen.dedup();
    assert_eq!(seen, [bob.clone(), cleo, anna.clone()]);
    let json: Value =
        serde_json::from_slice(&render(ExportFormat::Json, &exports).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3);

    let err = export_contacts(&store, &[id(&anna), ContactId(999)], Utc::now()).unwrap_err();
    assert_eq!(err.code(), "unknown_contact");
}

#[test]
fn a_filter_exports_every_contact_it_selects_and_only_those() {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let bob = crm.contact("Bob", &[]);
    let _cid = crm.contact("Cid", &[]);
    for who in [&anna, &bob] {
        crm.ok(&[
            "consent",
            "grant",
            who,
            "newsletter",
            "--given-at",
            "2025-12-01",
        ]);
    }
    let out = crm.ok(&["export", "--consent-type", "newsletter", "--valid"]);
    let all: Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<String> = all
        .as_array()
        .expect("an array, whatever the count")
        .iter()
        .map(|e| e["data_subject"]["id"].to_string())
        .collect();
    assert_eq!(ids, vec![anna.clone(), bob.clone()], "{out}");
    // One selected contact is still an array; none is an empty one.
    let one: Value =
        serde_json::from_str(&crm.ok(&["export", "--kind", "person", "--restricted", "true"]))
            .unwrap();
    assert_eq!(one, serde_json::json!([]));
    let err = crm.err(&["export"]);
    assert!(err.contains("filter"), "{err}");
    let err = crm.err(&["export", &anna, "--consent-type", "newsletter"]);
    assert!(err.contains("not both"), "{err}");
    // CSV: every row names one of the two.
    let csv = crm.ok(&[
        "export",
        "--format",
        "csv",
        "--consent-type",
        "newsletter",
        "--valid",
    ]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let contact = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "contact_id")
        .unwrap();
    let seen: std::collections::BTreeSet<String> = reader
        .records()
        .map(|r| r.unwrap()[contact].to_owned())
        .collect();
    assert_eq!(seen, [anna, bob].into_iter().collect());
}
