//! Links to the contact pages, and the outbox of emails the CRM sends.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::call::{Call, id};
use crate::http::error::ErrorEnvelope;
use crate::http::pool::Pool;
use crate::pages::{self, FormLink, PreferenceLink};
use crate::store::{ContactId, OutboxId, OutboxMessage, Role};

pub(super) fn routes() -> OpenApiRouter<Pool> {
    OpenApiRouter::new()
        .routes(routes!(form_link))
        .routes(routes!(preference_link))
        .routes(routes!(outbox))
        .routes(routes!(acknowledge))
}

/// Which consents a form link offers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FormLinkRequest {
    /// Consent type codes, e.g. `["newsletter"]`.
    consent_types: Vec<String>,
    /// Also write the link email (the admin's template) to the outbox.
    #[serde(default)]
    email: bool,
}

/// A form link, and its email when one was asked for.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FormLinkAnswer {
    link: FormLink,
    outbox_message: Option<OutboxMessage>,
}

/// A signed consent-form link for the contact, valid 14 days (Livespace).
#[utoipa::path(post, path = "/contacts/{id}/form-links", tag = "pages",
    request_body = FormLinkRequest,
    params(("id" = i64, Path, description = "the contact's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "retry without a second email")),
    responses((status = 201, body = FormLinkAnswer), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn form_link(State(pool): State<Pool>, Path(raw): Path<String>, call: Call) -> Response {
    pool.write(call, Role::Operator, StatusCode::CREATED, move |w| {
        let contact = ContactId(id("id", &raw)?);
        let req: FormLinkRequest = w.json()?;
        let codes: Vec<&str> = req.consent_types.iter().map(String::as_str).collect();
        Ok(if req.email {
            let (link, message) = pages::email_form_link(w.store(), contact, &codes)?;
            FormLinkAnswer {
                link,
                outbox_message: Some(message),
            }
        } else {
            FormLinkAnswer {
                link: pages::issue_form_link(w.store(), contact, &codes)?,
                outbox_message: None,
            }
        })
    })
    .await
}

/// The contact's preference-centre link, for every email the CRM sends.
#[utoipa::path(get, path = "/contacts/{id}/preference-link", tag = "pages",
    params(("id" = i64, Path, description = "the contact's id")),
    responses((status = 200, body = PreferenceLink), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn preference_link(
    State(pool): State<Pool>,
    Path(raw): Path<String>,
    call: Call,
) -> Response {
    pool.read(call, Role::Operator, move |w| {
        let contact = ContactId(id("id", &raw)?);
        Ok(pages::issue_preference_link(w.store(), contact)?)
    })
    .await
}

/// A page of the outbox.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct OutboxPage {
    /// Only messages with a larger id.
    after: Option<i64>,
    /// At most this many (1 to 500, default 100).
    limit: Option<u32>,
}

/// Messages waiting to be sent by the CRM, oldest first.
#[utoipa::path(get, path = "/outbox", tag = "pages", params(OutboxPage),
    responses((status = 200, body = Vec<OutboxMessage>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn outbox(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Operator, |w| {
        let page: OutboxPage = w.query()?;
        let limit = page.limit.unwrap_or(100).clamp(1, 500);
        Ok(w.store()
            .pending_messages(page.after.map(OutboxId), limit)?)
    })
    .await
}

/// Marks a message sent; acknowledging twice is harmless.
#[utoipa::path(post, path = "/outbox/{id}/ack", tag = "pages",
    params(("id" = i64, Path, description = "the message's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 200, body = OutboxMessage), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn acknowledge(State(pool): State<Pool>, Path(raw): Path<String>, call: Call) -> Response {
    pool.write(call, Role::Operator, StatusCode::OK, move |w| {
        let message = OutboxId(id("id", &raw)?);
        Ok(w.store().acknowledge_message(message)?)
    })
    .await
}
