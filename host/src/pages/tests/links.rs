use chrono::Duration;

use super::super::links::{FORM_LINK_DAYS, issue_form_link, issue_preference_link, rotate_links};
use super::super::token::{self, Claims, LinkKind};
use super::super::{Language, PageError, form_page, preference_page, submit_form};
use super::*;
use crate::store::{ContactId, StoreError};

#[test]
fn a_form_link_names_the_offered_types_and_works_for_14_days() {
    let (f, anna, _) = with_people();
    let link = issue_form_link(&f.store, anna, &["newsletter", "email", "newsletter"]).unwrap();
    assert_eq!(link.consent_types, ["newsletter", "email"]);
    assert!(link.path.starts_with("/forms/"), "{}", link.path);
    assert_eq!(link.url, format!("http://127.0.0.1:8080{}", link.path));
    assert_eq!(
        link.expires_at - link.issued_at,
        Duration::days(FORM_LINK_DAYS)
    );
    let page = form_page(&f.store, &link.token, Language::En).unwrap();
    assert_eq!(page.contact, anna);
    let codes: Vec<_> = page.consents.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["newsletter", "email"]);
}

#[test]
fn an_unknown_type_is_refused_with_the_valid_codes() {
    let (f, anna, _) = with_people();
    let e = issue_form_link(&f.store, anna, &["newsleter"]).unwrap_err();
    assert!(matches!(
        e,
        PageError::Store(StoreError::UnknownCode { .. })
    ));
    let message = e.to_string();
    assert!(message.contains("did you mean `newsletter`"), "{message}");
    assert!(
        message.contains("valid codes: email, newsletter"),
        "{message}"
    );
    let e = issue_form_link(&f.store, anna, &[" "]).unwrap_err();
    assert!(matches!(e, PageError::NoConsentTypes), "{e}");
    let e = issue_form_link(&f.store, ContactId(99), &["email"]).unwrap_err();
    assert!(
        matches!(e, PageError::Store(StoreError::UnknownContact(_))),
        "{e}"
    );
}

#[test]
fn links_start_with_the_stored_base_url() {
    let (mut f, anna, _) = with_people();
    f.store
        .set_base_url("https://consent.example.com/", "admin")
        .unwrap();
    let link = issue_form_link(&f.store, anna, &["email"]).unwrap();
    assert!(
        link.url.starts_with("https://consent.example.com/forms/"),
        "{}",
        link.url
    );
    let e = f
        .store
        .set_base_url("consent.example.com", "admin")
        .unwrap_err();
    assert!(e.to_string().contains("`consent.example.com`"), "{e}");
}

#[test]
fn a_link_expires_at_the_exact_second_and_says_when() {
    let (f, anna, _) = with_people();
    let link = issue_form_link(&f.store, anna, &["email"]).unwrap();
    f.advance(Duration::days(FORM_LINK_DAYS) - Duration::seconds(1));
    form_page(&f.store, &link.token, Language::En).unwrap();
    f.advance(Duration::seconds(1));
    let e = form_page(&f.store, &link.token, Language::Pl).unwrap_err();
    assert!(
        matches!(e, PageError::Expired { at } if at == link.expires_at),
        "{e}"
    );
    assert!(e.to_string().contains("2026-01-15"), "{e}");
    let polish = e.for_contact(Language::Pl).unwrap();
    assert!(polish.starts_with("Ten link wygasł 2026-01-15"), "{polish}");
}

#[test]
fn a_preference_link_works_for_the_configured_period() {
    let (mut f, anna, _) = with_people();
    let link = issue_preference_link(&f.store, anna).unwrap();
    assert_eq!(link.expires_at - link.issued_at, Duration::days(180));
    assert!(link.path.starts_with("/preferences/"));
    f.store.set_preference_link_days(30, "admin").unwrap();
    let short = issue_preference_link(&f.store, anna).unwrap();
    assert_eq!(short.expires_at - short.issued_at, Duration::days(30));
    f.advance(Duration::days(31));
    assert!(matches!(
        preference_page(&f.store, &short.token, Language::En),
        Err(PageError::Expired { .. })
    ));
    // The older link's 180 days still run: unsubscribe links in old emails work.
    preference_page(&f.store, &link.token, Language::En).unwrap();
    assert!(f.store.set_preference_link_days(0, "admin").is_err());
}

