//! The contact-facing pages: the consent form a link opens (Livespace), its
//! double opt-in confirmation, and the preference centre (SuperOffice's
//! "Manage subscriptions"). Server-rendered HTML that works without
//! JavaScript, on a phone and with the keyboard alone; the strings come from
//! the message catalog in the visitor's language (`Accept-Language`).
//!
//! Every rule is in [`crate::pages`]; this module renders and routes. Each
//! change a contact makes is queued as a staff notification in the same
//! transaction.

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use minijinja::{Environment, Value, context};
use serde_json::json;

use super::error::ApiError;
use super::pool::Pool;
use crate::pages::{self, Language, Msg, PageError, Visitor};
use crate::store::ContactId;

/// The page routes, beside `/api/v1`.
pub(crate) fn routes() -> Router<Pool> {
    Router::new()
        .route("/forms/{token}", get(form).post(submit))
        .route("/confirm/{token}", get(confirm))
        .route(
            "/preferences/{token}",
            get(preferences).post(change_preferences),
        )
}

/// Who is asking, and in which language to answer: every page reads both
/// from the request, so they are one extractor.
struct Visit {
    language: Language,
    visitor: Visitor,
}

impl<S: Send + Sync> FromRequestParts<S> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let from = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(from)| from.ip().to_string());
        let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        Ok(Visit {
            language: Language::negotiate(header(header::ACCEPT_LANGUAGE)),
            visitor: Visitor {
                ip: from,
                user_agent: header(header::USER_AGENT).map(str::to_owned),
            },
        })
    }
}

/// The page for a pooled call's outcome: `done` for a success, the friendly
/// error page for a link that cannot be used, the pool's error otherwise.
fn respond<T>(
    outcome: Result<Result<T, PageError>, ApiError>,
    language: Language,
    done: impl FnOnce(T) -> Response,
) -> Response {
    match outcome {
        Ok(Ok(value)) => done(value),
        Ok(Err(e)) => failure(&e, language),
        Err(e) => e.into_response(),
    }
}

async fn form(State(pool): State<Pool>, Path(token): Path<String>, v: Visit) -> Response {
    let language = v.language;
    let page = pool
        .run(move |hooks| Ok(pages::form_page(hooks.store(), &token, language)))
        .await;
    respond(page, language, |page| {
        render(
            StatusCode::OK,
            "form.html",
            context! {
                lang => language.code(),
                title => Msg::FormTitle.text(language),
                name => page.contact_name,
                body => Value::from_safe_string(page.html),
                submit => Msg::FormSubmit.text(language),
            },
        )
    })
}

async fn submit(
    State(pool): State<Pool>,
    Path(token): Path<String>,
    v: Visit,
    body: Bytes,
) -> Response {
    let language = v.language;
    // Repeated `consent=<code>` fields: one per ticked box.
    let ticked: Vec<String> = form_urlencoded::parse(&body)
        .filter(|(k, _)| k == "consent")
        .map(|(_, v)| v.into_owned())
        .collect();
    let done = pool
        .run(move |hooks| {
            Ok(with_notification(
                hooks.store_mut(),
                |store| pages::submit_form(store, &token, &ticked, language, &v.visitor),
                |done| {
                    (!done.changes.is_empty()).then(|| {
                        let event = json!({"source": "consent_form", "changes": done.changes});
                        (done.contact, event)
                    })
                },
            ))
        })
        .await;
    respond(done, language, |_| {
        message(
            StatusCode::OK,
            language,
            Msg::FormTitle,
            Msg::FormSaved.text(language),
        )
    })
}

async fn confirm(State(pool): State<Pool>, Path(token): Path<String>, v: Visit) -> Response {
    let language = v.language;
    let done = pool
        .run(move |hooks| {
            Ok(with_notification(
                hooks.store_mut(),
                |store| pages::confirm(store, &token, language, &v.visitor),
                |c| {
                    c.recorded.is_some().then(|| {
                        (
                            c.contact,
                            json!({"source": "confirmation", "confirmed": c.code}),
                        )
                    })
                },
            ))
        })
        .await;
    respond(done, language, |c| {
        message(
            StatusCode::OK,
            language,
            Msg::FormTitle,
            &format!("{} {}", Msg::ConfirmDone.text(language), c.title),
        )
    })
}

async fn preferences(State(pool): State<Pool>, Path(token): Path<String>, v: Visit) -> Response {
    let language = v.language;
    show_preferences(pool, token, language, None).await
}

async fn show_preferences(
    pool: Pool,
    token: String,
    language: Language,
    saved: Option<&'static str>,
) -> Response {
    let page = pool
        .run(move |hooks| Ok(pages::preference_page(hooks.store(), &token, language)))
        .await;
    respond(page, language, |page| {
        let t = |m: Msg| m.text(language);
        render(
            StatusCode::OK,
            "preferences.html",
            context! {
                lang => language.code(),
                title => t(Msg::PrefsTitle),
                name => page.contact_name,
                saved => saved,
                subscriptions_title => t(Msg::PrefsSubscriptions),
                consents_title => t(Msg::PrefsConsents),
                subscriptions => Value::from(minijinja::value::Serde(&page.subscriptions)),
                consents => Value::from(minijinja::value::Serde(&page.consents)),
                opted_out_of_all => page.opted_out_of_all,
                opt_in => t(Msg::PrefsOptIn),
                opt_out => t(Msg::PrefsOptOut),
                withdraw => t(Msg::PrefsWithdraw),
                opt_out_all => t(Msg::PrefsOptOutAll),
                opted_out_all_note => t(Msg::PrefsOptedOutAll),
                resume => t(Msg::PrefsResume),
            },
        )
    })
}

