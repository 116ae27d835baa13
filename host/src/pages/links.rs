//! Issuing and checking the links: a consent form link (Livespace: pick
//! the consents to offer, copy the link or email it; it works for 14
//! days), a preference-centre link (SuperOffice's "Manage subscriptions",
//! in every email), and a double opt-in confirmation link.
//!
//! A link is stateless: issuing one writes nothing, and checking one reads
//! the secret, the clock and the contact's link generation.

use chrono::{DateTime, Duration, Utc};
use minijinja::value::{Serde, Value};
use serde::{Deserialize, Serialize};

use super::PageError;
use super::templates::{self, TemplateName};
use super::token::{self, Claims, LinkKind};
use crate::store::{ConsentType, ContactId, NewOutboxMessage, OutboxKind, OutboxMessage, Store};

/// Livespace: a consent form link works for 14 days.
pub const FORM_LINK_DAYS: i64 = 14;
/// Where a consent form is served: `{base}/forms/{token}`.
pub const FORMS_PATH: &str = "/forms/";
/// Where the preference centre is served: `{base}/preferences/{token}`.
pub const PREFERENCES_PATH: &str = "/preferences/";
/// Where a double opt-in confirmation lands: `{base}/confirm/{token}`.
pub const CONFIRM_PATH: &str = "/confirm/";

/// A consent form link for one contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FormLink {
    /// The whole address, from the base URL setting.
    pub url: String,
    /// The path alone, `/forms/{token}`.
    pub path: String,
    /// The signed token.
    pub token: String,
    /// The link's random id, recorded as evidence of what it changes.
    pub token_id: String,
    /// Whom it is for.
    pub contact: ContactId,
    /// The codes of the consent types it offers.
    pub consent_types: Vec<String>,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A preference-centre link for one contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PreferenceLink {
    /// The whole address.
    pub url: String,
    /// The path alone, `/preferences/{token}`.
    pub path: String,
    /// The signed token.
    pub token: String,
    /// Whom it is for.
    pub contact: ContactId,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops working (the preference-link period setting).
    pub expires_at: DateTime<Utc>,
}

/// A link just signed.
pub(crate) struct Issued {
    pub url: String,
    pub path: String,
    pub token: String,
    pub id: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Signs links without holding the store: what a form submit needs inside
/// its transaction, to write confirmation emails.
pub(crate) struct Signer {
    secret: [u8; 32],
    base_url: String,
    now: DateTime<Utc>,
}

impl Signer {
    pub(crate) fn new(store: &Store) -> Result<Signer, PageError> {
        Ok(Signer {
            secret: store.link_secret()?,
            base_url: store.link_settings()?.base_url,
            now: store.clock_now(),
        })
    }

    /// Signs a link of `kind` for the contact at `generation`, valid for
    /// `days`; `fill` adds what the kind binds.
    pub(crate) fn issue(
        &self,
        kind: LinkKind,
        contact: ContactId,
        generation: u32,
        days: i64,
        fill: impl FnOnce(&mut Claims),
    ) -> Result<Issued, PageError> {
        let expires_at = self.now + Duration::days(days);
        let mut claims = Claims {
            kind,
            contact,
            generation,
            id: token::new_id()?,
            types: Vec::new(),
            request: None,
            iat: self.now.timestamp(),
            exp: expires_at.timestamp(),
        };
        fill(&mut claims);
        let token = token::sign(&self.secret, &claims)?;
        let prefix = match kind {
            LinkKind::Form => FORMS_PATH,
            LinkKind::Preferences => PREFERENCES_PATH,
            LinkKind::Confirmation => CONFIRM_PATH,
        };
        let path = format!("{prefix}{token}");
        Ok(Issued {
            url: format!("{}{path}", self.base_url),
            path,
            token,
            id: claims.id,
            issued_at: self.now,
            expires_at,
        })
    }
}

fn issue(
    store: &Store,
    kind: LinkKind,
    contact: ContactId,
    days: i64,
    fill: impl FnOnce(&mut Claims),
) -> Result<Issued, PageError> {
    // An erased contact has no one left to send a link to (Art. 17).
    if let Some(at) = store.contact(contact)?.erased_at {
        return Err(crate::store::StoreError::Erased { contact, at }.into());
    }
    let generation = store.link_generation(contact)?;
    Signer::new(store)?.issue(kind, contact, generation, days, fill)
}

/// The offered types by code, each once, in the order given; an unknown
/// code is refused with the valid ones listed.
pub(super) fn offered_types(store: &Store, codes: &[&str]) -> Result<Vec<ConsentType>, PageError> {
    let mut types: Vec<ConsentType> = Vec::new();
    for code in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        let ty = store.consent_type(code)?;
        if !types.iter().any(|t| t.id == ty.id) {
            types.push(ty);
        }
    }
    if types.is_empty() {
        return Err(PageError::NoConsentTypes);
    }
    Ok(types)
}

