//! The `crm:consent` contract's types (`wit/consent.wit`), as wasmtime's
//! `bindgen!` generates them: what a plugin receives and answers.
//!
//! They live in their own namespace because the store has domain types of
//! the same names (a stored [`crate::store::ConsentType`] is not the
//! [`ConsentType`] a policy is built from); the mapping between the two is
//! written once, in `hooks::convert`. Enum names in JSON, the CLI and the
//! decision log are the snake_case of the WIT names (`single-email` is
//! `single_email`).

pub use crate::engine::bindings::{
    Allowed, BatchError, Channel, Config, ConfigError, ConsentRecord, ConsentStatus, ConsentType,
    ContactBatch, ContactFlags, JustificationReason, LegalBasis, Outcome, Preference, Purpose,
    PurposeBasis, ReasonCode, Request, SubscriptionState, SubscriptionType, Switches, Verdict,
};
pub use crate::engine::contact::ContactState;

/// One list per enum gives its `ALL`, its `as_str` (the snake_case of the
/// WIT name, the one spelling of JSON, the CLI and the decision log) and
/// its serde, which uses that spelling (bindgen's derive would use the Rust
/// variant names, `SingleEmail`). The match is exhaustive, so a case added
/// to the WIT does not compile until it has a name here; a test checks the
/// names against the WIT file.
macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal,)* }) => {
        impl $ty {
            /// Every case, in the WIT's order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// The snake_case name: `single_email`, `no_consent`, ...
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)*
                }
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                const NAMES: &[&str] = &[$($name),*];
                let name = String::deserialize(deserializer)?;
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == name)
                    .ok_or_else(|| serde::de::Error::unknown_variant(&name, NAMES))
            }
        }
    };
}

/// Serde for a WIT record, field by field under its WIT name (snake_case),
/// for the records the decision log keeps and a CRM may serialize. The
/// destructuring is exhaustive, so a field added to the WIT does not compile
/// until it is listed here. `field or "name"` also reads an older contract's
/// name: decisions logged before 0.2.0 keep their config in 0.1's words, and
/// replay reads them.
macro_rules! record_serde {
    ($ty:ident { $($field:ident $(or $alias:literal)?),* $(,)? }) => {
        // The field types are inferred from the record's own, so the type
        // parameters are named after the fields.
        #[allow(non_camel_case_types)]
        const _: () = {
            #[derive(serde::Serialize, serde::Deserialize)]
            struct Fields<$($field),*> {
                $($(#[serde(alias = $alias)])? $field: $field,)*
            }

            impl serde::Serialize for $ty {
                fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    let $ty { $($field),* } = self;
                    Fields { $($field),* }.serialize(serializer)
                }
            }

            impl<'de> serde::Deserialize<'de> for $ty {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    let Fields { $($field),* } = Fields::deserialize(deserializer)?;
                    Ok($ty { $($field),* })
                }
            }
        };
    };
}

record_serde!(Config {
    consent_types,
    reasons,
    purposes,
    subscription_types,
    switches,
});
record_serde!(ConsentType {
    id,
    code,
    title,
    text_version,
    validity_days,
    allow_bulk_email or "allow_bulk",
    allow_single_email or "allow_single",
    allow_phone or "allow_contact",
});
record_serde!(JustificationReason { id, code, label });
record_serde!(Purpose {
    id,
    code,
    name,
    legal_basis,
    direct_marketing,
});
record_serde!(SubscriptionType {
    id,
    code,
    name,
    requires_opt_in,
});
record_serde!(Switches {
    check_single_email or "single_mail",
    check_bulk_email or "mailing_list",
    check_phone or "per_contact",
    e_marketing_privacy,
});
record_serde!(ConsentRecord {
    type_id,
    status,
    legal_basis,
    given_at,
    method_id,
});
record_serde!(PurposeBasis {
    purpose_id,
    legal_basis
});
record_serde!(Preference {
    subscription_type_id,
    state
});
record_serde!(Request {
    channel,
    purpose,
    subscription_type,
    now,
});
record_serde!(Allowed {
    code,
    consent_type,
    legal_basis,
    valid_until,
});
record_serde!(Verdict { outcome, code });

names!(Channel {
    BulkEmail => "bulk_email",
    SingleEmail => "single_email",
    Phone => "phone",
    Sms => "sms",
});

names!(ConsentStatus {
    Requested => "requested",
    Given => "given",
    Renewed => "renewed",
    Refused => "refused",
    Withdrawn => "withdrawn",
    Revoked => "revoked",
    Expired => "expired",
    Invalidated => "invalidated",
});

names!(LegalBasis {
    Consent => "consent",
    Contract => "contract",
    LegalObligation => "legal_obligation",
    VitalInterest => "vital_interest",
    PublicInterest => "public_interest",
    OfficialAuthority => "official_authority",
    LegitimateInterest => "legitimate_interest",
    Withdrawn => "withdrawn",
});

