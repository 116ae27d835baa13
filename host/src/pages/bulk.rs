//! Form links for many contacts at once (Livespace's link, per person, for
//! a filtered set), and re-consent links for the consents about to expire.
//! Issuing writes nothing, as for one link; the CRM gets them as JSON or
//! as CSV (contact, email, url, consent types, expiry).

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::PageError;
use super::links::{FORM_LINK_DAYS, Signer, offered_types};
use super::token::LinkKind;
use crate::store::{ConsentTypeId, ContactFilter, ContactId, Store};

/// One contact's form link in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BulkLink {
    /// Whom it is for.
    pub contact: ContactId,
    /// Where to send it, if the contact has an address.
    pub email: Option<String>,
    /// The whole address of the form.
    pub url: String,
    /// The codes of the consent types it offers.
    pub consent_types: Vec<String>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Signs one form link per target, each offering its own types.
fn sign_all(
    store: &Store,
    targets: Vec<(ContactId, Vec<String>)>,
) -> Result<Vec<BulkLink>, PageError> {
    let signer = Signer::new(store)?;
    let mut ids: BTreeMap<String, ConsentTypeId> = BTreeMap::new();
    let mut links = Vec::with_capacity(targets.len());
    for (contact, codes) in targets {
        let mut types = Vec::with_capacity(codes.len());
        for code in &codes {
            if !ids.contains_key(code) {
                ids.insert(code.clone(), store.consent_type(code)?.id);
            }
            types.push(ids[code]);
        }
        let generation = store.link_generation(contact)?;
        let issued = signer.issue(LinkKind::Form, contact, generation, FORM_LINK_DAYS, |c| {
            c.types = types
        })?;
        links.push(BulkLink {
            contact,
            email: store.contact(contact)?.email,
            url: issued.url,
            consent_types: codes,
            expires_at: issued.expires_at,
        });
    }
    Ok(links)
}

/// A form link offering `consent_types` to every contact `filter` selects
/// (judged at `now`). An unknown type code lists the valid ones.
pub fn form_links_for(
    store: &Store,
    filter: &ContactFilter,
    now: DateTime<Utc>,
    consent_types: &[&str],
) -> Result<Vec<BulkLink>, PageError> {
    let codes: Vec<String> = offered_types(store, consent_types)?
        .into_iter()
        .map(|t| t.code)
        .collect();
    let ids = store.all_filtered_contact_ids(filter, now)?;
    sign_all(
        store,
        ids.into_iter().map(|id| (id, codes.clone())).collect(),
    )
}

/// A consent campaign's form links: one per open member, offering the
/// campaign's consent type (iPresso: the campaign asks, retention follows).
pub fn campaign_links(store: &Store, campaign: i64) -> Result<Vec<BulkLink>, PageError> {
    let code = store.campaign(campaign)?.consent_type;
    let members = store.campaign_open_members(campaign)?;
    sign_all(
        store,
        members
            .into_iter()
            .map(|id| (id, vec![code.clone()]))
            .collect(),
    )
}

/// Re-consent: one form link per contact with a consent that expires
/// within `within_days` of `now`, offering exactly the expiring types.
pub fn reconsent_links(
    store: &Store,
    now: DateTime<Utc>,
    within_days: u32,
) -> Result<Vec<BulkLink>, PageError> {
    let mut per_contact: BTreeMap<ContactId, Vec<String>> = BTreeMap::new();
    for c in store.expiring_consents(now, within_days)? {
        per_contact
            .entry(c.contact)
            .or_default()
            .push(c.consent_type);
    }
    sign_all(store, per_contact.into_iter().collect())
}

/// Writes the links as CSV with a header row: `contact_id, email, url,
/// consent_types` (space separated) `, expires_at` (RFC 3339).
pub fn write_links_csv(links: &[BulkLink], out: impl Write) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["contact_id", "email", "url", "consent_types", "expires_at"])?;
    for l in links {
        w.write_record([
            l.contact.to_string().as_str(),
            l.email.as_deref().unwrap_or(""),
            &l.url,
            &l.consent_types.join(" "),
            &l.expires_at.to_rfc3339(),
        ])?;
    }
    w.flush()?;
    Ok(())
}
