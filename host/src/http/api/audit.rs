//! What an auditor reads: the decision log, replays, and ledger verify.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::hooks::ReplayJson;
use crate::http::call::{Call, Segment, id};
use crate::http::error::{ApiError, ErrorEnvelope};
use crate::http::pool::Pool;
use crate::store::{ContactId, DecisionId, LedgerReport, LoggedDecision, Role};

pub(super) fn routes() -> OpenApiRouter<Pool> {
    OpenApiRouter::new()
        .routes(routes!(decisions))
        .routes(routes!(decision))
        .routes(routes!(replay))
        .routes(routes!(verify))
}

/// Whose decisions.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DecisionQuery {
    /// The contact's id.
    #[param(example = 1)]
    contact: i64,
}

/// The decisions logged about a contact, oldest first.
#[utoipa::path(get, path = "/decisions", tag = "audit", params(DecisionQuery),
    responses((status = 200, body = Vec<LoggedDecision>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn decisions(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| {
        let q: DecisionQuery = w.query()?;
        Ok(w.store().decisions(ContactId(q.contact))?)
    })
    .await
}

fn no_decision(id: i64) -> ApiError {
    ApiError::from_store(crate::store::StoreError::UnknownDecision(DecisionId(id)))
}

/// One logged decision.
#[utoipa::path(get, path = "/decisions/{id}", tag = "audit",
    params(("id" = i64, Path, description = "the decision's id", example = 1)),
    responses((status = 200, body = LoggedDecision), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn decision(State(pool): State<Pool>, raw: Segment<String>, call: Call) -> Response {
    pool.read(call, Role::Reader, move |w| {
        let n = id("id", &raw.get()?)?;
        w.store()
            .decision(DecisionId(n))?
            .ok_or_else(|| no_decision(n))
    })
    .await
}

/// Replays a decision against the plugin bytes, config, contact state and
/// time it was made with; `same` is what an auditor checks.
#[utoipa::path(get, path = "/decisions/{id}/replay", tag = "audit",
    params(("id" = i64, Path, description = "the decision's id", example = 1)),
    responses((status = 200, body = ReplayJson), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn replay(State(pool): State<Pool>, raw: Segment<String>, call: Call) -> Response {
    pool.read(call, Role::Reader, move |w| {
        let n = id("id", &raw.get()?)?;
        Ok(ReplayJson::of(&w.hooks.replay(DecisionId(n))?))
    })
    .await
}

/// Recomputes both hash chains and rebuilds every projected table from the
/// ledger; `ok` is false with the first difference named.
#[utoipa::path(get, path = "/ledger/verify", tag = "audit",
    responses((status = 200, body = LedgerReport), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn verify(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| Ok(w.store().verify_ledger()?))
        .await
}
