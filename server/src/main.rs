//! `ifmatch-server`: the reference server as a command.

mod bounds_flags;

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use std::time::Duration;

use std::path::PathBuf;

use ifmatch_server::{
    Timestamp, DEFAULT_HISTORY_MAX_AGE, DEFAULT_HISTORY_MAX_VERSIONS, DEFAULT_TOMBSTONE_TTL,
};

use ifmatch_server::{
    Config, FaultSpec, MismatchStatus, RateLimitScope, RateLimits, Storage,
    DEFAULT_MAX_BATCH_OPERATIONS, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CLIENT_TRANSACTIONS,
    DEFAULT_MAX_LOCK_TTL, DEFAULT_MAX_LOCK_WAITERS, DEFAULT_MAX_TRANSACTIONS,
    DEFAULT_MAX_TRANSACTION_TTL, DEFAULT_RATE_LIMIT_CLIENTS, MAX_LOCK_TTL_CEILING,
};
use ifmatch_server::{
    Error, TokenPair, DEFAULT_CONFLICT_BODY_LIMIT, DEFAULT_CONFLICT_LOG_SIZE,
    DEFAULT_MAX_SUBSCRIBERS, DEFAULT_MAX_SUBSCRIBERS_PER_CLIENT, DEFAULT_SSE_HEARTBEAT,
};
use ifmatch_server::{
    DEFAULT_IDEMPOTENCY_MAX_BYTES, DEFAULT_IDEMPOTENCY_MAX_KEYS, DEFAULT_IDEMPOTENCY_TTL,
};

const DEFAULT_MAX_LOCK_TTL_MS: u64 = DEFAULT_MAX_LOCK_TTL.as_secs() * 1000;
const CEILING_LOCK_TTL_MS: u64 = MAX_LOCK_TTL_CEILING.as_secs() * 1000;
const DEFAULT_MAX_TRANSACTION_TTL_MS: u64 = DEFAULT_MAX_TRANSACTION_TTL.as_secs() * 1000;
const DEFAULT_SSE_HEARTBEAT_MS: u64 = DEFAULT_SSE_HEARTBEAT.as_secs() * 1000;
const DEFAULT_HISTORY_MAX_AGE_MS: u64 = DEFAULT_HISTORY_MAX_AGE.as_secs() * 1000;
const DEFAULT_TOMBSTONE_TTL_MS: u64 = DEFAULT_TOMBSTONE_TTL.as_secs() * 1000;
const DEFAULT_IDEMPOTENCY_TTL_MS: u64 = DEFAULT_IDEMPOTENCY_TTL.as_secs() * 1000;

/// Reference HTTP server for the ifmatch conflict contract: JSON documents under /items
/// with strong ETags, If-Match / If-None-Match, JSON Merge Patch, pessimistic locks, atomic
/// batches, interactive transactions and problem+json errors.
#[derive(Debug, Parser)]
#[command(
    name = "ifmatch-server",
    version,
    after_help = "Endpoints: GET and POST /items; GET, HEAD, PUT, PATCH and DELETE /items/{id};\nGET, POST, PUT and DELETE /items/{id}/lock (pessimistic locks with a TTL);\nGET /items/{id}/versions and /items/{id}/versions/N (version history);\nevery /items route also under /v1 and /v2 (or send Api-Version: 1 or 2; v2 wraps documents\nin {\"id\", \"version\", \"modified_at_ms\", \"data\"});\nPOST /batch (several writes applied all or none);\nPOST /transactions, GET and DELETE /transactions/{id}, POST /transactions/{id}/commit\n(interactive transactions: send Transaction-Id on /items requests to act inside one);\nGET /conflicts, /conflicts/{id} and /conflicts/stream (refused writes, also as Server-Sent\nEvents), POST /conflicts/{id}/resolve (mine, theirs or merged).\nErrors are application/problem+json. Logs go to stdout; stop with Ctrl-C.\nSee docs/server.md for the full HTTP contract."
)]
struct Cli {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,

    /// Where documents are kept: `memory` (lost on exit), `sqlite:PATH` (a database file,
    /// created if absent, that survives restarts) or a PostgreSQL URL
    /// (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`; several servers may share it).
    #[arg(long, value_name = "STORAGE", default_value = "memory")]
    storage: Storage,

