//! The generator of `tests/conformance/vectors.json`: named configs and
//! contacts, crossed with requests on every channel, decided by the
//! reference rules compiled natively. Each case keeps one decision per
//! contact, channel and answer, so the file stays a few hundred cases that
//! each show one rule.

use std::collections::{BTreeMap, BTreeSet};

use crm_consent::conformance::{Expected, FORMAT, Vector, Vectors, contract};
use crm_consent::wit::{
    Channel, Config, ConsentStatus, ContactFlags, ContactState, LegalBasis, Outcome, ReasonCode,
    Request, SubscriptionState,
};
use crm_consent_plugin::rules as n;
use crm_consent_tests::{
    BETA, DAY, EMAIL, EMARKETING, EVERYTHING, MARKETING, NEWSLETTER, NOW, PHONE, SALES, WEEKLY,
    contact, native, sample_config,
};

/// A purpose, subscription type and consent type no config has.
const UNKNOWN: u32 = 99;

const ABOUT: &str = "Test vectors of the crm:consent contract, generated from the reference \
rules (plugin/src/rules) compiled natively. Each case: a named config, a contact state and a \
request; `expect` is the decision (outcome, code, what allowed it, the reasons of a justify). \
Check a plugin with `crm-consent plugin test <file.wasm>`. Regenerate with \
`UPDATE_VECTORS=1 cargo test -p crm-consent-tests --test conformance`.";

fn configs() -> BTreeMap<String, Config> {
    let gdpr = sample_config();
    let mut soft_opt_in = gdpr.clone();
    soft_opt_in.switches.e_marketing_privacy = false;
    let mut checks_off = gdpr.clone();
    checks_off.switches.check_single_email = false;
    checks_off.switches.check_bulk_email = false;
    checks_off.switches.check_phone = false;
    let mut phone_unchecked = gdpr.clone();
    phone_unchecked.switches.check_phone = false;
    let mut no_reasons = gdpr.clone();
    no_reasons.reasons.clear();
    [
        ("gdpr", gdpr),
        ("soft_opt_in", soft_opt_in),
        ("checks_off", checks_off),
        ("phone_unchecked", phone_unchecked),
        ("no_reasons", no_reasons),
    ]
    .into_iter()
    .map(|(name, c)| (name.to_owned(), c))
    .collect()
}

