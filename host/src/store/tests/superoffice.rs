//! The SuperOffice upgrade over the filters' table of contacts, and its
//! marks file.

use super::bulk::table;
use super::*;

#[test]
fn superoffice_upgrade_sets_the_bases_and_a_second_run_changes_nothing() {
    let mut t = table();
    let s = &mut t.fx.store;
    let marks = vec![
        SuperOfficeMark {
            contact: MarkRef::Id(t.a),
            mailed: true,
            no_mailings: false,
        },
        SuperOfficeMark {
            contact: MarkRef::Email("BRUNO@example.com".into()),
            mailed: true,
            no_mailings: true,
        },
    ];
    let dry = s.migrate_superoffice(&marks, true, "admin").unwrap();
    let head = s.ledger_head().unwrap();
    let report = s.migrate_superoffice(&marks, false, "admin").unwrap();
    assert_eq!(report.changes, dry.changes, "the dry run equals the run");
    assert_eq!(report.purposes_created, vec![SALES_AND_SERVICE.to_owned()]);
    assert_eq!(report.sales_and_service, 6);
    // Anna mailed: on; Bruno "no mailings" and the opted-out device:
    // withdrawn; Dora and Fred keep the bases they had; Acme never mailed.
    let e_marketing: Vec<(ContactId, LegalBasis)> = report
        .changes
        .iter()
        .filter(|c| c.purpose == E_MARKETING)
        .map(|c| (c.contact, c.legal_basis))
        .collect();
    assert_eq!(
        e_marketing,
        vec![
            (t.a, LegalBasis::LegitimateInterest),
            (t.b, LegalBasis::Withdrawn),
            (t.e, LegalBasis::Withdrawn)
        ]
    );
    assert!(s.ledger_head().unwrap().seq.0 > head.seq.0);
    let head = s.ledger_head().unwrap();
    let again = s.migrate_superoffice(&marks, false, "admin").unwrap();
    assert_eq!(again.total(), 0, "{again:?}");
    assert_eq!(s.ledger_head().unwrap(), head);
    assert!(s.verify_ledger().unwrap().ok);
}

#[test]
fn marks_are_read_from_csv_and_a_bad_cell_is_named() {
    let marks =
        read_marks("contact,mailed,no_mailings\n3,yes,\nanna@example.com,,x\n".as_bytes()).unwrap();
    assert_eq!(marks[0].contact, MarkRef::Id(ContactId(3)));
    assert!(marks[0].mailed && !marks[0].no_mailings);
    assert_eq!(marks[1].contact, MarkRef::Email("anna@example.com".into()));
    assert!(marks[1].no_mailings);
    let err = read_marks("contact,mailed\n3,maybe\n".as_bytes()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("line 2") && text.contains("`mailed`") && text.contains("`maybe`"),
        "{text}"
    );
}
