//! What the transaction registry tells the outside world (the server's metrics) about ended
//! transactions. Called under the registry's mutex: an observer must be quick.

use std::fmt::Debug;

use super::Outcome;

/// Told how every transaction ended.
pub(crate) trait TxnObserver: Send + Sync + Debug {
    /// A transaction ended with `outcome`.
    fn ended(&self, outcome: &Outcome);
}

/// The observer of a registry nobody watches.
#[derive(Debug)]
pub(crate) struct Unobserved;

impl TxnObserver for Unobserved {
    fn ended(&self, _: &Outcome) {}
}

impl Outcome {
    /// The `outcome` label of `ifmatch_transactions_total`: a commit refused because a
    /// document it writes is locked counts as a conflict too (it is aborted at commit).
    pub(crate) fn metric_name(&self) -> &'static str {
        match self {
            Self::Committed(_) => "committed",
            Self::Conflict(_) | Self::Locked { .. } => "conflict",
            Self::RolledBack => "rolled_back",
            Self::Expired => "expired",
        }
    }
}
