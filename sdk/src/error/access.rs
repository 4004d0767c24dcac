//! Reading an error's details: status, URL (and redacting it), problem, hints of the server.

use std::time::Duration;

use http::StatusCode;
use serde_json::Value;

use super::{Error, TimeoutScope, REDACTED_URL};
use crate::{EntityTag, Problem, StaleRead};

impl Error {
    /// The HTTP status that caused the error, if one did.
    pub fn status(&self) -> Option<StatusCode> {
        match self.leaf() {
            Self::Status { status, .. }
            | Self::Conflict { status, .. }
            | Self::RateLimited { status, .. }
            | Self::Unavailable { status, .. }
            | Self::OutcomeUnknown { status, .. }
            | Self::RetryAfterTooLong { status, .. }
            | Self::BudgetExhausted { status, .. } => Some(*status),
            Self::Redirected { status, .. } => *status,
            Self::Locked { .. } => Some(StatusCode::LOCKED),
            Self::TransactionConflict { .. } => Some(StatusCode::CONFLICT),
            Self::TransactionLost { .. } => Some(StatusCode::NOT_FOUND),
            Self::Auth { status, .. } => Some(*status),
            Self::ConflictResolved { .. } => Some(StatusCode::CONFLICT),
            Self::VersionNotFound { .. } => Some(StatusCode::NOT_FOUND),
            _ => None,
        }
    }

    /// The absolute URL the error is about, if any (`None` after [`Error::without_url`]).
    pub fn url(&self) -> Option<&str> {
        let url = match self.leaf() {
            Self::Transport { url, .. }
            | Self::Status { url, .. }
            | Self::Conflict { url, .. }
            | Self::MergeConflict { url, .. }
            | Self::Aborted { url, .. }
            | Self::RateLimited { url, .. }
            | Self::Unavailable { url, .. }
            | Self::RetryAfterTooLong { url, .. }
            | Self::BudgetExhausted { url, .. }
            | Self::MissingEtag { url, .. }
            | Self::Timeout { url, .. }
            | Self::Redirected { url, .. }
            | Self::OutcomeUnknown { url, .. }
            | Self::Locked { url, .. }
            | Self::LockLost { url, .. }
            | Self::Decode { url, .. }
            | Self::Change { url, .. }
            | Self::TransactionConflict { url, .. }
            | Self::TransactionLost { url, .. } => url,
            Self::Auth { url, .. } | Self::ConflictResolved { url, .. } => url,
            Self::VersionNotFound { url, .. } | Self::MissingVersion { url, .. } => url,
            Self::WeakValidator { url, .. } => url,
            Self::InvalidUrl { input, .. } => input,
            _ => return None,
        };
        (url != REDACTED_URL).then_some(url.as_str())
    }

    /// The same error with its URL replaced by `<url redacted>` (in `Display` too), for logs
    /// that must not carry query strings or identifiers.
    pub fn without_url(mut self) -> Self {
        let redact = |url: &mut String| *url = REDACTED_URL.to_owned();
        match &mut self {
            Self::Transport { url, .. }
            | Self::Status { url, .. }
            | Self::Conflict { url, .. }
            | Self::MergeConflict { url, .. }
            | Self::Aborted { url, .. }
            | Self::RateLimited { url, .. }
            | Self::Unavailable { url, .. }
            | Self::RetryAfterTooLong { url, .. }
            | Self::BudgetExhausted { url, .. }
            | Self::MissingEtag { url, .. }
            | Self::Redirected { url, .. }
            | Self::OutcomeUnknown { url, .. }
            | Self::LockLost { url, .. }
            | Self::Decode { url, .. }
            | Self::Change { url, .. }
            | Self::TransactionLost { url, .. } => redact(url),
            Self::Auth { url, .. } | Self::ConflictResolved { url, .. } => redact(url),
            Self::VersionNotFound { url, .. } | Self::MissingVersion { url, .. } => redact(url),
            Self::WeakValidator { url, .. } => redact(url),
            Self::Locked { url, commit, .. } => {
                redact(url);
                if let Some(commit) = commit {
                    redact(commit);
                }
            }
            Self::TransactionConflict { url, stale, .. } => {
                redact(url);
                for read in stale {
                    redact(&mut read.url);
                }
            }
            Self::Timeout { url, what, .. } => {
                *what = what.replace(url.as_str(), REDACTED_URL);
                redact(url);
            }
            Self::InvalidUrl { input, .. } => redact(input),
            Self::Batch { url, error, .. } => {
                redact(url);
                **error = std::mem::replace(
                    &mut **error,
                    Self::Cancelled {
                        what: String::new(),
                    },
                )
                .without_url();
            }
            Self::Cancelled { what } => {
                if let Some(at) = what.find("http") {
                    what.replace_range(at.., REDACTED_URL);
                }
            }
            _ => {}
        }
        self
    }

