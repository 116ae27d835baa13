//! The consent form a link opens (Livespace: what the person ticks updates
//! their profile), and the double opt-in confirmation.
//!
//! The page shows the current text version of each consent offered, in the
//! page's language when a translation exists, and what the contact has
//! already given. A submit records, in one transaction, one ledger entry per
//! change, made "via the CRM form" (the locked built-in way), with the
//! visitor's IP, user agent and the link's id as evidence.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use minijinja::value::{Serde, Value};
use serde::{Deserialize, Serialize};

use super::links::{self, Signer, day, issue_preference_link};
use super::messages::{Language, catalog};
use super::templates::{self, TemplateName, render_fragment};
use super::token::{Claims, LinkKind};
use super::{FORM_ACTOR, PageError, Visitor};
use crate::store::{
    CONFIRMATION_DAYS, Confirmation, ConsentStatus, ConsentTypeId, ContactId, FormChoice,
    FormSubmission, LedgerSeq, NewOutboxMessage, OutboxKind, PendingConfirmation, Store,
    awaits_confirmation, counts_as_given,
};

/// One consent the form offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferedConsent {
    /// The type's code: the checkbox's value.
    pub code: String,
    /// The title, translated when a translation exists.
    pub title: String,
    /// The text the person agrees to, translated when a translation exists.
    pub text: String,
    /// The text version shown (Art. 7(1)).
    pub text_version: u32,
    /// The language of the translation shown; `None` for the default text.
    pub translation: Option<String>,
    /// Given and valid now: the checkbox starts ticked.
    pub given: bool,
    /// Ticked on a form and waiting for the email confirmation.
    pub awaiting_confirmation: bool,
    /// Ticking it sends a confirmation email first (double opt-in).
    pub requires_confirmation: bool,
}

/// What the consent form page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormPage {
    /// Whom the link is for.
    pub contact: ContactId,
    /// The contact's name, for a greeting.
    pub contact_name: String,
    /// The language the page is in.
    pub language: Language,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
    /// The consents offered, in the link's order.
    pub consents: Vec<OfferedConsent>,
    /// The admin's form template rendered, with the consents as accessible
    /// checkboxes (fieldset, legend, labels) where it says `{{ consents }}`;
    /// everything put into it is escaped. Put it inside a `<form>` that
    /// posts the ticked codes as `consent`, with a submit button.
    pub html: String,
}

/// A change a submitted form made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedChange {
    /// The consent type's code.
    pub code: String,
    /// `given`, `withdrawn` or (double opt-in) `requested`.
    pub status: ConsentStatus,
    /// Its ledger entry.
    pub seq: LedgerSeq,
}

/// What a submitted form did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormSubmitted {
    /// Whom the link is for.
    pub contact: ContactId,
    /// The changes, in the link's order; empty when nothing changed.
    pub changes: Vec<SubmittedChange>,
    /// How many confirmation emails were written to the outbox.
    pub confirmations_sent: usize,
}

/// What a confirmation click did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmed {
    /// Whom the link is for.
    pub contact: ContactId,
    /// The consent type's code.
    pub code: String,
    /// Its title.
    pub title: String,
    /// The `given` ledger entry; `None` when it was confirmed already.
    pub recorded: Option<LedgerSeq>,
}

/// The offered consents as they are now, for the page and for a submit.
fn offered(
    store: &Store,
    claims: &Claims,
    language: Language,
) -> Result<Vec<OfferedConsent>, PageError> {
    let now = store.clock_now();
    let current: HashMap<ConsentTypeId, _> = store
        .current_consents(claims.contact)?
        .into_iter()
        .map(|c| (c.consent_type_id, c))
        .collect();
    claims
        .types
        .iter()
        .map(|&id| {
            let ty = store.consent_type_by_id(id)?;
            let version = ty.text_version;
            let text = store.consent_type_text(id, version)?.text;
            let translated = store.translation(id, version, language.code())?;
            let state = current.get(&id);
            Ok(OfferedConsent {
                given: state
                    .is_some_and(|c| counts_as_given(c.status, c.given_at, ty.validity_days, now)),
                awaiting_confirmation: state
                    .is_some_and(|c| awaits_confirmation(c.status, c.given_at, now)),
                requires_confirmation: store.requires_confirmation(id)?,
                code: ty.code,
                text_version: version,
                title: translated.as_ref().map_or(ty.title, |t| t.title.clone()),
                text: translated.as_ref().map_or(text, |t| t.text.clone()),
                translation: translated.map(|t| t.language),
            })
        })
        .collect()
}

