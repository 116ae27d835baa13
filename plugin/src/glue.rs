// The component glue over the rules, for any contract version whose
// `policy` is shaped like 0.2's: included by `guest.rs` and by the 0.1
// fixture (tests/fixtures/plugin-v0_1), each after naming `bindings` (their
// WIT), `w` (its types), `r` (the rules) and the mapping between them
// (`wit_mapping!`, whose `config` is the part the versions spell otherwise).

use alloc::vec::Vec;
use core::cell::RefCell;

use bindings::exports::crm::consent::rules::{Guest, GuestPolicy, Policy as PolicyHandle};

/// The component itself: wit-bindgen's `export!` hangs the exported
/// `crm:consent/rules` interface on it.
struct Component;

/// The exported `policy` resource: one validated rules policy, and scratch
/// space to sort a contact's facts into, kept so that `decide` does not
/// allocate once warm.
struct Policy {
    rules: r::Policy,
    scratch: RefCell<Scratch>,
}

/// The vectors a contact's facts are sorted into, cleared and reused by
/// every `decide` of one policy.
#[derive(Default)]
struct Scratch {
    consents: Vec<r::ConsentRecord>,
    bases: Vec<r::PurposeBasis>,
    preferences: Vec<r::Preference>,
}

bindings::export!(Component with_types_in bindings);

impl Guest for Component {
    type Policy = Policy;

    fn explain(code: w::ReasonCode) -> alloc::string::String {
        r::explain(self::code(code)).into()
    }
}

impl GuestPolicy for Policy {
    fn create(cfg: w::Config) -> Result<PolicyHandle, w::ConfigError> {
        r::Policy::new(config(&cfg))
            .map(|rules| {
                PolicyHandle::new(Policy {
                    rules,
                    scratch: RefCell::default(),
                })
            })
            .map_err(|e| match e {
                r::ConfigError::DuplicateId(m) => w::ConfigError::DuplicateId(m),
                r::ConfigError::DuplicateCode(m) => w::ConfigError::DuplicateCode(m),
                r::ConfigError::EmptyField(m) => w::ConfigError::EmptyField(m),
                r::ConfigError::InvalidValue(m) => w::ConfigError::InvalidValue(m),
            })
    }

    fn decide(&self, contact: w::ContactState, req: w::Request) -> w::Decision {
        let mut scratch = self.scratch.borrow_mut();
        let Scratch {
            consents,
            bases,
            preferences,
        } = &mut *scratch;
        consents.clear();
        bases.clear();
        preferences.clear();
        for fact in contact.facts {
            match fact {
                w::Fact::Consent(c) => consents.push(consent(&c)),
                w::Fact::Basis(b) => bases.push(purpose_basis(&b)),
                w::Fact::Preference(p) => preferences.push(preference(&p)),
            }
        }
        let view = r::Contact {
            flags: flags(contact.flags),
            consents,
            bases,
            preferences,
        };
        decision(self.rules.rule(view, &request(&req)))
    }

    fn reasons(&self, _channel: w::Channel) -> Vec<u32> {
        // The default rules offer every configured reason on every channel.
        self.rules.reasons().to_vec()
    }

    fn decide_batch(
        &self,
        req: w::Request,
        batch: w::ContactBatch,
    ) -> Result<Vec<w::Verdict>, w::BatchError> {
        // Integer lists arrive as vectors over the canonical ABI buffers:
        // nothing is copied before the rules read them.
        let cols = batch_columns(&batch);
        match self.rules.decide_columns(&request(&req), &cols) {
            Ok(verdicts) => Ok(verdicts.into_iter().map(verdict).collect()),
            Err(e) => Err(w::BatchError { message: e.message }),
        }
    }
}

fn decision(d: r::Ruling) -> w::Decision {
    match d {
        r::Ruling::Allow {
            code,
            consent_type,
            legal_basis,
            valid_until,
        } => w::Decision::Allow(w::Allowed {
            code: wit_code(code),
            consent_type,
            legal_basis: legal_basis.map(wit_basis),
            valid_until,
        }),
        r::Ruling::Deny(code) => w::Decision::Deny(wit_code(code)),
        r::Ruling::Justify(code) => w::Decision::Justify(wit_code(code)),
    }
}

fn verdict(v: r::Verdict) -> w::Verdict {
    w::Verdict {
        outcome: wit_outcome(v.outcome),
        code: wit_code(v.code),
    }
}

