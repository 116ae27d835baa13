//! Fixtures shared by the end-to-end scenarios: the real plugin component
//! (built from `plugin/` by the build script), the hostile fixture, one
//! engine per test binary, a sample config and contact builders.

pub mod native;

use std::sync::OnceLock;

use crm_consent::conformance::{self, Vectors};
use crm_consent::engine::{Engine, EngineOptions, Plugin};
use crm_consent::wit::{
    Config, ConsentRecord, ConsentStatus, ConsentType, ContactFlags, ContactState,
    JustificationReason, LegalBasis, Preference, Purpose, PurposeBasis, SubscriptionState,
    SubscriptionType, Switches,
};

/// The reference plugin, compiled for wasm32-wasip2 by the build script.
pub const PLUGIN_WASM: &str = env!("CRM_CONSENT_PLUGIN_WASM");
/// A plugin that loops, grabs memory or traps on demand (tests/fixtures/hostile-plugin).
pub const HOSTILE_WASM: &str = env!("CRM_CONSENT_HOSTILE_WASM");
/// A national rule pack: no advertising calls without consent
/// (tests/fixtures/cold-call-pack).
pub const COLD_CALL_WASM: &str = env!("CRM_CONSENT_COLD_CALL_WASM");
/// The reference rules built for `crm:consent@0.1.0` (tests/fixtures/plugin-v0_1).
pub const PLUGIN_V0_1_WASM: &str = env!("CRM_CONSENT_PLUGIN_V0_1_WASM");

pub const DAY: i64 = 86_400;
/// 2026-01-01T00:00:00Z, a fixed "now" so every scenario replays.
pub const NOW: i64 = 1_767_225_600;

// Consent type ids of `sample_config`.
pub const NEWSLETTER: u32 = 1;
pub const EMAIL: u32 = 2;
pub const PHONE: u32 = 3;
pub const EVERYTHING: u32 = 4;
// Purpose ids.
pub const SALES: u32 = 10;
pub const MARKETING: u32 = 11;
pub const EMARKETING: u32 = 12;
// Subscription type ids.
pub const WEEKLY: u32 = 20;
pub const BETA: u32 = 21;
// Reason ids.
pub const CUSTOMER_ASKED: u32 = 30;
pub const CONTRACT_FOLLOW_UP: u32 = 31;

/// Unix seconds as the time type of the host's API.
pub fn time(secs: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(secs, 0).expect("a time in range")
}

pub fn plugin_bytes() -> Vec<u8> {
    std::fs::read(PLUGIN_WASM).expect("the plugin was built by tests/build.rs")
}

pub fn plugin_v0_1_bytes() -> Vec<u8> {
    std::fs::read(PLUGIN_V0_1_WASM).expect("the 0.1 fixture was built by tests/build.rs")
}

pub fn hostile_bytes() -> Vec<u8> {
    std::fs::read(HOSTILE_WASM).expect("the hostile fixture was built by tests/build.rs")
}

pub fn cold_call_bytes() -> Vec<u8> {
    std::fs::read(COLD_CALL_WASM).expect("the cold-call pack was built by tests/build.rs")
}

/// One engine per test binary, as in a CRM process. A looping plugin is
/// stopped by its fuel budget; the wall-clock backstop is wider than the
/// 10 ms default because test threads on a loaded 2-core CI machine can be
/// descheduled for longer than that mid-call, and an honest call must
/// not be cut off.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::new(EngineOptions {
            call_timeout: std::time::Duration::from_millis(500),
            ..EngineOptions::default()
        })
        .expect("engine starts")
    })
}

pub fn plugin() -> &'static Plugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        engine()
            .load(&plugin_bytes())
            .expect("the reference plugin loads")
    })
}

/// The committed conformance vectors (`tests/conformance/`).
pub const VECTORS_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/conformance/vectors.json");

/// The committed vectors, parsed.
pub fn committed_vectors() -> Vectors {
    let text =
        std::fs::read_to_string(VECTORS_FILE).expect("tests/conformance/vectors.json exists");
    Vectors::parse(&text).expect("the committed vectors parse")
}

/// The conformance kit over the plugin `bytes` with every committed vector:
/// all must pass, or it panics naming the first failing cases.
#[track_caller]
pub fn assert_passes_every_vector(bytes: &[u8]) {
    let vectors = committed_vectors();
    let report = conformance::run(engine(), bytes, &vectors, &[]).expect("the kit runs");
    assert_eq!(report.selected, vectors.vectors.len());
    assert!(
        report.passed_all(),
        "{:#?}",
        &report.mismatches[..report.mismatches.len().min(5)]
    );
    assert_eq!(report.passed, vectors.vectors.len());
}

pub fn consent_type(
    id: u32,
    code: &str,
    days: Option<u32>,
    bulk: bool,
    single: bool,
    phone: bool,
) -> ConsentType {
    ConsentType {
        id,
        code: code.into(),
        title: format!("{code} consent"),
        text_version: 1,
        validity_days: days,
        allow_bulk_email: bulk,
        allow_single_email: single,
        allow_phone: phone,
    }
}

