//! Building the router and running it on a socket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::{self, Authenticator};
use crate::bounds;
use crate::conflicts::Conflicts;
use crate::cors::{self, Cors};
use crate::faults::{self, Injector};
use crate::idempotency::{
    Idempotency, IdempotencyStore, MemoryStore, PostgresStore as PostgresIdempotency,
};
use crate::lock::{LockManager, SharedLocks};
use crate::metrics::{self, Metrics};
use crate::rate_limit::{self, Limiter, SharedBuckets};
use crate::routes::{self, AppState};
use crate::txn::shared::SharedTxns;
use crate::txn::{TxnLimits, TxnManager};
use crate::{storage, Config, Error, RateLimitScope, Storage};

/// The server's router, for embedding in another axum application or test harness.
///
/// Opens the configured storage (so it fails for an unusable SQLite path), reads the tokens
/// (so it fails for an unreadable tokens file, or a name or token given twice, or a malformed
/// CORS origin), and applies the rate limit, if any, and authentication, if tokens are
/// configured, to every route but `/metrics` (OpenMetrics text; every request, throttled ones
/// included, is counted there), and CORS, if origins are configured, to every answer.
///
/// The rate limit tells anonymous clients apart by their address only when the router is
/// served with connection info (`into_make_service_with_connect_info::<SocketAddr>()`, as
/// [`spawn`] does); without it, all anonymous clients share one bucket per policy.
///
/// ```
/// let router = ifmatch_server::router(&ifmatch_server::Config::new()).unwrap();
/// let app: axum::Router = axum::Router::new().merge(router);
/// # drop(app);
/// ```
pub fn router(config: &Config) -> Result<Router, Error> {
    build(config).map(|built| built.router)
}

/// What [`build`] makes.
struct Built {
    router: Router,
    /// The conflict log, whose streams must end for a graceful shutdown to finish.
    conflicts: Arc<Conflicts>,
    /// The fault injection, when on.
    faults: Option<Arc<Injector>>,
}

/// The PostgreSQL connections this replica's pools share (`--postgres-connections`).
fn budget(config: &Config) -> storage::PgBudget {
    storage::PgBudget::new(config.postgres_connections())
}

/// The replica's one listening connection to PostgreSQL (shared by the locks and the conflict
/// log); `None` for other storage.
fn pg_listener(config: &Config) -> Result<Option<storage::PgListener>, Error> {
    let Storage::Postgres(url) = config.storage() else {
        return Ok(None);
    };
    storage::parse_postgres(url)
        .and_then(|pg| storage::PgListener::start(&pg))
        .map(Some)
        .map_err(storage::postgres_open_error(url))
}

/// The conflict log: of this process, or on PostgreSQL storage the database's, shared by the
/// replicas (connecting blocks, so it runs on a thread of its own, as the store's does).
fn open_conflicts(
    config: &Config,
    auth_enabled: bool,
    listener: Option<&storage::PgListener>,
) -> Result<Conflicts, Error> {
    let conflicts = Conflicts::new(config.conflicts, auth_enabled, config.max_body_bytes());
    let (Storage::Postgres(url), Some(listener)) = (config.storage(), listener) else {
        return Ok(conflicts);
    };
    let failed = storage::postgres_open_error(url);
    let database = storage::parse_postgres(url).map_err(failed)?;
    std::thread::scope(|scope| {
        scope
            .spawn(|| conflicts.shared(&database, budget(config), listener))
            .join()
            .unwrap_or_else(|_| {
                Err(storage::StoreError::from_message(
                    "postgres: opening the conflict log panicked",
                ))
            })
    })
    .map_err(failed)
}

/// Idempotency records: in the database on PostgreSQL storage (shared by the replicas), else
/// in this process.
fn idempotency_store(config: &Config) -> Result<Arc<dyn IdempotencyStore>, Error> {
    let limits = config.idempotency.limits();
    let Storage::Postgres(url) = config.storage() else {
        return Ok(Arc::new(MemoryStore::new(limits)));
    };
    let database = storage::parse_postgres(url).map_err(storage::postgres_open_error(url))?;
    Ok(Arc::new(PostgresIdempotency::new(
        &database,
        limits,
        budget(config),
    )))
}

