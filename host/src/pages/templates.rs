//! The admin's templates (Livespace: the link email must contain the
//! form-link variable, the form template the consents variable), rendered
//! by minijinja.
//!
//! The form template is HTML and everything put into it is escaped; the
//! emails are plain text. Before a template is saved, minijinja's own
//! analysis lists the variables it reads: one it lacks, or one it is never
//! given (a typo), is refused with its name, and a trial render with sample
//! values must succeed. Rendering runs on a fuel budget, so no template an
//! admin writes can loop a page render forever.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, ErrorKind};
use serde::{Deserialize, Serialize};

use super::PageError;
use super::messages::{Language, catalog};
use crate::store::{ParseError, Store};

/// Instructions and data a render may use: a page render uses a few
/// thousand; this stops a runaway loop in well under a second.
const FUEL: u64 = 2_000_000;

/// The templates an admin can edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateName {
    /// The email that carries a consent form link (subject and body).
    LinkEmail,
    /// The consent form page's content, HTML: `{{ consents }}` is where
    /// the consents offered go, as accessible checkboxes.
    Form,
    /// The double opt-in email that carries the confirmation link.
    ConfirmationEmail,
}

const LINK_EMAIL_VARS: &[&str] = &[
    "contact_name",
    "form_link",
    "preference_link",
    "expires_at",
    "consents",
];
const FORM_VARS: &[&str] = &["contact_name", "consents", "expires_at", "language", "msg"];
const CONFIRMATION_VARS: &[&str] = &[
    "contact_name",
    "confirm_link",
    "preference_link",
    "expires_at",
    "consent",
];

const LINK_EMAIL_SUBJECT: &str = "Your consent choices";
const LINK_EMAIL_BODY: &str = "Hello {{ contact_name }},

please tell us which of these you agree to:
{% for c in consents %}  - {{ c.title }}
{% endfor %}
Open this link to choose (it works until {{ expires_at }}):
{{ form_link }}

You can change your mind at any time. Manage your subscriptions here:
{{ preference_link }}
";
const FORM_BODY: &str = "<p>{{ msg.form_intro }}</p>
{{ consents }}
<p>{{ msg.form_valid_until | replace('{date}', expires_at) }}</p>
";
const CONFIRMATION_SUBJECT: &str = "Please confirm your consent";
const CONFIRMATION_BODY: &str = "Hello {{ contact_name }},

you agreed to: {{ consent }}.
Please confirm it by opening this link (it works until {{ expires_at }}):
{{ confirm_link }}

If it was not you, ignore this email: nothing is given until you confirm.
Manage your subscriptions here:
{{ preference_link }}
";

impl TemplateName {
    /// Every template.
    pub const ALL: [TemplateName; 3] = [
        TemplateName::LinkEmail,
        TemplateName::Form,
        TemplateName::ConfirmationEmail,
    ];

    /// The snake_case name, as stored and typed.
    pub const fn as_str(self) -> &'static str {
        match self {
            TemplateName::LinkEmail => "link_email",
            TemplateName::Form => "form",
            TemplateName::ConfirmationEmail => "confirmation_email",
        }
    }

    /// The variable the template must use (Livespace).
    pub const fn required(self) -> &'static str {
        match self {
            TemplateName::LinkEmail => "form_link",
            TemplateName::Form => "consents",
            TemplateName::ConfirmationEmail => "confirm_link",
        }
    }

    /// The variables the template is given.
    pub const fn variables(self) -> &'static [&'static str] {
        match self {
            TemplateName::LinkEmail => LINK_EMAIL_VARS,
            TemplateName::Form => FORM_VARS,
            TemplateName::ConfirmationEmail => CONFIRMATION_VARS,
        }
    }

    /// Emails have a subject; the form has none.
    pub const fn has_subject(self) -> bool {
        !matches!(self, TemplateName::Form)
    }

    /// The form is HTML, so everything put into it is escaped.
    const fn engine_name(self) -> &'static str {
        match self {
            TemplateName::LinkEmail => "link_email.txt",
            TemplateName::Form => "form.html",
            TemplateName::ConfirmationEmail => "confirmation_email.txt",
        }
    }

    const fn default_subject(self) -> Option<&'static str> {
        match self {
            TemplateName::LinkEmail => Some(LINK_EMAIL_SUBJECT),
            TemplateName::Form => None,
            TemplateName::ConfirmationEmail => Some(CONFIRMATION_SUBJECT),
        }
    }

    const fn default_body(self) -> &'static str {
        match self {
            TemplateName::LinkEmail => LINK_EMAIL_BODY,
            TemplateName::Form => FORM_BODY,
            TemplateName::ConfirmationEmail => CONFIRMATION_BODY,
        }
    }
}

