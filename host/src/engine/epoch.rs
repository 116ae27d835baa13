//! The epoch clock behind every wall-clock deadline: a thread advances the
//! engine's epoch every [`TICK`] while a call runs, and a call's deadline is
//! counted in ticks.
//!
//! Only while calls run: a ticker that ran always woke the process a
//! thousand times a second, idle or not (about 2.5% of a core at rest,
//! and no deep sleep for the CPU). A call holds a [`Running`] from the
//! moment its deadline is set until it returns; the ticker goes to sleep
//! once none was held for [`IDLE_AFTER`], and the next call wakes it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::EngineError;

/// How often the ticker thread advances the engine's epoch. Deadlines are
/// counted in ticks, so this is the resolution of `call_timeout`.
pub(super) const TICK: Duration = Duration::from_millis(1);

/// How long the ticker goes on ticking after the last call before it
/// sleeps. Under a steady load it never sleeps, so no call pays for waking
/// it (a syscall, and a thread switch in the middle of a request); going
/// to sleep after each call cost the dial hook a few per cent.
pub(super) const IDLE_AFTER: Duration = Duration::from_millis(100);

/// [`Activity::calls`]: the calls in flight in the low half, the calls
/// started (wrapping) in the high half.
const IN_FLIGHT: u64 = u32::MAX as u64;
const STARTED: u64 = 1 << 32;

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

/// Advances the engine's epoch every [`TICK`] while a call runs, until
/// dropped.
pub(super) struct Ticker {
    activity: Arc<Activity>,
    thread: Option<JoinHandle<()>>,
}

struct Activity {
    /// The calls running now, and how many started (see [`IN_FLIGHT`]):
    /// one atomic add as a call starts, one as it returns.
    calls: AtomicU64,
    /// The ticker waits for a call: the next call to start wakes it. Read
    /// without the lock by every call; see `Ticker::running`.
    idle: AtomicBool,
    /// Set when the ticker is dropped.
    stopped: Mutex<bool>,
    wake: Condvar,
    /// Epochs advanced so far, for the tests.
    #[cfg(test)]
    ticks: AtomicU64,
}

impl Activity {
    fn stopped(&self) -> MutexGuard<'_, bool> {
        // One flag: a panic leaves nothing half-done.
        self.stopped.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A call in flight: the epoch advances while one is held.
#[must_use = "the epoch advances only while a call holds its `Running`"]
pub(crate) struct Running<'a>(&'a Activity);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.calls.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Ticker {
    pub(super) fn start(engine: wasmtime::Engine) -> Result<Self, EngineError> {
        let activity = Arc::new(Activity {
            calls: AtomicU64::new(0),
            idle: AtomicBool::new(false),
            stopped: Mutex::new(false),
            wake: Condvar::new(),
            #[cfg(test)]
            ticks: AtomicU64::new(0),
        });
        let ticking = Arc::clone(&activity);
        let thread = std::thread::Builder::new()
            .name("crm-consent-epoch".into())
            .spawn(move || tick(&engine, &ticking))
            .map_err(|e| {
                EngineError::Setup(format!("cannot start the epoch ticker thread: {e}"))
            })?;
        Ok(Ticker {
            activity,
            thread: Some(thread),
        })
    }

    /// Marks a call as running until the guard is dropped; wakes the
    /// ticker if it sleeps.
    pub(crate) fn running(&self) -> Running<'_> {
        let activity = &*self.activity;
        // Sequentially consistent, as is the ticker's `idle` then `calls`:
        // either this call sees `idle` set, or the ticker sees this call.
        if activity.calls.fetch_add(STARTED + 1, Ordering::SeqCst) & IN_FLIGHT == 0
            && activity.idle.load(Ordering::SeqCst)
        {
            // The ticker holds the lock until it waits, so the notify
            // cannot come before the wait.
            let _stopped = activity.stopped();
            activity.wake.notify_one();
        }
        Running(activity)
    }

    /// Epochs advanced since the start.
    #[cfg(test)]
    pub(crate) fn ticks(&self) -> u64 {
        self.activity.ticks.load(Ordering::Acquire)
    }
}

/// The ticker thread: a tick every [`TICK`] while calls run, and for
/// [`IDLE_AFTER`] after the last one. The first tick after a sleep comes a
/// whole tick later, so a call never gets less than its ticks' worth of
/// time.
fn tick(engine: &wasmtime::Engine, activity: &Activity) {
    let mut stopped = activity.stopped();
    let mut next = Instant::now() + TICK;
    let mut busy_at = Instant::now();
    let mut started = activity.calls.load(Ordering::SeqCst) >> 32;
    while !*stopped {
        let calls = activity.calls.load(Ordering::SeqCst);
        let now = Instant::now();
        if calls & IN_FLIGHT != 0 || calls >> 32 != started {
            busy_at = now;
            started = calls >> 32;
        } else if now.duration_since(busy_at) >= IDLE_AFTER {
            activity.idle.store(true, Ordering::SeqCst);
            // Checked again after `idle` is set: a call that started in
            // between may not have seen it.
            if activity.calls.load(Ordering::SeqCst) & IN_FLIGHT == 0 {
                stopped = activity
                    .wake
                    .wait(stopped)
                    .unwrap_or_else(|p| p.into_inner());
            }
            activity.idle.store(false, Ordering::SeqCst);
            next = Instant::now() + TICK;
            busy_at = Instant::now();
            continue;
        }
        if now < next {
            // Woken early only by the drop, which sets `stopped`.
            stopped = activity
                .wake
                .wait_timeout(stopped, next - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            continue;
        }
        engine.increment_epoch();
        #[cfg(test)]
        activity.ticks.fetch_add(1, Ordering::AcqRel);
        next = now + TICK;
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        *self.activity.stopped() = true;
        self.activity.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
