//! The OpenAPI 3.1 document, generated from the handlers' annotations
//! (utoipa) and served at `/api/v1/openapi.json`.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, Ref, ServerBuilder};

/// The API's document, as served.
pub fn openapi() -> OpenApi {
    let (_, doc) = super::api::router().split_for_parts();
    finish(doc)
}

/// Adds what no handler says: the title, the base path, the key scheme.
pub(crate) fn finish(mut doc: OpenApi) -> OpenApi {
    doc.info = InfoBuilder::new()
        .title("crm-consent")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "GDPR consent decisions and evidence for a CRM. Every route needs an API key \
             (`Authorization: Bearer <key>`) with a role: reader, operator or admin. \
             Writes accept an `Idempotency-Key` header: a retry with the same key and body \
             gets the first answer and writes nothing.",
        ))
        .build();
    doc.servers = Some(vec![ServerBuilder::new().url("/api/v1").build()]);
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            document_errors(op);
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "api_key",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("a key from `crm-consent keys create`"))
                .build(),
        ),
    );
    doc
}

/// Lists the error statuses an operation can answer, each with the error
/// body, from what the operation takes: written once here rather than on
/// every handler, where one would be forgotten. `4XX` stays as the rest.
fn document_errors(op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let names_something = !params.is_empty() || op.request_body.is_some();
    let idempotent = params
        .iter()
        .any(|p| p.name.eq_ignore_ascii_case("idempotency-key"));
    let mut errors = vec![
        ("401", "no API key, or one that is unknown or revoked"),
        ("403", "the key's role may not use this route"),
        (
            "422",
            "a parameter or body field is not valid; `field` names it",
        ),
        (
            "503",
            "the server is shutting down, or the database is read-only",
        ),
    ];
    if names_something {
        errors.push(("404", "the contact or decision named does not exist"));
    }
    if idempotent {
        errors.push((
            "409",
            "the state does not allow it, or the idempotency key was used with another request",
        ));
    }
    if let Some(body) = &op.request_body {
        errors.push(("413", "the body is too large"));
        if body.content.contains_key("application/json") {
            errors.push(("415", "the body is sent with a type that is not JSON"));
        }
    }
    for (status, description) in errors {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| {
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                            .build(),
                    )
                    .build()
                    .into()
            });
    }
}
