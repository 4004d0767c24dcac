//! Reference HTTP server that keeps the ifmatch conflict contract.
//!
//! A collection `/items` of JSON documents with strong ETags, `If-Match` / `If-None-Match`
//! preconditions evaluated atomically with the write, JSON Merge Patch, problem+json errors,
//! pessimistic locks with a TTL (`/items/{id}/lock`), atomic batches (`POST /batch`: several
//! writes applied all or none), interactive optimistic transactions (`/transactions`, and
//! `Transaction-Id` on `/items` requests), version history (`/items/{id}/versions`, kept by
//! both stores with retention by count, age and tombstone TTL), two API versions (`/v1/…` and
//! `/v2/…` or `Api-Version`; v2 wraps documents in an envelope and takes a body `version`, v1
//! announces its `Deprecation` and `Sunset`), optional bearer-token authentication
//! (`--client-token`, `--admin-token`), conflict notifications (every refused conditional write
//! recorded at `/conflicts`, streamed as Server-Sent Events at `/conflicts/stream`, resolved at
//! `/conflicts/{id}/resolve`), optional per-client token-bucket rate limits (one policy, or
//! separate ones for reads and writes), optional CORS (`--cors-origin`) and idempotency keys
//! (`Idempotency-Key` on a write: processed once per client and key, retries get the first
//! answer again), and, for testing clients, seeded fault injection (`--faults`). It is the
//! default target of the conformance suite and the SDK's integration-test peer;
//! `docs/server.md` describes the HTTP surface.
//!
//! ```
//! use ifmatch_server::{spawn, Config, Storage};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), ifmatch_server::Error> {
//! let server = spawn(Config::new().with_storage(Storage::Memory)).await?;
//! let url = format!("{}/items", server.base_url());
//! assert!(url.starts_with("http://127.0.0.1:"));
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod api_version;
mod auth;
mod bounds;
mod config;
mod conflicts;
mod cors;
mod error;
mod etag;
mod faults;
#[cfg(test)]
mod fuzz;
mod idempotency;
mod lock;
mod merge_patch;
mod metrics;
mod nonce;
mod precondition;
mod problem;
mod rate_limit;
mod routes;
mod server;
mod storage;
mod txn;

pub use api_version::{Timestamp, DEFAULT_V1_DEPRECATION, DEFAULT_V1_SUNSET};
pub use auth::TokenPair;
pub use bounds::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_HEADER_BYTES, DEFAULT_WRITE_TIMEOUT,
};
pub use config::{
    Config, MismatchStatus, RateLimit, RateLimitScope, RateLimits, Storage,
    DEFAULT_MAX_BATCH_OPERATIONS, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CLIENT_TRANSACTIONS,
    DEFAULT_MAX_LOCK_TTL, DEFAULT_MAX_LOCK_WAITERS, DEFAULT_MAX_LOCK_WAITERS_TOTAL,
    DEFAULT_MAX_TRANSACTIONS, DEFAULT_MAX_TRANSACTION_TTL, DEFAULT_RATE_LIMIT_CLIENTS,
    MAX_LOCK_TTL_CEILING,
};
pub use conflicts::{
    DEFAULT_CONFLICT_BODY_LIMIT, DEFAULT_CONFLICT_LOG_SIZE, DEFAULT_MAX_SUBSCRIBERS,
    DEFAULT_MAX_SUBSCRIBERS_PER_CLIENT, DEFAULT_SSE_HEARTBEAT,
};
pub use error::Error;
pub use faults::{FaultCounts, FaultKind, FaultSpec, MAX_FAULT_DELAY};
pub use idempotency::{
    DEFAULT_IDEMPOTENCY_MAX_BYTES, DEFAULT_IDEMPOTENCY_MAX_KEYS, DEFAULT_IDEMPOTENCY_TTL,
};
pub use server::{router, spawn, RunningServer};
pub use storage::{
    DEFAULT_HISTORY_MAX_AGE, DEFAULT_HISTORY_MAX_VERSIONS, DEFAULT_MAX_DOCUMENTS,
    DEFAULT_POSTGRES_CONNECTIONS, DEFAULT_TOMBSTONE_TTL, MIN_POSTGRES_CONNECTIONS,
};
