//! Optimistic-concurrency HTTP client: ETag caching, automatic If-Match, conflict recovery and
//! 429 backoff, for native Rust (tokio) and WebAssembly (the browser's `fetch`) alike.
//!
//! Two clients that read, change and write the same resource lose an update unless the second
//! write is refused. This client makes the refusal certain (every PUT/PATCH/DELETE carries
//! `If-Match` with the ETag of the version its caller read, never a newer one from a shared
//! cache) and the recovery automatic (`update()` re-reads, re-applies or merges, and writes
//! again), and it waits out `429 Too Many Requests` as the server asks.
//!
//! Every operation is a builder that owns a clone of the client: await it directly, set
//! per-request options first (`.header()`, `.query()`, `.timeout()`), or move it into a task.
//!
//! ```
//! use ifmatch::{Client, RetryConfig, Strategy};
//! use serde_json::json;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = ifmatch_server::spawn(ifmatch_server::Config::new()).await?;
//! # let base_url = server.base_url();
//! let client = Client::builder()
//!     .base_url(&base_url)? // e.g. "http://127.0.0.1:8080"
//!     .retry(RetryConfig::contended())
//!     .build()?;
//!
//! let created = client.create("/items", &json!({"n": 0})).await?;
//! let path = created.location.expect("the server names the new item");
//!
//! // Safe under any number of concurrent writers: no increment is ever lost.
//! let out = client
//!     .update::<serde_json::Value>(&path, |doc| {
//!         doc["n"] = (doc["n"].as_i64().unwrap_or(0) + 1).into();
//!         Ok(())
//!     })
//!     .strategy(Strategy::Reapply)
//!     .await?;
//! assert_eq!(out.value["n"], 1);
//! assert_eq!(client.stats().conflicts_412, 0);
//! # server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The decisions (preconditions, conflict classification, merging, retry timing) are pure
//! functions tested without network or clock; the transport ([`transport::Transport`]) and the timer
//! ([`rt::Sleeper`]) are injected. See `docs/sdk.md` and `docs/strategies.md` in the repository.
#![deny(missing_docs)]

mod authority;
mod batch;
mod cache;
mod cancel;
mod client;
mod conflict;
pub mod conflicts;
mod error;
mod etag;
mod event;
#[cfg(test)]
mod fuzz;
mod lock;
pub mod merge;
#[cfg(feature = "prometheus")]
pub mod metrics;
mod outcome;
mod pacing;
mod precondition;
mod problem;
mod retry;
pub mod rt;
mod sse;
mod stats;
mod strategy;
#[cfg(feature = "test-util")]
pub mod testing;
mod timeout;
mod transaction;
pub mod transport;
mod versioned;
mod versions;
mod weak;

pub use batch::{BatchOp, BatchResult, OpResult, Target};
pub use cancel::CancelToken;
pub use client::{
    builder::{DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_MAX_BYTES},
    Batch, Begin, Client, ClientBuilder, Commit, Get, GetShared, LockGuard, LockRequest, Raw,
    Rollback, RunTransaction, Transaction, Update, Write, DEFAULT_BATCH_PATH, DEFAULT_LOCK_TTL,
    DEFAULT_TRANSACTIONS_PATH,
};
pub use client::{
    Conflicts, GetConflict, ListConflicts, Resolve, Subscription, DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_STALL_TIMEOUT,
};
pub use client::{Diff, GetVersion, ListVersions, Restore, DEFAULT_VERSIONS_PATH};
pub use conflicts::{
    ConflictEvent, ConflictFilter, ConflictPage, ConflictRecord, ConflictState,
    DEFAULT_CONFLICTS_PATH,
};
pub use error::{ChangeError, Error, TimeoutScope, UpdateEnd};
pub use etag::EntityTag;
pub use event::{ConflictOutcome, Event, Observer};
pub use precondition::{MissingEtagPolicy, Precondition};
pub use problem::{Problem, PRECONDITION_FAILED_TYPE, VERSION_CONFLICT_TYPE};
pub use retry::{HintSource, LongWaitPolicy, RetryConfig};
pub use stats::Stats;
pub use strategy::{
    ConflictContext, ConflictStrategy, CustomStrategy, Decision, MergeResolver, Strategy,
};
pub use transaction::{CommitResult, StaleRead};
pub use versioned::Versioned;
pub use versions::{
    DeprecationNotice, History, RetentionPolicy, Version, VersionEntry, VersionField,
};
pub use weak::WeakValidators;

/// Re-exported so callers can name methods and headers without a direct `http` dependency.
pub use http;
