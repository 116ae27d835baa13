//! Consent campaigns and the retention run (iPresso's "delete contact"
//! step), as `crm-consent retention` offers them.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::call::Call;
use crate::http::call::id;
use crate::http::error::ErrorEnvelope;
use crate::http::pool::Pool;
use crate::pages::{self, BulkLink};
use crate::store::{Campaign, ContactFilter, ContactId, NewCampaign, RetentionRun, Role};

use super::bulk::{links_answer, wants_csv};

pub(super) fn routes() -> OpenApiRouter<Pool> {
    OpenApiRouter::new()
        .routes(routes!(campaigns, add_campaign))
        .routes(routes!(run))
        .routes(routes!(links))
}

/// A campaign to start.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"consent_type": "newsletter", "window_days": 30, "contacts": [1, 2]}))]
#[serde(deny_unknown_fields)]
pub(crate) struct CampaignRequest {
    /// The code of the consent type asked for.
    consent_type: String,
    /// How many days the contacts have to give it (1 to 3650).
    window_days: u32,
    /// When they were asked [default: now].
    #[serde(default)]
    asked_at: Option<DateTime<Utc>>,
    /// The contacts asked, by id (with or instead of a filter).
    #[serde(default)]
    contacts: Vec<i64>,
    /// And every contact this filter selects when asked.
    #[serde(default)]
    filter: Option<ContactFilter>,
}

/// Every campaign, with how many members are kept, erased and open.
#[utoipa::path(get, path = "/retention/campaigns", tag = "rights",
    responses((status = 200, body = Vec<Campaign>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn campaigns(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| Ok(w.store().campaigns()?))
        .await
}

/// Starts a campaign: these contacts were asked for a consent and have a
/// window of days to give it; `POST /retention/run` decides after it.
#[utoipa::path(post, path = "/retention/campaigns", tag = "rights",
    request_body = CampaignRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry without a second campaign")),
    responses((status = 201, body = Campaign), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn add_campaign(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::CREATED, |w| {
        let req: CampaignRequest = w.json()?;
        let new = NewCampaign {
            consent_type: req.consent_type,
            asked_at: req.asked_at.unwrap_or(w.now),
            window_days: req.window_days,
            contacts: req.contacts.into_iter().map(ContactId).collect(),
            filter: req.filter,
        };
        let actor = w.actor();
        Ok(w.store().add_campaign(&new, &actor)?)
    })
    .await
}

/// Whether the run only lists.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunRequest {
    /// List exactly who would be erased, and why, and write nothing.
    #[serde(default)]
    dry_run: bool,
}

/// Erases the members of every campaign whose window is over and who did
/// not give its consent, with the one-level cascade. Idempotent: safe to
/// call from a scheduler.
#[utoipa::path(post, path = "/retention/run", tag = "rights",
    request_body = RunRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry without a second run")),
    responses((status = 200, body = RetentionRun), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn run(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::OK, |w| {
        let req: RunRequest = w.json()?;
        let (now, actor) = (w.now, w.actor());
        Ok(w.store().run_retention(now, req.dry_run, &actor)?)
    })
    .await
}

/// Form links asking the campaign's open members for its consent, each
/// valid 14 days; as CSV with `Accept: text/csv`. Issuing writes nothing.
#[utoipa::path(post, path = "/retention/campaigns/{id}/form-links", tag = "rights",
    params(("id" = i64, Path, description = "the campaign's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 200, content(
            (Vec<BulkLink> = "application/json"),
            (String = "text/csv"))),
        (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn links(
    State(pool): State<Pool>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    call: Call,
) -> Response {
    let response = pool
        .read(call, Role::Operator, move |w| {
            let campaign = id("id", &raw)?;
            Ok(pages::campaign_links(w.store(), campaign)?)
        })
        .await;
    links_answer(response, wants_csv(&headers)).await
}
