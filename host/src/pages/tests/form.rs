use chrono::Duration;

use super::super::links::issue_form_link;
use super::super::{Language, PageError, form_page, submit_form};
use super::*;
use crate::store::{ConsentStatus, NewTranslation, TimelineKind};

fn ticked(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|c| (*c).to_owned()).collect()
}

#[test]
fn the_form_shows_the_current_text_and_what_was_given() {
    let (mut f, anna, _) = with_people();
    grant(&mut f.store, anna, "newsletter", "given");
    let link = issue_form_link(&f.store, anna, &["newsletter", "email"]).unwrap();
    let page = form_page(&f.store, &link.token, Language::En).unwrap();
    assert_eq!(page.contact_name, "Anna Nowak");
    let [news, email] = &page.consents[..] else {
        panic!("{page:?}")
    };
    assert!(news.given && !email.given);
    assert_eq!(
        (news.text.as_str(), news.text_version),
        ("I agree to newsletter.", 1)
    );
    assert_eq!(news.translation, None);
    // The page's checkboxes: labelled, described, the given one ticked.
    let html = &page.html;
    assert!(
        html.contains("<fieldset") && html.contains("<legend>Choose what you agree to</legend>")
    );
    assert!(
        html.contains(r#"<label for="consent-1">Newsletter</label>"#),
        "{html}"
    );
    assert!(html.contains(r#"value="newsletter" aria-describedby="consent-1-text" checked>"#));
    assert!(
        html.contains(r#"value="email" aria-describedby="consent-2-text">"#),
        "{html}"
    );
    assert!(html.contains("This link works until 2026-01-15."), "{html}");
}

#[test]
fn a_translation_is_shown_in_the_page_language_else_the_default_text() {
    let (mut f, anna, _) = with_people();
    let pl = NewTranslation {
        language: "pl".into(),
        title: "Newsletter po polsku".into(),
        text: "Chcę otrzymywać newsletter.".into(),
        version: None,
    };
    f.store.add_translation("newsletter", &pl, "admin").unwrap();
    let link = issue_form_link(&f.store, anna, &["newsletter", "email"]).unwrap();
    let page = form_page(&f.store, &link.token, Language::Pl).unwrap();
    assert_eq!(page.consents[0].text, "Chcę otrzymywać newsletter.");
    assert_eq!(page.consents[0].translation.as_deref(), Some("pl"));
    assert_eq!(page.consents[1].text, "I agree to email.");
    assert!(
        page.html.contains("Wybierz, na co się zgadzasz"),
        "{}",
        page.html
    );
    let it = form_page(&f.store, &link.token, Language::It).unwrap();
    assert_eq!(it.consents[0].text, "I agree to newsletter.");
    // A new text version has no translation yet: the default text shows.
    f.store
        .edit_consent_type(
            "newsletter",
            &crate::store::ConsentTypeEdit {
                text: Some("Monthly news.".into()),
                ..Default::default()
            },
            "admin",
        )
        .unwrap();
    let page = form_page(&f.store, &link.token, Language::Pl).unwrap();
    assert_eq!(
        (
            page.consents[0].text.as_str(),
            page.consents[0].text_version
        ),
        ("Monthly news.", 2)
    );
    // What was shown is in the hashed source of the entry.
    submit_form(
        &mut f.store,
        &link.token,
        &ticked(&["newsletter"]),
        Language::Pl,
        &visitor(),
    )
    .unwrap();
    let entry = f.store.consent_history(anna).unwrap().pop().unwrap();
    assert_eq!(entry.source, "consent form link, default text shown");
    assert_eq!(entry.text_version, 2);
    f.assert_verifies();
}

#[test]
fn ticking_gives_unticking_withdraws_and_unchanged_records_nothing() {
    let (mut f, anna, _) = with_people();
    grant(&mut f.store, anna, "email", "given");
    let link = issue_form_link(&f.store, anna, &["newsletter", "email"]).unwrap();
    let before = f.store.consent_history(anna).unwrap().len();
    let done = submit_form(
        &mut f.store,
        &link.token,
        &ticked(&["newsletter"]),
        Language::En,
        &visitor(),
    )
    .unwrap();
    let changes: Vec<_> = done
        .changes
        .iter()
        .map(|c| (c.code.as_str(), c.status))
        .collect();
    assert_eq!(
        changes,
        [
            ("newsletter", ConsentStatus::Given),
            ("email", ConsentStatus::Withdrawn)
        ]
    );
    assert_eq!(f.store.consent_history(anna).unwrap().len(), before + 2);
    // The same answer again changes nothing.
    let again = submit_form(
        &mut f.store,
        &link.token,
        &ticked(&["newsletter"]),
        Language::En,
        &visitor(),
    )
    .unwrap();
    assert!(again.changes.is_empty(), "{again:?}");
    assert_eq!(f.store.consent_history(anna).unwrap().len(), before + 2);
    assert_eq!(
        status_of(&f.store, anna, "email").as_deref(),
        Some("withdrawn")
    );
    f.assert_verifies();
}

#[test]
fn each_change_is_made_via_the_crm_form_with_the_visitor_as_evidence() {
    let (mut f, anna, _) = with_people();
    let link = issue_form_link(&f.store, anna, &["newsletter"]).unwrap();
    submit_form(
        &mut f.store,
        &link.token,
        &ticked(&["newsletter"]),
        Language::It,
        &visitor(),
    )
    .unwrap();
    let entry = f.store.consent_history(anna).unwrap().pop().unwrap();
    assert_eq!(f.store.method("crm_form").unwrap().id, entry.method_id);
    assert_eq!(entry.actor, "contact via consent form link");
    assert_eq!(entry.recorded_at, f.now());
    let evidence = f.store.evidence(entry.seq).unwrap().unwrap();
    assert_eq!(evidence["ip"], "192.0.2.10");
    assert_eq!(evidence["user_agent"], "Mozilla/5.0 (test)");
    assert_eq!(evidence["token_id"], link.token_id.as_str());
    assert_eq!(evidence["language"], "it");
    let timeline = f.store.timeline(anna).unwrap();
    let last = timeline.last().unwrap();
    assert_eq!(
        (last.kind, last.ledger_seq),
        (TimelineKind::ConsentChange, Some(entry.seq))
    );
}

#[test]
fn a_code_the_link_does_not_offer_changes_nothing() {
    let (mut f, anna, _) = with_people();
    let link = issue_form_link(&f.store, anna, &["newsletter"]).unwrap();
    let head = f.store.ledger_head().unwrap();
    let e = submit_form(
        &mut f.store,
        &link.token,
        &ticked(&["newsletter", "email"]),
        Language::En,
        &visitor(),
    )
    .unwrap_err();
    assert!(
        matches!(&e, PageError::NotOffered(code) if code == "email"),
        "{e}"
    );
    assert_eq!(f.store.ledger_head().unwrap(), head);
}

#[test]
fn an_expired_consent_shows_unticked_and_is_given_again_when_ticked() {
    let (mut f, anna, _) = with_people();
    grant(&mut f.store, anna, "newsletter", "given");
    f.advance(Duration::days(366));
    let link = issue_form_link(&f.store, anna, &["newsletter"]).unwrap();
    let page = form_page(&f.store, &link.token, Language::En).unwrap();
    assert!(!page.consents[0].given);
    // Left unticked: not a withdrawal, it simply stays expired.
    let none = submit_form(&mut f.store, &link.token, &[], Language::En, &visitor()).unwrap();
    assert!(none.changes.is_empty());
    let renewed = submit_form(
        &mut f.store,
        &link.token,
        &ticked(&["newsletter"]),
        Language::En,
        &visitor(),
    )
    .unwrap();
    assert_eq!(renewed.changes[0].status, ConsentStatus::Given);
    f.assert_verifies();
}

#[test]
fn a_title_with_markup_is_shown_as_text() {
    let (mut f, anna, _) = with_people();
    f.store
        .add_consent_type(
            &consent_type("xss", "<script>alert(1)</script>", true),
            "admin",
        )
        .unwrap();
    let link = issue_form_link(&f.store, anna, &["xss"]).unwrap();
    let page = form_page(&f.store, &link.token, Language::En).unwrap();
    assert!(!page.html.contains("<script>"), "{}", page.html);
    assert!(
        page.html
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{}",
        page.html
    );
}

#[test]
fn a_re_added_contact_is_released_only_by_its_own_consent_on_the_form() {
    let (mut f, anna, _) = with_people();
    let req = crate::store::ErasureRequest::new(crate::store::ErasureGround::Objection, "dpo");
    f.store.erase(anna, &req).unwrap();
    // The erased contact gets no link at all.
    assert!(issue_form_link(&f.store, anna, &["newsletter"]).is_err());
    let again = crate::store::NewContact {
        kind: crate::store::ContactKind::Person,
        name: "Anna N.".into(),
        email: Some("anna@example.com".into()),
        phone: None,
        flags: Default::default(),
    };
    let pending = f
        .store
        .add_contact_awaiting_own_consent(&again, "bob")
        .unwrap()
        .id;
    let link = issue_form_link(&f.store, pending, &["newsletter", "email"]).unwrap();
    // Unticking everything is no consent: still pending.
    submit_form(&mut f.store, &link.token, &[], Language::En, &visitor()).unwrap();
    assert!(f.store.contact(pending).unwrap().awaiting_own_consent);
    submit_form(
        &mut f.store,
        &link.token,
        &ticked(&["email"]),
        Language::En,
        &visitor(),
    )
    .unwrap();
    let released = f.store.contact(pending).unwrap();
    assert!(!released.awaiting_own_consent);
    assert!(f.store.blocked_because(pending).unwrap().is_none());
    let last = f.store.timeline(pending).unwrap().pop().unwrap();
    assert_eq!(last.kind, TimelineKind::Erasure);
    assert!(
        last.summary.contains("1 earlier erasure tombstone(s)"),
        "{}",
        last.summary
    );
    // The tombstone is superseded: adding the address again is allowed now.
    f.store.add_contact(&again, "bob").unwrap();
    f.assert_verifies();
}