/// Issues a consent form link offering the types with these codes to the
/// contact (Livespace). Writes nothing: the link carries what it offers.
pub fn issue_form_link(
    store: &Store,
    contact: ContactId,
    consent_types: &[&str],
) -> Result<FormLink, PageError> {
    let types = offered_types(store, consent_types)?;
    let ids = types.iter().map(|t| t.id).collect();
    let link = issue(store, LinkKind::Form, contact, FORM_LINK_DAYS, |c| {
        c.types = ids
    })?;
    Ok(FormLink {
        url: link.url,
        path: link.path,
        token: link.token,
        token_id: link.id,
        contact,
        consent_types: types.into_iter().map(|t| t.code).collect(),
        issued_at: link.issued_at,
        expires_at: link.expires_at,
    })
}

/// Issues the contact's preference-centre link, valid for the configured
/// period (default 180 days: unsubscribe links in old emails must work).
pub fn issue_preference_link(
    store: &Store,
    contact: ContactId,
) -> Result<PreferenceLink, PageError> {
    let days = store.link_settings()?.preference_link_days;
    let link = issue(store, LinkKind::Preferences, contact, days.into(), |_| {})?;
    Ok(PreferenceLink {
        url: link.url,
        path: link.path,
        token: link.token,
        contact,
        issued_at: link.issued_at,
        expires_at: link.expires_at,
    })
}

/// "Send the link by email" (Livespace): issues a form link and writes the
/// link email, rendered from the admin's template, to the outbox.
pub fn email_form_link(
    store: &mut Store,
    contact: ContactId,
    consent_types: &[&str],
) -> Result<(FormLink, OutboxMessage), PageError> {
    let person = store.contact(contact)?;
    let to = person.email.clone().ok_or(PageError::NoEmail(contact))?;
    let link = issue_form_link(store, contact, consent_types)?;
    let preferences = issue_preference_link(store, contact)?;
    let titles: Vec<_> = link
        .consent_types
        .iter()
        .map(|code| {
            let ty = store.consent_type(code)?;
            Ok(serde_json::json!({"code": ty.code, "title": ty.title}))
        })
        .collect::<Result<_, PageError>>()?;
    let ctx = Value::from(Serde(serde_json::json!({
        "contact_name": person.name,
        "form_link": link.url,
        "preference_link": preferences.url,
        "expires_at": day(link.expires_at),
        "consents": titles,
    })));
    let rendered = templates::render(&templates::template(store, TemplateName::LinkEmail)?, ctx)?;
    let message = store.enqueue_message(&NewOutboxMessage {
        contact,
        to,
        subject: rendered.subject.unwrap_or_default(),
        body: rendered.body,
        kind: OutboxKind::FormLink,
    })?;
    Ok((link, message))
}

/// Revokes every link issued to the contact so far; returns the new
/// generation. Links issued from now on work.
pub fn rotate_links(store: &mut Store, contact: ContactId, actor: &str) -> Result<u32, PageError> {
    Ok(store.rotate_links(contact, actor)?)
}

/// The claims of a working link of `kind`: signed by this installation,
/// not expired, not revoked. Every page checks its token here.
pub(crate) fn verify(store: &Store, token: &str, kind: LinkKind) -> Result<Claims, PageError> {
    let claims = token::open(&store.link_secret()?, token)?;
    // A genuine link of another kind is no more usable here than a forged one.
    if claims.kind != kind {
        return Err(PageError::Altered);
    }
    let now = store.clock_now().timestamp();
    if now >= claims.exp {
        let at = DateTime::from_timestamp(claims.exp, 0).ok_or(PageError::Altered)?;
        return Err(PageError::Expired { at });
    }
    if claims.generation < store.link_generation(claims.contact)? {
        return Err(PageError::Revoked);
    }
    Ok(claims)
}

/// The date a page shows for a link's expiry, the same in every language.
pub(crate) fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}
