//! A pool of [`StoredHooks`]: one SQLite connection and one plugin instance
//! each, all sharing the process's one [`Engine`].
//!
//! A request borrows one on a blocking thread and gives it back. The mutex
//! guards only the list of idle hooks, never a decision. A semaphore bounds
//! how many exist, so a burst of requests waits instead of opening a
//! connection each. A thread of the pool's own copies the WAL back into the
//! database file, so that no request's commit does.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::Semaphore;

use super::error::ApiError;
use crate::engine::Engine;
use crate::hooks::StoredHooks;
use crate::store::{Store, WAL_CHECKPOINT_EVERY, WriteGate};

/// Shared by every handler (axum state).
#[derive(Clone)]
pub(crate) struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    db: PathBuf,
    engine: Engine,
    idle: Mutex<Vec<StoredHooks>>,
    permits: Semaphore,
    /// Every pooled connection's writes queue here (`Store::join_pool`),
    /// and their refusals commit in groups.
    write_gate: Arc<WriteGate>,
}

impl Pool {
    pub(crate) fn new(db: PathBuf, engine: Engine, size: usize) -> Self {
        let inner = Arc::new(Inner {
            db,
            engine,
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Semaphore::new(size),
            write_gate: Arc::new(WriteGate::default()),
        });
        let weak = Arc::downgrade(&inner);
        let spawned = std::thread::Builder::new()
            .name("crm-consent-checkpoint".into())
            .spawn(move || checkpoints(&weak));
        if let Err(e) = spawned {
            // Without it the WAL only grows; say so, and serve on.
            tracing::error!("cannot start the WAL checkpoint thread: {e}");
        }
        Pool { inner }
    }

    /// Runs `f` with pooled hooks on a blocking thread. A panic in `f` drops
    /// those hooks (their state is unknown) and answers 500; the server goes on.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut StoredHooks) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| ApiError::unavailable())?;
        let inner = Arc::clone(&self.inner);
        let joined = tokio::task::spawn_blocking(move || {
            let mut hooks = inner.take()?;
            let result = f(&mut hooks);
            // A request that failed mid-transaction must not leave it open
            // for the next one.
            if hooks.store_mut().abandon_request().is_ok() {
                inner.give_back(hooks);
            }
            result
        })
        .await;
        match joined {
            Ok(result) => result,
            Err(e) => {
                tracing::error!("a request's worker failed: {e}");
                Err(ApiError::internal())
            }
        }
    }
}

impl Inner {
    fn take(&self) -> Result<StoredHooks, ApiError> {
        if let Some(hooks) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(hooks);
        }
        let mut store = Store::open(&self.db).map_err(ApiError::from_store)?;
        store
            .join_pool(Arc::clone(&self.write_gate))
            .map_err(ApiError::from_store)?;
        Ok(StoredHooks::new(&self.engine, store))
    }

    fn give_back(&self, hooks: StoredHooks) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(hooks);
    }
}

/// Checkpoints the WAL every [`WAL_CHECKPOINT_EVERY`] until the pool is gone,
/// on a connection of its own (the pooled ones never checkpoint).
fn checkpoints(pool: &Weak<Inner>) {
    let mut store: Option<Store> = None;
    loop {
        std::thread::sleep(WAL_CHECKPOINT_EVERY);
        let Some(inner) = pool.upgrade() else {
            return;
        };
        let done = match store.as_ref() {
            Some(s) => s.checkpoint_wal(),
            None => Store::open(&inner.db).and_then(|s| store.insert(s).checkpoint_wal()),
        };
        drop(inner);
        if let Err(e) = done {
            // Tried again next time, on a fresh connection.
            tracing::warn!("WAL checkpoint failed: {e}");
            store = None;
        }
    }
}
