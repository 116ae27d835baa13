use super::*;

#[test]
fn a_consent_type_starts_at_text_version_one() {
    let mut f = fixture();
    let t = f
        .store
        .add_consent_type(&newsletter_type(), "admin")
        .unwrap();
    assert_eq!(
        (t.code.as_str(), t.text_version, t.validity_days),
        ("newsletter", 1, Some(365))
    );
    assert_eq!(f.store.consent_type("newsletter").unwrap(), t);
    assert_eq!(f.store.consent_type_by_id(t.id).unwrap(), t);
    assert_eq!(f.store.consent_types().unwrap(), [t]);
}

#[test]
fn adding_a_consent_type_with_a_taken_code_fails_naming_the_code() {
    let mut f = fixture();
    f.store
        .add_consent_type(&newsletter_type(), "admin")
        .unwrap();
    let err = f
        .store
        .add_consent_type(&newsletter_type(), "admin")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "duplicate consent type code `newsletter`; choose another code"
    );
    assert_eq!(count(&f.store, "consent_type_texts"), 1);
}

#[test]
fn an_unknown_consent_type_code_is_named() {
    let f = fixture();
    let err = f.store.consent_type("x").unwrap_err();
    assert_eq!(err.to_string(), "unknown consent type `x`");
}

#[test]
fn a_code_with_spaces_is_refused() {
    let mut f = fixture();
    let bad = NewConsentType {
        code: "news letter".to_owned(),
        ..newsletter_type()
    };
    let err = f.store.add_consent_type(&bad, "admin").unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid { field: "code", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("`news letter`"), "{err}");
}

#[test]
fn a_validity_of_zero_days_is_refused() {
    let mut f = fixture();
    let bad = NewConsentType {
        validity_days: Some(0),
        ..newsletter_type()
    };
    let err = f.store.add_consent_type(&bad, "admin").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                field: "validity_days",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn editing_the_text_adds_a_version_and_keeps_the_old_one() {
    let mut f = fixture();
    f.store
        .add_consent_type(&newsletter_type(), "admin")
        .unwrap();
    let edit = ConsentTypeEdit {
        title: Some("Weekly newsletter".to_owned()),
        text: Some("I want the weekly newsletter.".to_owned()),
        validity_days: Some(None),
        ..ConsentTypeEdit::default()
    };
    let t = f
        .store
        .edit_consent_type("newsletter", &edit, "admin")
        .unwrap();
    assert_eq!(
        (t.title.as_str(), t.text_version, t.validity_days),
        ("Weekly newsletter", 2, None)
    );
    assert!(t.allow_bulk_email, "untouched fields stay");
    let texts = f.store.consent_type_texts("newsletter").unwrap();
    assert_eq!(texts.len(), 2);
    assert_eq!(texts[0].text, "I want the monthly newsletter.");
    assert_eq!((texts[1].version, texts[1].created_at), (2, now()));
    assert_eq!(f.store.consent_type_text(t.id, 1).unwrap(), texts[0]);
}

#[test]
fn editing_with_the_same_text_adds_no_version() {
    let mut f = fixture();
    f.store
        .add_consent_type(&newsletter_type(), "admin")
        .unwrap();
    let edit = ConsentTypeEdit {
        text: Some(newsletter_type().text),
        allow_single_email: Some(true),
        ..ConsentTypeEdit::default()
    };
    let t = f
        .store
        .edit_consent_type("newsletter", &edit, "admin")
        .unwrap();
    assert_eq!((t.text_version, t.allow_single_email), (1, true));
}

#[test]
fn text_versions_cannot_be_rewritten_even_in_sql() {
    let mut f = fixture();
    f.store
        .add_consent_type(&newsletter_type(), "admin")
        .unwrap();
    let err = f
        .store
        .raw()
        .execute("UPDATE consent_type_texts SET text = 'something else'", [])
        .unwrap_err();
    assert!(err.to_string().contains("versioned"), "{err}");
}

#[test]
fn built_in_statuses_cannot_be_edited_or_deleted() {
    let mut f = fixture();
    let err = f
        .store
        .edit_status("given", "Yes", ConsentStatus::Given, "admin")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "consent status `given` is built in and cannot be edited or deleted; \
         add one of your own instead"
    );
    let err = f.store.delete_status("withdrawn", "admin").unwrap_err();
    assert!(
        matches!(&err, StoreError::Locked { code, .. } if code == "withdrawn"),
        "{err}"
    );
    assert_eq!(f.store.status("given").unwrap().name, "Given");
}

