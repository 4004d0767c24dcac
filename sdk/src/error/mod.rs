//! The crate's one error type.
//!
//! Every variant is `#[non_exhaustive]`, so fields can be added without breaking callers: match
//! with `..`, or better, ask the predicates and accessors. `Display` says what happened, to
//! which resource, then what to do next ([`Error::hint`]); [`Error::summary`] is the first part
//! alone, for callers (such as the JavaScript adapter) that word their own advice. The cause of
//! a transport, decode, encode or change failure is not repeated in `Display`: it is the
//! error's [`source`](std::error::Error::source), as the standard library convention asks.

mod access;
mod auth;
mod change;
mod display;
mod message;
mod predicates;
#[cfg(test)]
mod tests;
mod update_end;

use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::Value;

use crate::{rt::BoxError, BatchOp, EntityTag, Problem, StaleRead};

pub use change::ChangeError;
pub use update_end::UpdateEnd;

/// What [`Error::without_url`] leaves where the URL was.
pub(crate) const REDACTED_URL: &str = "<url redacted>";

/// Everything that can go wrong; ask the predicates (`is_conflict()`, …) and [`Error::code`]
/// rather than matching variants where possible.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A URL or path could not be used.
    #[non_exhaustive]
    InvalidUrl {
        /// The text that was given.
        input: String,
        /// Why it was rejected and how to fix it.
        reason: String,
    },

    /// A builder setting is out of range or missing.
    #[non_exhaustive]
    Config {
        /// The setting's name.
        field: &'static str,
        /// Why it was rejected and how to fix it.
        reason: String,
    },

    /// Text that should be an entity tag is not one.
    #[non_exhaustive]
    InvalidEtag {
        /// The text that was given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The request never got an HTTP response (connection, DNS, TLS, body read); the cause is
    /// the error's `source()`.
    #[non_exhaustive]
    Transport {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// The transport's error.
        source: BoxError,
    },

    /// The server answered with an error status this client does not recover from.
    #[non_exhaustive]
    Status {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// The HTTP status.
        status: StatusCode,
        /// The parsed problem+json body, if the server sent one.
        problem: Option<Box<Problem>>,
    },

    /// A write was refused because the resource changed since it was read (412, or a 409 that
    /// names a version conflict), or, for a create-only write, because it already exists.
    #[non_exhaustive]
    Conflict {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// 412 or 409.
        status: StatusCode,
        /// How many writes were sent in total.
        attempts: u32,
        /// Whether the refused write was create-only (`If-None-Match: *`).
        create_only: bool,
        /// The resource's current validator, when the server said it.
        current_etag: Option<EntityTag>,
        /// The parsed problem+json body, if the server sent one.
        problem: Option<Box<Problem>>,
        /// Set when the refusal ended a `client.update()` (after its recovery): why it did
        /// not write again. Other clients were writing the resource meanwhile; updates
        /// through one client take turns and never refuse each other.
        ended_update: Option<UpdateEnd>,
    },

    /// A three-way merge found edits on both sides at the same JSON paths.
    #[non_exhaustive]
    MergeConflict {
        /// The absolute URL.
        url: String,
        /// JSON Pointers (RFC 6901) of the conflicting members.
        paths: Vec<String>,
    },

    /// The `Abort` strategy stopped at the first version conflict; the current state is attached.
    #[non_exhaustive]
    Aborted {
        /// The absolute URL.
        url: String,
        /// The resource's current representation.
        current: Box<Value>,
        /// The resource's current validator.
        etag: Option<EntityTag>,
    },

    /// The server kept throttling (429) until the attempt limit or deadline ran out, or the
    /// request was not safe to repeat.
    #[non_exhaustive]
    RateLimited {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// 429.
        status: StatusCode,
        /// How many times the request was sent.
        attempts: u32,
        /// The server's last wait hint.
        retry_after: Option<Duration>,
        /// The parsed problem+json body, if the server sent one.
        problem: Option<Box<Problem>>,
    },

    /// The server kept answering 503 Service Unavailable until the attempt limit or deadline ran
    /// out, or the request was not safe to repeat (a 503 may come from a proxy after the origin
    /// already applied the write).
    #[non_exhaustive]
    Unavailable {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// 503.
        status: StatusCode,
        /// How many times the request was sent.
        attempts: u32,
        /// The server's last wait hint.
        retry_after: Option<Duration>,
        /// The parsed problem+json body, if the server sent one.
        problem: Option<Box<Problem>>,
    },

    /// The server asked for a wait longer than `RetryConfig::max_retry_after` and the client is
    /// configured to fail instead of clamping.
    #[non_exhaustive]
    RetryAfterTooLong {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// 429 or 503.
        status: StatusCode,
        /// The wait the server asked for.
        delay: Duration,
        /// The configured maximum.
        max: Duration,
    },

    /// The per-host retry budget is empty, so the client stopped retrying to avoid a retry storm.
    #[non_exhaustive]
    BudgetExhausted {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// The host whose budget ran out.
        host: String,
        /// The status that would have been retried.
        status: StatusCode,
    },

    /// A conditional write was needed but there is no strong ETag to send in `If-Match`.
    #[non_exhaustive]
    MissingEtag {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// Whether only a weak ETag was known (never usable in `If-Match`).
        weak: bool,
    },

    /// No response arrived within a timeout.
    #[non_exhaustive]
    Timeout {
        /// The request or operation, e.g. `PUT http://…/items/1` or `update of http://…`.
        what: String,
        /// The absolute URL.
        url: String,
        /// Whether the operation only reads (then nothing changed and it is safe to retry).
        read_only: bool,
        /// The limit that ran out.
        after: Duration,
        /// Which limit: one attempt's, or the whole operation's.
        scope: TimeoutScope,
    },

    /// A write was answered with a redirect, which the client never follows for writes: a
    /// followed redirect can turn a POST into a GET, drop the body, or send the precondition to
    /// another resource. Nothing was written at the new location.
    #[non_exhaustive]
    Redirected {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// The redirect status (301, 302, 303, 307, 308), when the transport saw it.
        status: Option<StatusCode>,
        /// Where the server redirected to, when known.
        location: Option<String>,
    },

    /// A write was resent after a 503 (which a proxy may send after the origin applied it), the
    /// resend was refused, and a re-read could not show that the first attempt landed. The change
    /// is not applied again.
    #[non_exhaustive]
    OutcomeUnknown {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// The status that refused the resend (412, 409, 404).
        status: StatusCode,
        /// What the re-read found.
        reason: String,
    },

    /// The resource is locked by someone else (423 Locked, RFC 4918): writes need the holder's
    /// lock token until it is released or expires.
    #[non_exhaustive]
    Locked {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// How long until the lock expires, when the server said (`Retry-After`).
        retry_after: Option<Duration>,
        /// The parsed problem+json body (its `owner` and `expires_at_ms` members).
        problem: Option<Box<Problem>>,
        /// When a transaction's commit was refused because a document it wrote is locked: the
        /// commit's absolute URL (`url` is then the locked document's, `method` the commit's).
        commit: Option<String>,
    },

    /// The lock this client held on the resource was lost (expired, broken, released, or its
    /// renewal refused), so a write under it was refused or not sent: a paused holder must not
    /// write after another client may have taken the lock.
    #[non_exhaustive]
    LockLost {
        /// The absolute URL of the locked resource.
        url: String,
        /// What happened to the lock.
        reason: String,
    },

    /// The response body could not be read as the requested type; the JSON error is `source()`.
    #[non_exhaustive]
    Decode {
        /// The absolute URL.
        url: String,
        /// The JSON error.
        source: serde_json::Error,
    },

    /// The request body could not be serialized to JSON; the JSON error is `source()`.
    #[non_exhaustive]
    Encode {
        /// The JSON error.
        source: serde_json::Error,
    },

    /// The user's change closure returned an error (its `source()`); nothing was written.
    #[non_exhaustive]
    Change {
        /// The absolute URL.
        url: String,
        /// The closure's error.
        source: BoxError,
    },

    /// The operation was cancelled through a [`crate::CancelToken`]; it may or may not have
    /// reached the server, and it is never reported as a success.
    #[non_exhaustive]
    Cancelled {
        /// The operation, e.g. `update of http://…/items/1`.
        what: String,
    },

    /// A transaction's commit was refused (409 `transaction-conflict`) because documents it read
    /// changed since: nothing was applied and the transaction is over. Run it again from the
    /// start (`client.transaction(...)` does so by itself).
    #[non_exhaustive]
    TransactionConflict {
        /// The commit's absolute URL.
        url: String,
        /// The documents that changed, when the server listed them.
        stale: Vec<StaleRead>,
        /// How many times the transaction ran (1 unless `client.transaction(...)` ran it again).
        attempts: u32,
        /// The parsed problem+json body.
        problem: Option<Box<Problem>>,
    },

    /// The server no longer knows the transaction a request named (404
    /// `transaction-not-found`): it expired, was rolled back, or the server restarted. Nothing
    /// it staged will be applied; begin a new one.
    #[non_exhaustive]
    TransactionLost {
        /// The request method.
        method: Method,
        /// The absolute URL of the request.
        url: String,
        /// What the server said about it (its `detail`).
        reason: Option<String>,
        /// The parsed problem+json body.
        problem: Option<Box<Problem>>,
    },

    /// One operation of an atomic batch failed, or could not be sent, so nothing of the batch
    /// was applied. The operation's own error is kept whole, as the single request would have
    /// had it: the predicates and accessors (`code()`, `is_conflict()`, `status()`,
    /// `problem()`, `current_etag()`, …) answer for it, and [`Error::failed_operation`] says
    /// which operation it was.
    #[non_exhaustive]
    Batch {
        /// The batch endpoint's absolute URL.
        url: String,
        /// The failed operation's index, from 0.
        operation: usize,
        /// What it was.
        op: BatchOp,
        /// How it named its document, e.g. `/items/a` or `lid "order"`; empty for a `create`
        /// without a local id.
        target: String,
        /// Whether the batch was sent (`false`: the operation was refused before sending).
        sent: bool,
        /// The operation's error.
        error: Box<Error>,
    },

    /// A past version of a document was asked for that the server does not keep (404
    /// `version-not-found`): it was never this document's version, or retention dropped it,
    /// or it is the deletion (which has no content).
    #[non_exhaustive]
    VersionNotFound {
        /// The absolute URL of the version that was asked for.
        url: String,
        /// The version asked for.
        version: u64,
        /// The oldest version the server still keeps, when it said (its `oldest` member).
        oldest: Option<u64>,
        /// The parsed problem+json body.
        problem: Option<Box<Problem>>,
    },

    /// A write to a server that keeps the version in the body
    /// ([`crate::ClientBuilder::version_field`]) had no version to put there: the document it
    /// was based on carried none at the pointer, or the precondition was only an ETag. Nothing
    /// was sent.
    #[non_exhaustive]
    MissingVersion {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// The version field's JSON Pointer.
        pointer: String,
    },

    /// `update()` read a resource that the server offers only with a weak ETag (which
    /// `If-Match` never matches), still after the re-reads its [`crate::WeakValidators`]
    /// policy allows, and the policy left no other safe condition (`If-Unmodified-Since`
    /// needs both the policy's consent and a `Last-Modified`). Nothing was written.
    #[non_exhaustive]
    WeakValidator {
        /// The absolute URL.
        url: String,
        /// The weak tag the last read had.
        etag: crate::EntityTag,
        /// The reads made after the first.
        rereads: u32,
        /// Whether the last read had `Last-Modified` (usable with
        /// [`crate::WeakValidators::or_unmodified_since`]).
        last_modified: bool,
    },

    /// The server refused the request's credentials: 401 Unauthorized (no valid token: code
    /// `unauthorized`) or 403 Forbidden (a valid token that may not do this: code
    /// `forbidden`, e.g. resolving another client's conflict). Nothing was changed.
    #[non_exhaustive]
    Auth {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// 401 or 403.
        status: StatusCode,
        /// The parsed problem+json body, if the server sent one.
        problem: Option<Box<Problem>>,
    },

    /// A conflict resolution was refused because the conflict is resolved already (409
    /// `conflict-resolved`); nothing was written.
    #[non_exhaustive]
    ConflictResolved {
        /// The resolution's absolute URL.
        url: String,
        /// The parsed problem+json body.
        problem: Option<Box<Problem>>,
    },
}

/// Which timeout ended a call; see [`Error::Timeout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutScope {
    /// One HTTP request got no complete response within the attempt timeout.
    Attempt,
    /// The whole operation (requests, waits, conflict retries) passed
    /// `RetryConfig::total_deadline`.
    Operation,
}
