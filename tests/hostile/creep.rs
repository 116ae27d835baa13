//! A plugin whose memory creeps (the `creep` mode leaks 64 KiB per decision
//! and 1 MiB per batch, never freed, like a componentize-js plugin) traps
//! on its memory limit unless its instance is recycled first; recycled, it
//! answers every call, and answers the same.

use crm_consent::engine::{Decision, Policy, with_manifest};
use crm_consent::wit::{
    Channel, ContactBatch, ContactFlags, Outcome, ReasonCode, Request, Verdict,
};

use super::{FAULT, logged};
use crm_consent_tests::*;

/// A creeping policy whose plugin carries the limits manifest `manifest`.
fn creeping(manifest: &str) -> Policy {
    let mut cfg = sample_config();
    cfg.consent_types[0].code = "creep".into();
    let bytes = with_manifest(&hostile_bytes(), manifest);
    let plugin = engine().load(&bytes).expect("the manifest is valid");
    plugin.policy(&cfg).expect("create behaves")
}

fn request() -> Request {
    Request {
        channel: Channel::BulkEmail,
        purpose: None,
        subscription_type: None,
        now: NOW,
    }
}

/// Four contacts, every other one restricted, and what `creep` answers.
fn batch() -> (ContactBatch, Vec<Verdict>) {
    let contacts: Vec<_> = (0..4)
        .map(|i| {
            let flags = if i % 2 == 0 {
                ContactFlags::RESTRICTED
            } else {
                ContactFlags::empty()
            };
            contact().flags(flags).build()
        })
        .collect();
    let expected = (0..4)
        .map(|i| match i % 2 {
            0 => Verdict {
                outcome: Outcome::Deny,
                code: ReasonCode::Restricted,
            },
            _ => Verdict {
                outcome: Outcome::Allow,
                code: ReasonCode::NotChecked,
            },
        })
        .collect();
    (ContactBatch::from_contacts(&contacts), expected)
}

/// Under a 4 MiB limit with memory recycling off (the threshold is the
/// limit itself), the third or fourth 1 MiB leak traps: the batch fails
/// closed, a deny for everyone, as the JavaScript plugin's third batch did.
#[test]
fn a_creeping_plugin_without_recycling_runs_out_of_memory_and_fails_closed() {
    let mut policy = creeping(r#"{"memory_mib": 4, "recycle_above_mib": 4}"#);
    let (batch, expected) = batch();
    let mut answered = 0;
    let faulted = loop {
        let verdicts = policy.decide_batch(&request(), &batch).unwrap();
        if verdicts == vec![FAULT; 4] {
            break answered;
        }
        assert_eq!(verdicts, expected);
        answered += 1;
        assert!(answered < 8, "4 MiB cannot hold 8 leaks of 1 MiB");
    };
    assert!(faulted >= 1, "the first batches fit: {faulted}");
    assert_eq!(policy.recycled(), 0);
    // Decisions, 64 KiB each, show which limit it hit: a fresh instance
    // took over after the fault, and creeps to the same end.
    let fault = (0..100)
        .map(|_| policy.decide(&contact().build(), &request()))
        .find(|d| !matches!(d, Decision::Allow(_)));
    match fault {
        Some(Decision::Deny(d)) if d.code == ReasonCode::PluginFault => {
            assert!(d.message.contains("out of memory"), "{}", d.message)
        }
        other => panic!("64 leaks of 64 KiB fill 4 MiB: {other:?}"),
    }
}

/// The same plugin with the default threshold (three quarters of 4 MiB):
/// every batch and decision is answered, and answered right.
#[test]
fn a_creeping_plugin_is_recycled_before_it_traps_and_answers_the_same() {
    let mut policy = creeping(r#"{"memory_mib": 4}"#);
    let (batch, expected) = batch();
    let restricted = contact().flags(ContactFlags::RESTRICTED).build();
    let log = logged(|| {
        for round in 0..40 {
            assert_eq!(
                policy.decide_batch(&request(), &batch).unwrap(),
                expected,
                "batch {round}"
            );
            for _ in 0..5 {
                match policy.decide(&restricted, &request()) {
                    Decision::Deny(d) => assert_eq!(d.code, ReasonCode::Restricted, "{d:?}"),
                    other => panic!("round {round}: {other:?}"),
                }
                assert!(matches!(
                    policy.decide(&contact().build(), &request()),
                    Decision::Allow(_)
                ));
            }
            assert!(policy.memory_bytes() <= 4 << 20);
        }
    });
    // 40 MiB and more leaked under a 4 MiB limit: many fresh instances.
    assert!(policy.recycled() >= 10, "recycled {}", policy.recycled());
    assert!(
        log.contains("plugin instance recycled: its memory is above the recycling threshold"),
        "{log}"
    );
    assert!(log.contains(policy.plugin_sha256()), "{log}");
    assert!(!log.contains("ERROR"), "no call faulted: {log}");
}

/// `recycle_after_calls` gives a fresh instance after that many calls,
/// whatever its memory; the answers do not change.
#[test]
fn a_plugin_declaring_a_call_count_is_recycled_after_it() {
    let mut policy = creeping(r#"{"recycle_after_calls": 3}"#);
    for call in 1..=10u64 {
        let decided = policy.decide(&contact().build(), &request());
        assert!(
            matches!(decided, Decision::Allow(_)),
            "call {call}: {decided:?}"
        );
        assert_eq!(policy.recycled(), call / 3, "after call {call}");
    }
    // A deny is two calls, `decide` and `explain` (its sentence, then kept).
    let restricted = contact().flags(ContactFlags::RESTRICTED).build();
    match policy.decide(&restricted, &request()) {
        Decision::Deny(d) => assert_eq!(d.code, ReasonCode::Restricted, "{d:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(policy.recycled(), 4);
}

/// The reference plugin under the default limits is never recycled: its
/// memory stays far below three quarters of 32 MiB.
#[test]
fn the_reference_plugin_is_not_recycled_by_default() {
    let mut policy = plugin().policy(&sample_config()).unwrap();
    let contacts = vec![contact().given(NEWSLETTER, NOW - DAY).build(); 100_000];
    let batch = ContactBatch::from_contacts(&contacts);
    for _ in 0..5 {
        policy.decide_batch(&request(), &batch).unwrap();
    }
    assert_eq!(policy.recycled(), 0, "memory {}", policy.memory_bytes());
    assert!(policy.memory_bytes() < 24 << 20);
}
