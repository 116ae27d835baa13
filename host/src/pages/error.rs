//! The one error type of the pages. The link errors are what a contact
//! meets: [`PageError::for_contact`] gives them in the page's language.

use chrono::{DateTime, Utc};

use super::messages::{Language, Msg};
use crate::store::{ContactId, StoreError};

/// What the pages refuse or fail at.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The link's time is over (Livespace: form links work for 14 days).
    #[error("this link expired on {}; ask for a new one", .at.format("%Y-%m-%d %H:%M UTC"))]
    Expired {
        /// When it expired.
        at: DateTime<Utc>,
    },
    /// The link was cut short, edited, or signed by another installation's
    /// secret (the three cannot be told apart).
    #[error(
        "this link is not valid: it was cut short or changed, or made by another installation; \
         ask for a new one"
    )]
    Altered,
    /// The contact's links were rotated after this one was issued.
    #[error("this link was replaced by a newer one; use the newest link you were sent")]
    Revoked,
    /// A form answer names a consent type the link did not offer.
    #[error(
        "consent type `{0}` is not offered by this link; only the consents it offers can be changed"
    )]
    NotOffered(String),
    /// The consent changed after the confirmation email was sent (withdrawn,
    /// or asked for again with a newer email).
    #[error(
        "this confirmation link is no longer needed: the consent was changed after it was sent"
    )]
    Superseded,
    /// A form link must offer at least one consent type.
    #[error("name at least one consent type to offer, e.g. `newsletter`")]
    NoConsentTypes,
    /// A link cannot be emailed to a contact without an address.
    #[error("contact {0} has no email address; copy the link and send it another way")]
    NoEmail(ContactId),
    /// Livespace: the link email must contain the form link and the form
    /// the consents; saving a template without its variable is refused.
    #[error(
        "the {template} template must use the `{variable}` variable; add `{{{{ {variable} }}}}` where it belongs"
    )]
    MissingVariable {
        /// The template.
        template: &'static str,
        /// The variable it lacks.
        variable: &'static str,
    },
    /// A template uses a variable that is never given to it (a typo).
    #[error("the {template} template uses `{variable}`, which it is not given; it is given: {}", .available.join(", "))]
    UnknownVariable {
        /// The template.
        template: &'static str,
        /// The variable it uses.
        variable: String,
        /// The variables it is given.
        available: &'static [&'static str],
    },
    /// A template does not parse, does not render, or has a subject where
    /// it takes none (or none where it needs one).
    #[error("the {template} template cannot be used: {why}")]
    BadTemplate {
        /// The template.
        template: &'static str,
        /// What is wrong, with the line when the engine knows it.
        why: String,
    },
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PageError {
    /// The sentence to show a contact on a page, in `language`, for the
    /// errors a contact can meet; `None` for the others (show a general
    /// failure and log the error).
    pub fn for_contact(&self, language: Language) -> Option<String> {
        let text = |m: Msg| m.text(language).to_owned();
        Some(match self {
            PageError::Expired { at } => Msg::LinkExpired
                .text(language)
                .replace("{date}", &at.format("%Y-%m-%d").to_string()),
            PageError::Altered => text(Msg::LinkInvalid),
            PageError::Revoked => text(Msg::LinkRevoked),
            PageError::NotOffered(_) => text(Msg::ConsentNotOffered),
            PageError::Superseded => text(Msg::ConfirmationSuperseded),
            _ => return None,
        })
    }
}
