//! `contacts filter`, `consent fill`, `consent expiring`, `links bulk` and
//! `migrate superoffice`, on a real database.

use crm_consent::pages::{self, Language};
use crm_consent::store::Store;
use serde_json::Value;

use super::support::Crm;

/// Anna: newsletter given 2025-03-01 (ends 2026-02-29... 365 days later);
/// Bob: newsletter given 2025-12-01; Cora: a company, restricted, nothing.
fn three() -> (Crm, String, String, String) {
    let crm = Crm::ready();
    let anna = crm.contact("Anna", &[]);
    let bob = crm.contact("Bob", &[]);
    let cora =
        crm.json(&["contacts", "add", "--name", "Cora", "--kind", "company"])["id"].to_string();
    for (who, date) in [(&anna, "2025-03-01"), (&bob, "2025-12-01")] {
        crm.ok(&[
            "consent",
            "grant",
            who,
            "newsletter",
            "--given-at",
            date,
            "--method",
            "email",
        ]);
    }
    crm.ok(&["contacts", "flag", &cora, "--restrict"]);
    (crm, anna, bob, cora)
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            c["id"]
                .as_i64()
                .or(c["contact"].as_i64())
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn contacts_filter_selects_by_consent_kind_and_flags() {
    let (crm, anna, bob, cora) = three();
    let f = |args: &[&str]| {
        let mut all = vec!["contacts", "filter"];
        all.extend(args);
        ids(&crm.json(&all))
    };
    assert_eq!(f(&[]), [anna.as_str(), bob.as_str(), cora.as_str()]);
    assert_eq!(
        f(&["--consent-type", "newsletter", "--valid"]),
        [anna.as_str(), bob.as_str()]
    );
    assert_eq!(
        f(&["--consent-type", "newsletter", "--not-valid"]),
        [cora.as_str()]
    );
    assert_eq!(f(&["--expiring-before", "2026-06-01"]), [anna.as_str()]);
    assert_eq!(f(&["--has-method", "email"]), [anna.as_str(), bob.as_str()]);
    assert_eq!(f(&["--kind", "company"]), [cora.as_str()]);
    assert_eq!(f(&["--restricted", "true"]), [cora.as_str()]);
    assert_eq!(
        f(&["--restricted", "false", "--has-status", "given"]),
        [anna.as_str(), bob.as_str()]
    );
    // At a later --now, Anna's has expired.
    assert_eq!(
        ids(&crm.json(&["contacts", "filter", "--valid", "--now", "2026-04-01"])),
        [bob.as_str()]
    );
    let text = crm.ok(&["contacts", "filter", "--kind", "company"]);
    assert!(text.contains("Cora"), "{text}");
    let (_, e) = crm.json_err(&["contacts", "filter", "--has-status", "gvien"]);
    assert_eq!(e["error"]["code"], "unknown_code");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`gvien`") && message.contains("given"),
        "{message}"
    );
}

#[test]
fn consent_fill_writes_a_ledger_entry_per_change_in_one_go() {
    let (crm, anna, bob, cora) = three();
    let fill = [
        "consent", "fill", "--kind", "person", "--type", "email", "--status", "given", "--way",
        "paper",
    ];
    // An unknown status writes nothing at all.
    let (_, e) = crm.json_err(&[&fill[..7], &["gvien", "--way", "paper"]].concat());
    assert_eq!(e["error"]["code"], "unknown_code");
    assert_eq!(crm.history_len(&anna), 1);
    let dry = crm.json(&[&fill[..], &["--dry-run"]].concat());
    assert_eq!(dry["dry_run"], true);
    assert_eq!(crm.history_len(&anna), 1, "a dry run writes nothing");
    let done = crm.json(&fill);
    assert_eq!(ids(&done["changed"]), [anna.as_str(), bob.as_str()]);
    assert_eq!(done["changed"], {
        let mut d = dry["changed"].clone();
        for (c, real) in d
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .zip(done["changed"].as_array().unwrap())
        {
            c["seq"] = real["seq"].clone();
        }
        d
    });
    for who in [anna.as_str(), bob.as_str()] {
        assert_eq!(crm.history_len(who), 2);
        let timeline = crm.json(&["timeline", who]);
        let last = timeline.as_array().unwrap().last().unwrap().clone();
        assert!(
            last["summary"]
                .as_str()
                .unwrap()
                .contains("consent `email`"),
            "{last}"
        );
    }
    assert_eq!(crm.history_len(&cora), 0, "a company is not a person");
    let again = crm.json(&fill);
    assert!(again["changed"].as_array().unwrap().is_empty());
    assert_eq!(
        again["skipped"],
        serde_json::json!([anna.parse::<i64>().unwrap(), bob.parse::<i64>().unwrap()])
    );
    assert_eq!(crm.json(&["ledger", "verify"])["ok"], true);
}

