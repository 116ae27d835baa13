//! The WIT types the host speaks, mapped onto the plugin's plain Rust rules,
//! so the component and the rules compiled natively can be compared (the
//! agreement property test) and raced (the benches).

use crm_consent::wit as w;
use crm_consent_plugin::rules as n;

macro_rules! same_enum {
    ($to_native:ident, $to_wit:ident, $ty:ident [$($v:ident),* $(,)?]) => {
        pub fn $to_native(x: w::$ty) -> n::$ty {
            match x {
                $(w::$ty::$v => n::$ty::$v,)*
            }
        }

        pub fn $to_wit(x: n::$ty) -> w::$ty {
            match x {
                $(n::$ty::$v => w::$ty::$v,)*
            }
        }
    };
}

same_enum!(channel, wit_channel, Channel [BulkEmail, SingleEmail, Phone, Sms]);
same_enum!(status, wit_status, ConsentStatus [
    Requested, Given, Renewed, Refused, Withdrawn, Revoked, Expired, Invalidated,
]);
same_enum!(basis, wit_basis, LegalBasis [
    Consent, Contract, LegalObligation, VitalInterest, PublicInterest, OfficialAuthority,
    LegitimateInterest, Withdrawn,
]);
same_enum!(state, wit_state, SubscriptionState [OptedIn, NotSpecified, OptedOut]);
same_enum!(code, wit_code, ReasonCode [
    Consent, LegalBasis, NotChecked, NoConsent, ConsentExpired, ConsentWithdrawn, ConsentRefused,
    BasisWithdrawn, Objected, Restricted, OptedOutOfAll, OptedOut, NotOptedIn,
    UnknownSubscriptionType, NoReasonsConfigured, PluginFault,
]);
same_enum!(outcome, wit_outcome, Outcome [Allow, Deny, Justify]);

pub fn flags(f: w::ContactFlags) -> n::ContactFlags {
    n::ContactFlags {
        restricted: f.contains(w::ContactFlags::RESTRICTED),
        objected: f.contains(w::ContactFlags::OBJECTED),
        opted_out_of_all: f.contains(w::ContactFlags::OPTED_OUT_OF_ALL),
    }
}

pub fn config(c: &w::Config) -> n::Config {
    n::Config {
        consent_types: c
            .consent_types
            .iter()
            .map(|t| n::ConsentType {
                id: t.id,
                code: t.code.clone(),
                title: t.title.clone(),
                text_version: t.text_version,
                validity_days: t.validity_days,
                allow_bulk: t.allow_bulk,
                allow_single: t.allow_single,
                allow_contact: t.allow_contact,
            })
            .collect(),
        reasons: c
            .reasons
            .iter()
            .map(|r| n::Reason {
                id: r.id,
                code: r.code.clone(),
                label: r.label.clone(),
            })
            .collect(),
        purposes: c
            .purposes
            .iter()
            .map(|p| n::Purpose {
                id: p.id,
                code: p.code.clone(),
                name: p.name.clone(),
                legal_basis: basis(p.legal_basis),
                direct_marketing: p.direct_marketing,
            })
            .collect(),
        subscription_types: c
            .subscription_types
            .iter()
            .map(|s| n::SubscriptionType {
                id: s.id,
                code: s.code.clone(),
                name: s.name.clone(),
                requires_opt_in: s.requires_opt_in,
            })
            .collect(),
        switches: n::Switches {
            single_mail: c.switches.single_mail,
            mailing_list: c.switches.mailing_list,
            per_contact: c.switches.per_contact,
            e_marketing_privacy: c.switches.e_marketing_privacy,
        },
    }
}

pub fn consent(r: &w::ConsentRecord) -> n::ConsentRecord {
    n::ConsentRecord {
        type_id: r.type_id,
        status: status(r.status),
        legal_basis: basis(r.legal_basis),
        given_at: r.given_at,
        method_id: r.method_id,
    }
}

pub fn purpose_basis(b: &w::PurposeBasis) -> n::PurposeBasis {
    n::PurposeBasis {
        purpose_id: b.purpose_id,
        legal_basis: basis(b.legal_basis),
    }
}

pub fn preference(p: &w::Preference) -> n::Preference {
    n::Preference {
        subscription_type_id: p.subscription_type_id,
        state: state(p.state),
    }
}

pub fn contact(c: &w::ContactState) -> n::ContactState {
    n::ContactState {
        flags: flags(c.flags),
        consents: c.consents.iter().map(consent).collect(),
        bases: c.bases.iter().map(purpose_basis).collect(),
        preferences: c.preferences.iter().map(preference).collect(),
    }
}

pub fn request(r: &w::Request) -> n::Request {
    n::Request {
        channel: channel(r.channel),
        purpose: r.purpose,
        subscription_type: r.subscription_type,
        now: r.now,
    }
}

/// The batch's columns, natively, as the records the native batch takes.
pub struct Columns {
    pub rows: Vec<n::ContactRow>,
    pub consents: Vec<n::ConsentRecord>,
    pub bases: Vec<n::PurposeBasis>,
    pub preferences: Vec<n::Preference>,
}

/// The contacts as the native batch takes them (records, not columns).
pub fn columns(contacts: &[w::ContactState]) -> Columns {
    let owned: Vec<n::ContactState> = contacts.iter().map(contact).collect();
    Columns {
        rows: owned
            .iter()
            .map(|c| n::ContactRow {
                flags: c.flags,
                consents: c.consents.len() as u32,
                bases: c.bases.len() as u32,
                preferences: c.preferences.len() as u32,
            })
            .collect(),
        consents: owned
            .iter()
            .flat_map(|c| c.consents.iter().copied())
            .collect(),
        bases: owned.iter().flat_map(|c| c.bases.iter().copied()).collect(),
        preferences: owned
            .iter()
            .flat_map(|c| c.preferences.iter().copied())
            .collect(),
    }
}

/// The native decision in the component's terms. The component's deny also
/// carries the sentence, which is `explain(code)`.
pub fn wit_decision(d: &n::Decision) -> crm_consent::Decision {
    match d {
        n::Decision::Allow {
            code,
            consent_type,
            legal_basis,
            valid_until,
        } => crm_consent::Decision::Allow(w::Allowed {
            code: wit_code(*code),
            consent_type: *consent_type,
            legal_basis: legal_basis.map(wit_basis),
            valid_until: *valid_until,
        }),
        n::Decision::Deny { code } => crm_consent::Decision::Deny(crm_consent::Denied {
            code: wit_code(*code),
            message: n::explain(*code).into(),
        }),
        n::Decision::Justify { code, reasons } => {
            crm_consent::Decision::Justify(crm_consent::JustifyNeeded {
                code: wit_code(*code),
                reasons: reasons.iter().copied().map(crm_consent::ReasonId).collect(),
            })
        }
    }
}
