use super::*;
use crate::pages::tests::fixture;

fn save(name: TemplateName, subject: Option<&str>, body: &str) -> Result<Template, PageError> {
    let mut f = fixture();
    save_template(&mut f.store, name, subject, body, "admin")
}

#[test]
fn the_built_in_templates_pass_their_own_checks() {
    for name in TemplateName::ALL {
        let t = template(&fixture().store, name).unwrap();
        assert!(t.built_in);
        check(name, t.subject.as_deref(), &t.body).unwrap();
    }
}

#[test]
fn a_link_email_without_the_form_link_is_refused_naming_it() {
    let e = save(
        TemplateName::LinkEmail,
        Some("Hi"),
        "Hello {{ contact_name }}",
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            PageError::MissingVariable {
                variable: "form_link",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "the link_email template must use the `form_link` variable; add `{{ form_link }}` where it belongs"
    );
    // The words alone are not the variable: analysis, not a string search.
    let e = save(
        TemplateName::LinkEmail,
        Some("Hi"),
        "Use the form_link: {# {{ form_link }} #}",
    )
    .unwrap_err();
    assert!(matches!(e, PageError::MissingVariable { .. }), "{e}");
    // In the subject only is not enough: the body carries the link.
    let e = save(TemplateName::LinkEmail, Some("{{ form_link }}"), "Hello").unwrap_err();
    assert!(matches!(e, PageError::MissingVariable { .. }), "{e}");
}

#[test]
fn a_form_template_without_the_consents_is_refused_naming_them() {
    let e = save(TemplateName::Form, None, "<p>{{ msg.form_intro }}</p>").unwrap_err();
    assert!(
        matches!(
            e,
            PageError::MissingVariable {
                variable: "consents",
                ..
            }
        ),
        "{e}"
    );
    let t = save(
        TemplateName::Form,
        None,
        "<h2>Hi {{ contact_name }}</h2>{{ consents }}",
    )
    .unwrap();
    assert!(!t.built_in);
    assert_eq!(t.updated_by.as_deref(), Some("admin"));
}

#[test]
fn a_variable_it_is_never_given_is_named_with_the_ones_it_is() {
    let e = save(
        TemplateName::LinkEmail,
        Some("Hi"),
        "{{ form_link }} {{ from_link }}",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the link_email template uses `from_link`, which it is not given; it is given: \
         contact_name, form_link, preference_link, expires_at, consents"
    );
    let e = save(
        TemplateName::ConfirmationEmail,
        Some("{{ nme }}"),
        "{{ confirm_link }}",
    )
    .unwrap_err();
    assert!(
        matches!(e, PageError::UnknownVariable { ref variable, .. } if variable == "nme"),
        "{e}"
    );
    // Loop variables and the engine's own functions are declared.
    save(
        TemplateName::LinkEmail,
        Some("Hi"),
        "{% for c in consents %}{{ loop.index }} {{ c.title }}{% endfor %}{{ form_link }}{{ range(2) }}",
    )
    .unwrap();
}

#[test]
fn a_template_that_does_not_parse_or_render_is_refused() {
    let e = save(TemplateName::LinkEmail, Some("Hi"), "{{ form_link ").unwrap_err();
    assert!(matches!(e, PageError::BadTemplate { .. }), "{e}");
    assert!(e.to_string().contains("line 1"), "{e}");
    let e = save(TemplateName::LinkEmail, None, "{{ form_link }}").unwrap_err();
    assert!(e.to_string().contains("needs a subject"), "{e}");
    let e = save(TemplateName::Form, Some("Hi"), "{{ consents }}").unwrap_err();
    assert!(e.to_string().contains("has no subject"), "{e}");
    let looping = "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}.\
                   {% endfor %}{% endfor %}{% endfor %}{{ form_link }}";
    let e = save(TemplateName::LinkEmail, Some("Hi"), looping).unwrap_err();
    assert!(e.to_string().contains("too much work"), "{e}");
}

#[test]
fn the_form_escapes_what_is_put_into_it_and_emails_do_not() {
    let form = Template {
        name: TemplateName::Form,
        subject: None,
        body: "{{ contact_name }} {{ consents }}".into(),
        built_in: false,
        updated_at: None,
        updated_by: None,
    };
    let ctx = minijinja::context! {
        contact_name => "<b>Anna</b>",
        consents => Value::from_safe_string("<fieldset></fieldset>".into()),
    };
    let html = render(&form, ctx).unwrap().body;
    assert_eq!(html, "&lt;b&gt;Anna&lt;&#x2f;b&gt; <fieldset></fieldset>");
    let email = Template {
        name: TemplateName::LinkEmail,
        subject: Some("Hi {{ contact_name }}".into()),
        body: "{{ contact_name }}".into(),
        ..form
    };
    let out = render(
        &email,
        minijinja::context! { contact_name => "<b>An\nna</b>" },
    )
    .unwrap();
    assert_eq!(out.body, "<b>An\nna</b>");
    assert_eq!(out.subject.as_deref(), Some("Hi <b>An na</b>"));
}

#[test]
fn template_names_parse_as_typed() {
    assert_eq!(
        "link-email".parse::<TemplateName>().unwrap(),
        TemplateName::LinkEmail
    );
    assert_eq!("FORM".parse::<TemplateName>().unwrap(), TemplateName::Form);
    let e = "mail".parse::<TemplateName>().unwrap_err();
    assert!(
        e.to_string()
            .contains("link_email, form, confirmation_email"),
        "{e}"
    );
}
