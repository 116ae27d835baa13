//! The OpenAPI 3.1 document, generated from the handlers' annotations
//! (utoipa) and served at `/api/v1/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, ServerBuilder};

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
