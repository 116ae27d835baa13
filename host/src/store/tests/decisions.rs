use serde_json::json;

use super::*;

fn denied(contact: Option<ContactId>) -> NewDecision {
    NewDecision {
        at: day(2),
        contact,
        channel: Channel::SingleEmail,
        outcome: Outcome::Deny,
        reason_code: "objected".to_owned(),
        subscription_type: None,
        summary: None,
        recipients: None,
        plugin_sha256: Some("ab".repeat(32)),
        request: json!({"contact": {"flags": ["objected"]}, "request": {"channel": "single-email"}}),
        actor: "alice".to_owned(),
    }
}

fn justification(contact: ContactId, reason: ReasonId) -> NewJustification {
    NewJustification {
        at: day(3),
        contact,
        channel: Channel::Phone,
        reason,
        text: "They called about their order.".to_owned(),
        reason_code: "no_consent".to_owned(),
        plugin_sha256: Some("ab".repeat(32)),
        request: json!({"request": {"channel": "phone"}}),
        actor: "bob".to_owned(),
    }
}

#[test]
fn a_logged_decision_reads_back_as_it_was_given() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let id = f.store.log_decision(&denied(Some(anna))).unwrap();
    let d = f.store.decision(id).unwrap().unwrap();
    assert_eq!(
        (
            d.contact,
            d.channel,
            d.outcome,
            d.reason_code.as_str(),
            d.at
        ),
        (
            Some(anna),
            Channel::SingleEmail,
            Outcome::Deny,
            "objected",
            day(2)
        )
    );
    assert_eq!(d.request, denied(None).request);
    assert_eq!(f.store.decisions(anna).unwrap(), [d]);
}

#[test]
fn a_bulk_send_is_logged_as_one_summary_row() {
    let mut f = fixture();
    let bulk = NewDecision {
        contact: None,
        channel: Channel::BulkEmail,
        outcome: Outcome::Allow,
        reason_code: "batch".to_owned(),
        subscription_type: Some(SubscriptionTypeId(1)),
        summary: Some(json!({"allow": 9120, "deny": 880, "justify": 0})),
        ..denied(None)
    };
    let id = f.store.log_decision(&bulk).unwrap();
    let d = f.store.decision(id).unwrap().unwrap();
    assert_eq!(d.summary, bulk.summary);
    assert_eq!(d.subscription_type, Some(SubscriptionTypeId(1)));
}

#[test]
fn a_decision_about_an_unknown_contact_is_refused() {
    let mut f = fixture();
    let err = f
        .store
        .log_decision(&denied(Some(ContactId(9))))
        .unwrap_err();
    assert_eq!(err.to_string(), "unknown contact id `9`");
}

#[test]
fn a_justification_is_logged_and_shows_on_the_timeline() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let contract = f.store.reason("contract").unwrap();
    let id = f
        .store
        .log_justification(&justification(anna, contract.id))
        .unwrap();
    let d = f.store.decision(id).unwrap().unwrap();
    assert_eq!(
        (d.outcome, d.reason),
        (Outcome::Justified, Some(contract.id))
    );
    assert_eq!(
        d.justification.as_deref(),
        Some("They called about their order.")
    );
    let note = f.store.timeline(anna).unwrap().pop().unwrap();
    assert_eq!(
        (note.kind, note.decision_id, note.actor.as_str()),
        (TimelineKind::Justification, Some(id), "bob")
    );
    assert_eq!(
        note.summary,
        format!(
            "phone without valid consent (no_consent): reason `contract` (Needed to perform a contract); \
             plugin sha256 {}: They called about their order.",
            "ab".repeat(32)
        )
    );
}

#[test]
fn a_justification_with_an_unknown_reason_is_refused_and_writes_nothing() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let err = f
        .store
        .log_justification(&justification(anna, ReasonId(99)))
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownReason(ReasonId(99))));
    assert_eq!(err.to_string(), "unknown justification reason id `99`");
    assert_eq!(count(&f.store, "decisions"), 0);
    assert_eq!(f.store.timeline(anna).unwrap().len(), 1);
}

#[test]
fn a_justified_outcome_must_go_through_log_justification() {
    let mut f = fixture();
    let bad = NewDecision {
        outcome: Outcome::Justified,
        ..denied(None)
    };
    let err = f.store.log_decision(&bad).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                field: "outcome",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_reason_cited_by_a_justification_cannot_be_deleted() {
    let mut f = fixture();
    let anna = person(&mut f.store, "Anna", None);
    let contract = f.store.reason("contract").unwrap();
    f.store
        .log_justification(&justification(anna, contract.id))
        .unwrap();
    let err = f.store.delete_reason("contract", "admin").unwrap_err();
    assert_eq!(
        err.to_string(),
        "justification reason `contract` is used by 1 record(s) and cannot be deleted: \
         the proof of consent must keep resolving it; add a new one instead"
    );
}

#[test]
fn the_decision_log_refuses_updates_in_plain_sql() {
    let mut f = fixture();
    f.store.log_decision(&denied(None)).unwrap();
    let err = f
        .store
        .raw()
        .execute("UPDATE decisions SET outcome = 'allow'", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[test]
fn a_bulk_send_keeps_its_recipients_compactly_and_reads_them_back() {
    let mut f = fixture();
    let ids: Vec<ContactId> = (0..5)
        .map(|i| person(&mut f.store, &format!("P{i}"), None))
        .collect();
    let mut d = denied(None);
    d.channel = Channel::BulkEmail;
    d.outcome = Outcome::Allow;
    d.reason_code = "bulk_summary".into();
    d.recipients = Some(vec![ids[3], ids[0], ids[4]]);
    let id = f.store.log_decision(&d).unwrap();
    let logged = f.store.decision(id).unwrap().unwrap();
    assert_eq!(logged.recipients, Some(vec![ids[0], ids[3], ids[4]]));
    assert!(f.store.verify_ledger().unwrap().ok);
}

#[test]
fn a_million_recipients_cost_about_a_megabyte() {
    let ids: Vec<ContactId> = (1..=1_000_000).map(|i| ContactId(i * 3)).collect();
    let bytes = super::super::decisions::encode_ids(&ids);
    assert!(bytes.len() <= 1_100_000, "{} bytes", bytes.len());
    assert_eq!(super::super::decisions::decode_ids(&bytes).unwrap(), ids);
    // Sparse ids cost more, still a few bytes each.
    let sparse: Vec<ContactId> = (1..=1000).map(|i| ContactId(i * 1_000_003)).collect();
    let bytes = super::super::decisions::encode_ids(&sparse);
    assert!(bytes.len() <= 4 * 1000);
    assert_eq!(super::super::decisions::decode_ids(&bytes).unwrap(), sparse);
    assert!(super::super::decisions::decode_ids(&[0x80]).is_err());
}
