//! The preference centre (SuperOffice: a "Manage subscriptions" link
//! replaces "unsubscribe here"; HubSpot: opted in, not specified, opted out,
//! and opt out of all). Each action is one call: withdrawing takes no more
//! steps than giving (Art. 7(3)). Every change is a ledger and timeline
//! entry through the store's own functions, so the next bulk send honours it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::links;
use super::messages::{Language, Msg};
use super::token::{Claims, LinkKind};
use super::{PREFERENCES_ACTOR, PageError, Visitor};
use crate::store::{
    CRM_FORM, ConsentStatus, ContactId, LedgerSeq, LegalBasis, NewConsent, Store,
    SubscriptionState, awaits_confirmation, counts_as_given,
};

/// One subscription type and the contact's choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionChoice {
    /// The type's code: what the page posts back.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Opted in, opted out or not specified.
    pub state: SubscriptionState,
    /// The state in the page's language.
    pub label: String,
    /// Only contacts who opted in receive it.
    pub requires_opt_in: bool,
}

/// One consent the contact has a record of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentChoice {
    /// The type's code: what the page posts back to withdraw it.
    pub code: String,
    /// The title, translated when a translation exists.
    pub title: String,
    /// The DPV status recorded last.
    pub status: ConsentStatus,
    /// The status in the page's language.
    pub label: String,
    /// When the status was given.
    pub given_at: DateTime<Utc>,
    /// Given (and valid) or awaiting confirmation: it can be withdrawn.
    pub can_withdraw: bool,
}

/// What the preference centre shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferencePage {
    /// Whom the link is for.
    pub contact: ContactId,
    /// The contact's name, for a greeting.
    pub contact_name: String,
    /// The language the page is in.
    pub language: Language,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
    /// Opted out of everything (HubSpot): no newsletter reaches them.
    pub opted_out_of_all: bool,
    /// Every subscription type with the contact's choice.
    pub subscriptions: Vec<SubscriptionChoice>,
    /// Every consent the contact has a record of.
    pub consents: Vec<ConsentChoice>,
}

fn state_label(state: SubscriptionState, language: Language) -> String {
    let m = match state {
        SubscriptionState::OptedIn => Msg::StateOptedIn,
        SubscriptionState::OptedOut => Msg::StateOptedOut,
        SubscriptionState::NotSpecified => Msg::StateNotSpecified,
    };
    m.text(language).to_owned()
}

fn status_label(status: ConsentStatus, valid: bool, language: Language) -> String {
    let m = match status {
        ConsentStatus::Given | ConsentStatus::Renewed if valid => Msg::StatusGiven,
        ConsentStatus::Requested => Msg::StatusRequested,
        ConsentStatus::Given | ConsentStatus::Renewed | ConsentStatus::Expired => {
            Msg::StatusExpired
        }
        _ => Msg::StatusWithdrawn,
    };
    m.text(language).to_owned()
}

/// The preference centre a link opens, in `language`.
pub fn preference_page(
    store: &Store,
    token: &str,
    language: Language,
) -> Result<PreferencePage, PageError> {
    let claims = links::verify(store, token, LinkKind::Preferences)?;
    let contact = store.contact(claims.contact)?;
    let snapshot = store.contact_snapshot(claims.contact)?;
    let subscriptions = store
        .subscription_types()?
        .into_iter()
        .map(|t| {
            let state = snapshot
                .preferences
                .iter()
                .find(|p| p.subscription_type_id == t.id)
                .map_or(SubscriptionState::NotSpecified, |p| p.state);
            SubscriptionChoice {
                label: state_label(state, language),
                code: t.code,
                name: t.name,
                state,
                requires_opt_in: t.requires_opt_in,
            }
        })
        .collect();
    let now = store.clock_now();
    let consents = store
        .current_consents(claims.contact)?
        .into_iter()
        .map(|c| {
            let ty = store.consent_type_by_id(c.consent_type_id)?;
            let valid = counts_as_given(c.status, c.given_at, ty.validity_days, now);
            let pending = awaits_confirmation(c.status, c.given_at, now);
            let title = store
                .translation(ty.id, ty.text_version, language.code())?
                .map_or(ty.title, |t| t.title);
            Ok(ConsentChoice {
                code: ty.code,
                title,
                status: c.status,
                label: status_label(c.status, valid, language),
                given_at: c.given_at,
                can_withdraw: valid || pending,
            })
        })
        .collect::<Result<_, PageError>>()?;
    Ok(PreferencePage {
        contact: claims.contact,
        contact_name: contact.name,
        language,
        expires_at: DateTime::from_timestamp(claims.exp, 0).ok_or(PageError::Altered)?,
        opted_out_of_all: contact.flags.opted_out_of_all,
        subscriptions,
        consents,
    })
}

