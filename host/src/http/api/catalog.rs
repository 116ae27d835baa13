//! The catalogs an admin keeps: consent types, statuses, ways of giving,
//! justification reasons, purposes and subscription types. Anyone may read
//! them; only an admin adds to them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::call::Call;
use crate::http::error::ErrorEnvelope;
use crate::http::pool::Pool;
use crate::store::{
    ConsentStatus, ConsentType, Method, NewConsentType, NewPurpose, Purpose, Reason, Role, Status,
    SubscriptionType,
};

pub(super) fn routes() -> OpenApiRouter<Pool> {
    OpenApiRouter::new()
        .routes(routes!(consent_types, add_consent_type))
        .routes(routes!(statuses, add_status))
        .routes(routes!(methods, add_method))
        .routes(routes!(reasons, add_reason))
        .routes(routes!(purposes, add_purpose))
        .routes(routes!(subscription_types, add_subscription_type))
}

/// Consent types with their channels, validity and current text version.
#[utoipa::path(get, path = "/consent-types", tag = "catalogs",
    responses((status = 200, body = Vec<ConsentType>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn consent_types(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| Ok(w.store().consent_types()?))
        .await
}

/// Adds a consent type; its text is version 1.
#[utoipa::path(post, path = "/consent-types", tag = "catalogs", request_body = NewConsentType,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 201, body = ConsentType), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn add_consent_type(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::CREATED, |w| {
        let new: NewConsentType = w.json()?;
        let actor = w.actor();
        Ok(w.store().add_consent_type(&new, &actor)?)
    })
    .await
}

/// Consent statuses, built in and custom, each with its DPV meaning.
#[utoipa::path(get, path = "/statuses", tag = "catalogs",
    responses((status = 200, body = Vec<Status>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn statuses(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| Ok(w.store().statuses()?))
        .await
}

/// A custom status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusRequest {
    #[schema(pattern = r"^[A-Za-z0-9_.-]{1,64}$")]
    code: String,
    #[schema(min_length = 1, max_length = 1000, pattern = r"\S")]
    name: String,
    /// The DPV status it means.
    meaning: ConsentStatus,
}

/// Adds a custom status.
#[utoipa::path(post, path = "/statuses", tag = "catalogs", request_body = StatusRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 201, body = Status), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn add_status(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::CREATED, |w| {
        let req: StatusRequest = w.json()?;
        let actor = w.actor();
        Ok(w.store()
            .add_status(&req.code, &req.name, req.meaning, &actor)?)
    })
    .await
}

/// A code and a name: ways of giving, reasons.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeName {
    #[schema(pattern = r"^[A-Za-z0-9_.-]{1,64}$")]
    code: String,
    /// The name (a reason's label).
    #[schema(min_length = 1, max_length = 1000, pattern = r"\S")]
    name: String,
}

/// Ways of giving consent (CRM form, email, paper, ...).
#[utoipa::path(get, path = "/methods", tag = "catalogs",
    responses((status = 200, body = Vec<Method>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn methods(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| Ok(w.store().methods()?))
        .await
}

/// Adds a way of giving consent.
#[utoipa::path(post, path = "/methods", tag = "catalogs", request_body = CodeName,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 201, body = Method), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn add_method(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::CREATED, |w| {
        let req: CodeName = w.json()?;
        let actor = w.actor();
        Ok(w.store().add_method(&req.code, &req.name, &actor)?)
    })
    .await
}

/// Justification reasons an operator picks to contact without consent.
#[utoipa::path(get, path = "/reasons", tag = "catalogs",
    responses((status = 200, body = Vec<Reason>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn reasons(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| Ok(w.store().reasons()?))
        .await
}

/// Adds a justification reason.
#[utoipa::path(post, path = "/reasons", tag = "catalogs", request_body = CodeName,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 201, body = Reason), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn add_reason(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::CREATED, |w| {
        let req: CodeName = w.json()?;
        let actor = w.actor();
        Ok(w.store().add_reason(&req.code, &req.name, &actor)?)
    })
    .await
}

/// Purposes of processing with their default legal basis.
#[utoipa::path(get, path = "/purposes", tag = "catalogs",
    responses((status = 200, body = Vec<Purpose>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn purposes(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| Ok(w.store().purposes()?))
        .await
}

/// Adds a purpose.
#[utoipa::path(post, path = "/purposes", tag = "catalogs", request_body = NewPurpose,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 201, body = Purpose), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn add_purpose(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::CREATED, |w| {
        let new: NewPurpose = w.json()?;
        let actor = w.actor();
        Ok(w.store().add_purpose(&new, &actor)?)
    })
    .await
}

/// Subscription types (newsletter lists).
#[utoipa::path(get, path = "/subscription-types", tag = "catalogs",
    responses((status = 200, body = Vec<SubscriptionType>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn subscription_types(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| {
        Ok(w.store().subscription_types()?)
    })
    .await
}

/// A subscription type to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubscriptionTypeRequest {
    #[schema(pattern = r"^[A-Za-z0-9_.-]{1,64}$")]
    code: String,
    #[schema(min_length = 1, max_length = 1000, pattern = r"\S")]
    name: String,
    /// Only contacts who opted in receive it.
    #[serde(default)]
    requires_opt_in: bool,
}

/// Adds a subscription type.
#[utoipa::path(post, path = "/subscription-types", tag = "catalogs",
    request_body = SubscriptionTypeRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 201, body = SubscriptionType), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn add_subscription_type(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::CREATED, |w| {
        let req: SubscriptionTypeRequest = w.json()?;
        let actor = w.actor();
        Ok(w.store()
            .add_subscription_type(&req.code, &req.name, req.requires_opt_in, &actor)?)
    })
    .await
}
