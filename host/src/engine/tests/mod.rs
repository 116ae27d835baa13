//! Engine unit tests. The fixtures are components built from text at test
//! time (see `fixtures`); `real_plugin` runs against the plugin crate's build
//! once host/build.rs provides it.

mod cache;
mod checks;
mod fixtures;
mod load;
mod manifest;
mod perf;
mod policy;
mod real_plugin;

use std::time::Duration;

use super::{Engine, EngineOptions};

/// An engine for behaviour tests: default limits but a 1 s call timeout, so
/// that a test thread descheduled for 10 ms on a busy machine (the deadline
/// is wall-clock) does not fail closed where the test expects a decision.
fn engine() -> Engine {
    engine_with(EngineOptions {
        call_timeout: Duration::from_secs(1),
        ..EngineOptions::default()
    })
}

/// An engine with the default 10 ms deadline and fuel metering off, for
/// tests of the wall-clock backstop: with fuel on, the budget and the
/// deadline would race to stop a loop.
fn strict_engine() -> Engine {
    engine_with(EngineOptions {
        fuel: None,
        ..EngineOptions::default()
    })
}

/// An engine whose deadline is a minute away, so that only the fuel budget
/// can stop a loop before the test harness gives up.
fn fuel_only_engine() -> Engine {
    engine_with(EngineOptions {
        call_timeout: Duration::from_secs(60),
        ..EngineOptions::default()
    })
}

fn engine_with(opts: EngineOptions) -> Engine {
    Engine::new(opts).expect("the engine starts")
}

/// Not a timing budget. The fault tests assert what stopped a call: its
/// [`FaultKind`](super::FaultKind) and message (a timeout is wasmtime's epoch
/// interrupt, so the deadline fired). This bound only catches a limit that
/// fires far later than configured (a miscounted tick, a ticker that falls
/// behind). It is generous because a loaded machine deschedules the test
/// thread for seconds: a 2 s bound failed once at 2.17 s. It sits well above
/// every deadline these tests hit (10 ms to 1 s per call, 1 s for setup) and
/// below the 60 s deadline of the fuel-only tests, where it still shows that
/// fuel, not the deadline, stopped the loop.
const NOT_HUNG: Duration = Duration::from_secs(30);
