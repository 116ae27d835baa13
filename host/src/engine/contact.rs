//! The host's view of a contact and of a decision, and how a contact crosses
//! into the plugin.
//!
//! The contract sends a contact's consent records, purpose bases and
//! preferences as one `list<fact>`: each list argument costs a call into the
//! plugin to allocate it, and `decide` is the hot path. CRMs keep the three
//! kinds apart, so [`ContactState`] does too, and lowers itself straight into
//! the contract's shape.
//!
//! wasmtime's derived lowering writes a record field by field, looking the
//! memory up again for every field; for five consent records that was a
//! third of a decision. [`ContactState`] instead writes every fact into one
//! slice of the plugin's memory. Its type is still checked against the
//! component's `contact-state` (through the bindgen type) before any call.

use std::mem::MaybeUninit;

use wasmtime::ValRaw;
// `__internal` has no semver promise: this is why wasmtime is pinned to
// =48.0.8 (see the workspace Cargo.toml for what to check when upgrading).
use wasmtime::component::__internal::{
    CanonicalAbiInfo, InstanceType, InterfaceType, LowerContext,
};
use wasmtime::component::{ComponentType, Lower};

use super::bindings::{
    Allowed, ConsentRecord, ContactFlags, Preference, PurposeBasis, ReasonCode, wit,
};

/// What the rules need to know about one contact.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContactState {
    /// Restriction of processing (Art. 18), objection to direct marketing
    /// (Art. 21(3)) and opt out of all (HubSpot): checked before any consent.
    pub flags: ContactFlags,
    /// Every consent the contact gave, refused or withdrew, with its status,
    /// date and way of giving it: the Art. 7(1) record the rules weigh.
    pub consents: Vec<ConsentRecord>,
    /// The legal basis the contact's data has for each purpose (SuperOffice);
    /// a basis other than consent (Art. 6(1)) can allow emails and calls.
    pub bases: Vec<PurposeBasis>,
    /// The contact's choice per subscription type (HubSpot: opted in, not
    /// specified, opted out), which every newsletter honours.
    pub preferences: Vec<Preference>,
}

impl ContactState {
    /// How many facts the contact sends to the plugin.
    pub fn facts(&self) -> usize {
        self.consents.len() + self.bases.len() + self.preferences.len()
    }
}

/// The answer for one contact and one request, as the host hands it on:
/// the plugin's decision with the sentence of a denial (from `explain`) and
/// the reasons of a justification (from `policy.reasons`) filled in.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")] // `allow`, like every outcome in JSON
pub enum Decision {
    /// Go ahead: says what allowed it (a valid consent and until when, a
    /// legal basis, or `not-checked` when the admin switched the check off).
    Allow(Allowed),
    /// Do not contact; the CRM shows the operator the sentence.
    Deny(Denied),
    /// No valid consent, but the operator may go on after picking one of the
    /// offered reasons (Italian CRM plugin), which is then recorded.
    Justify(JustifyNeeded),
}

/// Why a contact must not be contacted: a code for the CRM developer's
/// program and a sentence for the operator.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Denied {
    /// The machine-readable ground, e.g. `restricted` (Art. 18) or
    /// `objected` (Art. 21(3)).
    pub code: ReasonCode,
    /// A sentence for people.
    pub message: String,
}

/// Consent is missing, but an email or call may still go ahead if the
/// operator gives one of the reasons offered (the Italian CRM plugin's
/// justification reasons, such as "the contact asked to be contacted").
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JustifyNeeded {
    /// Why consent is missing (`no-consent` or `consent-expired`).
    pub code: ReasonCode,
    /// The reasons the operator may pick from, by the same id
    /// [`crate::hooks::StoredHooks::justify`] takes. (Ids are plain
    /// integers shared by every module; only the store maps them to rows.)
    pub reasons: Vec<crate::store::ReasonId>,
}

// Canonical ABI layout of `fact` (see the contract): the case byte at 0, the
// payload at 8. `consent-record`: type-id 0, status 4, legal-basis 5,
// given-at 8, method-id 16. `purpose-basis` and `preference`: id 0, enum 4.
const FACT_SIZE: usize = 32;
const FACT_ALIGN: u32 = 8;
const PAYLOAD: usize = 8;
const CONSENT: u8 = 0;
const BASIS: u8 = 1;
const PREFERENCE: u8 = 2;