names!(SubscriptionState {
    OptedIn => "opted_in",
    NotSpecified => "not_specified",
    OptedOut => "opted_out",
});

names!(Outcome {
    Allow => "allow",
    Deny => "deny",
    Justify => "justify",
});

names!(ReasonCode {
    Consent => "consent",
    LegalBasis => "legal_basis",
    NotChecked => "not_checked",
    NoConsent => "no_consent",
    ConsentExpired => "consent_expired",
    ConsentWithdrawn => "consent_withdrawn",
    ConsentRefused => "consent_refused",
    BasisWithdrawn => "basis_withdrawn",
    Objected => "objected",
    Restricted => "restricted",
    OptedOutOfAll => "opted_out_of_all",
    OptedOut => "opted_out",
    NotOptedIn => "not_opted_in",
    UnknownSubscriptionType => "unknown_subscription_type",
    NoReasonsConfigured => "no_reasons_configured",
    PluginFault => "plugin_fault",
});

impl Config {
    /// The config the store's catalogs and switches describe, read in one
    /// transaction: what [`crate::StoredHooks`] builds its policy from. A
    /// CRM that embeds [`crate::Hooks`] over its own data can start here.
    pub fn from_store(store: &crate::Store) -> Result<Config, crate::StoreError> {
        Ok(crate::hooks::convert::config(&store.config_snapshot()?))
    }

