//! tiny-crm: a small CRM that embeds the crm-consent host library (not the
//! CLI) in its own send and dial hooks.
//!
//! Run it with `cargo run -p crm-consent-example -- [PATH.db]`.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use crm_consent::engine::{Decision, Engine, EngineOptions};
use crm_consent::hooks::{HookDecision, Operator, StoredHooks};
use crm_consent::setup::{self, Switch};
use crm_consent::store::{
    ContactFlags, ContactId, ContactKind, LegalBasis, NewConsent, NewConsentType, NewContact, Store,
};

/// What the CRM did with one action.
#[derive(Debug, PartialEq, Eq)]
pub enum Done {
    Sent,
    Called,
    Blocked(String),
    /// The operator had to pick a reason; it was recorded and the action went on.
    Justified(String),
}

/// The CRM: its outbox and its phone are guarded by the consent hooks.
pub struct TinyCrm {
    hooks: StoredHooks,
    operator: String,
    /// The justification reason this CRM's operators pick by default.
    default_reason: String,
    pub outbox: Vec<(ContactId, String)>,
    pub call_log: Vec<ContactId>,
}

impl TinyCrm {
    pub fn new(engine: &Engine, store: Store, operator: &str) -> Self {
        Self {
            hooks: StoredHooks::new(engine, store),
            operator: operator.to_owned(),
            default_reason: "contact_request".to_owned(),
            outbox: Vec::new(),
            call_log: Vec::new(),
        }
    }

    fn op(&self, now: DateTime<Utc>) -> Operator {
        Operator::new(self.operator.clone(), now)
    }

    /// The CRM's "send email" button.
    pub fn send_email(&mut self, to: ContactId, body: &str, now: DateTime<Utc>) -> Result<Done> {
        let op = self.op(now);
        let decided = self.hooks.before_send(to, &op)?;
        let done = self.go_on(decided, &op, "send")?;
        if !matches!(done, Done::Blocked(_)) {
            self.outbox.push((to, body.to_owned()));
        }
        Ok(done)
    }

    /// The CRM's "call" button, from its telephony integration.
    pub fn dial(&mut self, who: ContactId, now: DateTime<Utc>) -> Result<Done> {
        let op = self.op(now);
        let decided = self.hooks.before_dial(who, &op)?;
        let done = self.go_on(decided, &op, "dial")?;
        if !matches!(done, Done::Blocked(_)) {
            self.call_log.push(who);
        }
        Ok(done.called())
    }

    fn go_on(&mut self, decided: HookDecision, op: &Operator, action: &str) -> Result<Done> {
        match decided.decision {
            Decision::Allow(_) => Ok(Done::Sent),
            Decision::Deny(d) => Ok(Done::Blocked(d.message)),
            Decision::Justify(_) => {
                // A real CRM shows the offered reasons in a dialog; this one
                // has the operator pick its default reason.
                let reason = self.hooks.store().reason(&self.default_reason)?;
                let channel = decided.channel;
                let id = self.hooks.justify(
                    decided.contact,
                    channel,
                    reason.id,
                    &format!("{action} from tiny-crm"),
                    op,
                )?;
                Ok(Done::Justified(format!(
                    "{} (justification #{id})",
                    reason.label
                )))
            }
        }
    }

    pub fn store(&self) -> &Store {
        self.hooks.store()
    }
}

impl Done {
    fn called(self) -> Done {
        match self {
            Done::Sent => Done::Called,
            other => other,
        }
    }
}

