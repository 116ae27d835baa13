//! The built-in catalog every new database starts with, written by `init`
//! as ledger entries so that `ledger verify` rebuilds it like any other row.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::Result;
use super::ledger::event::{Table, put_row};

/// Who the built-in entries are recorded as.
const ACTOR: &str = "crm-consent init";

const SEEDS: &[(Table, &str)] = &[
    // Livespace: consent handling is off until an admin enables it, so the
    // three checks start off. E-marketing privacy starts on, so that once
    // newsletters are checked they need real consent unless the admin
    // relaxes it (Art. 25(2)).
    (
        Table::Switches,
        "INSERT INTO switches VALUES (1, 0, 0, 0, 1)",
    ),
    // Livespace: 4 built-in statuses that cannot be edited or deleted.
    (
        Table::Statuses,
        "INSERT INTO statuses (id, code, name, meaning, built_in) VALUES
            (1, 'given', 'Given', 1, 1),
            (2, 'refused', 'Refused', 3, 1),
            (3, 'withdrawn', 'Withdrawn', 4, 1),
            (4, 'expired', 'Expired', 6, 1)",
    ),
    // Livespace: 6 built-in ways of giving consent; "via the CRM form" is locked.
    (
        Table::Methods,
        "INSERT INTO methods (id, code, name, built_in, locked) VALUES
            (1, 'crm_form', 'Via the CRM form', 1, 1),
            (2, 'email', 'By email', 1, 0),
            (3, 'phone', 'By phone', 1, 0),
            (4, 'paper', 'On paper', 1, 0),
            (5, 'website', 'Via the website', 1, 0),
            (6, 'import', 'Imported from a file', 1, 0)",
    ),
    // Italian CRM plugin: reasons an operator picks to contact without consent.
    (
        Table::Reasons,
        "INSERT INTO reasons (id, code, label) VALUES
            (1, 'contact_request', 'The contact asked to be contacted'),
            (2, 'existing_customer', 'Existing customer, about a similar product (soft opt-in)'),
            (3, 'contract', 'Needed to perform a contract'),
            (4, 'legal_obligation', 'Required by a legal obligation')",
    ),
    // SuperOffice: four default subscription types the admin can edit or
    // remove. They all require an opt-in: data protection by default (Art. 25(2)).
    (
        Table::SubscriptionTypes,
        "INSERT INTO subscription_types (id, code, name, requires_opt_in) VALUES
            (1, 'newsletter', 'Newsletter', 1),
            (2, 'product_news', 'Product news', 1),
            (3, 'events', 'Events and webinars', 1),
            (4, 'surveys', 'Surveys', 1)",
    ),
];

pub(super) fn seed(tx: &Connection, now: DateTime<Utc>) -> Result<()> {
    for (table, sql) in SEEDS {
        tx.execute(sql, [])?;
        let ids: Vec<i64> = tx
            .prepare(&format!("SELECT id FROM {} ORDER BY id", table.name()))?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in ids {
            put_row(tx, *table, &[id], None, ACTOR, now.timestamp())?;
        }
    }
    Ok(())
}
