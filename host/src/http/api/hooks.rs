//! The hooks: before a single email, a call, a text and a newsletter, and
//! the justification that lets an operator go on after a `justify`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::hooks::{Answer, BulkMode, BulkSend};
use crate::http::call::{Call, Work};
use crate::http::error::{ApiError, ErrorEnvelope};
use crate::http::pool::Pool;
use crate::store::{Channel, ContactId, DecisionId, Reason, Role};

pub(super) fn routes() -> OpenApiRouter<Pool> {
    OpenApiRouter::new()
        .routes(routes!(send))
        .routes(routes!(dial))
        .routes(routes!(sms))
        .routes(routes!(bulk))
        .routes(routes!(justify))
}

/// Asks about one contact.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"contact": 1}))]
#[serde(deny_unknown_fields)]
pub(crate) struct SingleRequest {
    /// The contact's id.
    contact: i64,
    /// The purpose's code, e.g. `sales`; matters for objections and legal bases.
    #[serde(default)]
    purpose: Option<String>,
}

/// One decision, as `crm-consent check ... --json` prints it.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)] // the document's shape of `hooks::Answer`
pub(crate) struct DecisionAnswer {
    contact: ContactId,
    channel: Channel,
    /// `allow`, `deny` or `justify`.
    outcome: String,
    /// The reason code: `consent`, `no_consent`, `restricted`, ...
    code: String,
    /// For a deny: the sentence for people.
    message: Option<String>,
    /// For an allow by consent: the consent type's code.
    consent_type: Option<String>,
    /// For an allow by consent: until when.
    valid_until: Option<chrono::DateTime<chrono::Utc>>,
    /// For an allow by another legal basis: which one.
    legal_basis: Option<String>,
    /// For a justify: the reasons the operator may pick from.
    offered_reasons: Vec<Reason>,
    /// One line for people.
    summary: String,
    /// The decision-log row of a deny or justify.
    logged: Option<DecisionId>,
    /// The active plugin, which the decision log names for replay.
    plugin_sha256: String,
    /// Every plugin's answer in chain order, when rule packs follow the
    /// active plugin (the strictest wins); empty otherwise.
    chain: Vec<crate::engine::ChainStep>,
}

fn single(w: &mut Work<'_>, channel: Channel) -> Result<Answer, ApiError> {
    let req: SingleRequest = w.json()?;
    let op = operator(w, req.purpose.as_deref())?;
    Ok(w.hooks.answer(ContactId(req.contact), channel, &op)?)
}

fn operator(w: &mut Work<'_>, purpose: Option<&str>) -> Result<crate::hooks::Operator, ApiError> {
    let mut op = w.operator();
    op.purpose = purpose
        .map(|code| w.store().purpose(code).map(|p| p.id))
        .transpose()?;
    Ok(op)
}

/// Before one email to one contact. Denies and justifies are logged.
#[utoipa::path(post, path = "/hooks/send", tag = "hooks",
    request_body = SingleRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry without logging twice")),
    responses((status = 200, body = DecisionAnswer), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn send(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Operator, StatusCode::OK, |w| {
        single(w, Channel::SingleEmail)
    })
    .await
}

/// Before a call.
#[utoipa::path(post, path = "/hooks/dial", tag = "hooks",
    request_body = SingleRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry without logging twice")),
    responses((status = 200, body = DecisionAnswer), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn dial(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Operator, StatusCode::OK, |w| {
        single(w, Channel::Phone)
    })
    .await
}

/// Before a text message.
#[utoipa::path(post, path = "/hooks/sms", tag = "hooks",
    request_body = SingleRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry without logging twice")),
    responses((status = 200, body = DecisionAnswer), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn sms(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Operator, StatusCode::OK, |w| {
        single(w, Channel::Sms)
    })
    .await
}

/// A newsletter.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"dry_run": true}))]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkRequest {
    /// The subscription type's code; without one, every contact with an email.
    #[serde(default)]
    subscription: Option<String>,
    /// The newsletter's purpose code.
    #[serde(default)]
    purpose: Option<String>,
    /// Decide without logging anything.
    #[serde(default)]
    dry_run: bool,
}

/// Before a newsletter: who gets it, who is skipped and why.
#[utoipa::path(post, path = "/hooks/bulk", tag = "hooks",
    request_body = Option<BulkRequest>,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry without logging twice")),
    responses((status = 200, body = BulkSend), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn bulk(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Operator, StatusCode::OK, |w| {
        let req: BulkRequest = w.json()?;
        let op = operator(w, req.purpose.as_deref())?;
        let mode = if req.dry_run {
            BulkMode::DryRun
        } else {
            BulkMode::Send
        };
        Ok(w.hooks
            .before_bulk_send(req.subscription.as_deref(), mode, &op)?)
    })
    .await
}

/// Going on after a `justify`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"contact": 2, "channel": "phone", "reason": "existing_customer", "text": "asked for a call back"}))]
#[serde(deny_unknown_fields)]
pub(crate) struct JustifyRequest {
    /// The contact's id.
    contact: i64,
    /// `single_email`, `phone` or `sms`.
    channel: Channel,
    /// One of the offered reasons, by id or code.
    reason: String,
    /// Free text kept with the justification.
    #[serde(default)]
    text: String,
    /// The purpose's code, as in the check.
    #[serde(default)]
    purpose: Option<String>,
}

/// A recorded justification.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)] // the document's shape of `hooks::Justified`
pub(crate) struct JustifiedAnswer {
    decision: DecisionId,
    contact: ContactId,
    channel: Channel,
    reason: Reason,
}

/// Records the operator's reason and allows; the decision is taken again
/// first, so a consent withdrawn meanwhile is never overridden.
#[utoipa::path(post, path = "/hooks/justify", tag = "hooks",
    request_body = JustifyRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry without recording twice")),
    responses((status = 201, body = JustifiedAnswer), (status = "4XX", body = ErrorEnvelope)),
    security(("api_key" = [])))]
async fn justify(State(pool): State<Pool>, call: Call) -> Response {
    pool.write(call, Role::Operator, StatusCode::CREATED, |w| {
        let req: JustifyRequest = w.json()?;
        if req.channel == Channel::BulkEmail {
            return Err(ApiError::invalid(
                "channel",
                "a newsletter is never justified: pick `single_email`, `phone` or `sms`",
            ));
        }
        let op = operator(w, req.purpose.as_deref())?;
        let contact = ContactId(req.contact);
        Ok(w.hooks
            .justify_with(contact, req.channel, &req.reason, &req.text, &op)?)
    })
    .await
}
