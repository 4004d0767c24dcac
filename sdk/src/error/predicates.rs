//! What kind of error it is: its stable code, and the predicates callers ask.

use http::StatusCode;

use super::{message, Error};

impl Error {
    /// A stable machine-readable name of the error kind (also the JS `code` in the wasm adapter):
    /// `invalid_url`, `invalid_config`, `invalid_etag`, `network`, `http_status`,
    /// `precondition_failed` (a 412 conflict), `conflict` (a version 409), `merge_conflict`,
    /// `aborted`, `rate_limited`, `unavailable`, `retry_after_too_long`, `retry_budget_exhausted`,
    /// `missing_etag`, `timeout`, `redirected`, `outcome_unknown`, `locked`, `lock_lost`,
    /// `decode`, `encode`, `change_failed`, `cancelled`, `transaction_conflict`,
    /// `transaction_lost`, `version_not_found`, `missing_version`, `unauthorized`, `forbidden`,
    /// `conflict_resolved`, `weak_validator`. A failed batch operation
    /// ([`Error::Batch`]) has the code of its own error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => "invalid_url",
            Self::Config { .. } => "invalid_config",
            Self::InvalidEtag { .. } => "invalid_etag",
            Self::Transport { .. } => "network",
            Self::Status { .. } => "http_status",
            Self::Conflict { status, .. } if *status == StatusCode::PRECONDITION_FAILED => {
                "precondition_failed"
            }
            Self::Conflict { .. } => "conflict",
            Self::MergeConflict { .. } => "merge_conflict",
            Self::Aborted { .. } => "aborted",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable { .. } => "unavailable",
            Self::RetryAfterTooLong { .. } => "retry_after_too_long",
            Self::BudgetExhausted { .. } => "retry_budget_exhausted",
            Self::MissingEtag { .. } => "missing_etag",
            Self::Timeout { .. } => "timeout",
            Self::Redirected { .. } => "redirected",
            Self::OutcomeUnknown { .. } => "outcome_unknown",
            Self::Locked { .. } => "locked",
            Self::LockLost { .. } => "lock_lost",
            Self::Decode { .. } => "decode",
            Self::Encode { .. } => "encode",
            Self::Change { .. } => "change_failed",
            Self::Cancelled { .. } => "cancelled",
            Self::TransactionConflict { .. } => "transaction_conflict",
            Self::TransactionLost { .. } => "transaction_lost",
            Self::Auth { status, .. } if *status == StatusCode::FORBIDDEN => "forbidden",
            Self::Auth { .. } => "unauthorized",
            Self::ConflictResolved { .. } => "conflict_resolved",
            Self::Batch { error, .. } => error.code(),
            Self::VersionNotFound { .. } => "version_not_found",
            Self::MissingVersion { .. } => "missing_version",
            Self::WeakValidator { .. } => "weak_validator",
        }
    }

    /// The error itself, or for a failed batch operation that operation's error.
    pub(crate) fn leaf(&self) -> &Self {
        match self {
            Self::Batch { error, .. } => error.leaf(),
            other => other,
        }
    }

    /// The index (from 0) of the batch operation that failed ([`Error::Batch`]); `None` for
    /// every other error, including a batch refused as a whole (e.g. malformed, throttled).
    pub fn failed_operation(&self) -> Option<usize> {
        match self {
            Self::Batch { operation, .. } => Some(*operation),
            _ => None,
        }
    }

    /// Whether the write lost a version race (412, version 409, merge conflict or abort), or a
    /// transaction's commit did (`transaction_conflict`).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self.leaf(),
            Self::Conflict { .. }
                | Self::MergeConflict { .. }
                | Self::Aborted { .. }
                | Self::TransactionConflict { .. }
        )
    }

    /// Whether the write was refused with 412 Precondition Failed (a lost version race).
    pub fn is_precondition_failed(&self) -> bool {
        matches!(self.leaf(), Self::Conflict { status, .. } if *status == StatusCode::PRECONDITION_FAILED)
    }

    /// Whether the server throttled the request (429), or asked for a wait (429/503) longer than
    /// allowed or beyond the retry budget, and the client gave up waiting.
    pub fn is_rate_limited(&self) -> bool {
        matches!(
            self.leaf(),
            Self::RateLimited { .. }
                | Self::RetryAfterTooLong { .. }
                | Self::BudgetExhausted { .. }
        )
    }

    /// Whether a timeout ended the call ([`Error::Timeout`]).
    pub fn is_timeout(&self) -> bool {
        matches!(self.leaf(), Self::Timeout { .. })
    }

    /// Whether no HTTP response was received ([`Error::Transport`]).
    pub fn is_transport(&self) -> bool {
        matches!(self.leaf(), Self::Transport { .. })
    }

    /// Whether a write may or may not have been applied: a write's timeout or transport
    /// failure, a cancellation, or [`Error::OutcomeUnknown`]. Read the resource before writing
    /// again.
    pub fn is_outcome_unknown(&self) -> bool {
        match self.leaf() {
            Self::Timeout { read_only, .. } => !read_only,
            Self::Transport { method, .. } => !message::is_read(method),
            Self::OutcomeUnknown { .. } | Self::Cancelled { .. } => true,
            _ => false,
        }
    }

    /// Whether the server answered 404 Not Found or 410 Gone about the resource. Not for
    /// [`Error::TransactionLost`], whose 404 is about the transaction: the resource may well
    /// exist.
    pub fn is_not_found(&self) -> bool {
        !matches!(self.leaf(), Self::TransactionLost { .. })
            && matches!(
                self.status(),
                Some(StatusCode::NOT_FOUND | StatusCode::GONE)
            )
    }

    /// Whether the operation was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.leaf(), Self::Cancelled { .. })
    }
}
