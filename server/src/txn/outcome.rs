//! How a transaction ended, kept for a while so that a repeated commit answers the same.

use std::time::{Duration, Instant};

use super::state::Summary;
use crate::etag::EntityTag;
use crate::lock::Refusal;

/// One written document in a commit's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommitResult {
    pub(crate) id: String,
    /// 201 created, 200 replaced, 204 deleted.
    pub(crate) status: u16,
    /// The real tag; `None` for a delete.
    pub(crate) etag: Option<EntityTag>,
}

/// A pinned version that changed before the commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    pub(crate) id: String,
    /// What the transaction read (`None`: absent).
    pub(crate) read_etag: Option<EntityTag>,
    /// What is there now (`None`: absent).
    pub(crate) current_etag: Option<EntityTag>,
}

/// Why a transaction is over.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Every write applied.
    Committed(Vec<CommitResult>),
    /// Aborted at commit: versions it read changed. Nothing applied.
    Conflict(Vec<Conflict>),
    /// Aborted at commit: a document it writes is locked by someone else (or its token lost
    /// the lock). Nothing applied.
    Locked { id: String, refusal: Refusal },
    /// Rolled back by `DELETE /transactions/{id}`.
    RolledBack,
    /// Not committed in time.
    Expired,
}

/// An ended transaction as the server remembers it.
#[derive(Debug)]
pub(crate) struct Ended {
    pub(crate) outcome: Outcome,
    pub(crate) ttl: Duration,
    pub(crate) expires_at_ms: u64,
    /// When it ended, in Unix milliseconds.
    pub(crate) ended_at_ms: u64,
    /// When the server forgets it.
    pub(crate) forget_at: Instant,
    pub(crate) summary: Summary,
}

impl Ended {
    /// The `state` member of `GET /transactions/{id}`.
    pub(crate) fn state(&self) -> &'static str {
        match self.outcome {
            Outcome::Committed(_) => "committed",
            Outcome::Conflict(_) | Outcome::Locked { .. } => "aborted",
            Outcome::RolledBack => "rolled_back",
            Outcome::Expired => "expired",
        }
    }

    /// Whether requests about it answer 404 (only committed and aborted transactions are shown).
    pub(crate) fn is_gone(&self) -> bool {
        matches!(self.outcome, Outcome::RolledBack | Outcome::Expired)
    }
}