/// The lock manager: in the database for PostgreSQL storage (replicas share its locks), in
/// the process otherwise.
fn lock_manager(
    config: &Config,
    metrics: &Metrics,
    listener: Option<&storage::PgListener>,
) -> Result<LockManager, Error> {
    let locks = LockManager::new(config.max_lock_ttl(), config.max_lock_waiters())
        .with_total_waiters(config.max_lock_waiters_total())
        .with_observer(metrics.lock_observer());
    let (Storage::Postgres(url), Some(listener)) = (config.storage(), listener) else {
        return Ok(locks);
    };
    storage::parse_postgres(url)
        .and_then(|pg| SharedLocks::open(&pg, budget(config), listener))
        .map(|shared| locks.with_shared(shared))
        .map_err(storage::postgres_open_error(url))
}

/// The rate-limit buckets in the database, when the storage is PostgreSQL and the replicas
/// share them (`--rate-limit-scope shared`, the default); else `None`: in the process.
fn shared_buckets(config: &Config) -> Result<Option<SharedBuckets>, Error> {
    let Storage::Postgres(url) = config.storage() else {
        return Ok(None);
    };
    if config.rate_limit_scope() != RateLimitScope::Shared {
        return Ok(None);
    }
    let database = storage::parse_postgres(url).map_err(storage::postgres_open_error(url))?;
    Ok(Some(SharedBuckets::new(&database, budget(config))))
}

/// The transaction table: in the database for PostgreSQL storage (a transaction works through
/// every replica), in the process otherwise.
fn txn_manager(config: &Config, metrics: &Metrics) -> Result<TxnManager, Error> {
    let txns = TxnManager::new(TxnLimits {
        max_open: config.max_transactions(),
        max_ttl: config
            .max_transaction_ttl()
            .clamp(Duration::from_millis(1), crate::MAX_LOCK_TTL_CEILING),
        max_docs: config.max_batch_operations(),
        max_per_client: config.max_client_transactions(),
    })
    .with_observer(metrics.txn_observer());
    let Storage::Postgres(url) = config.storage() else {
        return Ok(txns);
    };
    storage::parse_postgres(url)
        .map(|pg| txns.with_shared(SharedTxns::open(&pg, budget(config))))
        .map_err(storage::postgres_open_error(url))
}

