use super::*;

fn refused(change: impl FnOnce(&mut Config)) -> ConfigError {
    let mut c = config();
    change(&mut c);
    Policy::new(c).expect_err("the config should be refused")
}

#[test]
fn the_fixture_config_builds_a_policy_with_its_reasons_in_config_order() {
    let p = policy();
    assert_eq!(p.reasons(), &REASONS);
    assert_eq!(p.switches(), config().switches);
}

#[test]
fn an_empty_config_is_valid() {
    assert!(Policy::new(Config::default()).is_ok());
}

#[test]
fn a_consent_type_code_used_twice_is_refused_by_name() {
    let e = refused(|c| {
        c.consent_types
            .push(consent_type(9, "newsletter", None, true, false, false))
    });
    assert_eq!(
        e,
        ConfigError::DuplicateCode(s("consent type code \"newsletter\" is used twice"))
    );
    assert_eq!(
        e.to_string(),
        "consent type code \"newsletter\" is used twice"
    );
}

#[test]
fn a_consent_type_id_used_twice_is_refused() {
    let e = refused(|c| {
        c.consent_types
            .push(consent_type(EMAIL, "other", None, true, false, false))
    });
    assert_eq!(
        e,
        ConfigError::DuplicateId(s("consent type id 2 is used twice"))
    );
}

#[test]
fn duplicate_ids_and_codes_are_refused_in_every_list() {
    let e = refused(|c| {
        let mut r = c.reasons[0].clone();
        r.code = s("another");
        c.reasons.push(r);
    });
    assert_eq!(e, ConfigError::DuplicateId(s("reason id 11 is used twice")));

    let e = refused(|c| {
        let mut r = c.reasons[1].clone();
        r.id = 99;
        c.reasons.push(r);
    });
    assert_eq!(
        e,
        ConfigError::DuplicateCode(s("reason code \"customer\" is used twice"))
    );

    let e = refused(|c| {
        c.purposes
            .push(purpose(SALES, "x", LegalBasis::Consent, false))
    });
    assert_eq!(
        e,
        ConfigError::DuplicateId(s("purpose id 100 is used twice"))
    );

    let e = refused(|c| {
        c.purposes
            .push(purpose(999, "sales", LegalBasis::Consent, false))
    });
    assert_eq!(
        e,
        ConfigError::DuplicateCode(s("purpose code \"sales\" is used twice"))
    );

    let e = refused(|c| {
        let mut t = c.subscription_types[0].clone();
        t.code = s("monthly");
        c.subscription_types.push(t);
    });
    assert_eq!(
        e,
        ConfigError::DuplicateId(s("subscription type id 200 is used twice"))
    );

    let e = refused(|c| {
        let mut t = c.subscription_types[1].clone();
        t.id = 300;
        c.subscription_types.push(t);
    });
    assert_eq!(
        e,
        ConfigError::DuplicateCode(s("subscription type code \"offers\" is used twice"))
    );
}

#[test]
fn the_same_id_in_different_lists_is_fine() {
    let p = policy_with(|c| {
        c.reasons[0].id = NEWSLETTER;
        c.purposes[0].id = NEWSLETTER;
        c.subscription_types[0].id = NEWSLETTER;
    });
    assert_eq!(p.reasons()[0], NEWSLETTER);
}

#[test]
fn the_duplicate_reported_is_the_one_repeated_first_in_config_order() {
    let e = refused(|c| {
        c.consent_types
            .push(consent_type(50, "phone", None, true, false, false));
        c.consent_types
            .push(consent_type(51, "email", None, true, false, false));
    });
    assert_eq!(
        e,
        ConfigError::DuplicateCode(s("consent type code \"phone\" is used twice"))
    );
}

#[test]
fn empty_codes_titles_labels_and_names_are_refused() {
    let e = refused(|c| c.consent_types[1].code = s(""));
    assert_eq!(
        e,
        ConfigError::EmptyField(s("consent type id 2 has an empty code"))
    );

    let e = refused(|c| c.consent_types[1].title = s(""));
    assert_eq!(
        e,
        ConfigError::EmptyField(s("consent type \"email\" (id 2) has an empty title"))
    );

    let e = refused(|c| c.reasons[0].label = s(""));
    assert_eq!(
        e,
        ConfigError::EmptyField(s("reason \"callback\" (id 11) has an empty label"))
    );

    let e = refused(|c| c.reasons[0].code = s(""));
    assert_eq!(
        e,
        ConfigError::EmptyField(s("reason id 11 has an empty code"))
    );

    let e = refused(|c| c.purposes[2].name = s(""));
    assert_eq!(
        e,
        ConfigError::EmptyField(s("purpose \"soft-opt-in\" (id 102) has an empty name"))
    );

    let e = refused(|c| c.subscription_types[0].name = s(""));
    assert_eq!(
        e,
        ConfigError::EmptyField(s("subscription type \"weekly\" (id 200) has an empty name"))
    );
}

#[test]
fn a_code_of_only_whitespace_counts_as_empty() {
    let e = refused(|c| c.purposes[0].code = s("  \t"));
    assert_eq!(
        e,
        ConfigError::EmptyField(s("purpose id 100 has an empty code"))
    );
}

#[test]
fn a_validity_of_zero_days_is_invalid() {
    let e = refused(|c| c.consent_types[0].validity_days = Some(0));
    assert!(matches!(e, ConfigError::InvalidValue(_)));
    assert!(e.message().contains("consent type \"newsletter\""), "{e}");
}

#[test]
fn a_validity_of_one_day_and_of_u32_max_days_are_valid() {
    let p = policy_with(|c| {
        c.consent_types[0].validity_days = Some(1);
        c.consent_types[1].validity_days = Some(u32::MAX);
    });
    let d = decide(
        &p,
        &with_consents(vec![given(EMAIL, NOW)]),
        req(Channel::SingleEmail),
    );
    assert_eq!(
        d,
        allow_consent(EMAIL, Some(NOW + i64::from(u32::MAX) * DAY))
    );
}

#[test]
fn an_empty_field_is_reported_before_a_duplicate_in_the_same_list() {
    let e = refused(|c| {
        c.consent_types
            .push(consent_type(9, "newsletter", None, true, false, false));
        c.consent_types[2].title = s("");
    });
    assert!(matches!(e, ConfigError::EmptyField(_)), "{e:?}");
}

#[test]
fn a_problem_in_an_earlier_list_is_reported_first() {
    let e = refused(|c| {
        c.subscription_types[0].code = s("");
        c.reasons[0].label = s("");
    });
    assert!(e.message().starts_with("reason"), "{e}");
}
