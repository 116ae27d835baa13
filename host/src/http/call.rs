//! One API call: who asks (the API key and its role), what they send (body,
//! query), and whether a retry must get the first answer (`Idempotency-Key`).
//!
//! Authentication, the role check, parsing and the work all run in one trip
//! to a pool thread, in that order: a caller without a valid key learns
//! nothing about the request's validity.

use std::convert::Infallible;

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::pool::Pool;
use crate::hooks::{Operator, StoredHooks};
use crate::store::{ApiKey, KeyRefused, Role, Store, StoredAnswer};

/// The header a retried write carries (Stripe's name).
pub(crate) const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on an answer that repeats the first answer to the same key.
pub(crate) const REPLAYED: &str = "idempotent-replayed";

/// What a handler extracts: everything but the path, which it takes itself.
pub(crate) struct Call {
    method: Method,
    path: String,
    query: Option<String>,
    /// The presented API key, read by `authorize` in each kind of answer.
    pub(super) authorization: Option<String>,
    idempotency_key: Option<String>,
    content_type: Option<String>,
    body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Call {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let query = req.uri().query().map(str::to_owned);
        let headers = req.headers();
        let authorization = bearer(headers);
        let idempotency_key = headers
            .get(IDEMPOTENCY_KEY)
            .map(|v| v.to_str().map(str::to_owned));
        let idempotency_key = match idempotency_key.transpose() {
            Ok(key) => key,
            Err(_) => {
                return Err(ApiError::invalid(
                    IDEMPOTENCY_KEY,
                    "the idempotency key must be printable ASCII",
                )
                .into_response());
            }
        };
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        // axum's own rejections are plain text; every answer here is JSON.
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large().into_response()
            } else {
                ApiError::unreadable_body().into_response()
            }
        })?;
        Ok(Call {
            method,
            path,
            query,
            authorization,
            idempotency_key,
            content_type,
            body,
        })
    }
}

/// `Authorization: Bearer <key>`, or `X-Api-Key: <key>`.
fn bearer(headers: &HeaderMap) -> Option<String> {
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let auth = auth.trim();
        let (scheme, key) = auth.split_once(' ').unwrap_or((auth, ""));
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| key.trim().to_owned());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| k.trim().to_owned())
}

/// What the work of a call gets: the hooks, the caller, and the request.
pub(crate) struct Work<'a> {
    /// The pooled hooks (and through them the store).
    pub hooks: &'a mut StoredHooks,
    /// The key that called.
    pub caller: ApiKey,
    /// When the request arrived: the time a decision is about.
    pub now: DateTime<Utc>,
    body: &'a Bytes,
    content_type: Option<&'a str>,
    query: Option<&'a str>,
}

impl<'a> Work<'a> {
    pub(super) fn new(
        hooks: &'a mut StoredHooks,
        caller: ApiKey,
        now: DateTime<Utc>,
        call: &'a Call,
    ) -> Self {
        Work {
            hooks,
            caller,
            now,
            body: &call.body,
            content_type: call.content_type.as_deref(),
            query: call.query.as_deref(),
        }
    }

    /// The store.
    pub fn store(&mut self) -> &mut Store {
        self.hooks.store_mut()
    }

    /// Who acts, as the ledger and the decision log record it.
    pub fn actor(&self) -> String {
        format!("api:{}", self.caller.name)
    }

    /// The operator of a hook.
    pub fn operator(&self) -> Operator {
        Operator::new(self.actor(), self.now)
    }

    /// The JSON body as `T`; a 422 names the field at fault.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if let Some(ct) = self.content_type
            && !self.body.is_empty()
            && !is_json(ct)
        {
            return Err(ApiError::not_json(ct));
        }
        // No body, or `null`, is an empty object: routes whose fields all
        // have defaults take no body (the document's optional body).
        let trimmed = self.body.trim_ascii();
        let body: &[u8] = if trimmed.is_empty() || trimmed == b"null" {
            b"{}"
        } else {
            self.body
        };
        // serde reads a struct from an array too (`[5]` as `{"contact": 5}`):
        // a body whose fields are matched by position is a client's bug.
        if !body.trim_ascii_start().starts_with(b"{") {
            return Err(ApiError::invalid(
                "body",
                "the request body must be a JSON object, e.g. `{\"contact\": 1}`",
            ));
        }
        let de = &mut serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.to_string();
            let field = if field == "." {
                "body".to_owned()
            } else {
                field
            };
            ApiError::invalid(field, format!("the request body is not valid: {message}"))
        })
    }

    /// The raw body (a plugin upload).
    pub fn bytes(&self) -> &[u8] {
        self.body
    }

    /// The query string as `T`; a 422 names the parameter at fault.
    pub fn query<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(
            self.query.unwrap_or("").as_bytes(),
        ));
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            ApiError::invalid(field, format!("the query is not valid: {}", e.into_inner()))
        })
    }
}

/// `application/json`, or a `+json` type, with any parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence
            .rsplit_once('+')
            .is_some_and(|(_, suffix)| suffix.eq_ignore_ascii_case("json"))
}

/// The path parameters, or why they cannot be read. A bad path is answered
/// only after authentication, like every other input (`Segment::get`), and
/// as JSON (axum's own rejection is plain text).
pub(crate) struct Segment<T>(Result<T, ApiError>);