/// Named contact states, each showing a rule or a boundary of one.
fn contacts() -> Vec<(String, ContactState)> {
    use ConsentStatus as S;
    use LegalBasis as B;
    use SubscriptionState as P;
    let everything = || contact().given(EVERYTHING, NOW - 100 * DAY);
    let mut out: Vec<(&str, ContactState)> = vec![
        ("nothing", contact().build()),
        (
            "restricted",
            everything().flags(ContactFlags::RESTRICTED).build(),
        ),
        (
            "restricted_with_contract",
            contact()
                .basis(SALES, B::Contract)
                .flags(ContactFlags::RESTRICTED)
                .build(),
        ),
        (
            "objected",
            everything().flags(ContactFlags::OBJECTED).build(),
        ),
        (
            "objected_with_contract",
            contact()
                .basis(SALES, B::Contract)
                .flags(ContactFlags::OBJECTED)
                .build(),
        ),
        (
            "opted_out_of_all",
            everything().flags(ContactFlags::OPTED_OUT_OF_ALL).build(),
        ),
        (
            "newsletter_given",
            contact().given(NEWSLETTER, NOW - 10 * DAY).build(),
        ),
        (
            "email_given_long_ago",
            contact().given(EMAIL, NOW - 3000 * DAY).build(),
        ),
        (
            "phone_given",
            contact().given(PHONE, NOW - 10 * DAY).build(),
        ),
        ("everything_given", everything().build()),
        (
            "phone_expired",
            contact().given(PHONE, NOW - 31 * DAY).build(),
        ),
        (
            "phone_expires_now",
            contact().given(PHONE, NOW - 30 * DAY).build(),
        ),
        (
            "phone_last_second",
            contact().given(PHONE, NOW - 30 * DAY + 1).build(),
        ),
        (
            "phone_given_tomorrow",
            contact().given(PHONE, NOW + DAY).build(),
        ),
        (
            "newsletter_renewed",
            contact()
                .consent(NEWSLETTER, S::Renewed, NOW - 400 * DAY + 50 * DAY)
                .build(),
        ),
        (
            "newsletter_marked_expired",
            contact().consent(NEWSLETTER, S::Expired, NOW - DAY).build(),
        ),
        (
            "everything_requested",
            contact()
                .consent(EVERYTHING, S::Requested, NOW - DAY)
                .build(),
        ),
        (
            "everything_invalidated",
            contact()
                .consent(EVERYTHING, S::Invalidated, NOW - DAY)
                .build(),
        ),
        (
            "email_withdrawn",
            everything().consent(EMAIL, S::Withdrawn, NOW - DAY).build(),
        ),
        (
            "everything_revoked",
            contact().consent(EVERYTHING, S::Revoked, NOW - DAY).build(),
        ),
        (
            "phone_refused",
            contact()
                .given(PHONE, NOW - DAY)
                .consent(PHONE, S::Refused, NOW - DAY)
                .build(),
        ),
        (
            "refused_and_withdrawn",
            contact()
                .consent(EVERYTHING, S::Refused, NOW - DAY)
                .consent(NEWSLETTER, S::Withdrawn, NOW - DAY)
                .build(),
        ),
        (
            "unknown_type_given",
            contact().given(UNKNOWN, NOW - DAY).build(),
        ),
        (
            "two_expiries",
            contact()
                .given(NEWSLETTER, NOW - 300 * DAY)
                .given(EVERYTHING, NOW - 10 * DAY)
                .build(),
        ),
        (
            "expired_and_valid",
            contact()
                .given(PHONE, NOW - 40 * DAY)
                .given(EVERYTHING, NOW - 10 * DAY)
                .build(),
        ),
        (
            "sales_basis_withdrawn",
            everything().basis(SALES, B::Withdrawn).build(),
        ),
        (
            "sales_contract_and_consent",
            contact()
                .basis(SALES, B::Contract)
                .basis(SALES, B::Consent)
                .build(),
        ),
        (
            "emarketing_legitimate_interest",
            contact().basis(EMARKETING, B::LegitimateInterest).build(),
        ),
        (
            "marketing_contract",
            contact().basis(MARKETING, B::Contract).build(),
        ),
        (
            "weekly_opted_out",
            contact()
                .given(NEWSLETTER, NOW - DAY)
                .preference(WEEKLY, P::OptedOut)
                .build(),
        ),
        (
            "beta_opted_in",
            contact()
                .given(NEWSLETTER, NOW - DAY)
                .preference(BETA, P::OptedIn)
                .build(),
        ),
        (
            "beta_not_specified",
            contact()
                .given(NEWSLETTER, NOW - DAY)
                .preference(BETA, P::NotSpecified)
                .build(),
        ),
        (
            "beta_in_and_out",
            contact()
                .given(NEWSLETTER, NOW - DAY)
                .preference(BETA, P::OptedIn)
                .preference(BETA, P::OptedOut)
                .build(),
        ),
    ];
    let bases = [
        ("contract", B::Contract),
        ("legal_obligation", B::LegalObligation),
        ("vital_interest", B::VitalInterest),
        ("public_interest", B::PublicInterest),
        ("official_authority", B::OfficialAuthority),
        ("legitimate_interest", B::LegitimateInterest),
        ("consent", B::Consent),
    ];
    let mut named: Vec<(String, ContactState)> = out
        .drain(..)
        .map(|(name, c)| (name.to_owned(), c))
        .collect();
    for (name, basis) in bases {
        named.push((
            format!("sales_{name}"),
            contact().basis(SALES, basis).build(),
        ));
    }
    named
}

/// Every request of a contact: each channel with each purpose (and, for a
/// newsletter, each subscription type), at [`NOW`].
fn requests() -> Vec<(String, Request)> {
    let purposes = [
        ("no_purpose", None),
        ("sales", Some(SALES)),
        ("marketing", Some(MARKETING)),
        ("emarketing", Some(EMARKETING)),
        ("unknown_purpose", Some(UNKNOWN)),
    ];
    let subscriptions = [
        ("no_subscription", None),
        ("weekly", Some(WEEKLY)),
        ("beta", Some(BETA)),
        ("unknown_subscription", Some(UNKNOWN)),
    ];
    let mut out = Vec::new();
    for &channel in Channel::ALL {
        for (p, purpose) in purposes {
            let subs: &[(&str, Option<u32>)] = if channel == Channel::BulkEmail {
                &subscriptions
            } else {
                &subscriptions[..1]
            };
            for &(s, subscription_type) in subs {
                let name = if channel == Channel::BulkEmail {
                    format!("{}.{p}.{s}", channel.as_str())
                } else {
                    format!("{}.{p}", channel.as_str())
                };
                let request = Request {
                    channel,
                    purpose,
                    subscription_type,
                    now: NOW,
                };
                out.push((name, request));
            }
        }
    }
    out
}

