//! The access and portability export (Art. 15 and 20) of one contact.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::export::{self, ExportFormat};
use crate::http::call::{Call, Segment, id};
use crate::http::download::Download;
use crate::http::error::{ApiError, ErrorEnvelope};
use crate::http::pool::Pool;
use crate::store::{ContactFilter, ContactId, Role};

pub(super) fn routes() -> OpenApiRouter<Pool> {
    OpenApiRouter::new()
        .routes(routes!(contact_export))
        .routes(routes!(filtered_export))
}

/// Which format.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Query {
    /// `json` (JSON-LD with W3C DPV terms; the default) or `csv`.
    #[param(example = "json")]
    format: Option<String>,
}

/// Everything about the contact, for an access or portability request:
/// JSON-LD whose consent records use W3C DPV terms and the fields of an
/// ISO/IEC TS 27560 consent record, or one CSV with a `kind` column. Read
/// in one transaction. Operators and admins only: it holds the evidence
/// (IP addresses, user agents) and the operators' justification texts,
/// which no reader route returns.
#[utoipa::path(get, path = "/contacts/{id}/export", tag = "contacts",
    params(("id" = i64, Path, description = "the contact's id", example = 1), Query),
    responses(
        (status = 200, description = "the export",
            content((serde_json::Value = "application/ld+json"), (String = "text/csv"))),
        (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn contact_export(
    State(pool): State<Pool>,
    contact: Segment<String>,
    call: Call,
) -> Response {
    pool.download(call, Role::Operator, move |w| {
        let contact = ContactId(id("id", &contact.get()?)?);
        let query: Query = w.query()?;
        let format = parse_format(query.format.as_deref())?;
        let now = w.now;
        let exported = export::export_contact(w.store(), contact, now)?;
        let body = export::render(format, std::slice::from_ref(&exported));
        download(format, body, format!("contact-{contact}"))
    })
    .await
}

/// The contacts to export, and how.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"format": "csv", "filter": {"consent_type": "newsletter", "valid": true}}))]
#[serde(deny_unknown_fields)]
pub(crate) struct FilteredExport {
    /// `json` (the default) or `csv`.
    #[serde(default)]
    format: Option<String>,
    /// The same filter as `POST /contacts/search`, bulk fill and bulk links.
    filter: ContactFilter,
}

/// Every contact a filter selects, exported as `GET /contacts/{id}/export`
/// exports one (a JSON array, or one CSV), selected and read in one
/// transaction. Writes nothing, so a retry is safe.
#[utoipa::path(post, path = "/contacts/export", tag = "contacts",
    request_body = FilteredExport,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely: an export writes nothing")),
    responses(
        (status = 200, description = "the export",
            content((serde_json::Value = "application/ld+json"), (String = "text/csv"))),
        (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn filtered_export(State(pool): State<Pool>, call: Call) -> Response {
    pool.download(call, Role::Operator, move |w| {
        let req: FilteredExport = w.json()?;
        let format = parse_format(req.format.as_deref())?;
        let now = w.now;
        let exported = export::export_filtered(w.store(), &req.filter, now)?;
        download(
            format,
            export::render_all(format, &exported),
            "contacts".to_owned(),
        )
    })
    .await
}

fn parse_format(text: Option<&str>) -> Result<ExportFormat, ApiError> {
    match text {
        None => Ok(ExportFormat::Json),
        Some(text) => text
            .parse::<ExportFormat>()
            .map_err(|e| ApiError::invalid("format", e.to_string())),
    }
}

fn download(
    format: ExportFormat,
    rendered: std::io::Result<Vec<u8>>,
    name: String,
) -> Result<Download, ApiError> {
    let body = rendered.map_err(|e| {
        tracing::error!("cannot render an export: {e}");
        ApiError::internal()
    })?;
    Ok(Download {
        content_type: format.content_type(),
        filename: format!("{name}.{}", format.extension()),
        body,
    })
}
