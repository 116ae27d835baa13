//! Errors as HTTP answers: the one place where an error code becomes a
//! status. The codes, messages, hints and fields are the shared vocabulary of
//! [`crate::failure`], which the CLI prints too (`--json` errors have the same
//! shape), so a CRM sees one vocabulary through either door.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::failure::{self, Failure};
use crate::store::StoreError;

/// An error answer: `{"error": {"code", "message", "hint", "field"}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

/// The JSON of every error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ErrorEnvelope {
    error: ErrorBody,
}

/// What went wrong, for programs (`code`) and people (`message`, `hint`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// Stable, snake_case: `unknown_contact`, `missing_key`, `invalid_value`, ...
    code: String,
    /// What is wrong, naming the input.
    message: String,
    /// What to do next, when the message does not say it.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    /// For a validation error: the request field at fault, e.g. `contact`.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// For an import with bad rows: one entry per row, naming its cells.
    /// (A boxed slice: every handler's error type stays small.)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::import::BadRow>>)]
    details: Option<Box<[crate::import::BadRow]>>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                hint: None,
                field: None,
                details: None,
            },
        }
    }

    /// Adds what to do next.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.body.hint = Some(hint.into());
        self
    }

    /// Names the request field at fault.
    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.body.field = Some(field.into());
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &str {
        &self.body.code
    }

    /// 422: a request field is missing or wrong.
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message).field(field)
    }

    /// 401.
    pub(crate) fn unauthenticated(code: &str, message: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
            .hint("send `Authorization: Bearer <key>` with a key from `crm-consent keys create`")
    }

    /// 403.
    pub(crate) fn forbidden(message: String) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "wrong_role", message)
    }

    /// 404 for a path that is no route.
    pub(crate) fn not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_such_route",
            "there is no such route",
        )
        .hint("the routes are listed in `/api/v1/openapi.json`")
    }

    /// 405 for a route that exists without this method.
    pub(crate) fn method_not_allowed(method: &str) -> Self {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this route does not take `{method}`"),
        )
        .hint("the `Allow` header and `/api/v1/openapi.json` list the methods it takes")
    }

    /// 413.
    pub(crate) fn too_large() -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!(
                "the request body is too large: at most {} MiB of JSON, {} MiB for a plugin upload, \
                 or {} MiB for an import file",
                super::MAX_JSON_BODY / (1024 * 1024),
                super::MAX_UPLOAD / (1024 * 1024),
                super::MAX_IMPORT / (1024 * 1024)
            ),
        )
    }

    /// 400: the body could not be read at all (the connection broke).
    pub(crate) fn unreadable_body() -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "unreadable_body",
            "the request body could not be read; send it again",
        )
    }

    /// 415: a body that says it is not JSON.
    pub(crate) fn not_json(content_type: &str) -> Self {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("the body is sent as `{content_type}`; this route reads JSON"),
        )
        .hint("send `Content-Type: application/json`")
        .field("Content-Type")
    }

    /// 503: the server is shutting down.
    pub(crate) fn unavailable() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down; retry with the same idempotency key",
        )
    }

    /// 500, for what the caller cannot fix; the details go to the log.
    pub(crate) fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the server failed to answer; the failure is in its log",
        )
    }

    /// Any library error, through the shared code, message, hint and field.
    pub(crate) fn from_any(error: &anyhow::Error) -> Self {
        let failure = Failure::of(error);
        let status = status_of(failure.code);
        if status.is_server_error() {
            tracing::error!(code = failure.code, "{}", failure.message);
        }
        let mut e = ApiError::new(status, failure.code, failure.message);
        e.body.hint = failure.hint;
        e.body.field = failure::field(error);
        e.body.details = error.chain().find_map(|c| match c.downcast_ref() {
            Some(crate::import::ImportError::InvalidRows(rows)) => Some(rows.clone().into()),
            _ => None,
        });
        e
    }

    /// A store error.
    pub(crate) fn from_store(error: StoreError) -> Self {
        ApiError::from_any(&error.into())
    }
}

/// The status of each error code. Unknown codes are server errors: a new
/// library error must be placed here to answer anything else.
fn status_of(code: &str) -> StatusCode {
    match code {
        "unknown_contact"
        | "unknown_id"
        | "unknown_plugin"
        | "unknown_api_key"
        | "unknown_decision"
        | "unknown_message"
        | "unknown_notification"
        | "unknown_campaign" => StatusCode::NOT_FOUND,
        "duplicate_code"
        | "locked"
        | "in_use"
        | "idempotency_key_reused"
        | "no_plugin"
        | "nothing_to_roll_back"
        | "cap_below_active_plugin"
        | "nothing_to_justify" => StatusCode::CONFLICT,
        "unknown_code"
        | "unknown_reason"
        | "unknown_text_version"
        | "unknown_value"
        | "unknown_switch"
        | "bad_date"
        | "empty_field"
        | "invalid_value"
        | "too_long"
        | "reason_not_offered"
        | "text_too_long"
        | "not_a_component"
        | "invalid_component"
        | "missing_export"
        | "incompatible_version"
        | "plugin_has_imports"
        | "plugin_over_limits"
        | "invalid_limits_manifest"
        | "wrong_types"
        | "config_refused"
        | "plugin_self_test_failed"
        | "not_replayable"
        | "not_offered"
        | "no_consent_types"
        | "no_email"
        | "missing_variable"
        | "unknown_variable"
        | "bad_template"
        | "unknown_format"
        | "unreadable_file"
        | "empty_file"
        | "bad_header"
        | "invalid_rows" => StatusCode::UNPROCESSABLE_ENTITY,
        "read_only" => StatusCode::SERVICE_UNAVAILABLE,
        "link_expired" | "link_revoked" => StatusCode::GONE,
        "link_invalid" => StatusCode::FORBIDDEN,
        "confirmation_superseded" | "erased_before" => StatusCode::CONFLICT,
        "contact_erased" => StatusCode::GONE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::from_any(&e)
    }
}

macro_rules! from_library {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                ApiError::from_any(&anyhow::Error::from(e))
            }
        }
    )*};
}
from_library!(
    StoreError,
    crate::hooks::HookError,
    crate::setup::SetupError,
    crate::engine::EngineError,
    crate::pages::PageError,
    crate::import::ImportError
);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(ErrorEnvelope { error: self.body })).into_response()
    }
}