/// The checkboxes, accessible without JavaScript: one fieldset with a
/// legend, a label per box, the text tied to it with aria-describedby.
const CONSENTS_HTML: &str = r#"<fieldset class="consents">
<legend>{{ msg.form_legend }}</legend>
{% for c in consents %}<div class="consent">
<input type="checkbox" id="consent-{{ loop.index }}" name="consent" value="{{ c.code }}" aria-describedby="consent-{{ loop.index }}-text"{% if c.given or c.awaiting_confirmation %} checked{% endif %}>
<label for="consent-{{ loop.index }}">{{ c.title }}</label>
<p id="consent-{{ loop.index }}-text" class="consent-text">{{ c.text }}</p>
{% if c.given %}<p class="consent-status">{{ msg.form_already_given }}</p>
{% elif c.awaiting_confirmation %}<p class="consent-status">{{ msg.form_awaiting_confirmation }}</p>
{% elif c.requires_confirmation %}<p class="consent-status">{{ msg.form_needs_confirmation }}</p>
{% endif %}</div>
{% endfor %}</fieldset>
"#;

fn page_html(
    store: &Store,
    name: &str,
    consents: &[OfferedConsent],
    language: Language,
    expires_at: DateTime<Utc>,
) -> Result<String, PageError> {
    let msg = catalog(language);
    let boxes = render_fragment(
        "consents.html",
        CONSENTS_HTML,
        minijinja::context! { consents => Serde(consents), msg => Serde(&msg) },
    )?;
    let ctx = minijinja::context! {
        contact_name => name,
        consents => Value::from_safe_string(boxes),
        expires_at => day(expires_at),
        language => language.code(),
        msg => Serde(&msg),
    };
    Ok(templates::render(&templates::template(store, TemplateName::Form)?, ctx)?.body)
}

/// The consent form a link opens, in `language` (from the browser's
/// `Accept-Language`, see [`Language::negotiate`]).
pub fn form_page(store: &Store, token: &str, language: Language) -> Result<FormPage, PageError> {
    let claims = links::verify(store, token, LinkKind::Form)?;
    let consents = offered(store, &claims, language)?;
    let contact = store.contact(claims.contact)?;
    let expires_at = DateTime::from_timestamp(claims.exp, 0).ok_or(PageError::Altered)?;
    let html = page_html(store, &contact.name, &consents, language, expires_at)?;
    Ok(FormPage {
        contact: claims.contact,
        contact_name: contact.name,
        language,
        expires_at,
        consents,
        html,
    })
}

/// Records a submitted form: `ticked` holds the codes of the boxes ticked
/// (the form posts them as `consent`). For each consent the link offers,
/// ticked records `given` (with double opt-in `requested`, and writes the
/// confirmation email to the outbox), unticked when given records
/// `withdrawn` (Art. 7(3)), unchanged records nothing; all in one
/// transaction. A code the link does not offer changes nothing.
pub fn submit_form(
    store: &mut Store,
    token: &str,
    ticked: &[String],
    language: Language,
    visitor: &Visitor,
) -> Result<FormSubmitted, PageError> {
    let claims = links::verify(store, token, LinkKind::Form)?;
    let consents = offered(store, &claims, language)?;
    if let Some(code) = ticked
        .iter()
        .find(|code| !consents.iter().any(|c| &c.code == *code))
    {
        return Err(PageError::NotOffered(code.clone()));
    }
    let form = FormSubmission {
        contact: claims.contact,
        choices: claims
            .types
            .iter()
            .zip(&consents)
            .map(|(&id, c)| FormChoice {
                consent_type: id,
                ticked: ticked.contains(&c.code),
                text_version: c.text_version,
                source: match &c.translation {
                    Some(l) => format!("consent form link, `{l}` translation shown"),
                    None => "consent form link, default text shown".to_owned(),
                },
            })
            .collect(),
        actor: FORM_ACTOR.to_owned(),
        evidence: visitor.evidence(&claims.id, language),
    };
    let mailer = ConfirmationMailer::new(store, &claims, &consents)?;
    let changes = store.record_form(&form, |pending| mailer.message(pending))?;
    let code_of: HashMap<ConsentTypeId, &str> = claims
        .types
        .iter()
        .zip(&consents)
        .map(|(&id, c)| (id, c.code.as_str()))
        .collect();
    Ok(FormSubmitted {
        contact: claims.contact,
        confirmations_sent: changes.iter().filter(|c| c.outbox.is_some()).count(),
        changes: changes
            .into_iter()
            .map(|c| SubmittedChange {
                code: code_of
                    .get(&c.consent_type)
                    .copied()
                    .unwrap_or_default()
                    .to_owned(),
                status: c.status,
                seq: c.seq,
            })
            .collect(),
    })
}

