//! The epoch clock behind every wall-clock deadline: a thread advances the
//! engine's epoch every [`TICK`], and a call's deadline is counted in ticks.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::EngineError;

/// How often the ticker thread advances the engine's epoch. Deadlines are
/// counted in ticks, so this is the resolution of `call_timeout`.
pub(super) const TICK: Duration = Duration::from_millis(1);

/// The least time instantiation and `policy.create` get. They run once per
/// policy (and after a fault), not per decision, and a config may be large;
/// above all, a wall-clock deadline as tight as `call_timeout` fails them
/// spuriously whenever the thread is descheduled on a busy machine. The
/// plugin imports nothing and so is deterministic: a create that succeeded
/// once succeeds again on restart, so this budget is not spent per call.
pub(super) const SETUP_TIMEOUT: Duration = Duration::from_secs(1);

/// A timeout in epoch ticks, rounded up: a call never gets less than asked.
pub(super) fn ticks(timeout: Duration) -> u64 {
    let ticks = timeout.as_nanos().div_ceil(TICK.as_nanos()).max(1);
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

/// Advances the engine's epoch every [`TICK`] until dropped.
pub(super) struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    pub(super) fn start(engine: wasmtime::Engine) -> Result<Self, EngineError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("crm-consent-epoch".into())
            .spawn(move || {
                // Dropping the sender disconnects the channel and ends the loop at once.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                    engine.increment_epoch();
                }
            })
            .map_err(|e| {
                EngineError::Setup(format!("cannot start the epoch ticker thread: {e}"))
            })?;
        Ok(Ticker {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