fn verified(store: &Store, token: &str) -> Result<Claims, PageError> {
    links::verify(store, token, LinkKind::Preferences)
}

/// Opts the contact in to or out of one subscription type. Opting in also
/// ends an opt-out of everything: the contact asks for this list again
/// (HubSpot lets only the contact resubscribe). The choice is recorded
/// first, so a crash between the two leaves the safer state.
pub fn set_subscription(
    store: &mut Store,
    token: &str,
    code: &str,
    opted_in: bool,
) -> Result<(), PageError> {
    let claims = verified(store, token)?;
    let state = if opted_in {
        SubscriptionState::OptedIn
    } else {
        SubscriptionState::OptedOut
    };
    store.set_preference(claims.contact, code, state, PREFERENCES_ACTOR)?;
    if opted_in {
        resume(store, claims.contact)?;
    }
    Ok(())
}

/// Withdraws one consent (Art. 7(3)): records `withdrawn`, "via the CRM
/// form", with the visitor as evidence. Returns the ledger entry, or `None`
/// when the consent was not given (nothing to withdraw).
pub fn withdraw_consent(
    store: &mut Store,
    token: &str,
    code: &str,
    language: Language,
    visitor: &Visitor,
) -> Result<Option<LedgerSeq>, PageError> {
    let claims = verified(store, token)?;
    let ty = store.consent_type(code)?;
    let now = store.clock_now();
    let Some(current) = store
        .current_consents(claims.contact)?
        .into_iter()
        .find(|c| c.consent_type_id == ty.id)
    else {
        return Ok(None);
    };
    let withdrawable = counts_as_given(current.status, current.given_at, ty.validity_days, now)
        || awaits_confirmation(current.status, current.given_at, now);
    if !withdrawable {
        return Ok(None);
    }
    let entry = store.record_consent(&NewConsent {
        contact: claims.contact,
        consent_type: ty.id.into(),
        status: ConsentStatus::Withdrawn.as_str().to_owned(),
        method: CRM_FORM.to_owned(),
        legal_basis: LegalBasis::Consent,
        given_at: now,
        source: "preference centre link".to_owned(),
        actor: PREFERENCES_ACTOR.to_owned(),
        evidence: Some(visitor.evidence(&claims.id, language)),
        // What is withdrawn is what was agreed to.
        text_version: Some(current.text_version),
    })?;
    Ok(Some(entry.seq))
}

/// HubSpot's "opt out of all", in one click: no newsletter reaches the
/// contact until they opt in again.
pub fn opt_out_of_everything(store: &mut Store, token: &str) -> Result<(), PageError> {
    let claims = verified(store, token)?;
    store.opt_out_of_all(claims.contact, PREFERENCES_ACTOR)?;
    Ok(())
}

/// Ends an opt-out of everything: the contact's choices per subscription
/// type, kept meanwhile, apply again.
pub fn resume_subscriptions(store: &mut Store, token: &str) -> Result<(), PageError> {
    let claims = verified(store, token)?;
    resume(store, claims.contact)
}

fn resume(store: &mut Store, contact: ContactId) -> Result<(), PageError> {
    let mut flags = store.contact(contact)?.flags;
    if flags.opted_out_of_all {
        flags.opted_out_of_all = false;
        store.set_flags(contact, flags, PREFERENCES_ACTOR)?;
    }
    Ok(())
}