/// Writes double opt-in confirmation emails inside the form's transaction:
/// everything it needs from the store is read before.
struct ConfirmationMailer {
    signer: Signer,
    generation: u32,
    to: Option<String>,
    name: String,
    preference_link: String,
    template: templates::Template,
    titles: HashMap<ConsentTypeId, String>,
}

impl ConfirmationMailer {
    fn new(
        store: &Store,
        claims: &Claims,
        consents: &[OfferedConsent],
    ) -> Result<ConfirmationMailer, PageError> {
        let contact = store.contact(claims.contact)?;
        Ok(ConfirmationMailer {
            signer: Signer::new(store)?,
            generation: claims.generation,
            to: contact.email,
            name: contact.name,
            preference_link: issue_preference_link(store, claims.contact)?.url,
            template: templates::template(store, TemplateName::ConfirmationEmail)?,
            // The title as the person read it on the page.
            titles: claims
                .types
                .iter()
                .zip(consents)
                .map(|(&id, c)| (id, c.title.clone()))
                .collect(),
        })
    }

    fn message(&self, pending: &PendingConfirmation) -> Result<NewOutboxMessage, PageError> {
        let to = self.to.clone().ok_or(PageError::NoEmail(pending.contact))?;
        let link = self.signer.issue(
            LinkKind::Confirmation,
            pending.contact,
            self.generation,
            CONFIRMATION_DAYS,
            |c| {
                c.types = vec![pending.consent_type];
                c.request = Some(pending.request);
            },
        )?;
        let ctx = minijinja::context! {
            contact_name => &self.name,
            confirm_link => link.url,
            preference_link => &self.preference_link,
            expires_at => day(link.expires_at),
            consent => self.titles.get(&pending.consent_type),
        };
        let rendered = templates::render(&self.template, ctx)?;
        Ok(NewOutboxMessage {
            contact: pending.contact,
            to,
            subject: rendered.subject.unwrap_or_default(),
            body: rendered.body,
            kind: OutboxKind::Confirmation,
        })
    }
}

/// Double opt-in: the contact opened the link in the confirmation email.
/// Records `given` at this moment, for the text version they ticked, unless
/// the consent changed since (then [`PageError::Superseded`]). A second
/// click records nothing.
pub fn confirm(
    store: &mut Store,
    token: &str,
    language: Language,
    visitor: &Visitor,
) -> Result<Confirmed, PageError> {
    let claims = links::verify(store, token, LinkKind::Confirmation)?;
    let (&type_id, Some(request)) = (
        claims.types.first().ok_or(PageError::Altered)?,
        claims.request,
    ) else {
        return Err(PageError::Altered);
    };
    let pending = PendingConfirmation {
        contact: claims.contact,
        consent_type: type_id,
        request,
    };
    let evidence = visitor.evidence(&claims.id, language);
    let done = store.confirm_request(&pending, CONFIRM_SOURCE, CONFIRM_ACTOR, evidence)?;
    let ty = store.consent_type_by_id(type_id)?;
    let title = store
        .translation(type_id, ty.text_version, language.code())?
        .map_or(ty.title, |t| t.title);
    let recorded = match done {
        Confirmation::Confirmed(entry) => Some(entry.seq),
        Confirmation::AlreadyGiven => None,
        Confirmation::Superseded => return Err(PageError::Superseded),
    };
    Ok(Confirmed {
        contact: claims.contact,
        code: ty.code,
        title,
        recorded,
    })
}

/// Where a confirmed consent came from; hashed into the ledger.
const CONFIRM_SOURCE: &str = "double opt-in confirmation link";
/// Who a confirmation is recorded as.
const CONFIRM_ACTOR: &str = "contact via confirmation link";