#[test]
fn custom_statuses_can_be_added_edited_and_deleted() {
    let mut f = fixture();
    let s = f
        .store
        .add_status("asked", "Asked by email", ConsentStatus::Requested, "admin")
        .unwrap();
    assert!(!s.built_in);
    let s = f
        .store
        .edit_status("asked", "Asked", ConsentStatus::Requested, "admin")
        .unwrap();
    assert_eq!(s.name, "Asked");
    let err = f
        .store
        .add_status("asked", "Again", ConsentStatus::Requested, "admin")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "duplicate consent status code `asked`; choose another code"
    );
    f.store.delete_status("asked", "admin").unwrap();
    let err = f.store.status("asked").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown consent status `asked`; valid codes: expired, given, refused, withdrawn"
    );
}

#[test]
fn a_status_in_the_ledger_keeps_its_meaning_and_cannot_be_deleted() {
    let (mut f, anna) = with_types();
    f.store
        .add_status(
            "renewed_by_phone",
            "Renewed by phone",
            ConsentStatus::Renewed,
            "admin",
        )
        .unwrap();
    f.store
        .record_consent(&consent(anna, "newsletter", "renewed_by_phone", 2))
        .unwrap();
    let err = f
        .store
        .edit_status("renewed_by_phone", "Renewed", ConsentStatus::Given, "admin")
        .unwrap_err();
    assert!(matches!(err, StoreError::InUse { uses: 1, .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "consent status `renewed_by_phone` is used by 1 record(s) and cannot be given a new \
         meaning: the proof of consent must keep resolving it; add a new one instead"
    );
    f.store
        .edit_status(
            "renewed_by_phone",
            "Renewed",
            ConsentStatus::Renewed,
            "admin",
        )
        .unwrap();
    let err = f
        .store
        .delete_status("renewed_by_phone", "admin")
        .unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "{err}");
}

#[test]
fn the_crm_form_method_is_locked_but_other_built_ins_are_editable() {
    let mut f = fixture();
    let err = f
        .store
        .rename_method("crm_form", "Form", "admin")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "way of giving consent `crm_form` is built in and cannot be edited or deleted; \
         add one of your own instead"
    );
    assert!(matches!(
        f.store.delete_method("crm_form", "admin"),
        Err(StoreError::Locked { .. })
    ));
    assert_eq!(
        f.store
            .rename_method("paper", "Signed paper form", "admin")
            .unwrap()
            .name,
        "Signed paper form"
    );
    f.store.delete_method("website", "admin").unwrap();
    let m = f
        .store
        .add_method("fair", "At a trade fair", "admin")
        .unwrap();
    assert!(!m.built_in && !m.locked);
    assert_eq!(f.store.methods().unwrap().len(), 6);
}

#[test]
fn a_method_in_the_ledger_cannot_be_deleted() {
    let (mut f, anna) = with_types();
    f.store
        .record_consent(&consent(anna, "newsletter", "given", 2))
        .unwrap();
    let err = f.store.delete_method("email", "admin").unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "{err}");
}

#[test]
fn reasons_come_with_defaults_and_can_be_managed() {
    let mut f = fixture();
    assert!(f.store.reason("contract").is_ok());
    let r = f
        .store
        .add_reason("complaint", "Handling a complaint", "admin")
        .unwrap();
    assert_eq!(
        f.store
            .edit_reason("complaint", "Handling their complaint", "admin")
            .unwrap()
            .id,
        r.id
    );
    let err = f.store.add_reason("complaint", "x", "admin").unwrap_err();
    assert_eq!(
        err.to_string(),
        "duplicate justification reason code `complaint`; choose another code"
    );
    f.store.delete_reason("complaint", "admin").unwrap();
    assert!(matches!(
        f.store.reason("complaint"),
        Err(StoreError::UnknownCode { .. })
    ));
}

