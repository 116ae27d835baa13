//! Work on many contacts: search by filter, bulk fill, bulk form links,
//! re-consent, and the SuperOffice upgrade. The filter is a JSON body
//! (`ContactFilter`), the same object every one of these routes takes.

use axum::body::to_bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::call::Call;
use crate::http::error::{ApiError, ErrorEnvelope};
use crate::http::pool::Pool;
use crate::pages::{self, BulkLink};
use crate::store::{
    Contact, ContactFilter, ContactId, ExpiringConsent, FillReport, FillRequest, MigrationReport,
    Role, SuperOfficeMark,
};

pub(super) fn routes() -> OpenApiRouter<Pool> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(fill))
        .routes(routes!(bulk_links))
        .routes(routes!(expiring))
        .routes(routes!(reconsent_links))
        .routes(routes!(superoffice))
}

/// A page of search results.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchPage {
    /// Only contacts with a larger id (the last id of the previous page).
    after: Option<i64>,
    /// At most this many (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// The contacts a filter selects, in id order, a page at a time. A POST
/// because the filter is a structured object (dates, codes, flags), the
/// same JSON that bulk fill and bulk links take; it writes nothing.
#[utoipa::path(post, path = "/contacts/search", tag = "bulk",
    params(SearchPage, ("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    request_body = ContactFilter,
    responses((status = 200, body = Vec<Contact>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn search(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| {
        let page: SearchPage = w.query()?;
        let limit = page.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                format!("`limit` must be 1 to 1000; got `{limit}`"),
            ));
        }
        let filter: ContactFilter = w.json()?;
        let now = w.now;
        Ok(w.store()
            .filter_contacts(&filter, now, page.after.map(ContactId), limit)?)
    })
    .await
}

/// Sets one consent (status and way of giving) for every contact the
/// filter selects, in one transaction; contacts already so are skipped.
#[utoipa::path(post, path = "/consents/fill", tag = "bulk", request_body = FillRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry without filling twice")),
    responses((status = 200, body = FillReport), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn fill(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Operator, StatusCode::OK, |w| {
        let req: FillRequest = w.json()?;
        let (now, actor) = (w.now, w.actor());
        Ok(w.store().fill_consents(&req, now, &actor)?)
    })
    .await
}

/// Which contacts get a form link, and what it offers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkLinksRequest {
    /// The contacts.
    #[serde(default)]
    filter: ContactFilter,
    /// Consent type codes each link offers.
    consent_types: Vec<String>,
}

/// Whether the caller asked for CSV (`Accept: text/csv`).
pub(super) fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("text/csv"))
}

/// The links of a 200 answer as CSV, the same columns as the CLI's
/// `--csv`; any other answer (an error) stays JSON.
pub(super) async fn links_answer(response: Response, csv: bool) -> Response {
    if !csv || response.status() != StatusCode::OK {
        return response;
    }
    let converted = async {
        let bytes = to_bytes(response.into_body(), usize::MAX).await.ok()?;
        let links: Vec<BulkLink> = serde_json::from_slice(&bytes).ok()?;
        let mut out = Vec::new();
        pages::write_links_csv(&links, &mut out).ok()?;
        Some(out)
    };
    match converted.await {
        Some(out) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            )],
            out,
        )
            .into_response(),
        None => ApiError::internal().into_response(),
    }
}

/// A consent form link for every contact the filter selects (Livespace),
/// each valid 14 days; as CSV with `Accept: text/csv`. Issuing writes
/// nothing.
#[utoipa::path(post, path = "/form-links/bulk", tag = "bulk", request_body = BulkLinksRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 200, content(
            (Vec<BulkLink> = "application/json"),
            (String = "text/csv"))),
        (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn bulk_links(State(pool): State<Pool>, headers: HeaderMap, call: Call) -> Response {
    let response = pool
        .read(call, Role::Operator, |w| {
            let req: BulkLinksRequest = w.json()?;
            let codes: Vec<&str> = req.consent_types.iter().map(String::as_str).collect();
            let now = w.now;
            Ok(pages::form_links_for(w.store(), &req.filter, now, &codes)?)
        })
        .await;
    links_answer(response, wants_csv(&headers)).await
}

/// The re-consent window.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct Within {
    /// Days from now (1 to 3650).
    within: u32,
}

/// The consents valid now that expire within `within` days, soonest first.
#[utoipa::path(get, path = "/consents/expiring", tag = "bulk", params(Within),
    responses((status = 200, body = Vec<ExpiringConsent>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn expiring(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| {
        let q: Within = w.query()?;
        let now = w.now;
        Ok(w.store().expiring_consents(now, q.within)?)
    })
    .await
}

/// Re-consent: a form link per contact whose consents expire within
/// `within` days, offering exactly those types; CSV with `Accept: text/csv`.
#[utoipa::path(post, path = "/consents/expiring/form-links", tag = "bulk", request_body = Within,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 200, content(
            (Vec<BulkLink> = "application/json"),
            (String = "text/csv"))),
        (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn reconsent_links(State(pool): State<Pool>, headers: HeaderMap, call: Call) -> Response {
    let response = pool
        .read(call, Role::Operator, |w| {
            let q: Within = w.json()?;
            let now = w.now;
            Ok(pages::reconsent_links(w.store(), now, q.within)?)
        })
        .await;
    links_answer(response, wants_csv(&headers)).await
}

/// The SuperOffice upgrade's input.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SuperOfficeRequest {
    /// The old CRM's mailing marks; contacts not named are "never mailed"
    /// unless they opted out of everything ("no mailings").
    #[serde(default)]
    marks: Vec<SuperOfficeMark>,
    /// Only report what would change.
    #[serde(default)]
    dry_run: bool,
}

/// The SuperOffice GDPR upgrade of the contact base; running it again
/// changes nothing.
#[utoipa::path(post, path = "/migrations/superoffice", tag = "bulk",
    request_body = SuperOfficeRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 200, body = MigrationReport), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn superoffice(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::OK, |w| {
        let req: SuperOfficeRequest = w.json()?;
        let actor = w.actor();
        Ok(w.store()
            .migrate_superoffice(&req.marks, req.dry_run, &actor)?)
    })
    .await
}
