//! Optimistic-concurrency HTTP client: ETag caching, automatic If-Match, conflict recovery and 429 backoff.
#![deny(missing_docs)]
