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

/// The WIT `contact-batch` columns of some contacts, owned.
#[derive(Default)]
struct Owned {
    flags: Vec<u8>,
    consent_counts: Vec<u16>,
    basis_counts: Vec<u16>,
    preference_counts: Vec<u16>,
    consent_types: Vec<u32>,
    consent_statuses: Vec<u8>,
    consent_given_at: Vec<i64>,
    basis_purposes: Vec<u32>,
    basis_legal_bases: Vec<u8>,
    preference_types: Vec<u32>,
    preference_states: Vec<u8>,
}

fn owned(cs: &[ContactState]) -> Owned {
    let mut o = Owned::default();
    for c in cs {
        o.flags.push(c.flags.bits());
        o.consent_counts.push(c.consents.len() as u16);
        o.basis_counts.push(c.bases.len() as u16);
        o.preference_counts.push(c.preferences.len() as u16);
        for r in &c.consents {
            o.consent_types.push(r.type_id);
            o.consent_statuses.push(status_index(r.status));
            o.consent_given_at.push(r.given_at);
        }
        for b in &c.bases {
            o.basis_purposes.push(b.purpose_id);
            o.basis_legal_bases.push(basis_index(b.legal_basis));
        }
        for p in &c.preferences {
            o.preference_types.push(p.subscription_type_id);
            o.preference_states.push(state_index(p.state));
        }
    }
    o
}

impl Owned {
    fn view(&self) -> Columns<'_> {
        Columns {
            flags: &self.flags,
            consent_counts: &self.consent_counts,
            basis_counts: &self.basis_counts,
            preference_counts: &self.preference_counts,
            consent_types: &self.consent_types,
            consent_statuses: &self.consent_statuses,
            consent_given_at: &self.consent_given_at,
            basis_purposes: &self.basis_purposes,
            basis_legal_bases: &self.basis_legal_bases,
            preference_types: &self.preference_types,
            preference_states: &self.preference_states,
        }
    }
}

#[test]
fn integer_columns_decide_every_contact_as_a_single_decision_would() {
    let p = policy();
    let cs = contacts();
    let cols = owned(&cs);
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
            let got = p.decide_columns(&r, &cols.view()).expect("columns fit");
            let want: Vec<Verdict> = cs
                .iter()
                .map(|c| p.decide(c.view(), &r).verdict())
                .collect();
            assert_eq!(got, want, "{r:?}");
        }
    }
}

#[test]
fn flag_bits_round_trip() {
    for bits in 0..8u8 {
        assert_eq!(ContactFlags::from_bits(bits).bits(), bits);
    }
}

#[test]
fn columns_that_do_not_fit_together_name_the_column() {
    let p = policy();
    let r = req(Channel::BulkEmail);
    let mut cols = owned(&contacts());
    cols.consent_given_at.pop();
    let e = p.decide_columns(&r, &cols.view()).unwrap_err();
    assert_eq!(
        e.message,
        "consents: column consent-given-at has 4 entries but consent-types has 5"
    );

    let mut cols = owned(&contacts());
    cols.basis_counts.push(0);
    let e = p.decide_columns(&r, &cols.view()).unwrap_err();
    assert!(
        e.message
            .contains("basis-counts has 7 entries but flags has 6"),
        "{}",
        e.message
    );

    let mut cols = owned(&contacts());
    cols.consent_counts[0] += 1;
    let e = p.decide_columns(&r, &cols.view()).unwrap_err();
    assert_eq!(
        e.message,
        "consent counts add up to 6 but the columns hold 5 entries"
    );
}

#[test]
fn an_unknown_enum_index_in_a_column_is_refused() {
    let mut cols = owned(&contacts());
    cols.consent_statuses[1] = 8;
    let e = policy()
        .decide_columns(&req(Channel::BulkEmail), &cols.view())
        .unwrap_err();
    assert_eq!(e.message, "consent-statuses holds the unknown case index 8");
    let mut cols = owned(&contacts());
    cols.preference_states[0] = 3;
    let e = policy()
        .decide_columns(&req(Channel::BulkEmail), &cols.view())
        .unwrap_err();
    assert_eq!(
        e.message,
        "preference-states holds the unknown case index 3"
    );
}

/// Every id of the fixture moved up by `by`, in the config and the contacts.
fn renumbered(by: u32) -> (Config, Vec<ContactState>) {
    let mut cfg = config();
    cfg.consent_types.iter_mut().for_each(|t| t.id += by);
    cfg.purposes.iter_mut().for_each(|p| p.id += by);
    cfg.subscription_types.iter_mut().for_each(|s| s.id += by);
    let mut cs = contacts();
    // One record of a type nobody configured, past the end of a dense table.
    cs.push(with_consents(vec![given(EVERYTHING + 900, NOW - DAY)]));
    for c in &mut cs {
        c.consents.iter_mut().for_each(|r| r.type_id += by);
        c.bases.iter_mut().for_each(|b| b.purpose_id += by);
        c.preferences
            .iter_mut()
            .for_each(|p| p.subscription_type_id += by);
    }
    (cfg, cs)
}

#[test]
fn small_ids_and_large_ids_decide_alike() {
    // Small ids are looked up in a direct table, large ones by binary
    // search; the answers must not depend on which.
    let (small_cfg, small) = renumbered(0);
    let (large_cfg, large) = renumbered(5_000_000);
    let (small_p, large_p) = (
        Policy::new(small_cfg).unwrap(),
        Policy::new(large_cfg).unwrap(),
    );
    for channel in ALL_CHANNELS {
        for (purpose, sub) in [
            (None, None),
            (Some(SALES), Some(OFFERS)),
            (Some(SOFT_OPT_IN), Some(WEEKLY)),
        ] {
            let r = |by: u32| Request {
                purpose: purpose.map(|p| p + by),
                subscription_type: sub.map(|s| s + by),
                ..req(channel)
            };
            for (s, l) in small.iter().zip(&large) {
                let mut got = large_p.decide(l.view(), &r(5_000_000));
                if let Decision::Allow {
                    consent_type: Some(t),
                    ..
                } = &mut got
                {
                    *t -= 5_000_000;
                }
                assert_eq!(small_p.decide(s.view(), &r(0)), got, "{s:?} {:?}", r(0));
            }
        }
    }
    // And an id inside the direct table's range but not configured is unknown.
    let p = policy();
    let unknown = with_consents(vec![given(EVERYTHING - 4, NOW - DAY)]);
    assert_eq!(
        p.decide(unknown.view(), &req(Channel::SingleEmail)),
        p.decide(contact().view(), &req(Channel::SingleEmail))
    );
}

#[test]
fn a_byte_past_the_cases_is_found_anywhere_in_a_column() {
    use super::super::columns::any_at_least;
    for n in [1u8, 3, 8, 128] {
        for len in [0usize, 1, 7, 8, 9, 16, 17, 40] {
            let fine = vec![n - 1; len];
            assert!(!any_at_least(&fine, n), "n {n}, len {len}");
            for at in 0..len {
                for bad in [n, n.saturating_add(1), 127, 128, 200, 255] {
                    if bad < n {
                        continue;
                    }
                    let mut col = fine.clone();
                    col[at] = bad;
                    assert!(any_at_least(&col, n), "n {n}, len {len}, {bad} at {at}");
                }
            }
        }
    }
}