impl FromStr for TemplateName {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let wanted = s.trim().replace('-', "_").to_ascii_lowercase();
        TemplateName::ALL
            .into_iter()
            .find(|t| t.as_str() == wanted)
            .ok_or_else(|| ParseError {
                what: "template",
                value: s.to_owned(),
                valid: &["link_email", "form", "confirmation_email"],
            })
    }
}

/// A template as it is used: the admin's, or the built-in one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Which template.
    pub name: TemplateName,
    /// The subject line of an email; `None` for the form.
    pub subject: Option<String>,
    /// The body: plain text for emails, HTML for the form.
    pub body: String,
    /// `true` while the admin has not saved their own.
    pub built_in: bool,
    /// When the admin saved it.
    pub updated_at: Option<DateTime<Utc>>,
    /// Who saved it.
    pub updated_by: Option<String>,
}

/// The template used for `name`: the admin's, else the built-in one.
pub fn template(store: &Store, name: TemplateName) -> Result<Template, PageError> {
    Ok(match store.stored_template(name.as_str())? {
        Some(t) => Template {
            name,
            subject: t.subject,
            body: t.body,
            built_in: false,
            updated_at: Some(t.updated_at),
            updated_by: Some(t.updated_by),
        },
        None => Template {
            name,
            subject: name.default_subject().map(str::to_owned),
            body: name.default_body().to_owned(),
            built_in: true,
            updated_at: None,
            updated_by: None,
        },
    })
}

/// Checks and saves an admin's template. Refused, naming the variable, when
/// the body lacks the one it must use (`form_link`, `consents`,
/// `confirm_link`) or uses one it is not given.
pub fn save_template(
    store: &mut Store,
    name: TemplateName,
    subject: Option<&str>,
    body: &str,
    actor: &str,
) -> Result<Template, PageError> {
    let subject = subject.map(str::trim).filter(|s| !s.is_empty());
    check(name, subject, body)?;
    store.put_template(name.as_str(), subject, body, actor)?;
    template(store, name)
}

/// Forgets the admin's template: the built-in one is used again.
pub fn reset_template(
    store: &mut Store,
    name: TemplateName,
    actor: &str,
) -> Result<Template, PageError> {
    store.delete_template(name.as_str(), actor)?;
    template(store, name)
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_fuel(Some(FUEL));
    env
}

fn bad(name: TemplateName, e: &minijinja::Error) -> PageError {
    let why = match e.kind() {
        ErrorKind::OutOfFuel => {
            "it does too much work to render (a loop that runs too long?)".to_owned()
        }
        _ => match e.line() {
            Some(line) => format!("{} (line {line})", e.detail().unwrap_or(&e.to_string())),
            None => e.detail().unwrap_or(&e.to_string()).to_owned(),
        },
    };
    PageError::BadTemplate {
        template: name.as_str(),
        why,
    }
}

/// The variables of `source` that are read from outside it, or why it does
/// not parse.
fn variables_of(
    env: &Environment<'_>,
    name: TemplateName,
    source: &str,
) -> Result<Vec<String>, PageError> {
    let t = env
        .template_from_named_str(name.engine_name(), source)
        .map_err(|e| bad(name, &e))?;
    let globals: Vec<&str> = env.globals().map(|(k, _)| k).collect();
    let mut vars: Vec<String> = t
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| !globals.contains(&v.as_str()))
        .collect();
    vars.sort();
    Ok(vars)
}

