//! Contacts, their flags, their consents (record, withdraw, current,
//! history) and their timeline.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::call::{Call, Segment, id};
use crate::http::error::{ApiError, ErrorEnvelope};
use crate::http::pool::Pool;
use crate::store::{
    ConsentView, Contact, ContactFlags, ContactId, ContactKind, HistoryEntry, LedgerEntry,
    LegalBasis, NewConsent, NewContact, Role, TimelineEntry,
};

pub(super) fn routes() -> OpenApiRouter<Pool> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show))
        .routes(routes!(set_flags))
        .routes(routes!(consents, grant))
        .routes(routes!(withdraw))
        .routes(routes!(consent_history))
        .routes(routes!(timeline))
}

/// A page of contacts.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct Page {
    /// Only contacts with a larger id (the last id of the previous page).
    after: Option<i64>,
    /// At most this many (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Contacts in id order, a page at a time.
#[utoipa::path(get, path = "/contacts", tag = "contacts", params(Page),
    responses((status = 200, body = Vec<Contact>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn list(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| {
        let page: Page = w.query()?;
        let limit = page.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                format!("`limit` must be 1 to 1000; got `{limit}`"),
            ));
        }
        Ok(w.store().contacts(page.after.map(ContactId), limit)?)
    })
    .await
}

/// A contact to add.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Anna Nowak", "email": "anna@example.com"}))]
#[serde(deny_unknown_fields)]
pub(crate) struct ContactRequest {
    /// `person` (the default), `company`, or the admin's own kind.
    #[serde(default)]
    kind: Option<ContactKind>,
    /// The name.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    name: String,
    /// Email address.
    #[serde(default)]
    email: Option<String>,
    /// Phone number.
    #[serde(default)]
    phone: Option<String>,
    /// Flags it starts with.
    #[serde(default)]
    flags: ContactFlags,
    /// Re-add a person whose data were erased (HubSpot): every hook denies
    /// the contact until they give consent on a form link themselves.
    #[serde(default)]
    awaiting_own_consent: bool,
}

/// Adds a contact.
#[utoipa::path(post, path = "/contacts", tag = "contacts", request_body = ContactRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry without adding twice")),
    responses((status = 201, body = Contact), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn create(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Operator, StatusCode::CREATED, |w| {
        let req: ContactRequest = w.json()?;
        let new = NewContact {
            kind: req.kind.unwrap_or(ContactKind::Person),
            name: req.name,
            email: req.email,
            phone: req.phone,
            flags: req.flags,
        };
        let actor = w.actor();
        if req.awaiting_own_consent {
            return Ok(w.store().add_contact_awaiting_own_consent(&new, &actor)?);
        }
        Ok(w.store().add_contact(&new, &actor)?)
    })
    .await
}

