use super::super::{PageError, TemplateName, email_form_link, reset_template, save_template};
use super::*;
use crate::store::{NewOutboxMessage, OutboxId, OutboxKind, StoreError};

#[test]
fn emailing_a_form_link_renders_the_template_into_the_outbox() {
    let (mut f, anna, _) = with_people();
    let (link, message) = email_form_link(&mut f.store, anna, &["newsletter", "email"]).unwrap();
    assert_eq!(
        (message.to.as_str(), message.kind),
        ("anna@example.com", OutboxKind::FormLink)
    );
    assert_eq!(message.subject, "Your consent choices");
    assert!(
        message.body.starts_with("Hello Anna Nowak,"),
        "{}",
        message.body
    );
    assert!(message.body.contains(&link.url), "{}", message.body);
    assert!(
        message
            .body
            .contains("  - Newsletter\n  - Emails from us\n"),
        "{}",
        message.body
    );
    assert!(
        message.body.contains("(it works until 2026-01-15)"),
        "{}",
        message.body
    );
    assert!(message.body.contains("/preferences/"), "{}", message.body);
    assert_eq!(f.store.pending_messages(None, 10).unwrap(), [message]);
}

#[test]
fn the_admins_template_is_used_and_a_name_cannot_add_a_header() {
    let (mut f, _, _) = with_people();
    let mallory = person(
        &mut f.store,
        "Mallory\r\nBcc: all@example.com",
        Some("m@example.com"),
    );
    save_template(
        &mut f.store,
        TemplateName::LinkEmail,
        Some("For {{ contact_name }}"),
        "<b>{{ contact_name }}</b>: {{ form_link }}",
        "admin",
    )
    .unwrap();
    let (link, message) = email_form_link(&mut f.store, mallory, &["email"]).unwrap();
    assert_eq!(message.subject, "For Mallory Bcc: all@example.com");
    // An email is plain text: nothing is HTML-escaped in it.
    assert_eq!(
        message.body,
        format!("<b>Mallory\r\nBcc: all@example.com</b>: {}", link.url)
    );
    reset_template(&mut f.store, TemplateName::LinkEmail, "admin").unwrap();
    let (_, message) = email_form_link(&mut f.store, mallory, &["email"]).unwrap();
    assert_eq!(message.subject, "Your consent choices");
}

#[test]
fn a_contact_without_an_address_gets_no_email() {
    let (mut f, _, _) = with_people();
    let nomail = person(&mut f.store, "No Mail", None);
    let e = email_form_link(&mut f.store, nomail, &["email"]).unwrap_err();
    assert!(matches!(e, PageError::NoEmail(c) if c == nomail), "{e}");
    assert!(e.to_string().contains("copy the link"), "{e}");
    assert!(f.store.outbox_messages(None, 10).unwrap().is_empty());
}

#[test]
fn acknowledging_is_idempotent_and_keeps_the_first_time() {
    let (mut f, anna, piotr) = with_people();
    let new = |contact| NewOutboxMessage {
        contact,
        to: "x@example.com".into(),
        subject: "Hi".into(),
        body: "Body".into(),
        kind: OutboxKind::FormLink,
    };
    let first = f.store.enqueue_message(&new(anna)).unwrap();
    let second = f.store.enqueue_message(&new(piotr)).unwrap();
    let acked = f.store.acknowledge_message(first.id).unwrap();
    assert_eq!(acked.acknowledged_at, Some(f.now()));
    f.advance(chrono::Duration::minutes(5));
    let again = f.store.acknowledge_message(first.id).unwrap();
    assert_eq!(again.acknowledged_at, acked.acknowledged_at);
    let pending = f.store.pending_messages(None, 10).unwrap();
    assert_eq!(
        pending.iter().map(|m| m.id).collect::<Vec<_>>(),
        [second.id]
    );
    assert_eq!(f.store.outbox_messages(None, 10).unwrap().len(), 2);
    assert_eq!(
        f.store.outbox_messages(Some(first.id), 10).unwrap()[0].id,
        second.id
    );
    let e = f.store.acknowledge_message(OutboxId(99)).unwrap_err();
    assert!(matches!(e, StoreError::UnknownMessage(_)), "{e}");
    assert_eq!(e.to_string(), "unknown outbox message id 99");
}

#[test]
fn a_message_needs_an_address_and_a_one_line_subject() {
    let (mut f, anna, _) = with_people();
    let mut m = NewOutboxMessage {
        contact: anna,
        to: "not an address".into(),
        subject: "Hi".into(),
        body: "Body".into(),
        kind: OutboxKind::Confirmation,
    };
    assert!(f.store.enqueue_message(&m).is_err());
    m.to = "anna@example.com".into();
    m.subject = "Hi\nBcc: x@example.com".into();
    let e = f.store.enqueue_message(&m).unwrap_err();
    assert!(e.to_string().contains("one line"), "{e}");
}
