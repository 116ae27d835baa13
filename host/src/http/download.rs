//! Answers that are files rather than JSON: an export as JSON-LD or CSV,
//! with its media type and a file name. Errors are still the JSON envelope.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::call::{Call, Work, authorize};
use super::error::ApiError;
use super::pool::Pool;
use crate::store::Role;

/// An answer that is a file rather than JSON (an export).
pub(crate) struct Download {
    /// Its media type.
    pub content_type: &'static str,
    /// The name a browser saves it under.
    pub filename: String,
    /// The bytes.
    pub body: Vec<u8>,
}

impl Pool {
    /// A call that writes nothing and answers a file: auth, role and work in
    /// one blocking trip like every other call; errors are still JSON.
    pub(crate) async fn download(
        &self,
        call: Call,
        role: Role,
        work: impl FnOnce(&mut Work<'_>) -> Result<Download, ApiError> + Send + 'static,
    ) -> Response {
        let now = Utc::now();
        let answer = self
            .run(move |hooks| {
                let caller = authorize(hooks.store(), call.authorization.as_deref(), role)?;
                work(&mut Work::new(hooks, caller, now, &call))
            })
            .await;
        match answer {
            Ok(file) => {
                let disposition = format!("attachment; filename=\"{}\"", file.filename);
                let mut response = (StatusCode::OK, file.body).into_response();
                let headers = response.headers_mut();
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(file.content_type),
                );
                if let Ok(value) = HeaderValue::from_str(&disposition) {
                    headers.insert(header::CONTENT_DISPOSITION, value);
                }
                response
            }
            Err(e) => e.into_response(),
        }
    }
}
