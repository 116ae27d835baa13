//! Reading a batch's `list<verdict>` out of the plugin in one pass.
//!
//! wasmtime's derived lifting reads a record field by field, checking each
//! enum and looking the memory up again per field: for 100k verdicts that
//! was a sixth of a batch. [`VerdictList`] reads the list's bytes as one
//! slice and checks every case index against the contract's enums. Its type
//! is checked against the component's `list<verdict>` before any call.

use wasmtime::ValRaw;
// `__internal` has no semver promise: this is why wasmtime is pinned to
// =48.0.8 (see the workspace Cargo.toml for what to check when upgrading).
use wasmtime::component::__internal::{CanonicalAbiInfo, InstanceType, InterfaceType, LiftContext};
use wasmtime::component::{ComponentType, Lift};

use super::answers::dishonest_answer;
use super::bindings::{Outcome, REASON_CODES, ReasonCode, Verdict};
use super::error::InvalidAnswer;

/// A batch's verdicts, lifted in bulk.
pub(crate) struct VerdictList(pub(crate) Vec<Verdict>);

const OUTCOMES: [Outcome; 3] = [Outcome::Allow, Outcome::Deny, Outcome::Justify];

/// The codes in WIT order, from the one list in `crate::wit`.
pub(crate) const CODES: &[ReasonCode] = ReasonCode::ALL;

// The tables list the cases in WIT order (bindgen's `repr(u8)` discriminants),
// and a verdict is two bytes: outcome, then code.
const _: () = {
    let mut i = 0;
    while i < CODES.len() {
        assert!(CODES[i] as usize == i);
        i += 1;
    }
    let mut i = 0;
    while i < OUTCOMES.len() {
        assert!(OUTCOMES[i] as usize == i);
        i += 1;
    }
    assert!(CODES.len() == REASON_CODES);
    assert!(ReasonCode::Consent as u8 == 0 && ReasonCode::NotChecked as u8 == 2);
    assert!(<Verdict as ComponentType>::SIZE32 == 2);
    assert!(<Verdict as ComponentType>::ALIGN32 == 1);
};

fn lift(memory: &[u8], ptr: u32, len: u32) -> wasmtime::Result<Vec<Verdict>> {
    let (ptr, len) = (ptr as usize, len as usize);
    let bytes = len
        .checked_mul(2)
        .and_then(|size| memory.get(ptr..ptr.checked_add(size)?))
        .ok_or_else(|| wasmtime::format_err!("the verdict list is out of bounds"))?;
    // Check every verdict first (case indices in range, and an outcome
    // the code may go with), so that the copy below is one tight,
    // branch-free loop (the masks are no-ops on checked indices).
    if let Some(at) = bytes.chunks_exact(2).position(|v| !is_honest(v[0], v[1])) {
        let (outcome, code) = (bytes[2 * at], bytes[2 * at + 1]);
        if usize::from(outcome) >= OUTCOMES.len() || usize::from(code) >= CODES.len() {
            wasmtime::bail!("invalid verdict: outcome case {outcome}, reason-code case {code}");
        }
        let why = dishonest_answer(OUTCOMES[usize::from(outcome)], CODES[usize::from(code)]);
        return Err(InvalidAnswer(format!("{why} (contact {at} of the batch)")).into());
    }
    Ok(bytes
        .chunks_exact(2)
        .map(|v| Verdict {
            outcome: OUTCOME_TABLE[usize::from(v[0] & 3)],
            code: CODES[usize::from(v[1] & 15)],
        })
        .collect())
}

/// Per outcome case, a bit per reason-code case the outcome may carry (see
/// `answers::is_honest`): an allow the three allow codes, a deny or
/// justify every other code but `plugin-fault`, which is the host's.
const HONEST: [u16; 4] = {
    let allow = (1u16 << (ReasonCode::NotChecked as u16 + 1)) - 1;
    let fault = 1u16 << ReasonCode::PluginFault as u16;
    let deny = !allow & !fault;
    [allow, deny, deny, 0]
};

fn is_honest(outcome: u8, code: u8) -> bool {
    outcome < 4 && code < 16 && (HONEST[usize::from(outcome)] >> code) & 1 == 1
}

/// [`OUTCOMES`] padded to a power of two for the masked lookup.
const OUTCOME_TABLE: [Outcome; 4] = [OUTCOMES[0], OUTCOMES[1], OUTCOMES[2], OUTCOMES[2]];

// SAFETY: `Lower` is (pointer, length), how the canonical ABI flattens a
// list; `ABI` and `typecheck` are those of `Vec<Verdict>`, so a component
// whose `verdict` differs is refused before any call.
unsafe impl ComponentType for VerdictList {
    type Lower = [ValRaw; 2];

    const ABI: CanonicalAbiInfo = <Vec<Verdict> as ComponentType>::ABI;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <Vec<Verdict> as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: reads only inside the memory slice, and yields only valid enums.
unsafe impl Lift for VerdictList {
    fn linear_lift_from_flat(
        cx: &mut LiftContext<'_>,
        _ty: InterfaceType,
        src: &Self::Lower,
    ) -> wasmtime::Result<Self> {
        lift(cx.memory(), src[0].get_u32(), src[1].get_u32()).map(VerdictList)
    }

    fn linear_lift_from_memory(
        cx: &mut LiftContext<'_>,
        _ty: InterfaceType,
        bytes: &[u8],
    ) -> wasmtime::Result<Self> {
        let word = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        lift(cx.memory(), word(0), word(4)).map(VerdictList)
    }
}