/// Sets up a fresh database the way an admin would, with three contacts.
pub fn set_up(
    engine: &Engine,
    path: &std::path::Path,
    now: DateTime<Utc>,
) -> Result<(Store, [ContactId; 3])> {
    let mut store = Store::create(path).with_context(|| format!("creating {}", path.display()))?;
    setup::install(&mut store, engine, crm_consent::BUNDLED_PLUGIN, "admin")?;
    for switch in [Switch::CheckSingleEmail, Switch::CheckPhone] {
        setup::set_switch(&mut store, switch, true, "admin")?;
    }
    store.add_consent_type(
        &NewConsentType {
            code: "email".into(),
            title: "Email from our sales team".into(),
            description: None,
            text: "I agree to receive emails from Example Ltd.".into(),
            validity_days: Some(365),
            allow_bulk_email: false,
            allow_single_email: true,
            allow_phone: true,
            // This CRM already holds consents given before it installed
            // crm-consent: its text counts from a month back.
            text_valid_from: Some(now - chrono::Duration::days(30)),
        },
        "admin",
    )?;
    let person = |name: &str, flags: ContactFlags| NewContact {
        kind: ContactKind::Person,
        name: name.into(),
        email: Some(format!("{}@example.com", name.to_lowercase())),
        phone: Some("+48 600 000 000".into()),
        flags,
    };
    let ids = store.add_contacts(
        &[
            person("Anna", ContactFlags::default()),
            person("Bruno", ContactFlags::default()),
            person(
                "Chiara",
                ContactFlags {
                    restricted: true,
                    ..ContactFlags::default()
                },
            ),
        ],
        "admin",
    )?;
    store.record_consent(&NewConsent {
        contact: ids[0],
        consent_type: "email".into(),
        status: "given".into(),
        method: "crm_form".into(),
        legal_basis: LegalBasis::Consent,
        given_at: now - chrono::Duration::days(3),
        source: "tiny-crm signup form".into(),
        actor: "admin".into(),
        evidence: None,
        text_version: None,
    })?;
    Ok((store, [ids[0], ids[1], ids[2]]))
}

fn main() -> Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tiny-crm.db".to_owned());
    let path = std::path::PathBuf::from(path);
    if path.exists() {
        bail!("{} exists; pass a new path", path.display());
    }
    let engine = Engine::new(EngineOptions::default())?;
    let now = Utc::now();
    let (store, [anna, bruno, chiara]) = set_up(&engine, &path, now)?;
    let mut crm = TinyCrm::new(&engine, store, "olivia");
    println!(
        "email Anna  (consented): {:?}",
        crm.send_email(anna, "Hello Anna", now)?
    );
    println!(
        "email Bruno (no consent): {:?}",
        crm.send_email(bruno, "Hello Bruno", now)?
    );
    println!("call Chiara (restricted): {:?}", crm.dial(chiara, now)?);
    println!(
        "outbox: {} message(s), calls: {}",
        crm.outbox.len(),
        crm.call_log.len()
    );
    println!("database: {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crm_sends_with_consent_records_a_justification_without_and_blocks_a_restriction() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::new(EngineOptions::default()).unwrap();
        let now = Utc::now();
        let (store, [anna, bruno, chiara]) =
            set_up(&engine, &dir.path().join("crm.db"), now).unwrap();
        let mut crm = TinyCrm::new(&engine, store, "olivia");

        assert_eq!(crm.send_email(anna, "hi", now).unwrap(), Done::Sent);
        let Done::Justified(why) = crm.send_email(bruno, "hi", now).unwrap() else {
            panic!("Bruno has no consent: the operator must justify");
        };
        assert!(why.contains("asked to be contacted"), "{why}");
        let Done::Blocked(why) = crm.dial(chiara, now).unwrap() else {
            panic!("Chiara's processing is restricted");
        };
        assert!(why.contains("restricted"), "{why}");

        assert_eq!(crm.outbox.len(), 2);
        assert!(crm.call_log.is_empty());
        let logged = crm.store().decisions(bruno).unwrap();
        assert!(
            logged.iter().any(|d| d.reason.is_some()),
            "the justification is in the decision log"
        );
        let blocked = crm.store().decisions(chiara).unwrap();
        assert!(
            blocked.iter().any(|d| d.reason_code == "restricted"),
            "{blocked:?}"
        );
    }
}
