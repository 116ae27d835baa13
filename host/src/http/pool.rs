//! A pool of [`StoredHooks`]: one SQLite connection and one plugin instance
//! each, all sharing the process's one [`Engine`].
//!
//! A request borrows one on a blocking thread and gives it back. The mutex
//! guards only the list of idle hooks, never a decision. A semaphore bounds
//! how many exist, so a burst of requests waits instead of opening a
//! connection each.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::error::ApiError;
use crate::engine::Engine;
use crate::hooks::StoredHooks;
use crate::store::{Store, WriteGate};

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
        Pool {
            inner: Arc::new(Inner {
                db,
                engine,
                idle: Mutex::new(Vec::with_capacity(size)),
                permits: Semaphore::new(size),
                write_gate: Arc::new(WriteGate::default()),
            }),
        }
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
