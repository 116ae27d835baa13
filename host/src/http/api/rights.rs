//! Erasure (Art. 17) and rectification (Art. 16) of a contact, and the
//! contact and relation type catalogs the erasure cascade reads (iPresso).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::call::{Call, Segment, id};
use crate::http::error::ErrorEnvelope;
use crate::http::pool::Pool;
use crate::store::{
    ContactId, ContactType, ErasureGround, ErasureReport, ErasureRequest, NewRelationType,
    Rectification, RectificationReport, RelationType, Role,
};

pub(super) fn routes() -> OpenApiRouter<Pool> {
    OpenApiRouter::new()
        .routes(routes!(erase))
        .routes(routes!(rectify))
        .routes(routes!(contact_types, add_contact_type))
        .routes(routes!(relation_types, add_relation_type))
}

/// An erasure request.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"ground": "consent_withdrawn", "requested_by": "email of 2026-01-05"}))]
#[serde(deny_unknown_fields)]
pub(crate) struct ErasureBody {
    /// The Art. 17(1) ground.
    ground: ErasureGround,
    /// Who asked; kept on the tombstone only. The key's actor by default.
    #[serde(default)]
    requested_by: Option<String>,
    /// List who would be erased, and write nothing.
    #[serde(default)]
    dry_run: bool,
}

/// Erases the contact's personal data and, one level down, the contacts its
/// cascading relations take; keeps a tombstone and queues an Art. 19
/// notification on the staff webhook. A dry run lists the same contacts.
#[utoipa::path(post, path = "/contacts/{id}/erasure", tag = "rights", request_body = ErasureBody,
    params(("id" = i64, Path, description = "the contact's id", example = 1),
        ("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 200, body = ErasureReport), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn erase(State(pool): State<Pool>, contact: Segment<String>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::OK, move |w| {
        let contact = ContactId(id("id", &contact.get()?)?);
        let body: ErasureBody = w.json()?;
        let mut req = ErasureRequest::new(body.ground, w.actor());
        if let Some(who) = body.requested_by {
            req.requested_by = who;
        }
        req.dry_run = body.dry_run;
        Ok(w.store().erase(contact, &req)?)
    })
    .await
}

/// Corrects the contact's name, email or phone; the timeline names the
/// fields. An email or phone of an erased person is refused.
#[utoipa::path(post, path = "/contacts/{id}/rectification", tag = "rights",
    request_body = Rectification,
    params(("id" = i64, Path, description = "the contact's id", example = 1),
        ("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 200, body = RectificationReport), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn rectify(State(pool): State<Pool>, contact: Segment<String>, call: Call) -> Response {
    pool.write(call, Role::Operator, StatusCode::OK, move |w| {
        let contact = ContactId(id("id", &contact.get()?)?);
        let body: Rectification = w.json()?;
        let actor = w.actor();
        Ok(w.store().rectify(contact, &body, &actor)?)
    })
    .await
}

/// Contact types: person, company, device, car and the admin's own.
#[utoipa::path(get, path = "/contact-types", tag = "catalogs",
    responses((status = 200, body = Vec<ContactType>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn contact_types(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| Ok(w.store().contact_types()?))
        .await
}

/// A contact type to add.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"code": "boat", "name": "Boat"}))]
#[serde(deny_unknown_fields)]
pub(crate) struct ContactTypeBody {
    /// Lowercase letters, digits, `_`.
    code: String,
    /// Its name for people.
    name: String,
}

/// Adds a contact type.
#[utoipa::path(post, path = "/contact-types", tag = "catalogs", request_body = ContactTypeBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 201, body = ContactType), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn add_contact_type(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::CREATED, |w| {
        let body: ContactTypeBody = w.json()?;
        let actor = w.actor();
        Ok(w.store().add_contact_type(&body.code, &body.name, &actor)?)
    })
    .await
}

/// Relation types and which way erasure cascades along each.
#[utoipa::path(get, path = "/relation-types", tag = "catalogs",
    responses((status = 200, body = Vec<RelationType>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn relation_types(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| Ok(w.store().relation_types()?))
        .await
}

/// Adds a relation type.
#[utoipa::path(post, path = "/relation-types", tag = "catalogs", request_body = NewRelationType,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 201, body = RelationType), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn add_relation_type(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::CREATED, |w| {
        let body: NewRelationType = w.json()?;
        let actor = w.actor();
        Ok(w.store().add_relation_type(&body, &actor)?)
    })
    .await
}