#[test]
fn purposes_can_be_added_edited_and_deleted() {
    let mut f = fixture();
    let sales = NewPurpose {
        code: "sales".to_owned(),
        name: "Sales and service".to_owned(),
        legal_basis: LegalBasis::LegitimateInterest,
        direct_marketing: false,
    };
    let p = f.store.add_purpose(&sales, "admin").unwrap();
    assert_eq!(f.store.purpose("sales").unwrap(), p);
    let renamed = NewPurpose {
        code: "sales_service".to_owned(),
        ..sales.clone()
    };
    let p2 = f.store.edit_purpose("sales", &renamed, "admin").unwrap();
    assert_eq!((p2.id, p2.code.as_str()), (p.id, "sales_service"));
    let err = f.store.add_purpose(&renamed, "admin").unwrap_err();
    assert_eq!(
        err.to_string(),
        "duplicate purpose code `sales_service`; choose another code"
    );
    f.store.delete_purpose("sales_service", "admin").unwrap();
    assert!(f.store.purposes().unwrap().is_empty());
}

#[test]
fn a_purpose_some_contact_has_cannot_be_deleted() {
    let (mut f, anna) = with_types();
    let marketing = NewPurpose {
        code: "e_marketing".to_owned(),
        name: "E-marketing".to_owned(),
        legal_basis: LegalBasis::Consent,
        direct_marketing: true,
    };
    f.store.add_purpose(&marketing, "admin").unwrap();
    f.store
        .set_purpose_basis(anna, "e_marketing", LegalBasis::Withdrawn, "alice")
        .unwrap();
    let err = f.store.delete_purpose("e_marketing", "admin").unwrap_err();
    assert!(matches!(err, StoreError::InUse { uses: 1, .. }), "{err}");
}

#[test]
fn subscription_types_can_be_edited_and_removed_with_their_preferences() {
    let (mut f, anna) = with_types();
    let s = f
        .store
        .edit_subscription_type("events", "Events", false, "admin")
        .unwrap();
    assert!(!s.requires_opt_in);
    f.store
        .set_preference(anna, "events", SubscriptionState::OptedIn, "anna")
        .unwrap();
    f.store.delete_subscription_type("events", "admin").unwrap();
    assert_eq!(count(&f.store, "subscription_preferences"), 0);
    assert_eq!(f.store.subscription_types().unwrap().len(), 3);
    let added = f
        .store
        .add_subscription_type("webinars", "Webinars", true, "admin")
        .unwrap();
    assert_eq!(f.store.subscription_type("webinars").unwrap(), added);
    let err = f
        .store
        .add_subscription_type("webinars", "Again", true, "admin")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "duplicate subscription type code `webinars`; choose another code"
    );
}

#[test]
fn switches_can_be_set_and_read_back() {
    let mut f = fixture();
    let on = Switches {
        check_single_email: true,
        check_bulk_email: true,
        check_phone: true,
        e_marketing_privacy: false,
    };
    f.store.set_switches(&on, "admin").unwrap();
    assert_eq!(f.store.switches().unwrap(), on);
}

#[test]
fn the_config_snapshot_holds_what_a_policy_is_built_from() {
    let (mut f, _) = with_types();
    let edit = ConsentTypeEdit {
        text: Some("v2".to_owned()),
        ..ConsentTypeEdit::default()
    };
    f.store.edit_consent_type("phone", &edit, "admin").unwrap();
    let config = f.store.config_snapshot().unwrap();
    let types: Vec<_> = config
        .consent_types
        .iter()
        .map(|t| (t.code.as_str(), t.text_version))
        .collect();
    assert_eq!(types, [("newsletter", 1), ("phone", 2)]);
    assert_eq!(config.reasons, f.store.reasons().unwrap());
    assert_eq!(config.subscription_types.len(), 4);
    assert!(config.purposes.is_empty());
    assert_eq!(config.switches, Switches::default());
}