// The layout above, checked against wasmtime's own reading of the contract.
const _: () = {
    assert!(<wit::Fact as ComponentType>::SIZE32 == FACT_SIZE);
    assert!(<wit::Fact as ComponentType>::ALIGN32 == FACT_ALIGN);
    assert!(<ConsentRecord as ComponentType>::SIZE32 == 24);
    assert!(<PurposeBasis as ComponentType>::SIZE32 == 8);
    assert!(<Preference as ComponentType>::SIZE32 == 8);
    assert!(<wit::ContactState as ComponentType>::SIZE32 == 12);
};

impl ContactState {
    /// Allocates the `list<fact>` in the plugin's memory and writes every
    /// fact into it; returns the list's (pointer, length).
    fn lower_facts<T>(&self, cx: &mut LowerContext<'_, T>) -> wasmtime::Result<(u32, u32)> {
        let count = self.facts();
        let size = count
            .checked_mul(FACT_SIZE)
            .ok_or_else(|| wasmtime::format_err!("too many facts for one contact"))?;
        // `realloc` checks the plugin's answer is aligned and inside memory.
        let ptr = cx.realloc(0, 0, FACT_ALIGN, size)?;
        let memory = cx
            .as_slice_mut()
            .get_mut(ptr..ptr + size)
            .ok_or_else(|| wasmtime::format_err!("the facts list is out of bounds"))?;
        // Each kind is zipped with the slots in this order so that running
        // out of facts never consumes a slot.
        let mut slots = memory.chunks_exact_mut(FACT_SIZE);
        for (r, slot) in self.consents.iter().zip(slots.by_ref()) {
            slot.fill(0);
            slot[0] = CONSENT;
            let p = &mut slot[PAYLOAD..];
            p[0..4].copy_from_slice(&r.type_id.to_le_bytes());
            p[4] = r.status as u8;
            p[5] = r.legal_basis as u8;
            p[8..16].copy_from_slice(&r.given_at.to_le_bytes());
            p[16..20].copy_from_slice(&r.method_id.to_le_bytes());
        }
        for (b, slot) in self.bases.iter().zip(slots.by_ref()) {
            slot.fill(0);
            slot[0] = BASIS;
            let p = &mut slot[PAYLOAD..];
            p[0..4].copy_from_slice(&b.purpose_id.to_le_bytes());
            p[4] = b.legal_basis as u8;
        }
        for (pref, slot) in self.preferences.iter().zip(slots.by_ref()) {
            slot.fill(0);
            slot[0] = PREFERENCE;
            let p = &mut slot[PAYLOAD..];
            p[0..4].copy_from_slice(&pref.subscription_type_id.to_le_bytes());
            p[4] = pref.state as u8;
        }
        let len = u32::try_from(count)?;
        Ok((u32::try_from(ptr)?, len))
    }
}

// SAFETY: `Lower` is three core values, (flags, list pointer, list length),
// which is how the canonical ABI flattens `record { flags, list<fact> }`;
// `ABI` and `typecheck` are those of the bindgen type for the same record,
// so a component whose `contact-state` differs is refused before any call.
unsafe impl ComponentType for ContactState {
    type Lower = [ValRaw; 3];

    const ABI: CanonicalAbiInfo = <wit::ContactState as ComponentType>::ABI;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <wit::ContactState as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: writes exactly the layout checked above, inside the bounds that
// `realloc` and slicing check.
unsafe impl Lower for ContactState {
    fn linear_lower_to_flat<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        _ty: InterfaceType,
        dst: &mut MaybeUninit<Self::Lower>,
    ) -> wasmtime::Result<()> {
        let (ptr, len) = self.lower_facts(cx)?;
        dst.write([
            ValRaw::u32(u32::from(self.flags.batch_bits())),
            ValRaw::u32(ptr),
            ValRaw::u32(len),
        ]);
        Ok(())
    }

    fn linear_lower_to_memory<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        _ty: InterfaceType,
        offset: usize,
    ) -> wasmtime::Result<()> {
        let (ptr, len) = self.lower_facts(cx)?;
        *cx.get::<1>(offset) = [self.flags.batch_bits()];
        *cx.get::<4>(offset + 4) = ptr.to_le_bytes();
        *cx.get::<4>(offset + 8) = len.to_le_bytes();
        Ok(())
    }
}