fn build(config: &Config) -> Result<Built, Error> {
    let authenticator = Authenticator::new(&config.auth)?.map(Arc::new);
    let cors = Cors::new(&config.cors_origins)?;
    // The store first: it migrates a PostgreSQL schema, which the shared conflict log and the
    // shared locks use.
    let store = storage::open(
        config.storage(),
        config.history.policy(),
        config.max_documents(),
        budget(config),
    )?;
    let listener = pg_listener(config)?;
    let conflicts = Arc::new(open_conflicts(
        config,
        authenticator.is_some(),
        listener.as_ref(),
    )?);
    let metrics = Metrics::new();
    conflicts.log.observe(metrics.conflict_observer());
    let state = AppState {
        metrics: metrics.clone(),
        conflicts: Arc::clone(&conflicts),
        store,
        retirement: config.retirement.checked()?,
        mismatch: config.mismatch_status(),
        require_preconditions: config.require_preconditions(),
        max_body_bytes: config.max_body_bytes(),
        max_batch_operations: config.max_batch_operations(),
        locks: Arc::new(lock_manager(config, &metrics, listener.as_ref())?),
        txns: Arc::new(txn_manager(config, &metrics)?),
    };
    let scrape_state = state.clone();
    // Layers run outside in: CORS, metrics, rate limit (which identifies the client to key its
    // buckets), then authentication, then idempotency keys and the conflict capture (which
    // need the client's identity), then the routes.
    let idempotency = Arc::new(Idempotency {
        store: idempotency_store(config)?,
        max_body_bytes: config.max_body_bytes(),
    });
    // Idempotency keys sit between authentication (they are kept per client) and the conflict
    // capture (a replayed refusal is not a new conflict).
    let mut router = routes::routes(state)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&conflicts),
            crate::conflicts::capture,
        ))
        .layer(axum::middleware::from_fn_with_state(
            idempotency,
            crate::idempotency::idempotent,
        ));
    if let Some(authenticator) = &authenticator {
        router = router.layer(axum::middleware::from_fn_with_state(
            Arc::clone(authenticator),
            auth::authenticate,
        ));
    }
    let limiter = match config.rate_limit() {
        Some(limits) => Limiter::new(
            limits,
            config.rate_limit_clients(),
            authenticator.clone(),
            shared_buckets(config)?,
        ),
        None => None,
    };
    if let Some(limiter) = limiter {
        router = router.layer(axum::middleware::from_fn_with_state(
            Arc::new(limiter),
            rate_limit::enforce,
        ));
    }
    // `/metrics` joins after the rate limit and authentication, so neither applies to it;
    // the metrics layer goes outermost, so it also counts what the rate limit refuses.
    let scrape = Router::new()
        .route("/metrics", axum::routing::get(metrics::scrape))
        .method_not_allowed_fallback(metrics::method_not_allowed)
        .with_state(scrape_state);
    // The guard (head size, body deadline) sits inside the metrics layer, so its 431s are
    // counted, and outside everything that reads a body.
    let mut router = router
        .merge(scrape)
        .layer(axum::middleware::from_fn_with_state(
            config.connections,
            bounds::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track,
        ));
    // CORS goes outermost: preflights are answered before anything else (they carry no
    // token), and every answer, refusals included, is marked readable by allowed pages.
    if let Some(cors) = cors {
        router = router.layer(axum::middleware::from_fn_with_state(
            Arc::new(cors),
            cors::cors,
        ));
    }
    // Faults go outside everything: a dropped connection or an injected 5xx never reaches
    // the routes, and a spoiled answer is spoiled after every other layer has had its say.
    let faults = config.faults().map(|spec| {
        tracing::warn!(
            "fault injection on ({spec}): answers will be lost, refused and spoiled on purpose"
        );
        Arc::new(Injector::new(spec.clone()))
    });
    if let Some(injector) = &faults {
        router = router.layer(axum::middleware::from_fn_with_state(
            Arc::clone(injector),
            faults::inject,
        ));
    }
    Ok(Built {
        router,
        conflicts,
        faults,
    })
}

/// Binds `config`'s address and serves in a background tokio task; returns once listening.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), ifmatch_server::Error> {
/// let server = ifmatch_server::spawn(ifmatch_server::Config::new()).await?;
/// assert!(server.base_url().starts_with("http://127.0.0.1:"));
/// server.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub async fn spawn(config: Config) -> Result<RunningServer, Error> {
    let Built {
        router,
        conflicts,
        faults,
    } = build(&config)?;
    let addr = config.addr();
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| Error::Bind { addr, source })?;
    let settings = config.connections;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            // A dropped sender also ends the server: dropping the handle stops it.
            let _ = stopped.await;
            // Conflict streams never end by themselves; end them so the shutdown can finish.
            conflicts.close();
        };
        // The accept loop gives the rate limit the peer address of anonymous clients.
        bounds::serve(listener, router, settings, shutdown).await;
    });
    Ok(RunningServer {
        local_addr,
        stop,
        task,
        faults,
    })
}

/// A server started by [`spawn`]. Dropping it stops the server without waiting;
/// [`RunningServer::shutdown`] stops it and waits until open connections are done.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    faults: Option<Arc<Injector>>,
}

impl RunningServer {
    /// `http://IP:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The address actually bound (the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// What fault injection did so far; `None` when it is off (see [`Config::with_faults`]).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), ifmatch_server::Error> {
    /// let spec = "seed=1,status-503=1".parse().unwrap();
    /// let config = ifmatch_server::Config::new().with_faults(Some(spec));
    /// let server = ifmatch_server::spawn(config).await?;
    /// assert_eq!(server.fault_counts().unwrap().total(), 0);
    /// server.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn fault_counts(&self) -> Option<crate::FaultCounts> {
        self.faults.as_ref().map(|f| f.counts())
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the task.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        if let Err(err) = self.task.await {
            tracing::error!(error = %err, "server task ended abnormally");
        }
    }
}
