//! Setup: install (upload), list and roll back plugins; the switches.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::call::{Call, Segment};
use crate::http::error::ErrorEnvelope;
use crate::http::pool::Pool;
use crate::setup::{self, Switch};
use crate::store::{PluginId, PluginInfo, Role, Switches};

pub(super) fn routes() -> OpenApiRouter<Pool> {
    OpenApiRouter::new()
        .routes(routes!(plugins, install))
        .routes(routes!(install_pack))
        // Set inside the app-wide limit, so it wins for these routes.
        .layer(DefaultBodyLimit::max(crate::http::MAX_UPLOAD))
        .routes(routes!(chain, set_chain))
        .routes(routes!(rollback))
        .routes(routes!(switches))
        .routes(routes!(set_switch))
}

/// Installed plugins, the active one marked.
#[utoipa::path(get, path = "/setup/plugins", tag = "setup",
    responses((status = 200, body = Vec<PluginInfo>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn plugins(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| Ok(setup::plugins(w.store())?))
        .await
}

/// Installs (or upgrades to) the uploaded component: validated, self-tested,
/// precompiled, stored and made active. The old one stays for a rollback.
#[utoipa::path(post, path = "/setup/plugins", tag = "setup",
    request_body(content((Vec<u8> = "application/wasm"), (Vec<u8> = "application/octet-stream")),
        description = "the component's bytes; the content type is not checked"),
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 201, body = PluginInfo), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn install(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::CREATED, |w| {
        let bytes = w.bytes().to_vec();
        let actor = w.actor();
        let engine = w.hooks.engine().clone();
        Ok(setup::install(w.store(), &engine, &bytes, &actor)?)
    })
    .await
}

/// Installs the uploaded component as a rule pack, asked after the active
/// plugin and the packs before it: validated, self-tested, stored. The
/// strictest answer of the chain wins.
#[utoipa::path(post, path = "/setup/packs", tag = "setup",
    request_body(content((Vec<u8> = "application/wasm"), (Vec<u8> = "application/octet-stream")),
        description = "the component's bytes; the content type is not checked"),
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 201, body = PluginInfo), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn install_pack(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::CREATED, |w| {
        let bytes = w.bytes().to_vec();
        let actor = w.actor();
        let engine = w.hooks.engine().clone();
        Ok(setup::install_pack(w.store(), &engine, &bytes, &actor)?)
    })
    .await
}

/// The plugins that decide, in order: the active plugin, then the rule
/// packs (`chain_position` 0, 1, 2, ...).
#[utoipa::path(get, path = "/setup/chain", tag = "setup",
    responses((status = 200, body = Vec<PluginInfo>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn chain(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| Ok(setup::chain(w.store())?))
        .await
}

/// The rule packs to ask after the active plugin.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChainRequest {
    /// Installed plugin ids, in the order to ask them; empty for the
    /// active plugin alone.
    packs: Vec<i64>,
}

/// Sets the rule packs after the active plugin; each is checked against
/// the caps and the config first. Every change is a ledger entry.
#[utoipa::path(put, path = "/setup/chain", tag = "setup", request_body = ChainRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 200, body = Vec<PluginInfo>), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn set_chain(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::OK, |w| {
        let req: ChainRequest = w.json()?;
        let packs: Vec<PluginId> = req.packs.into_iter().map(PluginId).collect();
        let actor = w.actor();
        let engine = w.hooks.engine().clone();
        Ok(setup::set_chain(w.store(), &engine, &packs, &actor)?)
    })
    .await
}

/// Makes the previously active plugin active again.
#[utoipa::path(post, path = "/setup/rollback", tag = "setup",
    params(("Idempotency-Key" = Option<String>, Header, description = "retry without rolling back twice")),
    responses((status = 200, body = PluginInfo), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn rollback(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::OK, |w| {
        let actor = w.actor();
        Ok(setup::rollback(w.store(), &actor)?)
    })
    .await
}

/// The privacy switches.
#[utoipa::path(get, path = "/setup/switches", tag = "setup",
    responses((status = 200, body = Switches), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn switches(State(pool): State<Pool>, call: Call) -> Response {
    pool.read(call, Role::Reader, |w| Ok(w.store().switches()?))
        .await
}

/// The switches' names in a path (the document's shape of `Switch`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub(crate) enum SwitchName {
    CheckSingleEmail,
    CheckBulkEmail,
    CheckPhone,
    EMarketingPrivacy,
}

/// A switch's new position.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SwitchRequest {
    on: bool,
}

/// Turns one switch on or off; a ledger entry.
#[utoipa::path(put, path = "/setup/switches/{name}", tag = "setup", request_body = SwitchRequest,
    params(("name" = inline(SwitchName), Path, description = "the switch"),
        ("Idempotency-Key" = Option<String>, Header, description = "retry safely")),
    responses((status = 200, body = Switches), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn set_switch(State(pool): State<Pool>, name: Segment<String>, call: Call) -> Response {
    pool.write(call, Role::Admin, StatusCode::OK, move |w| {
        let switch: Switch = name.get()?.parse()?;
        let req: SwitchRequest = w.json()?;
        let actor = w.actor();
        Ok(setup::set_switch(w.store(), switch, req.on, &actor)?)
    })
    .await
}