fn read_csv(path: &std::path::Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        r.headers().unwrap(),
        vec!["contact_id", "email", "url", "consent_types", "expires_at"]
    );
    r.records().map(Result::unwrap).collect()
}

fn token(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

#[test]
fn bulk_links_are_written_as_csv_and_open_the_form() {
    let (crm, anna, bob, _) = three();
    let file = crm.dir.path().join("links.csv");
    let out = crm.ok(&[
        "links",
        "bulk",
        "--kind",
        "person",
        "--types",
        "email,newsletter",
        "--csv",
        file.to_str().unwrap(),
    ]);
    assert!(out.contains("wrote 2 form links"), "{out}");
    let rows = read_csv(&file);
    let who: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(who, [anna.as_str(), bob.as_str()]);
    assert_eq!(&rows[0][1], "anna@example.com");
    assert_eq!(&rows[0][3], "email newsletter");
    // Links are issued on the store's clock, never a caller's --now.
    chrono::DateTime::parse_from_rfc3339(&rows[0][4]).unwrap();
    let store = Store::open(&crm.db).unwrap();
    let page = pages::form_page(&store, token(&rows[1][2]), Language::En).unwrap();
    let codes: Vec<_> = page.consents.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["email", "newsletter"]);
    let (_, e) = crm.json_err(&["links", "bulk", "--types", "newsleter"]);
    assert_eq!(e["error"]["code"], "unknown_code");
}

#[test]
fn expiring_consents_and_their_reconsent_links() {
    let (crm, anna, bob, _) = three();
    let soon = crm.json(&["consent", "expiring", "--within", "90"]);
    assert_eq!(ids(&soon), [anna.as_str()]);
    assert_eq!(soon[0]["consent_type"], "newsletter");
    assert!(
        soon[0]["valid_until"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-01"),
        "{soon}"
    );
    let year = crm.json(&["consent", "expiring", "--within", "365"]);
    assert_eq!(ids(&year), [anna.as_str(), bob.as_str()]);
    // Nothing ends within 90 days of a --now after Anna's expired.
    let later = crm.json(&[
        "consent",
        "expiring",
        "--within",
        "90",
        "--now",
        "2026-04-01",
    ]);
    assert!(later.as_array().unwrap().is_empty(), "{later}");
    let file = crm.dir.path().join("reconsent.csv");
    crm.ok(&[
        "consent",
        "expiring",
        "--within",
        "90",
        "--csv",
        file.to_str().unwrap(),
    ]);
    let rows = read_csv(&file);
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], anna.as_str());
    assert_eq!(&rows[0][3], "newsletter");
    let store = Store::open(&crm.db).unwrap();
    let page = pages::form_page(&store, token(&rows[0][2]), Language::En).unwrap();
    assert_eq!(page.consents.len(), 1);
}

#[test]
fn the_superoffice_migration_run_twice_changes_nothing_the_second_time() {
    let (crm, anna, _bob, cora) = three();
    let marks = crm.dir.path().join("marks.csv");
    std::fs::write(
        &marks,
        format!("contact,mailed,no_mailings\n{anna},yes,no\nbob@example.com,yes,yes\n"),
    )
    .unwrap();
    let m = marks.to_str().unwrap();
    let dry = crm.json(&["migrate", "superoffice", "--marks", m, "--dry-run"]);
    let head = crm.json(&["ledger", "verify"])["head"].clone();
    assert_eq!(
        crm.json(&["ledger", "verify"])["head"],
        head,
        "a dry run writes nothing"
    );
    let first = crm.json(&["migrate", "superoffice", "--marks", m]);
    assert_eq!(first["changes"], dry["changes"]);
    assert_eq!(
        first["purposes_created"],
        serde_json::json!(["sales_and_service", "e_marketing"])
    );
    assert_eq!(first["sales_and_service"], 3);
    assert_eq!(first["e_marketing_on"], 1);
    assert_eq!(first["e_marketing_withdrawn"], 1);
    assert_eq!(first["changed"], 7);
    let show = crm.json(&["contacts", "show", &cora]);
    assert_eq!(
        show["bases"],
        serde_json::json!([["sales_and_service", "legitimate_interest"]])
    );
    let head = crm.json(&["ledger", "verify"])["head"].clone();
    let second = crm.json(&["migrate", "superoffice", "--marks", m]);
    assert_eq!(second["changed"], 0, "{second}");
    assert_eq!(crm.json(&["ledger", "verify"])["head"], head);
    let text = crm.ok(&["migrate", "superoffice", "--marks", m]);
    assert!(
        text.starts_with("changed 0 things over 3 contacts"),
        "{text}"
    );
}