impl<T> Segment<T> {
    /// The parameters, or a 422 that names the one at fault.
    pub(crate) fn get(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Segment<T> {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let got = Path::<T>::from_request_parts(parts, state).await;
        Ok(Segment(got.map(|Path(t)| t).map_err(|e| path_error(&e))))
    }
}

fn path_error(e: &PathRejection) -> ApiError {
    let PathRejection::FailedToDeserializePathParams(e) = e else {
        tracing::error!("a route's path parameters are missing: {e}");
        return ApiError::internal();
    };
    match e.kind() {
        ErrorKind::InvalidUtf8InPathParam { key } => ApiError::invalid(
            key.as_str(),
            format!("the path parameter `{key}` is not valid UTF-8; percent-encode UTF-8 text"),
        ),
        ErrorKind::ParseErrorAtKey { key, value, .. } => ApiError::invalid(
            key.as_str(),
            format!("the path parameter `{key}` cannot be `{value}`"),
        ),
        other => ApiError::invalid("path", format!("the path is not valid: {other}")),
    }
}

/// A path segment that must be an id.
pub(crate) fn id(name: &str, text: &str) -> Result<i64, ApiError> {
    text.parse().map_err(|_| {
        ApiError::invalid(
            name,
            format!("`{text}` is not a {name}: expected a whole number"),
        )
    })
}

impl Pool {
    /// A call that writes nothing: any role at least `role`.
    pub(crate) async fn read<T: Serialize + Send + 'static>(
        &self,
        call: Call,
        role: Role,
        work: impl FnOnce(&mut Work<'_>) -> Result<T, ApiError> + Send + 'static,
    ) -> Response {
        self.write_as(call, role, StatusCode::OK, work).await
    }

    /// A call that writes, answering `ok` on success. With an idempotency
    /// key, the writes and the answer commit together, and a retry gets the
    /// first answer back without writing again.
    pub(crate) async fn write<T: Serialize + Send + 'static>(
        &self,
        call: Call,
        role: Role,
        ok: StatusCode,
        work: impl FnOnce(&mut Work<'_>) -> Result<T, ApiError> + Send + 'static,
    ) -> Response {
        self.write_as(call, role, ok, work).await
    }

    async fn write_as<T: Serialize + Send + 'static>(
        &self,
        call: Call,
        role: Role,
        ok: StatusCode,
        work: impl FnOnce(&mut Work<'_>) -> Result<T, ApiError> + Send + 'static,
    ) -> Response {
        let now = Utc::now();
        let answer = self
            .run(move |hooks| {
                // The key check and the work's reads share one transaction,
                // which the work's first write ends (`Store::begin_read`).
                hooks.store().begin_read()?;
                let caller = authorize(hooks.store(), call.authorization.as_deref(), role)?;
                let idempotent = match &call.idempotency_key {
                    Some(key) if call.method != Method::GET => Some(key.clone()),
                    _ => None,
                };
                // Only a request with a key is remembered, so only it needs
                // its fingerprint (a copy of its body).
                let fingerprint = idempotent.as_ref().map(|_| fingerprint(&call));
                if let (Some(key), Some(fingerprint)) = (&idempotent, &fingerprint)
                    && let Some(first) =
                        hooks
                            .store_mut()
                            .begin_request(caller.id, key, fingerprint)?
                {
                    return Ok((first, true));
                }
                let mut w = Work::new(hooks, caller, now, &call);
                let value = work(&mut w)?;
                let body = serde_json::to_vec(&value).map_err(|e| {
                    tracing::error!("cannot write an answer as JSON: {e}");
                    ApiError::internal()
                })?;
                let answer = StoredAnswer {
                    status: ok.as_u16(),
                    body,
                };
                if let (Some(key), Some(fingerprint)) = (&idempotent, &fingerprint) {
                    let scope = w.caller.id;
                    w.store().finish_request(scope, key, fingerprint, &answer)?;
                }
                Ok((answer, false))
            })
            .await;
        match answer {
            Ok((answer, replayed)) => respond(answer, replayed),
            Err(e) => e.into_response(),
        }
    }
}

/// The caller's key, if it is live and its role is at least `role`.
pub(super) fn authorize(
    store: &Store,
    presented: Option<&str>,
    role: Role,
) -> Result<ApiKey, ApiError> {
    let Some(presented) = presented.filter(|k| !k.is_empty()) else {
        return Err(ApiError::unauthenticated(
            "missing_key",
            "this route needs an API key",
        ));
    };
    let key = match store.authenticate(presented)? {
        Ok(key) => key,
        Err(KeyRefused::Unknown) => {
            return Err(ApiError::unauthenticated(
                "invalid_key",
                "the API key is not valid for this server",
            ));
        }
        Err(KeyRefused::Revoked) => {
            return Err(ApiError::unauthenticated(
                "revoked_key",
                "the API key was revoked",
            ));
        }
    };
    if key.role.code() < role.code() {
        return Err(ApiError::forbidden(format!(
            "the key `{}` has the role `{}`; this route needs `{}`",
            key.name, key.role, role
        ))
        .hint("ask an admin for a key with that role: `crm-consent keys create --role ...`"));
    }
    Ok(key)
}

/// What makes two requests "the same": method, path, query and body.
fn fingerprint(call: &Call) -> Vec<u8> {
    let mut f = Vec::with_capacity(call.body.len() + 64);
    f.extend_from_slice(call.method.as_str().as_bytes());
    f.push(b' ');
    f.extend_from_slice(call.path.as_bytes());
    f.push(b'?');
    f.extend_from_slice(call.query.as_deref().unwrap_or("").as_bytes());
    f.push(b'\n');
    f.extend_from_slice(&call.body);
    f
}

fn respond(answer: StoredAnswer, replayed: bool) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        answer.body,
    )
        .into_response();
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    response
}
