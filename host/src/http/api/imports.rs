//! Imports: consents for many contacts from a csv, xls, xlsx or ods file
//! sent as the raw body, all rows or none (the CLI's `import`).

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::call::Call;
use crate::http::error::{ApiError, ErrorEnvelope};
use crate::http::pool::Pool;
use crate::import::{self, ImportFormat, ImportOptions, ImportReport};
use crate::store::Role;

pub(super) fn routes() -> OpenApiRouter<Pool> {
    OpenApiRouter::new()
        .routes(routes!(create))
        // Set inside the app-wide limit, so it wins for this route.
        .layer(DefaultBodyLimit::max(crate::http::MAX_IMPORT))
}

/// How to read the file.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ImportQuery {
    /// The file's format (required: a body has no file name to read it from).
    #[param(inline, required)]
    format: Option<ImportFormat>,
    /// Check every row and answer what would change; write nothing.
    #[serde(default)]
    dry_run: bool,
}

/// Imports consents from the file in the body: every row is checked first,
/// then all are written in one transaction, or none. Each change is a
/// ledger entry with the way `import` and the file's SHA-256 and row as
/// evidence; a blank cell never erases a stored value. A file with bad rows
/// is a 422 whose `error.details` has one entry per bad row.
#[utoipa::path(post, path = "/imports", tag = "imports", params(ImportQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "retry without importing twice")),
    request_body(content((Vec<u8> = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (Vec<u8> = "application/vnd.ms-excel"), (Vec<u8> = "application/octet-stream")),
        description = "the file's bytes; the content type is not checked, `format` says how to read them"),
    responses((status = 200, body = ImportReport), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn create(State(pool): State<Pool>, call: Call) -> Response {
    // Operators record consents one by one already; an import is the same
    // writes in bulk, under the same checks, so it needs no more.
    pool.write(call, Role::Operator, StatusCode::OK, |w| {
        let q: ImportQuery = w.query()?;
        let format = q.format.ok_or_else(|| {
            ApiError::invalid(
                "format",
                "say how to read the file: `?format=csv`, `xls`, `xlsx` or `ods`",
            )
        })?;
        let bytes = w.bytes().to_vec();
        let actor = w.actor();
        let opts = ImportOptions {
            format,
            dry_run: q.dry_run,
            actor: &actor,
        };
        Ok(import::import(w.store(), &bytes, opts, &mut |_, _, _| {})?)
    })
    .await
}