/// Restriction, objection and subscription choices: the contact's own
/// rights, which no switch turns off.
fn contact_rights(code: ReasonCode) -> bool {
    use ReasonCode as C;
    matches!(
        code,
        C::Restricted | C::Objected | C::OptedOutOfAll | C::OptedOut | C::NotOptedIn
    )
}

/// The pack and the rule tags of a decision.
fn classify(expect: &Expected, request: &Request) -> (&'static str, Vec<&'static str>) {
    use ReasonCode as C;
    let (pack, rule) = match expect.code {
        C::Restricted => ("gdpr-core", "art18"),
        C::Objected => ("gdpr-core", "art21"),
        C::ConsentWithdrawn => ("gdpr-core", "withdrawn"),
        C::ConsentRefused => ("gdpr-core", "refused"),
        C::BasisWithdrawn => ("gdpr-core", "basis_withdrawn"),
        C::Consent => ("gdpr-core", "consent"),
        C::LegalBasis if request.channel == Channel::BulkEmail => ("switches", "soft_opt_in"),
        C::LegalBasis => ("gdpr-core", "legal_basis"),
        C::NotChecked => ("switches", "not_checked"),
        C::OptedOutOfAll | C::OptedOut | C::NotOptedIn | C::UnknownSubscriptionType => {
            ("subscriptions", "subscription")
        }
        C::NoReasonsConfigured => ("justify", "no_reasons"),
        C::NoConsent | C::ConsentExpired if expect.outcome == Outcome::Justify => {
            ("justify", "justify")
        }
        C::NoConsent => ("gdpr-core", "no_consent"),
        C::ConsentExpired => ("gdpr-core", "expired"),
        C::PluginFault => unreachable!("the rules never answer plugin-fault"),
    };
    let mut tags = vec![rule, request.channel.as_str()];
    if expect.code == C::ConsentExpired || expect.valid_until.is_some() {
        tags.push("expiry");
    }
    tags.sort_unstable();
    tags.dedup();
    (pack, tags)
}

/// The whole file, as the generator makes it.
pub fn vectors() -> Vectors {
    let configs = configs();
    let contacts = contacts();
    let requests = requests();
    let mut seen = BTreeSet::new();
    let mut vectors = Vec::new();
    let policy_of = |c: &Config| n::Policy::new(native::config(c)).expect("the configs are valid");
    let baseline = policy_of(&configs["gdpr"]);
    for (config_name, config) in &configs {
        let policy = policy_of(config);
        for (contact_name, state) in &contacts {
            let native_contact = native::contact(state);
            for (request_name, request) in &requests {
                let req = native::request(request);
                let decided = policy.decide(native_contact.view(), &req);
                // The other configs each change one switch or list: keep
                // only the cases where that change shows.
                // The contact's rights hold whatever the switches say, so
                // those cases are kept under every config.
                let expect = Expected::of(&native::wit_decision(&decided));
                if config_name != "gdpr"
                    && !contact_rights(expect.code)
                    && decided == baseline.decide(native_contact.view(), &req)
                {
                    continue;
                }
                // One case per contact, channel and answer: a second request
                // that only renames the same decision adds nothing. Answers
                // that do not depend on the contact keep one case per request.
                let key = match expect.code {
                    ReasonCode::NotChecked | ReasonCode::UnknownSubscriptionType => {
                        format!("{config_name} * {request_name}")
                    }
                    // A missing opt-in depends only on the preferences.
                    ReasonCode::NotOptedIn => {
                        format!("{config_name} {:?} {request_name}", state.preferences)
                    }
                    _ => format!(
                        "{config_name} {contact_name} {:?} {expect:?}",
                        request.channel
                    ),
                };
                if !seen.insert(key) {
                    continue;
                }
                let (pack, tags) = classify(&expect, request);
                vectors.push(Vector {
                    id: format!("{config_name}/{contact_name}/{request_name}"),
                    pack: pack.to_owned(),
                    tags: tags.into_iter().map(str::to_owned).collect(),
                    config: config_name.clone(),
                    contact: state.clone(),
                    request: *request,
                    expect,
                });
            }
        }
    }
    Vectors {
        format: FORMAT,
        contract: contract(),
        about: ABOUT.to_owned(),
        configs,
        vectors,
    }
}

/// The file's text: pretty JSON and a final newline.
pub fn text() -> String {
    let mut text = serde_json::to_string_pretty(&vectors()).expect("vectors serialize");
    text.push('\n');
    text
}