/// One button of the preference centre: `action` and, for most, `code`.
async fn change_preferences(
    State(pool): State<Pool>,
    Path(token): Path<String>,
    v: Visit,
    body: Bytes,
) -> Response {
    let language = v.language;
    let field = |name: &str| {
        form_urlencoded::parse(&body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let (action, code) = (field("action"), field("code"));
    let page_token = token.clone();
    let done = pool
        .run(move |hooks| {
            let store = hooks.store_mut();
            let contact = match pages::preference_page(store, &token, language) {
                Ok(page) => page.contact,
                Err(e) => return Ok(Err(Some(e))),
            };
            if !PREFERENCE_ACTIONS.contains(&action.as_str()) {
                return Ok(Err(None));
            }
            let event = json!({"source": "preference_centre", "action": action, "code": code});
            // Art. 7(3): withdrawing takes one click, as giving does.
            let change = |store: &mut crate::store::Store| match action.as_str() {
                "opt_in" => pages::set_subscription(store, &token, &code, true),
                "opt_out" => pages::set_subscription(store, &token, &code, false),
                "withdraw" => {
                    pages::withdraw_consent(store, &token, &code, language, &v.visitor).map(|_| ())
                }
                "opt_out_all" => pages::opt_out_of_everything(store, &token),
                _ => pages::resume_subscriptions(store, &token),
            };
            let done = with_notification(store, change, |_| Some((contact, event)));
            Ok(done.map_err(Some))
        })
        .await;
    match done {
        Ok(Ok(())) => {
            show_preferences(
                pool,
                page_token,
                language,
                Some(Msg::PrefsSaved.text(language)),
            )
            .await
        }
        Ok(Err(Some(e))) => failure(&e, language),
        Ok(Err(None)) => message(
            StatusCode::UNPROCESSABLE_ENTITY,
            language,
            Msg::ErrorTitle,
            "unknown action: use the page's buttons",
        ),
        Err(e) => e.into_response(),
    }
}

/// The preference centre's buttons (`action`).
const PREFERENCE_ACTIONS: &[&str] = &["opt_in", "opt_out", "withdraw", "opt_out_all", "resume"];

/// Makes a contact's change and queues its staff notification in one
/// transaction: staff hear of every change that stands, and of no other.
fn with_notification<T>(
    store: &mut crate::store::Store,
    change: impl FnOnce(&mut crate::store::Store) -> Result<T, PageError>,
    event: impl FnOnce(&T) -> Option<(ContactId, serde_json::Value)>,
) -> Result<T, PageError> {
    store.atomically(|store| {
        let done = change(store)?;
        if let Some((contact, mut event)) = event(&done) {
            event["contact"] = json!(contact);
            store.notify(contact, &event)?;
        }
        Ok(done)
    })
}

/// A friendly page for a link that cannot be used; nothing was changed.
fn failure(e: &PageError, language: Language) -> Response {
    let status = match e.code() {
        "link_expired" | "link_revoked" => StatusCode::GONE,
        "link_invalid" => StatusCode::FORBIDDEN,
        "confirmation_superseded" => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    match e.for_contact(language) {
        Some(text) => message(status, language, Msg::ErrorTitle, &text),
        None => {
            tracing::error!(code = e.code(), "a page failed: {e}");
            message(
                StatusCode::INTERNAL_SERVER_ERROR,
                language,
                Msg::ErrorTitle,
                Msg::LinkInvalid.text(language),
            )
        }
    }
}

fn message(status: StatusCode, language: Language, title: Msg, text: &str) -> Response {
    render(
        status,
        "message.html",
        context! { lang => language.code(), title => title.text(language), text => text },
    )
}

fn render(status: StatusCode, name: &str, ctx: Value) -> Response {
    let html = templates().get_template(name).and_then(|t| t.render(ctx));
    match html {
        Ok(html) => (
            status,
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::REFERRER_POLICY, "no-referrer"),
            ],
            Html(html),
        )
            .into_response(),
        Err(e) => {
            tracing::error!("cannot render `{name}`: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The page shells. `.html` names turn on auto-escaping: everything from
/// the database is escaped unless marked safe (the form body, which the
/// pages module rendered and escaped itself).
fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("pages/base.html")),
            ("form.html", include_str!("pages/form.html")),
            ("preferences.html", include_str!("pages/preferences.html")),
            ("message.html", include_str!("pages/message.html")),
        ] {
            env.add_template(name, source)
                .expect("the built-in page templates parse");
        }
        env
    })
}