    /// The server's problem+json body, if it sent one.
    pub fn problem(&self) -> Option<&Problem> {
        match self.leaf() {
            Self::Status { problem, .. }
            | Self::Conflict { problem, .. }
            | Self::RateLimited { problem, .. }
            | Self::Unavailable { problem, .. }
            | Self::Locked { problem, .. }
            | Self::TransactionConflict { problem, .. }
            | Self::TransactionLost { problem, .. } => problem.as_deref(),
            Self::Auth { problem, .. } | Self::ConflictResolved { problem, .. } => {
                problem.as_deref()
            }
            Self::VersionNotFound { problem, .. } => problem.as_deref(),
            _ => None,
        }
    }

    /// How long the server asked the client to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.leaf() {
            Self::RateLimited { retry_after, .. }
            | Self::Unavailable { retry_after, .. }
            | Self::Locked { retry_after, .. } => *retry_after,
            Self::RetryAfterTooLong { delay, .. } => Some(*delay),
            _ => None,
        }
    }

    /// The resource's current state carried by an [`Error::Aborted`].
    pub fn current(&self) -> Option<&Value> {
        match self.leaf() {
            Self::Aborted { current, .. } => Some(current),
            _ => None,
        }
    }

    /// The resource's current ETag, when a conflict error knows it.
    pub fn current_etag(&self) -> Option<&EntityTag> {
        match self.leaf() {
            Self::Conflict { current_etag, .. } => current_etag.as_ref(),
            Self::Aborted { etag, .. } => etag.as_ref(),
            _ => None,
        }
    }

    /// The JSON Pointers of overlapping edits carried by an [`Error::MergeConflict`].
    pub fn conflict_paths(&self) -> &[String] {
        match self.leaf() {
            Self::MergeConflict { paths, .. } => paths,
            _ => &[],
        }
    }

    /// The documents whose change refused a transaction's commit
    /// ([`Error::TransactionConflict`]): each one's path, the version the transaction saw and
    /// the current one.
    pub fn stale_reads(&self) -> &[StaleRead] {
        match self.leaf() {
            Self::TransactionConflict { stale, .. } => stale,
            _ => &[],
        }
    }

    /// Where a redirected write was sent ([`Error::Redirected`]), when known.
    pub fn location(&self) -> Option<&str> {
        match self.leaf() {
            Self::Redirected { location, .. } => location.as_deref(),
            _ => None,
        }
    }

    /// The oldest version the server still keeps, carried by [`Error::VersionNotFound`] when
    /// the server said.
    pub fn oldest_version(&self) -> Option<u64> {
        match self.leaf() {
            Self::VersionNotFound { oldest, .. } => *oldest,
            _ => None,
        }
    }

    /// Which limit ended a timed-out call.
    pub fn timeout_scope(&self) -> Option<TimeoutScope> {
        match self.leaf() {
            Self::Timeout { scope, .. } => Some(*scope),
            _ => None,
        }
    }
}
