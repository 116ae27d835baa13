use std::time::Instant;

use super::fixtures::{
    DENY, GROW, HANG_ID, JUSTIFY, LOOP, MISCOUNT, REFUSE_BATCH, REFUSED_ID, TRAP, batch, config,
    config_with_first_id, contact, request, scripted_plugin,
};
use super::{NOT_HUNG, engine, engine_with, strict_engine};
use crate::engine::{
    Channel, Decision, Denied, EngineError, EngineOptions, FaultKind, JustifyNeeded, Outcome,
    Policy, ReasonCode, Verdict,
};
use crate::wit::{Allowed, ConfigError};

fn policy() -> Policy {
    engine()
        .load(&scripted_plugin())
        .expect("loads")
        .policy(&config())
        .expect("a policy")
}

/// A policy under the default 10 ms deadline.
fn strict_policy() -> Policy {
    strict_engine()
        .load(&scripted_plugin())
        .expect("loads")
        .policy(&config())
        .expect("a policy")
}

/// The `n` of the scripted plugin's allow: decide calls served by this instance.
fn served(decision: &Decision) -> u32 {
    match decision {
        Decision::Allow(Allowed {
            code: ReasonCode::NotChecked,
            consent_type: Some(n),
            ..
        }) => *n,
        other => panic!("expected the scripted allow, got {other:?}"),
    }
}

fn fault_message(decision: Decision) -> String {
    match decision {
        Decision::Deny(Denied {
            code: ReasonCode::PluginFault,
            message,
        }) => message,
        other => panic!("expected a plugin-fault deny, got {other:?}"),
    }
}

#[test]
fn a_healthy_plugin_decides_on_the_same_instance_call_after_call() {
    let mut policy = policy();
    assert_eq!(served(&policy.decide(&contact(), &request(0))), 1);
    assert_eq!(served(&policy.decide(&contact(), &request(0))), 2);
    assert_eq!(policy.plugin_sha256().len(), 64);
}

#[test]
fn a_deny_carries_the_plugins_sentence_for_its_code() {
    let mut policy = policy();
    let denied = Decision::Deny(Denied {
        code: ReasonCode::Restricted,
        message: "first sentence".into(),
    });
    assert_eq!(policy.decide(&contact(), &request(DENY)), denied);
    // The sentence is the plugin's `explain`, asked once and kept: the
    // script would say "later sentence" to a second `explain`.
    assert_eq!(policy.decide(&contact(), &request(DENY)), denied);
}

#[test]
fn a_justify_carries_the_plugins_reasons_asked_once_per_channel() {
    let mut policy = policy();
    let justify = |reasons: Vec<u32>| {
        Decision::Justify(JustifyNeeded {
            code: ReasonCode::NoConsent,
            reasons: reasons.into_iter().map(crate::store::ReasonId).collect(),
        })
    };
    assert_eq!(
        policy.decide(&contact(), &request(JUSTIFY)),
        justify(vec![7, 1])
    );
    assert_eq!(
        policy.decide(&contact(), &request(JUSTIFY)),
        justify(vec![7, 1])
    );
    let mut sms = request(JUSTIFY);
    sms.channel = Channel::Sms;
    assert_eq!(policy.decide(&contact(), &sms), justify(vec![7, 2]));
    assert_eq!(policy.reasons(Channel::SingleEmail), Ok(vec![7, 1]));
}

#[test]
fn a_justify_fails_closed_when_the_reasons_cannot_be_had() {
    let mut policy = policy();
    let mut phone = request(JUSTIFY);
    phone.channel = Channel::Phone;
    let message = fault_message(policy.decide(&contact(), &phone));
    assert!(message.contains("trap"), "{message}");
    // The instance was replaced and serves the next call.
    assert_eq!(served(&policy.decide(&contact(), &request(0))), 1);
}

