//! How a failure is reported: a stable snake_case code from the library's
//! error, each cause said once, and an unknown code with the valid ones.

use serde_json::json;

use super::support::Crm;

#[test]
fn with_json_an_error_is_an_object_with_a_stable_code_a_message_and_a_hint() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let (status, err) = crm.json_err(&["consent", "grant", &id, "email", "--method", "papr"]);
    assert_eq!(status, 1);
    assert_eq!(
        err,
        json!({ "error": {
            "code": "unknown_code",
            "message": "unknown way of giving consent `papr`; did you mean `paper`? \
                        valid codes: crm_form, email, import, paper, phone, website",
            "hint": "list them with `crm-consent methods list`",
        }})
    );
}

#[test]
fn each_kind_of_failure_has_its_own_code() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &["email"]);
    let code = |args: &[&str]| {
        let (status, err) = crm.json_err(args);
        (status, err["error"]["code"].as_str().unwrap().to_owned())
    };
    let cases: &[(&[&str], u8, &str)] = &[
        (&["check", "send", "99"], 1, "unknown_contact"),
        (
            &["check", "dial", &id, "--purpose", "nope"],
            1,
            "unknown_code",
        ),
        (
            &["justify", &id, "send", "--reason", "contract"],
            1,
            "nothing_to_justify",
        ),
        (
            &["justify", &id, "dial", "--reason", "77"],
            1,
            "unknown_reason",
        ),
        (
            &[
                "types",
                "add",
                "email",
                "--title",
                "E",
                "--text",
                "x",
                "--channels",
                "single_email",
            ],
            1,
            "duplicate_code",
        ),
        (&["contacts", "flag", &id], 1, "missing_argument"),
        (&["frobnicate"], 2, "usage"),
        (&["check", "send"], 2, "usage"),
    ];
    for (args, status, expected) in cases {
        assert_eq!(code(args), (*status, (*expected).to_owned()), "{args:?}");
    }
    let empty = Crm::empty();
    let (status, err) = empty.json_err(&["types", "list"]);
    assert_eq!(status, 1);
    assert_eq!(err["error"]["code"], "no_database");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("crm-consent init"),
        "{err}"
    );
}

#[test]
fn in_text_an_error_is_one_line_and_a_hint_for_what_to_do_next() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let (status, text) = crm.fail(&["check", "dial", &id, "--purpose", "nope"]);
    assert_eq!(status, 1);
    // No purpose exists yet, so there are none to list.
    assert_eq!(
        text,
        "error: unknown purpose `nope`\nhint: list them with `crm-consent purposes list`\n"
    );
}

#[test]
fn a_plugin_refused_at_install_is_named_once() {
    let crm = Crm::ready();
    let garbage = crm.dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"\0asm this is not a component").unwrap();
    let err = crm.err(&["setup", "install", garbage.to_str().unwrap()]);
    let prefix = format!("cannot install {}: plugin refused: ", garbage.display());
    assert!(err.starts_with(&prefix), "{err}");
    // The engine's reason, which setup's error both shows and chains.
    assert_eq!(
        err.matches("WebAssembly component").count(),
        1,
        "said more than once: {err}"
    );
}

#[test]
fn a_file_that_is_not_a_database_is_named_once() {
    let crm = Crm::empty();
    std::fs::write(&crm.db, "this is a text file, not SQLite\n".repeat(64)).unwrap();
    let err = crm.err(&["types", "list"]);
    assert_eq!(err.matches("not an SQLite database").count(), 1, "{err}");
    assert!(err.contains("is not a crm-consent database"), "{err}");
    let (_, json) = crm.json_err(&["types", "list"]);
    assert_eq!(json["error"]["code"], "not_our_database", "{json}");
    assert_eq!(json["error"]["message"], err.as_str());
}

#[test]
fn an_unknown_code_suggests_the_nearest_and_lists_the_valid_ones() {
    let crm = Crm::ready();
    let id = crm.contact("Anna", &[]);
    let err = crm.err(&["consent", "grant", &id, "newsleter"]);
    assert_eq!(
        err,
        "unknown consent type `newsleter`; did you mean `newsletter`? \
         valid codes: email, newsletter, phone"
    );
    // Nothing near: only the list.
    let err = crm.err(&["consent", "grant", &id, "email", "--method", "pigeon"]);
    assert_eq!(
        err,
        "unknown way of giving consent `pigeon`; \
         valid codes: crm_form, email, import, paper, phone, website"
    );
    crm.ok(&["purposes", "add", "marketing", "--name", "Marketing"]);
    crm.ok(&["purposes", "add", "sales", "--name", "Sales"]);
    let err = crm.err(&["check", "send", &id, "--purpose", "markting"]);
    assert_eq!(
        err,
        "unknown purpose `markting`; did you mean `marketing`? valid codes: marketing, sales"
    );
    let err = crm.err(&["justify", &id, "dial", "--reason", "contrat"]);
    assert!(
        err.starts_with("unknown justification reason `contrat`; did you mean `contract`?"),
        "{err}"
    );
    let err = crm.err(&["consent", "grant", &id, "email", "--status", "gven"]);
    assert!(err.contains("did you mean `given`?"), "{err}");
}
