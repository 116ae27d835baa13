//! The admin's privacy switches and the snapshot of everything a plugin
//! policy is built from.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::catalog::{Purpose, Reason};
use super::consent_types::{ConsentType, all_types};
use super::contacts::check_actor;
use super::ledger::event::{Table, put_row};
use super::subscriptions::{SubscriptionType, all_subscription_types};
use super::{Result, Store, secs};

/// The privacy switches (Italian CRM plugin; SuperOffice "E-marketing
/// privacy").
///
/// Defaults, chosen on purpose: the three checks start **off**, because
/// consent handling is off until an admin enables it (Livespace) and turning
/// a CRM's calls and mails into warnings on upgrade would surprise everyone;
/// `e_marketing_privacy` starts **on**, so that once newsletters are checked
/// they need real consent unless the admin deliberately accepts legitimate
/// interest (data protection by default, Art. 25(2)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Switches {
    /// Check consent before every single email and SMS.
    pub check_single_email: bool,
    /// Check consent before every newsletter.
    pub check_bulk_email: bool,
    /// Check consent before every call.
    pub check_phone: bool,
    /// Newsletters need real consent; off lets a legitimate interest in the
    /// newsletter's purpose (ePrivacy soft opt-in) allow them too.
    pub e_marketing_privacy: bool,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            check_single_email: false,
            check_bulk_email: false,
            check_phone: false,
            e_marketing_privacy: true,
        }
    }
}

/// Everything a plugin policy is built from, read in one transaction so the
/// parts agree with each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredConfig {
    /// The admin's consent types, with their current text versions.
    pub consent_types: Vec<ConsentType>,
    /// The justification reasons an operator can pick.
    pub reasons: Vec<Reason>,
    /// The purposes of processing and their default bases.
    pub purposes: Vec<Purpose>,
    /// The mailing lists contacts opt in to or out of.
    pub subscription_types: Vec<SubscriptionType>,
    /// Which checks are on.
    pub switches: Switches,
}

// The columns keep their first names (`single_mail`, `mailing_list`,
// `per_contact`, the Italian CRM plugin's words) while the fields use the
// channel words: the ledger's `row_put` entries hold rows keyed by column
// name and `ledger verify` replays them into the schema, so a renamed column
// would break the replay of every existing ledger. `read_switches` and
// `set_switches` are the one place that maps them.
fn read_switches(conn: &rusqlite::Connection) -> Result<Switches> {
    let switches = conn
        .prepare_cached(
            "SELECT single_mail, mailing_list, per_contact, e_marketing_privacy
             FROM switches WHERE id = 1",
        )?
        .query_row([], |row| {
            Ok(Switches {
                check_single_email: row.get(0)?,
                check_bulk_email: row.get(1)?,
                check_phone: row.get(2)?,
                e_marketing_privacy: row.get(3)?,
            })
        })?;
    Ok(switches)
}

impl Store {
    /// The admin's privacy switches as stored.
    pub fn switches(&self) -> Result<Switches> {
        read_switches(&self.conn)
    }

    /// Sets the privacy switches; a ledger entry, since they change decisions.
    pub fn set_switches(&mut self, switches: &Switches, actor: &str) -> Result<()> {
        check_actor(actor)?;
        self.write_recorded(|tx, now| {
            tx.execute(
                "UPDATE switches SET single_mail = ?1, mailing_list = ?2, per_contact = ?3,
                     e_marketing_privacy = ?4
                 WHERE id = 1",
                params![
                    switches.check_single_email,
                    switches.check_bulk_email,
                    switches.check_phone,
                    switches.e_marketing_privacy
                ],
            )?;
            put_row(tx, Table::Switches, &[1], None, actor, secs(now))?;
            Ok(())
        })
    }

    /// The whole configuration, consistent as of one instant. The read
    /// transaction matters: an admin editing a type between two of these
    /// reads would otherwise give the plugin a config that never existed.
    pub fn config_snapshot(&self) -> Result<StoredConfig> {
        let tx = self.snapshot()?;
        let config = StoredConfig {
            consent_types: all_types(&tx)?,
            reasons: self.reasons()?,
            purposes: self.purposes()?,
            subscription_types: all_subscription_types(&tx)?,
            switches: read_switches(&tx)?,
        };
        tx.finish()?;
        Ok(config)
    }
}
