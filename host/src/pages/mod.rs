//! The contact-facing pages (issue 8), as library functions: signed links,
//! the consent form (Livespace), the preference centre (SuperOffice's
//! "Manage subscriptions"), double opt-in, the admin's templates, the
//! outbox, and the pages' strings in English, Polish and Italian.
//!
//! Nothing here speaks HTTP: a route verifies nothing itself, it passes the
//! token from the URL and the visitor's IP and user agent to one function
//! and shows what comes back. Every link is checked the same way
//! ([`links`]): signed with the installation's secret, bound to one
//! contact, expired, or revoked by [`links::rotate_links`]. No function
//! takes a contact id next to a token, so a link for contact X can never
//! act on contact Y.
//!
//! Times come from the store's clock, never from the caller, so an expired
//! link cannot be revived by passing another time.

pub mod bulk;
mod error;
pub mod form;
pub mod links;
pub mod messages;
pub mod preferences;
pub mod templates;
mod token;

#[cfg(test)]
mod tests;

pub use bulk::{BulkLink, campaign_links, form_links_for, reconsent_links, write_links_csv};
pub use error::PageError;
pub use form::{
    Confirmed, FormPage, FormSubmitted, OfferedConsent, SubmittedChange, confirm, form_page,
    submit_form,
};
pub use links::{
    FormLink, PreferenceLink, email_form_link, issue_form_link, issue_preference_link, rotate_links,
};
pub use messages::{Language, Msg};
pub use preferences::{
    ConsentChoice, PreferencePage, SubscriptionChoice, opt_out_of_everything, preference_page,
    resume_subscriptions, set_subscription, withdraw_consent,
};
pub use templates::{Template, TemplateName, reset_template, save_template, template};

use serde::{Deserialize, Serialize};

/// Who is on the page: kept as evidence of a consent change (stored apart
/// from the ledger and erasable).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visitor {
    /// The address the request came from.
    pub ip: Option<String>,
    /// The browser's `User-Agent` header.
    pub user_agent: Option<String>,
}

/// A user agent is kept to this many characters: enough to tell browsers
/// apart, and far below the evidence limit.
const MAX_USER_AGENT: usize = 512;

impl Visitor {
    /// The evidence of one change: who visited, through which link, and in
    /// which language the page was shown.
    pub(crate) fn evidence(&self, token_id: &str, language: Language) -> serde_json::Value {
        let user_agent = self
            .user_agent
            .as_deref()
            .map(|ua| ua.chars().take(MAX_USER_AGENT).collect::<String>());
        serde_json::json!({
            "ip": self.ip.as_deref().map(|ip| ip.chars().take(64).collect::<String>()),
            "user_agent": user_agent,
            "token_id": token_id,
            "language": language.code(),
        })
    }
}

/// Who a change made on a form is recorded as: the contact, through the
/// link. Hashed into the ledger, so it names no one.
const FORM_ACTOR: &str = "contact via consent form link";
/// Who a change made in the preference centre is recorded as.
const PREFERENCES_ACTOR: &str = "contact via preference centre";