/// Every switch on, so every rule is checked.
pub fn all_switches_on() -> Switches {
    Switches {
        check_single_email: true,
        check_bulk_email: true,
        check_phone: true,
        e_marketing_privacy: true,
    }
}

pub fn sample_config() -> Config {
    Config {
        consent_types: vec![
            consent_type(NEWSLETTER, "newsletter", Some(365), true, false, false),
            consent_type(EMAIL, "email", None, false, true, false),
            consent_type(PHONE, "phone", Some(30), false, false, true),
            consent_type(EVERYTHING, "everything", Some(730), true, true, true),
        ],
        reasons: vec![
            JustificationReason {
                id: CUSTOMER_ASKED,
                code: "customer-asked".into(),
                label: "The contact asked to be contacted".into(),
            },
            JustificationReason {
                id: CONTRACT_FOLLOW_UP,
                code: "contract".into(),
                label: "Follow-up of a running contract".into(),
            },
        ],
        purposes: vec![
            Purpose {
                id: SALES,
                code: "sales-service".into(),
                name: "Sales and service".into(),
                legal_basis: LegalBasis::LegitimateInterest,
                direct_marketing: false,
            },
            Purpose {
                id: MARKETING,
                code: "marketing".into(),
                name: "Direct marketing".into(),
                legal_basis: LegalBasis::Consent,
                direct_marketing: true,
            },
            Purpose {
                id: EMARKETING,
                code: "e-marketing".into(),
                name: "E-marketing".into(),
                legal_basis: LegalBasis::Consent,
                direct_marketing: true,
            },
        ],
        subscription_types: vec![
            SubscriptionType {
                id: WEEKLY,
                code: "weekly".into(),
                name: "Weekly news".into(),
                requires_opt_in: false,
            },
            SubscriptionType {
                id: BETA,
                code: "beta".into(),
                name: "Beta programme".into(),
                requires_opt_in: true,
            },
        ],
        switches: all_switches_on(),
    }
}

/// A contact state built up fluently.
#[derive(Clone)]
pub struct ContactBuilder(ContactState);

pub fn contact() -> ContactBuilder {
    ContactBuilder(ContactState {
        flags: ContactFlags::empty(),
        consents: Vec::new(),
        bases: Vec::new(),
        preferences: Vec::new(),
    })
}

impl ContactBuilder {
    pub fn consent(mut self, type_id: u32, status: ConsentStatus, given_at: i64) -> Self {
        self.0.consents.push(ConsentRecord {
            type_id,
            status,
            legal_basis: LegalBasis::Consent,
            given_at,
            method_id: 1,
        });
        self
    }

    pub fn given(self, type_id: u32, given_at: i64) -> Self {
        self.consent(type_id, ConsentStatus::Given, given_at)
    }

    pub fn basis(mut self, purpose_id: u32, legal_basis: LegalBasis) -> Self {
        self.0.bases.push(PurposeBasis {
            purpose_id,
            legal_basis,
        });
        self
    }

    pub fn preference(mut self, subscription_type_id: u32, state: SubscriptionState) -> Self {
        self.0.preferences.push(Preference {
            subscription_type_id,
            state,
        });
        self
    }

    pub fn flags(mut self, flags: ContactFlags) -> Self {
        self.0.flags = flags;
        self
    }

    pub fn build(self) -> ContactState {
        self.0
    }
}

/// A contact with five records, the size the targets assume.
pub fn five_records() -> ContactState {
    contact()
        .consent(PHONE, ConsentStatus::Refused, NOW - 40 * DAY)
        .given(NEWSLETTER, NOW - 300 * DAY)
        .given(EMAIL, NOW - 10 * DAY)
        .consent(EVERYTHING, ConsentStatus::Expired, NOW - 900 * DAY)
        .given(EVERYTHING, NOW - 100 * DAY)
        .build()
}

/// `n` contacts of mixed shapes, as a campaign on `consent_type` sees them:
/// a fifth each with that consent given within the last `days`, with
/// other consents, with it withdrawn, objecting to it, and with nothing.
pub fn crowd(n: usize, consent_type: u32, days: i64) -> Vec<ContactState> {
    (0..n as i64)
        .map(|i| {
            let c = contact();
            match i % 5 {
                0 => c.given(consent_type, NOW - (i % days) * DAY).build(),
                1 => c
                    .given(EVERYTHING, NOW - DAY)
                    .given(EMAIL, NOW - DAY)
                    .build(),
                2 => c
                    .consent(consent_type, ConsentStatus::Withdrawn, NOW - DAY)
                    .build(),
                3 => c
                    .flags(ContactFlags::OBJECTED)
                    .given(consent_type, NOW)
                    .build(),
                _ => c.build(),
            }
        })
        .collect()
}
