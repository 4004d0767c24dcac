//! Typed events for observers; fired only when the client retries or gives up retrying.

use std::time::Duration;

use http::{Method, StatusCode};

use crate::{
    retry::HintSource,
    rt::{MaybeSend, MaybeSync},
};

/// Something a retrying client did. Plain requests that succeed first time fire nothing.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A request is being sent again (`attempt` ≥ 2) after a throttle wait or a conflict.
    Attempt {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// This attempt's number, counting from 1.
        attempt: u32,
    },
    /// An `update()` write lost a version race and the strategy decided what to do.
    Conflict {
        /// The absolute URL.
        url: String,
        /// 412 or 409.
        status: StatusCode,
        /// The strategy's name (`Strategy::name`).
        strategy: &'static str,
        /// What happened next.
        outcome: ConflictOutcome,
        /// Writes sent so far.
        attempt: u32,
    },
    /// The server throttled (429/503), or a gateway failed a read (502/504), and the client
    /// waits before retrying.
    Throttled {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// 429 or 503 (502 or 504 for a read).
        status: StatusCode,
        /// The server's hint and where it came from, if it sent a usable one.
        hint: Option<(Duration, HintSource)>,
        /// The wait the client chose.
        delay: Duration,
    },
    /// A lock this client held was lost: its renewal was refused or it expired unrenewed.
    /// Writes under it now fail with [`crate::Error::LockLost`].
    LockLost {
        /// The absolute URL of the locked resource.
        url: String,
        /// What happened.
        reason: String,
    },
    /// A transaction's commit was refused because documents it read changed
    /// (`transaction_conflict`); `client.transaction(...)` runs it again (`Reapplied`) or gives
    /// up (`GaveUp`).
    TransactionConflict {
        /// The transaction's absolute URL.
        url: String,
        /// The paths of the documents that changed, as the server named them.
        paths: Vec<String>,
        /// What happens next: `Reapplied` (run again in a new transaction) or `GaveUp`.
        outcome: ConflictOutcome,
        /// Runs so far, this one included.
        attempt: u32,
    },
    /// An answer said its API is deprecated (`Deprecation`) or will be withdrawn (`Sunset`).
    /// Fired once per client for each distinct notice (origin and header values); every such
    /// answer is counted in `Stats::deprecated_responses`.
    Deprecated {
        /// What the answer said: the dates, the successor and policy links, malformed values.
        notice: crate::DeprecationNotice,
    },
    /// A conflict subscription ([`crate::Subscription`]) lost its connection (an error, the
    /// server closing the stream, a stall) or could not connect, and reconnects after `delay`.
    ConflictStreamReconnect {
        /// The stream's absolute URL.
        url: String,
        /// Failed or ended connections in a row, this one included.
        attempt: u32,
        /// The wait before connecting again.
        delay: Duration,
    },
    /// The per-host retry budget refused a retry.
    BudgetExhausted {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// The host whose budget is empty.
        host: String,
    },
}

/// What conflict recovery did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictOutcome {
    /// The change closure ran again on the fresh state; the result will be written. (For a
    /// transaction: it runs again in a new transaction.)
    Reapplied,
    /// Mine and theirs merged cleanly (or through the resolver); the merge will be written.
    Merged,
    /// My document will be written over theirs (last-write-wins).
    Overwritten,
    /// A custom strategy supplied the document to write.
    Replaced,
    /// Overlapping edits were left unresolved; the update fails.
    MergeFailed,
    /// The strategy aborted; the update fails with the current state.
    Aborted,
    /// The attempt limit was reached; the update fails.
    GaveUp,
    /// The strategy handed the conflict to the manual flow (`Strategy::Escalate`, or a custom
    /// strategy's `Decision::Escalate`); the update fails with the refusal, which names the
    /// server's conflict record (`Error::conflict_id`).
    Escalated,
}

/// Receives [`Event`]s; any `Fn(&Event)` is one. Called inline, so keep it quick.
pub trait Observer: MaybeSend + MaybeSync + 'static {
    /// Handles one event.
    fn on_event(&self, event: &Event);
}

impl<F> Observer for F
where
    F: Fn(&Event) + MaybeSend + MaybeSync + 'static,
{
    fn on_event(&self, event: &Event) {
        self(event)
    }
}
