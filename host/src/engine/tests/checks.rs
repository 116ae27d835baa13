//! The fuel budget, the checks on the plugin's answers, the install
//! self-test and the opt-in profiler.

use std::time::Instant;

use super::fixtures::{
    ALLOW_DENY_CODE, ALLOW_FAULT, DENY_ALLOW_CODE, JUSTIFY, LOOP, batch, config, contact, request,
    scripted_plugin,
};
use super::{NOT_HUNG, engine, engine_with, fuel_only_engine};
use crate::engine::{
    Decision, Denied, EngineError, EngineOptions, FaultKind, FuelBudget, Outcome, Policy,
    Profiling, ReasonCode, Verdict,
};

const FAULT: Verdict = Verdict {
    outcome: Outcome::Deny,
    code: ReasonCode::PluginFault,
};

fn scripted_policy() -> Policy {
    engine()
        .load(&scripted_plugin())
        .expect("loads")
        .policy(&config())
        .expect("a policy")
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

fn served(decision: &Decision) -> Option<u32> {
    match decision {
        Decision::Allow(a) if a.code == ReasonCode::NotChecked => a.consent_type,
        _ => None,
    }
}

#[test]
fn a_looping_decide_is_stopped_by_its_fuel_budget_long_before_the_deadline() {
    let mut policy = fuel_only_engine()
        .load(&scripted_plugin())
        .unwrap()
        .policy(&config())
        .unwrap();
    let started = Instant::now();
    let message = fault_message(policy.decide(&contact(), &request(LOOP)));
    // Not a timing assertion (the bench measures that): the message names
    // fuel, and a 60 s deadline cannot have fired within `NOT_HUNG`.
    assert!(started.elapsed() < NOT_HUNG, "{:?}", started.elapsed());
    assert_eq!(
        message,
        "plugin used up its budget of 10,000,000 fuel units (it probably loops)"
    );
    assert_eq!(
        served(&policy.decide(&contact(), &request(0))),
        Some(1),
        "a fresh instance serves the next call"
    );
}

#[test]
fn a_looping_batch_is_stopped_by_a_budget_that_grows_with_the_batch() {
    let engine = engine_with(EngineOptions {
        call_timeout: std::time::Duration::from_secs(60),
        fuel: Some(FuelBudget {
            batch_base: 1_000,
            batch_per_contact: 100,
            ..FuelBudget::default()
        }),
        ..EngineOptions::default()
    });
    let mut policy = engine
        .load(&scripted_plugin())
        .unwrap()
        .policy(&config())
        .unwrap();
    assert_eq!(
        policy.decide_batch(&request(LOOP), &batch(3)).unwrap(),
        vec![FAULT; 3]
    );
    // 1,000 + 100 per contact: the scripted batch spends about 20 units per
    // contact, so an honest batch of 50 fits.
    let budget = engine.options().fuel.unwrap();
    assert_eq!(budget.batch(50), 6_000);
    let verdicts = policy.decide_batch(&request(0), &batch(50)).unwrap();
    assert!(verdicts.iter().all(|v| v.outcome == Outcome::Allow));
}

#[test]
fn the_fault_kind_of_a_loop_says_the_fuel_ran_out() {
    // The scripted `explain` loops for `opted-out-of-all`; the self-test
    // reports the fault with its kind.
    let mut policy = fuel_only_engine()
        .load(&scripted_plugin())
        .unwrap()
        .policy(&config())
        .unwrap();
    match policy.self_test() {
        Err(EngineError::SelfTest { call, fault }) => {
            assert_eq!(call, "explain(opted_out_of_all)");
            assert_eq!(fault.kind(), FaultKind::OutOfFuel);
        }
        other => panic!("expected a self-test failure, got {other:?}"),
    }
}

#[test]
fn a_plugin_fault_code_from_the_plugin_fails_closed() {
    let mut policy = scripted_policy();
    assert_eq!(
        fault_message(policy.decide(&contact(), &request(ALLOW_FAULT))),
        "plugin returned an allow with `plugin_fault`, a code only the host may set; \
         the answer was not trusted"
    );
    assert_eq!(served(&policy.decide(&contact(), &request(0))), Some(1));
}

#[test]
fn an_allow_carrying_a_deny_code_fails_closed() {
    assert_eq!(
        fault_message(scripted_policy().decide(&contact(), &request(ALLOW_DENY_CODE))),
        "plugin returned an allow carrying the deny code `restricted`; the answer was not trusted"
    );
}

#[test]
fn a_deny_carrying_an_allow_code_fails_closed() {
    assert_eq!(
        fault_message(scripted_policy().decide(&contact(), &request(DENY_ALLOW_CODE))),
        "plugin returned a deny carrying the allow code `consent`; the answer was not trusted"
    );
}

#[test]
fn a_batch_with_a_dishonest_verdict_fails_closed_for_every_contact() {
    let mut policy = scripted_policy();
    for now in [ALLOW_FAULT, ALLOW_DENY_CODE, DENY_ALLOW_CODE] {
        assert_eq!(
            policy.decide_batch(&request(now), &batch(4)).unwrap(),
            vec![FAULT; 4],
            "now = {now}"
        );
    }
    assert_eq!(
        policy.decide_batch(&request(0), &batch(2)).unwrap(),
        vec![
            Verdict {
                outcome: Outcome::Allow,
                code: ReasonCode::NotChecked
            };
            2
        ]
    );
}

#[test]
fn reason_ids_that_are_not_in_the_config_fail_closed() {
    let mut cfg = config();
    cfg.reasons.retain(|r| r.id != 7);
    let mut policy = engine()
        .load(&scripted_plugin())
        .unwrap()
        .policy(&cfg)
        .unwrap();
    assert_eq!(
        fault_message(policy.decide(&contact(), &request(JUSTIFY))),
        "plugin returned reason id `7` for `single_email`, which is not a justification \
         reason of the config; the answer was not trusted"
    );
    assert!(policy.reasons(crate::engine::Channel::SingleEmail).is_err());
}

#[test]
fn a_self_test_failure_names_the_call_and_what_to_do() {
    let mut policy = fuel_only_engine()
        .load(&scripted_plugin())
        .unwrap()
        .policy(&config())
        .unwrap();
    let error = policy.self_test().expect_err("the scripted explain loops");
    assert_eq!(
        error.to_string(),
        "plugin failed its self-test: `explain(opted_out_of_all)`: plugin used up its budget \
         of 10,000,000 fuel units (it probably loops); fix the plugin, or keep the one \
         installed now"
    );
}

#[test]
fn a_zero_fuel_budget_is_refused_by_name() {
    let error = crate::engine::Engine::new(EngineOptions {
        fuel: Some(FuelBudget {
            call: 0,
            ..FuelBudget::default()
        }),
        ..EngineOptions::default()
    })
    .expect_err("refused");
    assert!(error.to_string().contains("`fuel.call` is zero"), "{error}");
}

#[test]
fn fuel_metering_can_be_turned_off_for_measuring() {
    let engine = engine_with(EngineOptions {
        fuel: None,
        call_timeout: std::time::Duration::from_secs(1),
        ..EngineOptions::default()
    });
    let mut policy = engine
        .load(&scripted_plugin())
        .unwrap()
        .policy(&config())
        .unwrap();
    assert_eq!(served(&policy.decide(&contact(), &request(0))), Some(1));
}

#[test]
fn profiling_is_off_by_default_and_no_perf_map_is_written() {
    assert_eq!(EngineOptions::default().profiling, Profiling::Off);
    // A stale map of a dead process that had our pid may be there already
    // (another run with profiling on): only a write from now on counts.
    let map = std::path::PathBuf::from(format!("/tmp/perf-{}.map", std::process::id()));
    let modified = || std::fs::metadata(&map).and_then(|m| m.modified()).ok();
    let before = modified();
    let engine = engine_with(EngineOptions::default());
    if std::env::var_os(crate::engine::PROFILE_ENV).is_none() {
        assert_eq!(engine.shared.profiling, Profiling::Off);
    }
    let mut policy = engine
        .load(&scripted_plugin())
        .unwrap()
        .policy(&config())
        .unwrap();
    policy.decide(&contact(), &request(0));
    if engine.shared.profiling == Profiling::Off {
        assert_eq!(modified(), before, "{} was written", map.display());
    }
}
