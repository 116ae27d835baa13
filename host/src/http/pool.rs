//! A pool of [`StoredHooks`]: one SQLite connection and one plugin instance
//! each, all sharing the process's one [`Engine`].
//!
//! Each pooled hooks lives on a thread of its own, which takes requests'
//! work from one queue. The async side queues the work and awaits its
//! answer; no decision runs under a lock, and no SQLite or plugin step runs
//! on an async thread. A thread of the pool's own copies the WAL back into
//! the database file, so that no request's commit does, and starts the WAL
//! again when a steady load would let it grow without end.
//!
//! Threads of their own, rather than tokio's blocking pool: that pool hands
//! each task over through one mutex and condvar and parks idle threads with
//! a timeout, and the pooled hooks then had to be taken from and given back
//! to a list under another mutex. Under the dial hook's load the hand-off
//! was about a seventh of the server's CPU.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use tokio::sync::oneshot;

use super::error::ApiError;
use crate::engine::Engine;
use crate::hooks::StoredHooks;
use crate::store::{
    StateCache, Store, StoreError, WAL_CHECKPOINT_EVERY, WAL_RESTART_FRAMES, WriteGate,
};

/// One request's work, given the pooled hooks or why there are none.
type Job = Box<dyn FnOnce(Result<&mut StoredHooks, ApiError>) + Send>;

/// Shared by every handler (axum state).
#[derive(Clone)]
pub(crate) struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    jobs: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

/// What every pool thread opens its hooks with.
struct Shared {
    db: PathBuf,
    engine: Engine,
    /// Every pooled connection's writes queue here (`Store::join_pool`),
    /// and their refusals commit in groups.
    write_gate: Arc<WriteGate>,
    /// The contact states the hooks read, shared while the ledger's head
    /// stays put (`Store::share_states`).
    states: Arc<StateCache>,
}

impl Pool {
    pub(crate) fn new(db: PathBuf, engine: Engine, size: usize) -> Self {
        let shared = Arc::new(Shared {
            db,
            engine,
            write_gate: Arc::new(WriteGate::default()),
            states: Arc::new(StateCache::default()),
        });
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        let mut threads = Vec::with_capacity(size);
        for n in 0..size.max(1) {
            let shared = Arc::clone(&shared);
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("crm-consent-pool-{n}"))
                .spawn(move || work(&shared, &queue));
            match spawned {
                Ok(thread) => threads.push(thread),
                // Fewer threads serve on; with none, every request is a 503.
                Err(e) => tracing::error!("cannot start pool thread {n}: {e}"),
            }
        }
        let weak = Arc::downgrade(&shared);
        let spawned = std::thread::Builder::new()
            .name("crm-consent-checkpoint".into())
            .spawn(move || checkpoints(&weak));
        if let Err(e) = spawned {
            // Without it the WAL only grows; say so, and serve on.
            tracing::error!("cannot start the WAL checkpoint thread: {e}");
        }
        let jobs = (!threads.is_empty()).then_some(jobs);
        Pool {
            inner: Arc::new(Inner { jobs, threads }),
        }
    }

    /// Runs `f` with pooled hooks on a pool thread. A panic in `f` drops
    /// those hooks (their state is unknown) and answers 500; the server goes on.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut StoredHooks) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |hooks| {
            let _ = answer.send(hooks.and_then(f));
        });
        let queued = self.inner.jobs.as_ref().map(|jobs| jobs.send(job));
        if !matches!(queued, Some(Ok(()))) {
            return Err(ApiError::unavailable());
        }
        answered.await.unwrap_or_else(|_| {
            // The job panicked: its answer was dropped unsent.
            tracing::error!("a request's worker failed");
            Err(ApiError::internal())
        })
    }
}

impl Drop for Inner {
    /// Lets the threads finish the work queued, then waits for them (not
    /// for itself, should the last handle go on a pool thread).
    fn drop(&mut self) {
        self.jobs = None;
        let me = std::thread::current().id();
        for thread in self.threads.drain(..) {
            if thread.thread().id() != me {
                let _ = thread.join();
            }
        }
    }
}

