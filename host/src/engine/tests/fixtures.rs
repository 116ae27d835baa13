//! Components for the engine tests, built from text at test time.
//!
//! The "scripted plugin" is a hand-written core module that implements the
//! canonical ABI of `crm:consent/rules` just far enough to be driven by its
//! inputs; `wit-component` wraps it into a component with the contract's
//! types. Its script:
//!
//! * `policy.create`: the first consent type's id [`HANG_ID`] loops forever,
//!   [`REFUSED_ID`] returns `invalid-value("first consent type")`; anything
//!   else creates a policy.
//! * `decide` (by `req.now`): [`TRAP`] traps, [`LOOP`] loops, [`GROW`] grows
//!   memory without end, [`DENY`] denies (`restricted`), [`JUSTIFY`] asks
//!   for a justification (`no-consent`), [`ALLOW_FAULT`] allows with
//!   `plugin-fault`, [`ALLOW_DENY_CODE`] allows with `restricted`,
//!   [`DENY_ALLOW_CODE`] denies with `consent`; otherwise allows with
//!   `not-checked` and `consent-type: some(n)`, where n counts the decide
//!   calls this instance served (1 on a fresh instance).
//! * `reasons`: `[7, n]`, n counting the `reasons` calls of this instance;
//!   traps for `phone`.
//! * `decide-batch`: the same faults; [`REFUSE_BATCH`] returns a batch-error
//!   "rows do not match"; [`MISCOUNT`] returns one verdict too many; the
//!   dishonest scripts answer every verdict as `decide` would;
//!   otherwise one allow/`not-checked` verdict per contact.
//! * `explain`: loops for `opted-out-of-all`, traps for `opted-out`; otherwise "first sentence" on this
//!   instance's first call and "later sentence" after.

use crate::engine::{Channel, ConsentType, JustificationReason, Switches};
use crate::engine::{Config, ContactBatch, ContactFlags, ContactState, Request};

pub const HANG_ID: u32 = 9001;
pub const REFUSED_ID: u32 = 9002;
pub const TRAP: i64 = -1;
pub const LOOP: i64 = -2;
pub const GROW: i64 = -3;
pub const DENY: i64 = -4;
pub const REFUSE_BATCH: i64 = -5;
pub const MISCOUNT: i64 = -6;
pub const JUSTIFY: i64 = -7;
pub const ALLOW_FAULT: i64 = -8;
pub const DENY_ALLOW_CODE: i64 = -9;
pub const ALLOW_DENY_CODE: i64 = -10;

/// The reason ids the scripted `reasons` answers with: 7, and a call count.
pub const SCRIPTED_REASONS: [u32; 4] = [1, 2, 3, 7];

/// The contract, which the scripted plugin is built against.
pub const CONTRACT: &str = include_str!("../../../../wit/consent.wit");

/// The frozen 0.1.0 contract.
pub const CONTRACT_V0_1: &str = include_str!("../../../../wit/since_v0_1/consent.wit");