    /// With PostgreSQL storage: connections this server opens at most, its pools together
    /// (plus 2: one listening, one resolving a conflict). Give PostgreSQL's max_connections
    /// room for replicas × (N + 2); a request that finds none free in 30 s gets 503.
    #[arg(
        long,
        value_name = "N",
        default_value_t = ifmatch_server::DEFAULT_POSTGRES_CONNECTIONS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new()
            .range(ifmatch_server::MIN_POSTGRES_CONNECTIONS as u64..)
    )]
    postgres_connections: usize,

    /// Status for a stale or weak If-Match on an existing document: 412 (RFC 9110) or 409
    /// (the declared non-strict profile).
    #[arg(long, value_name = "412|409", default_value = "412")]
    mismatch_status: MismatchStatus,

    /// Answer 428 to PUT, PATCH and DELETE that carry none of If-Match, If-None-Match and
    /// Lock-Token.
    #[arg(long)]
    require_preconditions: bool,

    /// Token buckets per client (its token's name, else its address). `RPS[:BURST]`: RPS
    /// requests per second, bursts of BURST (default: RPS), for every request;
    /// `reads=RPS[:BURST],writes=RPS[:BURST]`: separate policies for reads (GET, HEAD) and
    /// writes (the other methods), either optional. Exhausted requests get 429 with Retry-After
    /// and RateLimit fields. Off by default.
    #[arg(long, value_name = "LIMITS")]
    rate_limit: Option<RateLimits>,

    /// Clients whose buckets each rate-limit policy tracks at once; buckets that have refilled
    /// are forgotten, and when all are in use further clients share one overflow bucket.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_RATE_LIMIT_CLIENTS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    rate_limit_clients: usize,

    /// With PostgreSQL storage: `shared` keeps each client's buckets in the database, so all
    /// replicas together admit a client at the --rate-limit rate (one SQL statement per
    /// request); `replica` keeps them in each replica's memory (N replicas admit up to N times
    /// the rate). Memory and SQLite storage always keep them in memory.
    #[arg(long, value_name = "SCOPE", default_value = "shared")]
    rate_limit_scope: RateLimitScope,

    /// Let pages on ORIGIN (`https://app.example`, `http://localhost:5173`; `*` for any) call the
    /// server from a browser: preflights are answered and answers expose ETag, Location,
    /// Retry-After, RateLimit and the other fields clients read. Repeatable. Off by default.
    #[arg(long, value_name = "ORIGIN", value_parser = cors_origin)]
    cors_origin: Vec<String>,

    /// Largest request body in bytes; larger bodies get 413.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,

    /// Longest lock in milliseconds (at most one day): a longer ttl_ms is cut to it, and the
    /// answer reports the TTL granted. Also the longest a lock request waits in a queue.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = DEFAULT_MAX_LOCK_TTL_MS,
        value_parser = clap::value_parser!(u64).range(1..=CEILING_LOCK_TTL_MS)
    )]
    max_lock_ttl: u64,

    /// Requests that may wait in the queue for one document's lock; one more gets 503 with
    /// Retry-After. 0 turns waiting off.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_LOCK_WAITERS)]
    max_lock_waiters: usize,

    /// Most operations in one POST /batch (applied all or none), and most documents one
    /// transaction may read or write; more get 400.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_BATCH_OPERATIONS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    max_batch_operations: usize,

    /// Transactions that may be open at once; one more POST /transactions gets 503 with
    /// Retry-After.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_TRANSACTIONS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    max_transactions: usize,

    /// Transactions one client (its token's name, else its address) may keep open at once;
    /// one more POST /transactions from it gets 429 with Retry-After, while other clients
    /// still begin. Counted over all replicas on PostgreSQL.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_CLIENT_TRANSACTIONS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    max_client_transactions: usize,

    /// Longest transaction in milliseconds (at most one day): a longer ttl_ms is cut to it, and
    /// the answer reports the TTL granted. An uncommitted transaction is rolled back after it.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = DEFAULT_MAX_TRANSACTION_TTL_MS,
        value_parser = clap::value_parser!(u64).range(1..=CEILING_LOCK_TTL_MS)
    )]
    max_transaction_ttl: u64,

    /// Inject faults, for testing clients: `seed=N` and `KIND=RATE` items, e.g.
    /// `seed=7,drop-after=0.05,status-503=0.05,delay=0.05:200ms`. KIND: drop-before,
    /// drop-after (the write commits, the answer is lost), status-503,
    /// status-503-retry-after, status-500, status-502, delay (RATE:DURATION), bad-etag,
    /// truncated-body, non-json-body, absurd-retry-after, stale-409. Off by default.
    #[arg(long, value_name = "SPEC")]
    faults: Option<FaultSpec>,

    #[command(flatten)]
    access: AccessFlags,

    #[command(flatten)]
    versions: VersionFlags,

    #[command(flatten)]
    idempotency: IdempotencyFlags,

    #[command(flatten)]
    bounds: bounds_flags::BoundsFlags,
}

