//! The routes of `/api/v1`, one module per area. Each handler states its
//! role, parses its input and calls one library function: the CLI's
//! commands and these routes share every rule below them.

mod audit;
mod bulk;
mod catalog;
mod contacts;
mod export;
mod hooks;
mod imports;
mod links;
mod retention;
mod rights;
mod setup;

use utoipa_axum::router::OpenApiRouter;

use super::pool::Pool;

/// Every route with its OpenAPI entry (utoipa-axum registers both at once).
pub(crate) fn router() -> OpenApiRouter<Pool> {
    OpenApiRouter::new()
        .merge(hooks::routes())
        .merge(contacts::routes())
        .merge(export::routes())
        .merge(catalog::routes())
        .merge(setup::routes())
        .merge(audit::routes())
        .merge(links::routes())
        .merge(rights::routes())
        .merge(retention::routes())
        .merge(bulk::routes())
        .merge(imports::routes())
}