const SCRIPTED_CORE: &str = r#"
(module
  (import "[export]crm:consent/rules@VERSION" "[resource-new]policy"
    (func $policy_new (param i32) (result i32)))
  EXTRA_IMPORT
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (global $served (mut i32) (i32.const 0))
  (global $explained (mut i32) (i32.const 0))
  (global $reasoned (mut i32) (i32.const 0))
  (data (i32.const 1024) "first consent type")
  (data (i32.const 1056) "first sentence")
  (data (i32.const 1088) "later sentence")
  (data (i32.const 1152) "rows do not match")

  (func $alloc (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (local.set $p
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (block $done
      (loop $grow
        (br_if $done (i32.le_u (global.get $heap) (i32.shl (memory.size) (i32.const 16))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $grow)))
    (local.get $p))

  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (call $alloc (local.get 2) (local.get 3)))

  (func $reset (param i32) (global.set $heap (i32.const 4096)))
  (export "cabi_post_crm:consent/rules@VERSION#[method]policy.decide-batch" (func $reset))

  (func $script (param $now i64)
    (if (i64.eq (local.get $now) (i64.const -1)) (then unreachable))
    (if (i64.eq (local.get $now) (i64.const -2)) (then (loop $forever (br $forever))))
    (if (i64.eq (local.get $now) (i64.const -3))
      (then (loop $more
        (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1)) (then unreachable))
        (br $more)))))

  (func (export "crm:consent/rules@VERSION#[static]policy.create")
    (param $types i32) (param $types_len i32) (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
    (result i32)
    (if (i32.gt_u (local.get $types_len) (i32.const 0))
      (then
        (if (i32.eq (i32.load (local.get $types)) (i32.const 9001))
          (then (loop $hang (br $hang))))
        (if (i32.eq (i32.load (local.get $types)) (i32.const 9002))
          (then
            (i32.store8 (i32.const 512) (i32.const 1))
            (i32.store8 (i32.const 516) (i32.const 3))
            (i32.store (i32.const 520) (i32.const 1024))
            (i32.store (i32.const 524) (i32.const 18))
            (return (i32.const 512))))))
    (global.set $heap (i32.const 4096))
    (i32.store8 (i32.const 512) (i32.const 0))
    (i32.store (i32.const 516) (call $policy_new (i32.const 0)))
    (i32.const 512))

  (func (export "crm:consent/rules@VERSION#[method]policy.decide")
    (param $self i32) (param $flags i32) (param $facts i32) (param $facts_len i32)
    (param $channel i32) (param i32 i32 i32 i32) (param $now i64) (result i32)
    (local $code i32)
    (call $script (local.get $now))
    (global.set $served (i32.add (global.get $served) (i32.const 1)))
    (if (i64.eq (local.get $now) (i64.const -4))
      (then
        (i32.store8 (i32.const 256) (i32.const 1))
        (i32.store8 (i32.const 264) (i32.const 9))
        (return (i32.const 256))))
    (if (i64.eq (local.get $now) (i64.const -7))
      (then
        (i32.store8 (i32.const 256) (i32.const 2))
        (i32.store8 (i32.const 264) (i32.const 3))
        (return (i32.const 256))))
    (if (i64.eq (local.get $now) (i64.const -9))
      (then
        (i32.store8 (i32.const 256) (i32.const 1))
        (i32.store8 (i32.const 264) (i32.const 0))
        (return (i32.const 256))))
    (local.set $code (i32.const 2))
    (if (i64.eq (local.get $now) (i64.const -8)) (then (local.set $code (i32.const 15))))
    (if (i64.eq (local.get $now) (i64.const -10)) (then (local.set $code (i32.const 9))))
    (i32.store8 (i32.const 256) (i32.const 0))
    (i32.store8 (i32.const 264) (local.get $code))
    (i32.store8 (i32.const 268) (i32.const 1))
    (i32.store (i32.const 272) (global.get $served))
    (i32.store8 (i32.const 276) (i32.const 0))
    (i32.store8 (i32.const 280) (i32.const 0))
    (i32.const 256))

  ;; Reasons [7, n], n counting the calls on this instance; traps for `phone`.
  (func (export "crm:consent/rules@VERSION#[method]policy.reasons")
    (param $self i32) (param $channel i32) (result i32)
    (if (i32.eq (local.get $channel) (i32.const 2)) (then unreachable))
    (global.set $reasoned (i32.add (global.get $reasoned) (i32.const 1)))
    (i32.store (i32.const 1184) (i32.const 7))
    (i32.store (i32.const 1188) (global.get $reasoned))
    (i32.store (i32.const 448) (i32.const 1184))
    (i32.store (i32.const 452) (i32.const 2))
    (i32.const 448))

  ;; 11 columns make more than 16 flat parameters, so the arguments arrive
  ;; in memory: self at 0, the request at 8 (its `now` at 8 + 24), the batch
  ;; at 40 (the `flags` column's length, the contact count, at 44).
  (func (export "crm:consent/rules@VERSION#[method]policy.decide-batch")
    (param $args i32) (result i32)
    (local $out i32) (local $i i32) (local $count i32) (local $now i64) (local $n i32)
    (local $outcome i32) (local $code i32)
    (local.set $now (i64.load offset=32 (local.get $args)))
    (local.set $n (i32.load offset=44 (local.get $args)))
    (call $script (local.get $now))
    (if (i64.eq (local.get $now) (i64.const -5))
      (then
        (i32.store8 (i32.const 384) (i32.const 1))
        (i32.store (i32.const 388) (i32.const 1152))
        (i32.store (i32.const 392) (i32.const 17))
        (return (i32.const 384))))
    (local.set $count (local.get $n))
    (if (i64.eq (local.get $now) (i64.const -6))
      (then (local.set $count (i32.add (local.get $n) (i32.const 1)))))
    (local.set $code (i32.const 2))
    (if (i64.eq (local.get $now) (i64.const -8)) (then (local.set $code (i32.const 15))))
    (if (i64.eq (local.get $now) (i64.const -10)) (then (local.set $code (i32.const 9))))
    (if (i64.eq (local.get $now) (i64.const -9))
      (then (local.set $outcome (i32.const 1)) (local.set $code (i32.const 0))))
    (local.set $out (call $alloc (i32.const 1) (i32.shl (local.get $count) (i32.const 1))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (i32.store8 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 1))) (local.get $outcome))
        (i32.store8 offset=1 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 1))) (local.get $code))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.store8 (i32.const 384) (i32.const 0))
    (i32.store (i32.const 388) (local.get $out))
    (i32.store (i32.const 392) (local.get $count))
    (i32.const 384))

  (func (export "crm:consent/rules@VERSION#explain") (param $code i32) (result i32)
    (if (i32.eq (local.get $code) (i32.const 11)) (then unreachable))
    (if (i32.eq (local.get $code) (i32.const 10)) (then (loop $spin (br $spin))))
    (if (i32.eqz (global.get $explained))
      (then (i32.store (i32.const 416) (i32.const 1056)))
      (else (i32.store (i32.const 416) (i32.const 1088))))
    (i32.store (i32.const 420) (i32.const 14))
    (global.set $explained (i32.add (global.get $explained) (i32.const 1)))
    (i32.const 416))

  (func (export "crm:consent/rules@VERSION#[dtor]policy") (param i32))
)
"#;