/// Idempotency keys: how long a keyed write's first answer is kept for its retries.
#[derive(Debug, clap::Args)]
struct IdempotencyFlags {
    /// Milliseconds an Idempotency-Key record (and so the replay of its answer) lives, from
    /// its request's arrival; a retry after that is processed as a new request.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = DEFAULT_IDEMPOTENCY_TTL_MS,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    idempotency_ttl: u64,

    /// Idempotency-Key records kept at once (per server, all clients); the oldest is evicted
    /// for a new one.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_IDEMPOTENCY_MAX_KEYS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    idempotency_max_keys: usize,

    /// Bytes of answers Idempotency-Key records keep at most; the oldest records are evicted
    /// to stay under it, and a larger answer is not kept.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_IDEMPOTENCY_MAX_BYTES)]
    idempotency_max_bytes: usize,
}

/// Version history and API versions.
#[derive(Debug, clap::Args)]
struct VersionFlags {
    /// History entries (versions and deletions) kept per document; the oldest go first.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_HISTORY_MAX_VERSIONS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    history_max_versions: usize,

    /// Milliseconds after which past versions are dropped (the current version always stays);
    /// 0 keeps them regardless of age.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_HISTORY_MAX_AGE_MS)]
    history_max_age: u64,

    /// Milliseconds a deleted document's tombstone, and its history before it, are kept.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_TOMBSTONE_TTL_MS)]
    tombstone_ttl: u64,

    /// When API v1 is deprecated (RFC 3339): v1 answers carry Deprecation, Sunset and a Link to
    /// their /v2 successor. `none` sends neither Deprecation nor Sunset.
    #[arg(
        long,
        value_name = "RFC3339|none",
        default_value = "2026-06-01T00:00:00Z",
        value_parser = moment
    )]
    v1_deprecation: Moment,

    /// When API v1 goes away (RFC 3339, after --v1-deprecation), announced in Sunset; `none`
    /// leaves Sunset out.
    #[arg(
        long,
        value_name = "RFC3339|none",
        default_value = "2027-06-01T00:00:00Z",
        value_parser = moment
    )]
    v1_sunset: Moment,
}

/// A `--cors-origin` value, checked as the server will check it.
fn cors_origin(text: &str) -> Result<String, Error> {
    // The same check `spawn` makes, so a bad origin is a usage error naming the flag.
    Config::new()
        .with_cors_origin(text)
        .check_cors_origins()
        .map(|()| text.to_owned())
}

/// A time given as RFC 3339 text, or `none`.
#[derive(Debug, Clone, Copy)]
struct Moment(Option<Timestamp>);

fn moment(text: &str) -> Result<Moment, Error> {
    if text == "none" {
        return Ok(Moment(None));
    }
    text.parse().map(|at| Moment(Some(at)))
}

impl VersionFlags {
    /// A sunset that is not after the deprecation is a usage error.
    fn check(&self) -> Result<(), String> {
        match (self.v1_deprecation.0, self.v1_sunset.0) {
            (Some(deprecation), Some(sunset)) if sunset <= deprecation => Err(format!(
                "--v1-sunset {sunset} must be after --v1-deprecation {deprecation}: a version goes away only after it was deprecated (or pass --v1-sunset none)"
            )),
            _ => Ok(()),
        }
    }

    fn apply(self, config: Config) -> Config {
        config
            .with_history_max_versions(self.history_max_versions)
            .with_history_max_age(Duration::from_millis(self.history_max_age))
            .with_tombstone_ttl(Duration::from_millis(self.tombstone_ttl))
            .with_v1_deprecation(self.v1_deprecation.0)
            .with_v1_sunset(self.v1_sunset.0)
    }
}

/// Authentication and conflict notifications.
#[derive(Debug, clap::Args)]
struct AccessFlags {
    /// A client that authenticates with `Authorization: Bearer TOKEN`; its NAME (1 to 64 of
    /// A-Z a-z 0-9 _ . -) is the author of its writes. Repeatable. Turns authentication on.
    #[arg(long, value_name = "NAME=TOKEN")]
    client_token: Vec<TokenPair>,

    /// The same, for an admin (who may also resolve other clients' conflicts). Repeatable.
    #[arg(long, value_name = "NAME=TOKEN")]
    admin_token: Vec<TokenPair>,

    /// A JSON file {"clients": {"NAME": "TOKEN"}, "admins": {"NAME": "TOKEN"}} with more
    /// tokens, for tokens that should not appear in a process list.
    #[arg(long, value_name = "PATH")]
    tokens_file: Option<PathBuf>,

    /// Refuse requests without a valid token with 401 (all routes but /metrics). Needs a token.
    #[arg(long)]
    require_auth: bool,