/// One contact.
#[utoipa::path(get, path = "/contacts/{id}", tag = "contacts",
    params(("id" = i64, Path, description = "the contact's id", example = 1)),
    responses((status = 200, body = Contact), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn show(State(pool): State<Pool>, contact: Segment<String>, call: Call) -> Response {
    pool.read(call, Role::Reader, move |w| {
        let contact = ContactId(id("id", &contact.get()?)?);
        Ok(w.store().contact(contact)?)
    })
    .await
}

/// Sets the Art. 18 restriction, the Art. 21 objection and the opt-out of
/// everything; each change is a ledger and a timeline entry.
#[utoipa::path(put, path = "/contacts/{id}/flags", tag = "contacts", request_body = ContactFlags,
    params(("id" = i64, Path, description = "the contact's id", example = 1),
        ("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 200, body = Contact), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn set_flags(State(pool): State<Pool>, contact: Segment<String>, call: Call) -> Response {
    pool.write(call, Role::Operator, StatusCode::OK, move |w| {
        let contact = ContactId(id("id", &contact.get()?)?);
        let flags: ContactFlags = w.json()?;
        let actor = w.actor();
        w.store().set_flags(contact, flags, &actor)?;
        Ok(w.store().contact(contact)?)
    })
    .await
}

/// The contact's current consents.
#[utoipa::path(get, path = "/contacts/{id}/consents", tag = "consents",
    params(("id" = i64, Path, description = "the contact's id", example = 1)),
    responses((status = 200, body = Vec<ConsentView>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn consents(State(pool): State<Pool>, contact: Segment<String>, call: Call) -> Response {
    pool.read(call, Role::Reader, move |w| {
        let contact = ContactId(id("id", &contact.get()?)?);
        let now = w.now;
        Ok(w.store().consent_views(contact, now)?)
    })
    .await
}

/// A consent given, refused or withdrawn, as the ledger records it.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"consent_type": "email", "method": "email", "evidence": {"ip": "192.0.2.1"}}))]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantRequest {
    /// The consent type's code, e.g. `newsletter`.
    consent_type: String,
    /// The status code, built in (`given`, `refused`, `withdrawn`) or custom.
    #[serde(default = "given")]
    status: String,
    /// How it was given: a method code such as `email` or `phone`.
    method: String,
    /// The basis it is recorded under; `consent` by default.
    #[serde(default)]
    legal_basis: Option<LegalBasis>,
    /// When the person gave it; now by default. At most 2 minutes ahead.
    #[serde(default)]
    given_at: Option<DateTime<Utc>>,
    /// Where it came from; no personal data (it enters the hash chain).
    #[serde(default)]
    source: Option<String>,
    /// IP, user agent, form payload: any JSON value, usually an object;
    /// stored apart and erasable.
    #[serde(default)]
    #[schema(value_type = Option<serde_json::Value>)]
    evidence: Option<serde_json::Value>,
}

fn given() -> String {
    "given".to_owned()
}

/// Where the API's ledger entries come from unless the caller says.
const API_SOURCE: &str = "crm-consent api";

/// Records a consent in the ledger.
#[utoipa::path(post, path = "/contacts/{id}/consents", tag = "consents", request_body = GrantRequest,
    params(("id" = i64, Path, description = "the contact's id", example = 1),
        ("Idempotency-Key" = Option<String>, Header, description = "retry without recording twice")),
    responses((status = 201, body = LedgerEntry), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn grant(State(pool): State<Pool>, contact: Segment<String>, call: Call) -> Response {
    pool.write(call, Role::Operator, StatusCode::CREATED, move |w| {
        let contact = ContactId(id("id", &contact.get()?)?);
        let req: GrantRequest = w.json()?;
        let new = NewConsent {
            contact,
            consent_type: req.consent_type.as_str().into(),
            status: req.status,
            method: req.method,
            legal_basis: req.legal_basis.unwrap_or(LegalBasis::Consent),
            given_at: req.given_at.unwrap_or(w.now),
            source: req.source.unwrap_or_else(|| API_SOURCE.to_owned()),
            actor: w.actor(),
            evidence: req.evidence,
            text_version: None,
        };
        Ok(w.store().record_consent(&new)?)
    })
    .await
}

/// A withdrawal.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"method": "email"}))]
#[serde(deny_unknown_fields)]
pub(crate) struct WithdrawRequest {
    /// How it was withdrawn: a method code such as `email`.
    method: String,
    /// Where it came from; no personal data.
    #[serde(default)]
    source: Option<String>,
}

/// Withdraws a consent now (Art. 7(3)).
#[utoipa::path(post, path = "/contacts/{id}/consents/{consent_type}/withdraw", tag = "consents",
    request_body = WithdrawRequest,
    params(("id" = i64, Path, description = "the contact's id", example = 1),
        ("consent_type" = String, Path, description = "the consent type's code", example = "email"),
        ("Idempotency-Key" = Option<String>, Header, description = "retry without recording twice")),
    responses((status = 201, body = LedgerEntry), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn withdraw(
    State(pool): State<Pool>,
    path: Segment<(String, String)>,
    call: Call,
) -> Response {
    pool.write(call, Role::Operator, StatusCode::CREATED, move |w| {
        let (contact, consent_type) = path.get()?;
        let contact = ContactId(id("id", &contact)?);
        let req: WithdrawRequest = w.json()?;
        let new = NewConsent {
            contact,
            consent_type: consent_type.as_str().into(),
            status: "withdrawn".to_owned(),
            method: req.method,
            legal_basis: LegalBasis::Consent,
            given_at: w.now,
            source: req.source.unwrap_or_else(|| API_SOURCE.to_owned()),
            actor: w.actor(),
            evidence: None,
            text_version: None,
        };
        Ok(w.store().record_consent(&new)?)
    })
    .await
}

/// Every consent entry of the contact, oldest first, with the text agreed to.
#[utoipa::path(get, path = "/contacts/{id}/consents/history", tag = "consents",
    params(("id" = i64, Path, description = "the contact's id", example = 1)),
    responses((status = 200, body = Vec<HistoryEntry>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn consent_history(
    State(pool): State<Pool>,
    contact: Segment<String>,
    call: Call,
) -> Response {
    pool.read(call, Role::Reader, move |w| {
        let contact = ContactId(id("id", &contact.get()?)?);
        Ok(w.store().history_views(contact)?)
    })
    .await
}

/// Everything that happened to the contact, oldest first.
#[utoipa::path(get, path = "/contacts/{id}/timeline", tag = "contacts",
    params(("id" = i64, Path, description = "the contact's id", example = 1)),
    responses((status = 200, body = Vec<TimelineEntry>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn timeline(State(pool): State<Pool>, contact: Segment<String>, call: Call) -> Response {
    pool.read(call, Role::Reader, move |w| {
        let contact = ContactId(id("id", &contact.get()?)?);
        Ok(w.store().timeline(contact)?)
    })
    .await
}