/// Variations of the scripted plugin.
#[derive(Default)]
pub struct Script<'a> {
    /// The contract version it claims, "0.2.0" when empty.
    pub version: &'a str,
    /// Extra WIT lines inside the world.
    pub world_extra: &'a str,
    /// Extra core import lines.
    pub core_extra: &'a str,
    /// (from, to) replacements applied to the contract.
    pub contract_edit: Option<(&'a str, &'a str)>,
    /// The contract's WIT, [`CONTRACT`] when empty.
    pub contract: &'a str,
}

/// The scripted plugin, as component bytes.
pub fn scripted_plugin() -> Vec<u8> {
    scripted(&Script::default())
}

pub fn scripted(script: &Script<'_>) -> Vec<u8> {
    let version = if script.version.is_empty() {
        "0.2.0"
    } else {
        script.version
    };
    let contract = if script.contract.is_empty() {
        CONTRACT
    } else {
        script.contract
    };
    let mut wit = contract.replace(
        "package crm:consent@0.2.0;",
        &format!("package crm:consent@{version};"),
    );
    if let Some((from, to)) = script.contract_edit {
        assert!(wit.contains(from), "the contract has no {from:?}");
        wit = wit.replace(from, to);
    }
    wit = wit.replace(
        "    export rules;\n",
        &format!("    export rules;\n{}\n", script.world_extra),
    );
    let core = SCRIPTED_CORE
        .replace("VERSION", version)
        .replace("EXTRA_IMPORT", script.core_extra);
    let mut module = wat::parse_str(core).expect("the scripted core module parses");

    let mut resolve = wit_parser::Resolve::default();
    let package = resolve
        .push_str("consent.wit", &wit)
        .expect("the contract parses");
    let world = resolve
        .select_world(&[package], Some("consent-plugin"))
        .expect("the contract has the consent-plugin world");
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )
    .expect("metadata embeds");
    wit_component::ComponentEncoder::default()
        .module(&module)
        .expect("the module is accepted")
        .validate(true)
        .encode()
        .expect("the component encodes")
}

pub fn component_wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("fixture WAT parses")
}

pub fn config() -> Config {
    Config {
        consent_types: vec![ConsentType {
            id: 1,
            code: "newsletter".into(),
            title: "Newsletter".into(),
            text_version: 1,
            validity_days: Some(365),
            allow_bulk_email: true,
            allow_single_email: true,
            allow_phone: false,
        }],
        // Every id the scripted `reasons` answers with in the tests.
        reasons: SCRIPTED_REASONS
            .iter()
            .map(|&id| JustificationReason {
                id,
                code: format!("reason-{id}"),
                label: format!("Reason {id}"),
            })
            .collect(),
        purposes: vec![],
        subscription_types: vec![],
        switches: Switches {
            check_single_email: true,
            check_bulk_email: true,
            check_phone: true,
            e_marketing_privacy: true,
        },
    }
}

/// A config whose first consent type has `id`.
pub fn config_with_first_id(id: u32) -> Config {
    let mut cfg = config();
    cfg.consent_types[0].id = id;
    cfg
}

pub fn contact() -> ContactState {
    ContactState {
        flags: ContactFlags::empty(),
        consents: vec![],
        bases: vec![],
        preferences: vec![],
    }
}

pub fn request(now: i64) -> Request {
    Request {
        channel: Channel::SingleEmail,
        purpose: None,
        subscription_type: None,
        now,
    }
}

pub fn batch(contacts: usize) -> ContactBatch {
    ContactBatch::from_contacts(&vec![contact(); contacts])
}
