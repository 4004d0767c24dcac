//! `ifmatch-server`: the reference server as a command.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use std::time::Duration;

use ifmatch_server::{
    Config, MismatchStatus, RateLimit, Storage, DEFAULT_MAX_BATCH_OPERATIONS,
    DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_LOCK_TTL, DEFAULT_MAX_LOCK_WAITERS,
    DEFAULT_MAX_TRANSACTIONS, DEFAULT_MAX_TRANSACTION_TTL, MAX_LOCK_TTL_CEILING,
};

const DEFAULT_MAX_LOCK_TTL_MS: u64 = DEFAULT_MAX_LOCK_TTL.as_secs() * 1000;
const CEILING_LOCK_TTL_MS: u64 = MAX_LOCK_TTL_CEILING.as_secs() * 1000;
const DEFAULT_MAX_TRANSACTION_TTL_MS: u64 = DEFAULT_MAX_TRANSACTION_TTL.as_secs() * 1000;

/// Reference HTTP server for the ifmatch conflict contract: JSON documents under /items
/// with strong ETags, If-Match / If-None-Match, JSON Merge Patch, pessimistic locks, atomic
/// batches, interactive transactions and problem+json errors.
#[derive(Debug, Parser)]
#[command(
    name = "ifmatch-server",
    version,
    after_help = "Endpoints: GET and POST /items; GET, HEAD, PUT, PATCH and DELETE /items/{id};\nGET, POST, PUT and DELETE /items/{id}/lock (pessimistic locks with a TTL);\nPOST /batch (several writes applied all or none);\nPOST /transactions, GET and DELETE /transactions/{id}, POST /transactions/{id}/commit\n(interactive transactions: send Transaction-Id on /items requests to act inside one).\nErrors are application/problem+json. Logs go to stdout; stop with Ctrl-C.\nSee docs/server.md for the full HTTP contract."
)]
struct Cli {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,

    /// Where documents are kept: `memory` (lost on exit) or `sqlite:PATH` (a database file,
    /// created if absent, that survives restarts).
    #[arg(long, value_name = "memory|sqlite:PATH", default_value = "memory")]
    storage: Storage,

    /// Status for a stale or weak If-Match on an existing document: 412 (RFC 9110) or 409
    /// (the declared non-strict profile).
    #[arg(long, value_name = "412|409", default_value = "412")]
    mismatch_status: MismatchStatus,

    /// Answer 428 to PUT, PATCH and DELETE that carry none of If-Match, If-None-Match and
    /// Lock-Token.
    #[arg(long)]
    require_preconditions: bool,

    /// Token bucket shared by all clients: RPS requests per second, bursts of BURST (default:
    /// RPS). Exhausted requests get 429 with Retry-After and RateLimit fields. Off by default.
    #[arg(long, value_name = "RPS[:BURST]")]
    rate_limit: Option<RateLimit>,

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

    /// Longest transaction in milliseconds (at most one day): a longer ttl_ms is cut to it, and
    /// the answer reports the TTL granted. An uncommitted transaction is rolled back after it.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = DEFAULT_MAX_TRANSACTION_TTL_MS,
        value_parser = clap::value_parser!(u64).range(1..=CEILING_LOCK_TTL_MS)
    )]
    max_transaction_ttl: u64,
}

impl Cli {
    fn into_config(self) -> Config {
        Config::new()
            .with_addr(self.addr)
            .with_storage(self.storage)
            .with_mismatch_status(self.mismatch_status)
            .with_require_preconditions(self.require_preconditions)
            .with_rate_limit(self.rate_limit)
            .with_max_body_bytes(self.max_body_bytes)
            .with_max_lock_ttl(Duration::from_millis(self.max_lock_ttl))
            .with_max_lock_waiters(self.max_lock_waiters)
            .with_max_batch_operations(self.max_batch_operations)
            .with_max_transactions(self.max_transactions)
            .with_max_transaction_ttl(Duration::from_millis(self.max_transaction_ttl))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt().with_target(false).init();
    let server = match ifmatch_server::spawn(cli.into_config()).await {
        Ok(server) => server,
        Err(err) => {
            tracing::error!("{err}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("ifmatch-server listening on {}", server.base_url());
    if let Err(err) = stop_signal().await {
        tracing::error!("cannot wait for a stop signal: {err}; stopping now");
    }
    tracing::info!("ifmatch-server stopping");
    server.shutdown().await;
    ExitCode::SUCCESS
}

/// Ctrl-C everywhere, and SIGTERM too on Unix (what process managers send).
async fn stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