#[test]
fn a_refused_config_is_a_config_error_with_a_readable_message() {
    let plugin = engine().load(&scripted_plugin()).expect("loads");
    let error = plugin
        .policy(&config_with_first_id(REFUSED_ID))
        .expect_err("refused");
    assert!(
        matches!(&error, EngineError::Config(ConfigError::InvalidValue(what)) if what == "first consent type"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "plugin refused the config: invalid value: first consent type; \
         fix that entry of the catalog"
    );
}

#[test]
fn a_create_that_never_returns_is_a_timeout_fault() {
    // Fuel is off, so only the setup deadline can stop the create.
    let plugin = strict_engine().load(&scripted_plugin()).expect("loads");
    let started = Instant::now();
    let error = plugin
        .policy(&config_with_first_id(HANG_ID))
        .expect_err("stopped");
    // A timeout fault is wasmtime's epoch interrupt: the deadline fired.
    match &error {
        EngineError::Fault { fault, .. } => assert_eq!(fault.kind(), FaultKind::Timeout),
        other => panic!("expected a fault, got {other:?}"),
    }
    // Setup gets a longer deadline than a decision (SETUP_TIMEOUT).
    assert_eq!(
        error.to_string(),
        "plugin timed out after 1 s while creating the policy"
    );
    // Not timed (see `NOT_HUNG`): 30 times the 1 s setup deadline.
    let took = started.elapsed();
    assert!(took < NOT_HUNG, "took {took:?}");
}

#[test]
fn a_trap_fails_closed_and_a_fresh_instance_serves_the_next_call() {
    let mut policy = policy();
    assert_eq!(served(&policy.decide(&contact(), &request(0))), 1);
    assert_eq!(served(&policy.decide(&contact(), &request(0))), 2);
    assert_eq!(
        fault_message(policy.decide(&contact(), &request(TRAP))),
        "plugin trapped: wasm `unreachable` instruction executed"
    );
    assert_eq!(
        served(&policy.decide(&contact(), &request(0))),
        1,
        "a fresh instance"
    );
}

#[test]
fn without_fuel_a_looping_decide_is_stopped_by_the_deadline_and_fails_closed() {
    let mut policy = strict_policy();
    let started = Instant::now();
    let message = fault_message(policy.decide(&contact(), &request(LOOP)));
    let took = started.elapsed();
    assert_eq!(message, "plugin timed out after 10 ms");
    assert!(took < NOT_HUNG, "took {took:?}");
    assert_eq!(served(&policy.decide(&contact(), &request(0))), 1);
}

#[test]
fn the_deadline_follows_the_configured_timeout() {
    let engine = engine_with(EngineOptions {
        call_timeout: std::time::Duration::from_millis(50),
        fuel: None,
        ..EngineOptions::default()
    });
    // (and is measured from the start of each call)
    let mut policy = engine
        .load(&scripted_plugin())
        .unwrap()
        .policy(&config())
        .unwrap();
    let started = Instant::now();
    assert_eq!(
        fault_message(policy.decide(&contact(), &request(LOOP))),
        "plugin timed out after 50 ms"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(40),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_plugin_grabbing_memory_fails_closed_as_out_of_memory() {
    let mut policy = policy();
    assert_eq!(
        fault_message(policy.decide(&contact(), &request(GROW))),
        "plugin ran out of memory (limit 32 MiB)"
    );
    assert_eq!(served(&policy.decide(&contact(), &request(0))), 1);
}

#[test]
fn the_memory_limit_follows_the_options() {
    let engine = engine_with(EngineOptions {
        memory_limit_bytes: 2 << 20,
        call_timeout: std::time::Duration::from_secs(1),
        ..EngineOptions::default()
    });
    let mut policy = engine
        .load(&scripted_plugin())
        .unwrap()
        .policy(&config())
        .unwrap();
    assert_eq!(
        fault_message(policy.decide(&contact(), &request(GROW))),
        "plugin ran out of memory (limit 2 MiB)"
    );
}

#[test]
fn a_batch_gets_one_verdict_per_contact() {
    let verdicts = policy()
        .decide_batch(&request(0), &batch(3))
        .expect("verdicts");
    let allow = Verdict {
        outcome: Outcome::Allow,
        code: ReasonCode::NotChecked,
    };
    assert_eq!(verdicts, vec![allow; 3]);
}

#[test]
fn a_batch_the_plugin_refuses_is_a_batch_error() {
    let error = policy()
        .decide_batch(&request(REFUSE_BATCH), &batch(2))
        .expect_err("refused");
    assert!(matches!(&error, EngineError::Batch(message) if message == "rows do not match"));
    assert_eq!(
        error.to_string(),
        "plugin refused the batch: rows do not match"
    );
}

#[test]
fn a_faulting_batch_denies_every_contact() {
    let fault = Verdict {
        outcome: Outcome::Deny,
        code: ReasonCode::PluginFault,
    };
    let mut policy = strict_policy();
    for now in [TRAP, LOOP, GROW, MISCOUNT] {
        let verdicts = policy
            .decide_batch(&request(now), &batch(4))
            .expect("fails closed");
        assert_eq!(verdicts, vec![fault; 4], "now = {now}");
    }
    assert_eq!(
        policy.decide_batch(&request(0), &batch(1)).unwrap().len(),
        1
    );
}

#[test]
fn explain_asks_the_plugin_once_per_code() {
    let mut policy = policy();
    assert_eq!(policy.explain(ReasonCode::Consent), "first sentence");
    assert_eq!(
        policy.explain(ReasonCode::Consent),
        "first sentence",
        "kept, not asked again"
    );
    assert_eq!(policy.explain(ReasonCode::NoConsent), "later sentence");
}

#[test]
fn explain_answers_a_host_sentence_when_the_plugin_fails_and_asks_again_later() {
    let mut policy = policy();
    assert_eq!(policy.explain(ReasonCode::Consent), "first sentence");
    let fallback = policy.explain(ReasonCode::OptedOut);
    assert!(fallback.contains("consent plugin failed"), "{fallback}");
    assert_eq!(
        policy.explain(ReasonCode::Consent),
        "first sentence",
        "still kept"
    );
    assert_eq!(
        policy.explain(ReasonCode::OptedOut),
        fallback,
        "asked again, failed again"
    );
    // The fresh instance after the fault has not explained anything yet.
    assert_eq!(policy.explain(ReasonCode::NoConsent), "first sentence");
}

#[test]
fn a_full_instance_pool_is_an_instantiate_error_until_a_policy_is_dropped() {
    let engine = engine_with(EngineOptions {
        max_instances: 1,
        call_timeout: std::time::Duration::from_secs(1),
        ..EngineOptions::default()
    });
    let plugin = engine.load(&scripted_plugin()).expect("loads");
    let first = plugin.policy(&config()).expect("one instance fits");
    let error = plugin.policy(&config()).expect_err("the pool is full");
    assert!(matches!(error, EngineError::Instantiate(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "cannot instantiate the plugin: maximum concurrent limit of 1 for component instances \
         reached; each policy holds one instance: drop policies no longer used, or raise the \
         engine option `max_instances`"
    );
    drop(first);
    plugin.policy(&config()).expect("the slot is free again");
}

#[test]
fn policies_keep_their_deadline_after_the_engine_and_plugin_are_dropped() {
    let mut policy = strict_policy(); // engine and plugin are temporaries, already dropped
    let started = Instant::now();
    assert_eq!(
        fault_message(policy.decide(&contact(), &request(LOOP))),
        "plugin timed out after 10 ms"
    );
    assert!(started.elapsed() < NOT_HUNG);
}

#[test]
fn reason_codes_index_the_sentence_table() {
    assert_eq!(ReasonCode::Consent as usize, 0);
    assert_eq!(
        ReasonCode::PluginFault as usize,
        crate::engine::bindings::REASON_CODES - 1
    );
}

#[test]
fn the_epoch_advances_only_while_a_call_runs() {
    let engine = strict_engine();
    let mut policy = engine
        .load(&scripted_plugin())
        .unwrap()
        .policy(&config())
        .unwrap();
    let ticks = || engine.shared.ticker.ticks();
    let idle = crate::engine::epoch::IDLE_AFTER + std::time::Duration::from_millis(20);
    // Idle: the ticker sleeps instead of waking every millisecond.
    std::thread::sleep(idle);
    let before = ticks();
    std::thread::sleep(std::time::Duration::from_millis(30));
    assert_eq!(ticks(), before, "an idle engine ticked");
    // A looping call is stopped by its 10 ms deadline: ticks ran under it.
    assert_eq!(
        fault_message(policy.decide(&contact(), &request(LOOP))),
        "plugin timed out after 10 ms"
    );
    let during = ticks();
    assert!(during >= before + 10, "{before} -> {during}");
    // And stop a while after it returned.
    std::thread::sleep(idle);
    let after = ticks();
    std::thread::sleep(std::time::Duration::from_millis(30));
    assert_eq!(ticks(), after, "the engine ticked on after its calls");
    // A call still decides after the ticker slept.
    assert_eq!(served(&policy.decide(&contact(), &request(0))), 1);
}
