//! Fault injection (`--faults`): a layer that drops connections before or after the request
//! is applied, answers 5xx without applying it, delays, and spoils otherwise correct answers
//! (a malformed `ETag`, a truncated or non-JSON body, an absurd `Retry-After`, a 409 naming a
//! stale `ETag`), each with its own rate, from a seeded generator. Off by default; for
//! testing clients, never for serving.

mod inject;
mod spec;

use std::collections::BTreeMap;

pub(crate) use inject::{inject, Injector};
pub use spec::{FaultKind, FaultSpec, MAX_FAULT_DELAY};

/// What a server's fault injection did so far ([`crate::RunningServer::fault_counts`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultCounts {
    /// Faults injected, by kind (kinds never injected are absent). A fault that found nothing
    /// to spoil (`bad-etag` on an answer without `ETag`, a body fault on an empty or non-JSON
    /// body, `stale-409` on a request without `If-Match`) is not counted.
    pub injected: BTreeMap<FaultKind, u64>,
    /// Requests whose `If-Match` or `If-None-Match` carried a tag the faults made up (a
    /// malformed `ETag` or a stale-409's): a correct client never sends one back.
    pub fault_tags_sent_back: u64,
}

impl FaultCounts {
    /// How many faults of `kind` were injected.
    pub fn of(&self, kind: FaultKind) -> u64 {
        self.injected.get(&kind).copied().unwrap_or(0)
    }

    /// All faults injected.
    pub fn total(&self) -> u64 {
        self.injected.values().sum()
    }
}

impl crate::Config {
    /// Injects the faults `spec` describes into every answer; `None` (the default) turns
    /// fault injection off. For testing clients only: the server then loses answers and
    /// refuses requests on purpose.
    ///
    /// ```
    /// use ifmatch_server::{Config, FaultSpec};
    ///
    /// let spec: FaultSpec = "seed=7,status-503=0.1".parse().unwrap();
    /// let config = Config::new().with_faults(Some(spec.clone()));
    /// assert_eq!(config.faults(), Some(&spec));
    /// ```
    pub fn with_faults(mut self, spec: Option<FaultSpec>) -> Self {
        self.faults = spec;
        self
    }

    /// The faults injected, if any.
    pub fn faults(&self) -> Option<&FaultSpec> {
        self.faults.as_ref()
    }
}