/// A pool thread: opens its hooks at the first job, and again after a job
/// that panicked or left a transaction it could not end.
fn work(shared: &Shared, queue: &Receiver<Job>) {
    let mut hooks: Option<StoredHooks> = None;
    for job in queue {
        let opened = match hooks.take() {
            Some(h) => Ok(h),
            None => open(shared),
        };
        let mut opened = match opened {
            Ok(h) => h,
            Err(e) => {
                job(Err(e));
                continue;
            }
        };
        if catch_unwind(AssertUnwindSafe(|| job(Ok(&mut opened)))).is_err() {
            continue;
        }
        // A request that failed mid-transaction must not leave it open
        // for the next one.
        if opened.store_mut().abandon_request().is_ok() {
            hooks = Some(opened);
        }
    }
}

fn open(shared: &Shared) -> Result<StoredHooks, ApiError> {
    let mut store = Store::open(&shared.db).map_err(ApiError::from_store)?;
    store
        .join_pool(Arc::clone(&shared.write_gate))
        .map_err(ApiError::from_store)?;
    store.share_states(Arc::clone(&shared.states));
    Ok(StoredHooks::new(&shared.engine, store))
}

/// Checkpoints the WAL every [`WAL_CHECKPOINT_EVERY`] until the pool is gone,
/// on a connection of its own (the pooled ones never checkpoint).
fn checkpoints(pool: &Weak<Shared>) {
    let mut store: Option<Store> = None;
    let mut restarts = Restarts::new(WAL_RESTART_FRAMES, RESTART_BACKOFF_ROUNDS);
    loop {
        std::thread::sleep(WAL_CHECKPOINT_EVERY);
        let Some(shared) = pool.upgrade() else {
            return;
        };
        let done = match store.as_ref() {
            Some(s) => checkpoint(s, &shared.write_gate, &mut restarts),
            None => Store::open(&shared.db)
                .and_then(|s| checkpoint(store.insert(s), &shared.write_gate, &mut restarts)),
        };
        drop(shared);
        if let Err(e) = done {
            // Tried again next time, on a fresh connection.
            tracing::warn!("WAL checkpoint failed: {e}");
            store = None;
        }
    }
}

/// Rounds of [`WAL_CHECKPOINT_EVERY`] (5 s) between a restart that a reader
/// or writer held up and the next try: a long reader (an export) would
/// otherwise pause the pool's writers every round.
const RESTART_BACKOFF_ROUNDS: u32 = 25;

/// When the checkpoint thread starts the WAL again.
struct Restarts {
    /// The WAL's length in frames past which it does.
    at_frames: i64,
    /// Rounds to skip after a try that was held up.
    backoff: u32,
    skipping: u32,
    /// The WAL's length at the last restart: the same length again means
    /// nothing was written since, and the next write starts it again anyway.
    done_at: Option<i64>,
}

impl Restarts {
    fn new(at_frames: i64, backoff: u32) -> Self {
        Restarts {
            at_frames,
            backoff,
            skipping: 0,
            done_at: None,
        }
    }
}

