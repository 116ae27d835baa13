//! The contact pages in a real headless Chromium, against the real binary's
//! `serve` on loopback and a real database file.

#[path = "../api/support.rs"]
#[allow(dead_code)]
mod support;

mod browser;

use std::path::Path;

use chrono::{Duration, Utc};
use crm_consent::{ContactId, Store};
use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::Value;

use browser::browser;
use support::{Server, key, ok, ready};

/// A form link's path for contact 1, offering `types`.
fn form_path(db: &Path, types: &str) -> String {
    let link: Value = serde_json::from_str(&ok(
        db,
        &["--json", "consent", "link", "1", "--types", types],
    ))
    .unwrap();
    link["path"].as_str().unwrap().to_owned()
}

fn ledger_entries(server: &Server, key: &str) -> u64 {
    let report = server.read(key, "/ledger/verify");
    assert_eq!(report["ok"], true, "{report}");
    report["entries"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ticked_form_is_a_ledger_entry_with_the_visitor_as_evidence() {
    let Some(b) = browser("form").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let reader = key(&db, "reader");
    let path = form_path(&db, "email,newsletter");
    let server = tokio::task::spawn_blocking(move || Server::start(&db))
        .await
        .unwrap();
    b.client
        .goto(&format!("{}{path}", server.base))
        .await
        .unwrap();
    let boxes = b
        .client
        .find_all(Locator::Css("input[type=checkbox][name=consent]"))
        .await
        .unwrap();
    assert_eq!(boxes.len(), 2);
    // Every box has a label the browser associates with it.
    for cb in &boxes {
        let id = cb.attr("id").await.unwrap().unwrap();
        b.client
            .find(Locator::Css(&format!("label[for='{id}']")))
            .await
            .unwrap();
    }
    b.client
        .find(Locator::Css("fieldset legend"))
        .await
        .unwrap();
    b.client
        .find(Locator::Css("input[value=email]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The click only starts the page's load: wait for the saved page.
    b.client
        .wait()
        .for_element(Locator::Css("p[role=status]"))
        .await
        .unwrap();
    let text = b
        .client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.is_empty());
    let (history, consents) = tokio::task::spawn_blocking(move || {
        let history = server.read(&reader, "/contacts/1/consents/history");
        let consents = server.read(&reader, "/contacts/1/consents");
        ledger_entries(&server, &reader);
        (history, consents)
    })
    .await
    .unwrap();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["consent_type"], "email", "{history}");
    assert_eq!(last["status_code"], "given");
    assert_eq!(last["method"], "crm_form");
    assert_eq!(
        consents.as_array().unwrap().len(),
        1,
        "only the ticked box: {consents}"
    );
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_or_forged_link_shows_a_friendly_page_and_changes_nothing() {
    let Some(b) = browser("expired").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let reader = key(&db, "reader");
    let fresh = form_path(&db, "email");
    // A link issued 15 days ago: past Livespace's 14.
    let mut store = Store::open(&db).unwrap();
    store.set_clock(|| Utc::now() - Duration::days(15));
    let expired = crm_consent::pages::issue_form_link(&store, ContactId(1), &["email"])
        .unwrap()
        .path;
    drop(store);
    let forged = {
        let (head, sig) = fresh.rsplit_once('.').unwrap();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        format!("{head}.{flipped}{}", &sig[1..])
    };
    let server = tokio::task::spawn_blocking(move || Server::start(&db))
        .await
        .unwrap();
    let base = server.base.clone();
    let (server, before) = tokio::task::spawn_blocking(move || {
        let before = ledger_entries(&server, &reader);
        (server, (before, reader))
    })
    .await
    .unwrap();
    let (before, reader) = before;
    for (path, status) in [(&expired, 410), (&forged, 403)] {
        // The status, over plain HTTP; a POST changes nothing either.
        let url = format!("{base}{path}");
        let client = reqwest::Client::new();
        assert_eq!(
            client.get(&url).send().await.unwrap().status().as_u16(),
            status,
            "{path}"
        );
        let posted = client
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("consent=email")
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status().as_u16(), status);
        b.client.goto(&url).await.unwrap();
        let text = b
            .client
            .find(Locator::Css("main"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            b.client
                .find_all(Locator::Css("form"))
                .await
                .unwrap()
                .is_empty(),
            "{text}"
        );
        assert!(
            !text.contains("error:") && !text.to_lowercase().contains("panic"),
            "{text}"
        );
    }
    let after = tokio::task::spawn_blocking(move || ledger_entries(&server, &reader))
        .await
        .unwrap();
    assert_eq!(after, before);
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_form_can_be_submitted_with_the_keyboard_alone() {
    let Some(b) = browser("keyboard").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let reader = key(&db, "reader");
    let path = form_path(&db, "email");
    let server = tokio::task::spawn_blocking(move || Server::start(&db))
        .await
        .unwrap();
    b.client
        .goto(&format!("{}{path}", server.base))
        .await
        .unwrap();
    let body = b.client.find(Locator::Css("body")).await.unwrap();
    // Tab to the checkbox, Space ticks it, Tab to the button, Enter submits.
    body.send_keys(&Key::Tab.to_string()).await.unwrap();
    let focused = b.client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("type").await.unwrap().as_deref(),
        Some("checkbox")
    );
    focused.send_keys(" ").await.unwrap();
    focused.send_keys(&Key::Tab.to_string()).await.unwrap();
    let button = b.client.active_element().await.unwrap();
    assert_eq!(
        button.attr("type").await.unwrap().as_deref(),
        Some("submit")
    );
    button.send_keys(&Key::Enter.to_string()).await.unwrap();
    b.client
        .wait()
        .for_element(Locator::Css("p[role=status]"))
        .await
        .unwrap();
    let consents =
        tokio::task::spawn_blocking(move || server.read(&reader, "/contacts/1/consents"))
            .await
            .unwrap();
    assert_eq!(consents[0]["consent_type"], "email", "{consents}");
    assert_eq!(consents[0]["valid_now"], true);
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn opting_out_of_everything_takes_one_click_and_the_next_newsletter_skips_the_contact() {
    let Some(b) = browser("opt-out").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let op = key(&db, "operator");
    ok(
        &db,
        &["consent", "grant", "1", "newsletter", "--method", "email"],
    );
    let link: Value =
        serde_json::from_str(&ok(&db, &["--json", "links", "preferences", "1"])).unwrap();
    let path = link["path"].as_str().unwrap().to_owned();
    let server = tokio::task::spawn_blocking(move || Server::start(&db))
        .await
        .unwrap();
    let base = server.base.clone();
    let (server, before) = tokio::task::spawn_blocking(move || {
        let sent = server
            .post(&op, "/hooks/bulk", serde_json::json!({"dry_run": true}))
            .send()
            .unwrap();
        let sent = support::expect(sent, 200);
        (server, (sent, op))
    })
    .await
    .unwrap();
    let (before, op) = before;
    assert_eq!(before["recipients"], serde_json::json!([1]), "{before}");
    b.client.goto(&format!("{base}{path}")).await.unwrap();
    b.client
        .find(Locator::Id("opt-out-all"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.client
        .wait()
        .for_element(Locator::Css("p.saved"))
        .await
        .unwrap();
    let after = tokio::task::spawn_blocking(move || {
        let sent = server
            .post(&op, "/hooks/bulk", serde_json::json!({"dry_run": true}))
            .send()
            .unwrap();
        let timeline = server.read(&op, "/contacts/1/timeline");
        (support::expect(sent, 200), timeline)
    })
    .await
    .unwrap();
    assert_eq!(after.0["recipients"], serde_json::json!([]), "{}", after.0);
    assert_eq!(after.0["skipped"][0]["code"], "opted_out_of_all");
    assert!(
        after
            .1
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "preference")
    );
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consent_title_with_a_script_tag_is_shown_as_text() {
    let Some(b) = browser("escaping").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = ready(dir.path());
    let title = "<script>window.pwned=1</script>Offers";
    ok(
        &db,
        &[
            "types",
            "add",
            "offers",
            "--title",
            title,
            "--text",
            "<b>bold</b> offers",
            "--channels",
            "single_email",
        ],
    );
    let path = form_path(&db, "offers");
    let server = tokio::task::spawn_blocking(move || Server::start(&db))
        .await
        .unwrap();
    b.client
        .goto(&format!("{}{path}", server.base))
        .await
        .unwrap();
    let text = b
        .client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(title), "{text}");
    assert!(text.contains("<b>bold</b>"), "{text}");
    let pwned = b
        .client
        .execute("return window.pwned === undefined", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, serde_json::json!(true));
    b.client.clone().close().await.unwrap();
    drop(server);
}
