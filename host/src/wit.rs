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
                single_mail: false,
                mailing_list: false,
                per_contact: false,
                e_marketing_privacy: true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_config_is_what_a_new_database_holds() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::create(dir.path().join("c.db")).unwrap();
        assert_eq!(Config::from_store(&store).unwrap(), Config::builtin());
    }
}