/// One round: copy what can be copied beside the requests, and once the
/// WAL is too long, pause this process's writers (`gate`) while the rest is
/// copied and the readers leave it, so that the next write starts it again.
fn checkpoint(store: &Store, gate: &WriteGate, restarts: &mut Restarts) -> Result<(), StoreError> {
    let done = store.checkpoint_wal()?;
    if done.wal_frames <= restarts.at_frames || restarts.done_at == Some(done.wal_frames) {
        return Ok(());
    }
    if restarts.skipping > 0 {
        restarts.skipping -= 1;
        return Ok(());
    }
    // Catch up beside the requests once more, and write it to disk: the
    // paused part then copies, and syncs, only what was written meanwhile.
    store.checkpoint_wal()?;
    store.flush_ahead_of_restart();
    let _turn = gate.turn();
    match store.restart_wal()? {
        Some(restarted) => restarts.done_at = Some(restarted.wal_frames),
        None => restarts.skipping = restarts.backoff,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::engine::EngineOptions;

    /// Far longer than two jobs on two threads need, on any machine.
    const NOT_HUNG: Duration = Duration::from_secs(30);

    fn pool(size: usize) -> (tempfile::TempDir, Pool) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("consent.db");
        Store::create(&db).unwrap();
        let engine = Engine::new(EngineOptions::default()).unwrap();
        (dir, Pool::new(db, engine, size))
    }

    #[tokio::test]
    async fn a_request_that_panics_answers_500_and_its_thread_serves_on() {
        let (_dir, pool) = pool(1);
        let failed = pool
            .run(|_| -> Result<(), ApiError> { panic!("a bug in a route") })
            .await
            .expect_err("a panic is no answer");
        assert_eq!(failed.status().as_u16(), 500);
        // The one thread took the next request, on fresh hooks.
        let keys = pool.run(|hooks| Ok(hooks.store().api_keys().unwrap().len()));
        assert_eq!(keys.await.unwrap(), 0);
    }

    #[tokio::test]
    async fn requests_run_at_once_each_on_its_own_connection() {
        let (_dir, pool) = pool(2);
        // Each job waits for the other to start: on one thread, or under
        // one lock, the first would wait in vain.
        let (to_a, at_a) = mpsc::channel();
        let (to_b, at_b) = mpsc::channel();
        let meet = |tell: mpsc::Sender<()>, wait: mpsc::Receiver<()>| {
            move |_: &mut StoredHooks| {
                tell.send(()).unwrap();
                Ok(wait.recv_timeout(NOT_HUNG).is_ok())
            }
        };
        let a = pool.run(meet(to_b, at_a));
        let b = pool.run(meet(to_a, at_b));
        let (a, b) = tokio::join!(a, b);
        assert!(
            a.unwrap() && b.unwrap(),
            "the two requests ran one after the other"
        );
    }

    #[tokio::test]
    async fn a_request_left_in_a_transaction_does_not_hand_it_to_the_next() {
        let (dir, pool) = pool(1);
        // A read that its request never ended holds a snapshot ...
        let keys = pool.run(|hooks| {
            hooks.store().begin_read()?;
            Ok(hooks.store().api_keys()?.len())
        });
        assert_eq!(keys.await.unwrap(), 0);
        // ... which would hide this key from the next request.
        let mut other = Store::open(dir.path().join("consent.db")).unwrap();
        other
            .create_api_key("crm", crate::store::Role::Reader, "test")
            .unwrap();
        let keys = pool.run(|hooks| Ok(hooks.store().api_keys()?.len()));
        assert_eq!(
            keys.await.unwrap(),
            1,
            "the next request read a stale snapshot"
        );
    }

    #[test]
    fn under_steady_reads_and_writes_the_wal_starts_again_once_too_long() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("consent.db");
        Store::create(&db).unwrap();
        let gate = Arc::new(WriteGate::default());
        let stop = AtomicBool::new(false);
        // A bound the writes below pass many times; no pause between tries.
        let mut restarts = Restarts::new(64, 0);
        let checkpointer = Store::open(&db).unwrap();
        let restarted = std::thread::scope(|s| {
            s.spawn(|| {
                let mut writer = Store::open(&db).unwrap();
                writer.join_pool(Arc::clone(&gate)).unwrap();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let name = format!("key-{i}");
                    writer
                        .create_api_key(&name, crate::store::Role::Reader, "test")
                        .unwrap();
                }
            });
            // Reads that overlap, as a steady load's requests do: one is
            // always in the WAL, so no write finds it free to start again.
            s.spawn(|| {
                let readers = [Store::open(&db).unwrap(), Store::open(&db).unwrap()];
                readers[0].begin_read().unwrap();
                readers[0].api_keys().unwrap();
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let (old, new) = (&readers[n % 2], &readers[(n + 1) % 2]);
                    new.begin_read().unwrap();
                    new.api_keys().unwrap();
                    std::thread::sleep(Duration::from_millis(1));
                    old.end_read().unwrap();
                }
            });
            let deadline = Instant::now() + NOT_HUNG;
            let mut longest = 0;
            let restarted = loop {
                std::thread::sleep(Duration::from_millis(20));
                checkpoint(&checkpointer, &gate, &mut restarts).unwrap();
                let frames = checkpointer.checkpoint_wal().unwrap().wal_frames;
                // The WAL only ever gets longer, until it starts again.
                if frames < longest {
                    break true;
                }
                longest = frames;
                if Instant::now() > deadline {
                    break false;
                }
            };
            stop.store(true, Ordering::Relaxed);
            restarted
        });
        assert!(
            restarted,
            "the WAL never started again: it grew without end"
        );
    }
}
