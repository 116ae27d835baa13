//! The HTTP service: the JSON API under `/api/v1` for CRMs in any language.
//!
//! It sits beside the CLI, above [`hooks`](crate::hooks),
//! [`setup`](crate::setup) and [`store`](crate::store), and calls the same
//! functions: no rule or validation is written here. What is here is HTTP:
//! routes, API keys and roles, idempotent retries, the OpenAPI document, and
//! the one table from error codes to statuses (`error.rs`).
//!
//! Concurrency: SQLite work never runs on tokio's worker threads. Each
//! request's work is queued to the pool's threads, each of which holds one
//! [`StoredHooks`](crate::StoredHooks) (its own SQLite connection and plugin
//! instance, sharing the process's one engine). WAL lets readers run in
//! parallel; writers take SQLite's write lock one at a time, which keeps the
//! hash chains valid.

mod api;
mod call;
mod download;
mod error;
mod log;
mod notify;
mod openapi;
mod pages;
mod pool;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};

use crate::engine::{Engine, EngineOptions, MAX_CHAIN};
use crate::store::{Store, StoreError};

pub use error::ApiError;
pub use log::TARGET as LOG_TARGET;
pub use notify::sign as sign_notification;
pub use openapi::openapi;

/// How many requests do SQLite and plugin work at once, by default: the
/// pool's threads. Each holds one SQLite connection and one plugin instance;
/// four per core keep both cores busy while requests wait for SQLite's
/// write lock or a group commit. On this 2-core VM 4, 6 and 12 answered
/// the dial hook no faster than 8 (`tests/benches/http_load.sh`).
pub const DEFAULT_CONNECTIONS: usize = 8;

/// The threads that run the async side of the server: accepting, reading
/// and writing HTTP, and handing each request to the pool's threads, which
/// do every database and plugin step. That side is light, so
/// half the cores (at least one) serve it; a thread per core made them take
/// work from each other and wake each other more than they worked. On this
/// 2-core VM one thread instead of two cut the server CPU of an
/// authenticated trivial read by a fifth (53-59 to 43-45 us); the dial
/// hook's moved within the noise (`tests/benches/http_load.sh`, four
/// rounds). `TOKIO_WORKER_THREADS` overrides it.
pub fn default_io_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// The longest a plugin call may run before the hook denies. The fuel budget
/// stops a looping plugin first; this is the backstop, generous enough for a
/// debug build on a busy machine.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(1);

/// The largest plugin upload. Components of tens of megabytes are not
/// consent rules.
pub const MAX_UPLOAD: usize = 32 * 1024 * 1024;

/// The largest import file (`POST /imports`): as large as a plugin upload,
/// which holds a 100k-row csv (about 5 MiB) several times over.
pub const MAX_IMPORT: usize = 32 * 1024 * 1024;

/// The largest body of every other route. The biggest legitimate one is a
/// consent type with its 64 KiB text; a small bound keeps a burst of large
/// bodies from holding gigabytes while they wait for the pool.
pub const MAX_JSON_BODY: usize = 1024 * 1024;

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The consent database (made by `crm-consent init`).
    pub db: PathBuf,
    /// The address to listen on; loopback by default.
    pub listen: SocketAddr,
    /// Where compiled plugins are cached.
    pub cache_dir: Option<PathBuf>,
    /// Requests that do SQLite and plugin work at once.
    pub connections: usize,
}

impl ServeOptions {
    /// Serve `db` on `127.0.0.1:8080`.
    pub fn new(db: impl Into<PathBuf>) -> Self {
        ServeOptions {
            db: db.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            cache_dir: None,
            connections: DEFAULT_CONNECTIONS,
        }
    }
}

/// Why the service could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The database cannot be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The WebAssembly engine cannot start.
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    /// The address cannot be bound, or the server failed.
    #[error("cannot serve on `{addr}`: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
}

/// A bound, not yet running, server.
pub struct Server {
    listener: TcpListener,
    app: Router,
    pool: pool::Pool,
}

impl Server {
    /// Opens the database, starts the engine and binds the address.
    pub async fn bind(opts: ServeOptions) -> Result<Server, ServeError> {
        // Fail at start, not at the first request, on a missing database.
        let store = Store::open(&opts.db)?;
        // The caps are read once: a change needs a restart of `serve`.
        let engine_options = crate::setup::with_caps(
            &store,
            EngineOptions {
                cache_dir: opts.cache_dir.clone(),
                // Every pooled connection holds a chain of policies, and a
                // replay another; each policy is an instance slot.
                max_instances: u32::try_from((opts.connections * 2 + 2) * MAX_CHAIN)
                    .unwrap_or(u32::MAX),
                call_timeout: CALL_TIMEOUT,
                ..EngineOptions::default()
            },
        )
        .map_err(|e| match e {
            crate::setup::SetupError::Store(e) => ServeError::Store(e),
            crate::setup::SetupError::Plugin(e) => ServeError::Engine(e),
            other => ServeError::Engine(crate::engine::EngineError::Options(other.to_string())),
        })?;
        drop(store);
        let engine = Engine::new(engine_options)?;
        let pool = pool::Pool::new(opts.db.clone(), engine, opts.connections.max(1));
        let listener = TcpListener::bind(opts.listen)
            .await
            .map_err(|source| ServeError::Io {
                addr: opts.listen,
                source,
            })?;
        Ok(Server {
            listener,
            app: app(pool.clone()),
            pool,
        })
    }

    /// The address actually bound (port 0 picks a free one).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then lets requests in flight
    /// finish: each write is one transaction, so none is left half-done.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let addr = self.local_addr().map_err(|source| ServeError::Io {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            source,
        })?;
        // Staff notifications go out while the server runs; the queue is
        // durable, so stopping mid-delivery loses nothing.
        let sender = tokio::spawn(notify::run(self.pool));
        let served = axum::serve(
            self.listener,
            self.app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ServeError::Io { addr, source });
        sender.abort();
        served
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!(target: log::TARGET, "shutting down: finishing the requests in flight");
}

/// The whole application: the API, its document, and the layers that log
/// every request with an id.
fn app(pool: pool::Pool) -> Router {
    let pages_pool = pool.clone();
    let (api, doc) = api::router().split_for_parts();
    let doc = openapi::finish(doc);
    let api = api
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc) }
            }),
        )
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            ApiError::method_not_allowed(method.as_str())
        })
        .with_state(pool);
    Router::new()
        .nest("/api/v1", api)
        .merge(pages::routes().with_state(pages_pool))
        .fallback(|| async { ApiError::not_found() })
        // The upload and import routes raise it for themselves.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(PropagateRequestIdLayer::new(log::REQUEST_ID))
        .layer(axum::middleware::from_fn(log::request))
        .layer(SetRequestIdLayer::new(log::REQUEST_ID, log::Ids::new()))
}
