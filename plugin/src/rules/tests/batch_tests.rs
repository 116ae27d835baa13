use super::*;

fn row(flags: ContactFlags, consents: u32, bases: u32, preferences: u32) -> ContactRow {
    ContactRow {
        flags,
        consents,
        bases,
        preferences,
    }
}

fn contacts() -> Vec<ContactState> {
    vec![
        contact(),
        with_consents(vec![given(EMAIL, NOW - DAY), given(NEWSLETTER, NOW - DAY)]),
        ContactState {
            flags: ContactFlags {
                objected: true,
                ..ContactFlags::default()
            },
            consents: vec![given(EVERYTHING, NOW)],
            ..contact()
        },
        ContactState {
            consents: vec![
                rec(EMAIL, ConsentStatus::Withdrawn, NOW - 5),
                given(EVERYTHING, NOW - 5),
            ],
            bases: vec![basis(SALES, LegalBasis::Contract)],
            preferences: vec![pref(OFFERS, SubscriptionState::OptedIn)],
            ..contact()
        },
        ContactState {
            bases: vec![
                basis(SALES, LegalBasis::Withdrawn),
                basis(SOFT_OPT_IN, LegalBasis::LegitimateInterest),
            ],
            preferences: vec![
                pref(WEEKLY, SubscriptionState::OptedOut),
                pref(OFFERS, SubscriptionState::OptedIn),
            ],
            ..contact()
        },
        ContactState {
            flags: ContactFlags {
                restricted: true,
                ..ContactFlags::default()
            },
            ..contact()
        },
    ]
}

fn columns(
    cs: &[ContactState],
) -> (
    Vec<ContactRow>,
    Vec<ConsentRecord>,
    Vec<PurposeBasis>,
    Vec<Preference>,
) {
    let rows = cs
        .iter()
        .map(|c| {
            row(
                c.flags,
                c.consents.len() as u32,
                c.bases.len() as u32,
                c.preferences.len() as u32,
            )
        })
        .collect();
    let consents = cs.iter().flat_map(|c| c.consents.iter().copied()).collect();
    let bases = cs.iter().flat_map(|c| c.bases.iter().copied()).collect();
    let prefs = cs
        .iter()
        .flat_map(|c| c.preferences.iter().copied())
        .collect();
    (rows, consents, bases, prefs)
}

#[test]
fn a_batch_gives_each_contact_the_verdict_of_a_single_decision() {
    let p = policy();
    let cs = contacts();
    let (rows, consents, bases, prefs) = columns(&cs);
    for channel in ALL_CHANNELS {
        for (purpose, sub) in [
            (None, None),
            (Some(SALES), Some(OFFERS)),
            (Some(SOFT_OPT_IN), Some(WEEKLY)),
        ] {
            let r = Request {
                purpose,
                subscription_type: sub,
                ..req(channel)
            };
            let got = p
                .decide_batch(&r, &rows, &consents, &bases, &prefs)
                .expect("counts match");
            let want: Vec<Verdict> = cs
                .iter()
                .map(|c| p.decide(c.view(), &r).verdict())
                .collect();
            assert_eq!(got, want, "{r:?}");
        }
    }
}

#[test]
fn a_batch_of_no_contacts_gives_no_verdicts() {
    let got = policy().decide_batch(&req(Channel::BulkEmail), &[], &[], &[], &[]);
    assert_eq!(got, Ok(vec![]));
}

#[test]
fn counts_that_do_not_add_up_name_the_column_and_the_numbers() {
    let p = policy();
    let (rows, mut consents, bases, mut prefs) = columns(&contacts());
    consents.pop();
    let e = p
        .decide_batch(&req(Channel::BulkEmail), &rows, &consents, &bases, &prefs)
        .unwrap_err();
    assert_eq!(
        e.message,
        "the rows claim 5 entries in the consents column, but it has 4"
    );

    let (_, consents, _, _) = columns(&contacts());
    prefs.push(pref(WEEKLY, SubscriptionState::OptedIn));
    let e = p
        .decide_batch(&req(Channel::BulkEmail), &rows, &consents, &bases, &prefs)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the rows claim 3 entries in the preferences column, but it has 4"
    );

    let e = p
        .decide_batch(&req(Channel::BulkEmail), &rows, &consents, &[], &[])
        .unwrap_err();
    assert!(e.message.contains("bases column"), "{e}");
}

#[test]
fn huge_counts_are_refused_without_overflowing() {
    let rows = vec![row(ContactFlags::default(), u32::MAX, 0, 0); 3];
    let e = policy()
        .decide_batch(&req(Channel::Phone), &rows, &[], &[], &[])
        .unwrap_err();
    assert_eq!(
        e.message,
        "the rows claim 12884901885 entries in the consents column, but it has 0"
    );
}

#[test]
fn a_contact_with_no_rows_of_its_own_still_gets_a_verdict() {
    let rows = vec![
        row(ContactFlags::default(), 0, 0, 0),
        row(ContactFlags::default(), 1, 0, 0),
    ];
    let got = policy()
        .decide_batch(&req(Channel::Phone), &rows, &[given(PHONE, NOW)], &[], &[])
        .unwrap();
    assert_eq!(
        got,
        vec![
            Verdict {
                outcome: Outcome::Justify,
                code: ReasonCode::NoConsent
            },
            Verdict {
                outcome: Outcome::Allow,
                code: ReasonCode::Consent
            },
        ]
    );
}