    /// Conflict records kept (the newest); older ones are forgotten, resolved or not.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_CONFLICT_LOG_SIZE,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    conflict_log_size: usize,

    /// Largest refused body (bytes) a conflict record keeps; larger ones are recorded as
    /// truncated and cannot be replayed by a `mine` resolution.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_CONFLICT_BODY_LIMIT)]
    conflict_body_limit: usize,

    /// Milliseconds of silence after which a conflict stream sends `: heartbeat`.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = DEFAULT_SSE_HEARTBEAT_MS,
        value_parser = clap::value_parser!(u64).range(1..=CEILING_LOCK_TTL_MS)
    )]
    sse_heartbeat: u64,

    /// Conflict streams (GET /conflicts/stream) open at once; one more gets 503 with
    /// Retry-After.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_SUBSCRIBERS)]
    max_subscribers: usize,

    /// Conflict streams one client (its token's name, else its address) may hold open at
    /// once; one more gets 429 with Retry-After.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_SUBSCRIBERS_PER_CLIENT,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    max_subscribers_per_client: usize,
}

impl AccessFlags {
    fn apply(self, mut config: Config) -> Config {
        for pair in self.client_token {
            config = config.with_client_token(pair.name(), pair.token());
        }
        for pair in self.admin_token {
            config = config.with_admin_token(pair.name(), pair.token());
        }
        if let Some(path) = self.tokens_file {
            config = config.with_tokens_file(path);
        }
        config
            .with_require_auth(self.require_auth)
            .with_conflict_log_size(self.conflict_log_size)
            .with_conflict_body_limit(self.conflict_body_limit)
            .with_sse_heartbeat(Duration::from_millis(self.sse_heartbeat))
            .with_max_subscribers(self.max_subscribers)
            .with_max_subscribers_per_client(self.max_subscribers_per_client)
    }
}

impl Cli {
    fn into_config(self) -> Config {
        let mut config = self.bounds.apply(self.versions.apply(Config::new()));
        for origin in self.cors_origin {
            config = config.with_cors_origin(origin);
        }
        self.access
            .apply(config)
            .with_addr(self.addr)
            .with_storage(self.storage)
            .with_postgres_connections(self.postgres_connections)
            .with_mismatch_status(self.mismatch_status)
            .with_require_preconditions(self.require_preconditions)
            .with_rate_limits(self.rate_limit)
            .with_rate_limit_clients(self.rate_limit_clients)
            .with_rate_limit_scope(self.rate_limit_scope)
            .with_max_body_bytes(self.max_body_bytes)
            .with_max_lock_ttl(Duration::from_millis(self.max_lock_ttl))
            .with_max_lock_waiters(self.max_lock_waiters)
            .with_max_batch_operations(self.max_batch_operations)
            .with_max_transactions(self.max_transactions)
            .with_max_client_transactions(self.max_client_transactions)
            .with_max_transaction_ttl(Duration::from_millis(self.max_transaction_ttl))
            .with_idempotency_ttl(Duration::from_millis(self.idempotency.idempotency_ttl))
            .with_idempotency_max_keys(self.idempotency.idempotency_max_keys)
            .with_idempotency_max_bytes(self.idempotency.idempotency_max_bytes)
            .with_faults(self.faults)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(message) = cli.versions.check() {
        Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit();
    }
    tracing_subscriber::fmt().with_target(false).init();
    let server = match ifmatch_server::spawn(cli.into_config()).await {
        Ok(server) => server,
        Err(err) => {
            tracing::error!("{err}");
            // Tokens that contradict each other are a usage error, like an invalid flag.
            if matches!(err, Error::Auth { .. } | Error::TokensFile { .. }) {
                return ExitCode::from(2);
            }
            return ExitCode::FAILURE;
        }
    };
    // The handlers are installed before the server says it is listening: a signal sent as
    // soon as that line is read stops it gracefully instead of killing it.
    let stop = stop_signal();
    tracing::info!("ifmatch-server listening on {}", server.base_url());
    match stop {
        Ok(stop) => stop.await,
        Err(err) => tracing::error!("cannot wait for a stop signal: {err}; stopping now"),
    }
    tracing::info!("ifmatch-server stopping");
    server.shutdown().await;
    ExitCode::SUCCESS
}

/// Installs the handlers for Ctrl-C everywhere, and SIGTERM too on Unix (what process managers
/// send); the future completes at the first of them.
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = term.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            if let Err(err) = tokio::signal::ctrl_c().await {
                tracing::error!("cannot wait for a stop signal: {err}; stopping now");
            }
        })
    }
}
