//! How a failure is reported: an unknown code with the valid ones.

use super::support::Crm;

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