#[test]
fn an_altered_or_cut_link_is_refused_and_changes_nothing() {
    let (mut f, anna, _) = with_people();
    let link = issue_form_link(&f.store, anna, &["email"]).unwrap();
    let entries = f.store.ledger_head().unwrap().seq;
    let mut altered = link.token.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [altered.as_str(), &link.token[..20], "not-a-token", ""] {
        let e = submit_form(
            &mut f.store,
            bad,
            &["email".into()],
            Language::En,
            &visitor(),
        )
        .unwrap_err();
        assert!(matches!(e, PageError::Altered), "{bad}: {e}");
        assert!(
            e.for_contact(Language::It)
                .unwrap()
                .starts_with("Questo link non è valido")
        );
    }
    assert_eq!(f.store.ledger_head().unwrap().seq, entries);
}

#[test]
fn a_link_signed_by_another_installation_is_refused() {
    let (f, anna, _) = with_people();
    let (other, _, _) = with_people();
    // The same contact id and type ids exist there: only the secret differs.
    let foreign = issue_form_link(&other.store, anna, &["email"]).unwrap();
    let e = form_page(&f.store, &foreign.token, Language::En).unwrap_err();
    assert!(matches!(e, PageError::Altered), "{e}");
}

#[test]
fn a_link_for_one_contact_never_acts_on_another() {
    let (mut f, anna, piotr) = with_people();
    let link = issue_form_link(&f.store, anna, &["email"]).unwrap();
    // Re-sign Anna's claims for Piotr without the secret: the MAC fails.
    let secret = f.store.link_secret().unwrap();
    let mut claims: Claims = token::open(&secret, &link.token).unwrap();
    claims.contact = piotr;
    let forged = token::sign(&[0_u8; 32], &claims).unwrap();
    let e = submit_form(
        &mut f.store,
        &forged,
        &["email".into()],
        Language::En,
        &visitor(),
    )
    .unwrap_err();
    assert!(matches!(e, PageError::Altered), "{e}");
    // The genuine link changes Anna only.
    submit_form(
        &mut f.store,
        &link.token,
        &["email".into()],
        Language::En,
        &visitor(),
    )
    .unwrap();
    assert_eq!(status_of(&f.store, anna, "email").as_deref(), Some("given"));
    assert_eq!(status_of(&f.store, piotr, "email"), None);
    f.assert_verifies();
}

#[test]
fn a_link_of_another_kind_does_not_open_a_form() {
    let (f, anna, _) = with_people();
    let prefs = issue_preference_link(&f.store, anna).unwrap();
    let e = form_page(&f.store, &prefs.token, Language::En).unwrap_err();
    assert!(matches!(e, PageError::Altered), "{e}");
    let form = issue_form_link(&f.store, anna, &["email"]).unwrap();
    let e = preference_page(&f.store, &form.token, Language::En).unwrap_err();
    assert!(matches!(e, PageError::Altered), "{e}");
    let claims = token::open(&f.store.link_secret().unwrap(), &form.token).unwrap();
    assert_eq!(claims.kind, LinkKind::Form);
}

#[test]
fn rotating_revokes_every_older_link_of_that_contact_only() {
    let (mut f, anna, piotr) = with_people();
    let form = issue_form_link(&f.store, anna, &["email"]).unwrap();
    let prefs = issue_preference_link(&f.store, anna).unwrap();
    let piotrs = issue_preference_link(&f.store, piotr).unwrap();
    assert_eq!(rotate_links(&mut f.store, anna, "olivia").unwrap(), 1);
    let e = form_page(&f.store, &form.token, Language::En).unwrap_err();
    assert!(matches!(e, PageError::Revoked), "{e}");
    assert!(matches!(
        preference_page(&f.store, &prefs.token, Language::En),
        Err(PageError::Revoked)
    ));
    preference_page(&f.store, &piotrs.token, Language::En).unwrap();
    let fresh = issue_preference_link(&f.store, anna).unwrap();
    preference_page(&f.store, &fresh.token, Language::En).unwrap();
    assert_eq!(rotate_links(&mut f.store, anna, "olivia").unwrap(), 2);
    let (at, by) = f.store.links_rotated(anna).unwrap().unwrap();
    assert_eq!((at, by.as_str()), (f.now(), "olivia"));
    f.assert_verifies();
}
