//! The WIT types the host speaks, mapped onto the plugin's plain Rust rules,
//! so the component and the rules compiled natively can be compared (the
//! agreement property test) and raced (the benches).

use crm_consent::wit as w;
use crm_consent_plugin::rules as n;

// The one mapping, shared with the component's glue.
crm_consent_plugin::wit_mapping!(w, n);

pub fn contact(c: &w::ContactState) -> n::ContactState {
    n::ContactState {
        flags: flags(c.flags),
        consents: c.consents.iter().map(consent).collect(),
        bases: c.bases.iter().map(purpose_basis).collect(),
        preferences: c.preferences.iter().map(preference).collect(),
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