    /// The built-in config every new database starts with: the four
    /// justification reasons of the Italian CRM plugin, SuperOffice's four
    /// subscription types (opt-in by default, Art. 25(2)), the switches off
    /// except e-marketing privacy (Livespace: consent handling is off until
    /// an admin enables it), and no consent types or purposes yet. Push the
    /// CRM's own consent types and purposes, and turn the checks on.
    pub fn builtin() -> Config {
        let reason = |id, code: &str, label: &str| JustificationReason {
            id,
            code: code.to_owned(),
            label: label.to_owned(),
        };
        let subscription = |id, code: &str, name: &str| SubscriptionType {
            id,
            code: code.to_owned(),
            name: name.to_owned(),
            requires_opt_in: true,
        };
        Config {
            consent_types: Vec::new(),
            reasons: vec![
                reason(1, "contact_request", "The contact asked to be contacted"),
                reason(
                    2,
                    "existing_customer",
                    "Existing customer, about a similar product (soft opt-in)",
                ),
                reason(3, "contract", "Needed to perform a contract"),
                reason(4, "legal_obligation", "Required by a legal obligation"),
            ],
            purposes: Vec::new(),
            subscription_types: vec![
                subscription(1, "newsletter", "Newsletter"),
                subscription(2, "product_news", "Product news"),
                subscription(3, "events", "Events and webinars"),
                subscription(4, "surveys", "Surveys"),
            ],
            switches: Switches {
                check_single_email: false,
                check_bulk_email: false,
                check_phone: false,
                e_marketing_privacy: true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases of one WIT enum of `interface types`, snake_cased.
    fn wit_cases(name: &str) -> Vec<String> {
        let mut resolve = wit_parser::Resolve::default();
        let wit = concat!(env!("CARGO_MANIFEST_DIR"), "/../wit/consent.wit");
        resolve.push_path(wit).expect("the contract parses");
        let ty = resolve
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no enum `{name}` in the contract"))
            .1;
        let wit_parser::TypeDefKind::Enum(e) = &ty.kind else {
            panic!("`{name}` is not an enum");
        };
        e.cases.iter().map(|c| c.name.replace('-', "_")).collect()
    }

    /// The fields of one WIT record of `interface types`, snake_cased.
    fn wit_fields(name: &str) -> Vec<String> {
        let mut resolve = wit_parser::Resolve::default();
        let wit = concat!(env!("CARGO_MANIFEST_DIR"), "/../wit/consent.wit");
        resolve.push_path(wit).expect("the contract parses");
        let ty = resolve
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no record `{name}` in the contract"))
            .1;
        let wit_parser::TypeDefKind::Record(r) = &ty.kind else {
            panic!("`{name}` is not a record");
        };
        r.fields.iter().map(|f| f.name.replace('-', "_")).collect()
    }

    fn names(all: &[impl Copy], as_str: impl Fn(usize) -> &'static str) -> Vec<String> {
        (0..all.len()).map(|i| as_str(i).to_owned()).collect()
    }

    /// A case added to the WIT and not named here fails this test (and the
    /// exhaustive match in `names!` does not compile).
    #[test]
    fn every_wit_enum_case_has_its_one_spelling() {
        assert_eq!(
            wit_cases("channel"),
            names(Channel::ALL, |i| Channel::ALL[i].as_str())
        );
        assert_eq!(
            wit_cases("consent-status"),
            names(ConsentStatus::ALL, |i| ConsentStatus::ALL[i].as_str())
        );
        assert_eq!(
            wit_cases("legal-basis"),
            names(LegalBasis::ALL, |i| LegalBasis::ALL[i].as_str())
        );
        assert_eq!(
            wit_cases("subscription-state"),
            names(SubscriptionState::ALL, |i| SubscriptionState::ALL[i]
                .as_str())
        );
        assert_eq!(
            wit_cases("outcome"),
            names(Outcome::ALL, |i| Outcome::ALL[i].as_str())
        );
        assert_eq!(
            wit_cases("reason-code"),
            names(ReasonCode::ALL, |i| ReasonCode::ALL[i].as_str())
        );
    }

    /// Each switch of the WIT is one of the admin's switches, spelled alike
    /// in the WIT, the CLI, the store's JSON and the config's JSON.
    #[test]
    fn every_wit_switch_has_its_one_spelling() {
        let switches: Vec<&str> = crate::setup::Switch::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        assert_eq!(wit_fields("switches"), switches);
        let json = serde_json::to_value(Config::builtin().switches).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = switches.clone();
        keys.sort_unstable();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
    }

    /// A consent type's permissions are `allow_` and a channel's name, one
    /// per channel but SMS (which rides on single email); the store's JSON
    /// has the same keys.
    #[test]
    fn every_wit_permission_is_named_after_a_channel() {
        let permissions: Vec<String> = wit_fields("consent-type")
            .into_iter()
            .filter(|f| f.starts_with("allow_"))
            .collect();
        let channels: Vec<String> = Channel::ALL
            .iter()
            .filter(|c| **c != Channel::Sms)
            .map(|c| format!("allow_{}", c.as_str()))
            .collect();
        assert_eq!(permissions, channels);

        let stored = crate::store::ConsentType {
            id: crate::store::ConsentTypeId(1),
            code: "email".into(),
            title: "Email".into(),
            description: None,
            text_version: 1,
            validity_days: None,
            allow_bulk_email: false,
            allow_single_email: true,
            allow_phone: false,
            created_at: chrono::DateTime::UNIX_EPOCH,
        };
        let json = serde_json::to_value(&stored).unwrap();
        let mut stored_keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|k| k.starts_with("allow_"))
            .collect();
        stored_keys.sort_unstable();
        let mut sorted = channels.clone();
        sorted.sort_unstable();
        assert_eq!(stored_keys, sorted);
    }

    /// The JSON of the contract's types, as the decision log keeps them, uses
    /// the WIT's names: snake_case fields and enum cases.
    #[test]
    fn the_contracts_types_serialize_in_the_one_spelling() {
        let record = ConsentRecord {
            type_id: 1,
            status: ConsentStatus::Withdrawn,
            legal_basis: LegalBasis::LegitimateInterest,
            given_at: 0,
            method_id: 2,
        };
        let json = serde_json::to_value(record).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type_id": 1,
                "status": "withdrawn",
                "legal_basis": "legitimate_interest",
                "given_at": 0,
                "method_id": 2,
            })
        );
        assert_eq!(
            serde_json::from_value::<ConsentRecord>(json).unwrap(),
            record
        );
        let request = Request {
            channel: Channel::SingleEmail,
            purpose: None,
            subscription_type: Some(3),
            now: 9,
        };
        assert_eq!(
            serde_json::to_value(request).unwrap(),
            serde_json::json!({
                "channel": "single_email",
                "purpose": null,
                "subscription_type": 3,
                "now": 9,
            })
        );
        let config = Config::builtin();
        let back: Config = serde_json::from_value(serde_json::to_value(&config).unwrap()).unwrap();
        assert_eq!(back, config);
        let wrong = serde_json::from_value::<Channel>(serde_json::json!("SingleEmail"));
        assert!(
            wrong.unwrap_err().to_string().contains("expected one of"),
            "only the one spelling is read"
        );
    }

    /// The store's own vocabularies spell their cases the same way.
    #[test]
    fn the_store_spells_channels_statuses_bases_and_states_like_the_wit() {
        use crate::store;
        let spelled = |a: &[&str], b: &[&str]| assert_eq!(a, b);
        spelled(
            &store::Channel::ALL
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>(),
            &Channel::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        );
        spelled(
            &store::ConsentStatus::ALL
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>(),
            &ConsentStatus::ALL
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>(),
        );
        spelled(
            &store::LegalBasis::ALL
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>(),
            &LegalBasis::ALL
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>(),
        );
        spelled(
            &store::SubscriptionState::ALL
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>(),
            &SubscriptionState::ALL
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>(),
        );
    }

    #[test]
    fn the_builtin_config_is_what_a_new_database_holds() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::create(dir.path().join("c.db")).unwrap();
        assert_eq!(Config::from_store(&store).unwrap(), Config::builtin());
    }
}