fn check(name: TemplateName, subject: Option<&str>, body: &str) -> Result<(), PageError> {
    let template = name.as_str();
    match (name.has_subject(), subject) {
        (true, None) => {
            return Err(PageError::BadTemplate {
                template,
                why: "an email needs a subject".to_owned(),
            });
        }
        (false, Some(_)) => {
            return Err(PageError::BadTemplate {
                template,
                why: "the form has no subject; leave it out".to_owned(),
            });
        }
        _ => {}
    }
    let env = environment();
    let body_vars = variables_of(&env, name, body)?;
    let subject_vars = match subject {
        Some(s) => variables_of(&env, name, s)?,
        None => Vec::new(),
    };
    if let Some(unknown) = body_vars
        .iter()
        .chain(&subject_vars)
        .find(|v| !name.variables().contains(&v.as_str()))
    {
        return Err(PageError::UnknownVariable {
            template,
            variable: unknown.clone(),
            available: name.variables(),
        });
    }
    if !body_vars.iter().any(|v| v == name.required()) {
        return Err(PageError::MissingVariable {
            template,
            variable: name.required(),
        });
    }
    // A trial render with sample values catches what analysis cannot (a
    // filter given the wrong arguments, a loop that never ends).
    let draft = Template {
        name,
        subject: subject.map(str::to_owned),
        body: body.to_owned(),
        built_in: false,
        updated_at: None,
        updated_by: None,
    };
    render(&draft, sample_context(name)).map(|_| ())
}

/// Renders one of the pages' own HTML fragments (not admin-editable), with
/// everything put into it escaped.
pub(crate) fn render_fragment(name: &str, source: &str, ctx: Value) -> Result<String, PageError> {
    environment()
        .template_from_named_str(name, source)
        .and_then(|t| t.render(ctx))
        .map_err(|e| PageError::BadTemplate {
            template: "built-in",
            why: e.to_string(),
        })
}

fn sample_context(name: TemplateName) -> Value {
    let ctx = serde_json::json!({
        "contact_name": "Anna Nowak",
        "form_link": "https://consent.example.com/forms/sample",
        "preference_link": "https://consent.example.com/preferences/sample",
        "confirm_link": "https://consent.example.com/confirm/sample",
        "expires_at": "2024-01-15",
        "consents": [{"code": "newsletter", "title": "Newsletter"}],
        "consent": "Newsletter",
        "language": Language::DEFAULT.code(),
        "msg": catalog(Language::DEFAULT),
    });
    let ctx = Value::from(Serde(ctx));
    match name {
        // The form gets its consents as ready HTML.
        TemplateName::Form => minijinja::context! {
            consents => Value::from_safe_string("<fieldset></fieldset>".to_owned()),
            ..ctx
        },
        _ => ctx,
    }
}

/// A rendered template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    /// One line; whitespace in the values put into it is collapsed.
    pub subject: Option<String>,
    pub body: String,
}

/// Renders `t` with `ctx`. A stored template was checked when saved; this
/// still fails cleanly if it no longer renders.
pub(crate) fn render(t: &Template, ctx: Value) -> Result<Rendered, PageError> {
    let env = environment();
    let body = env
        .template_from_named_str(t.name.engine_name(), &t.body)
        .and_then(|tpl| tpl.render(&ctx))
        .map_err(|e| bad(t.name, &e))?;
    let subject = match &t.subject {
        Some(s) => {
            let line = env
                .template_from_named_str(t.name.engine_name(), s)
                .and_then(|tpl| tpl.render(&ctx))
                .map_err(|e| bad(t.name, &e))?;
            // A name with a line break must not add a mail header.
            Some(line.split_whitespace().collect::<Vec<_>>().join(" "))
        }
        None => None,
    };
    Ok(Rendered { subject, body })
}

#[cfg(test)]
mod tests;
