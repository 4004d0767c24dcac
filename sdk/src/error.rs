//! The crate's one error type.

use std::{error::Error as StdError, fmt, time::Duration};

use http::Method;
use serde_json::Value;

use crate::{EntityTag, Problem};

/// A boxed error from a transport or a user closure.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Everything that can go wrong; match on the predicates rather than the variants where possible.
///
/// Every message says what happened, to which resource, and what to do next.
/// [`Error::code`] gives a stable machine-readable string for each kind.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A URL or path could not be used.
    #[error("invalid URL {input:?}: {reason}")]
    InvalidUrl {
        /// The text that was given.
        input: String,
        /// Why it was rejected and how to fix it.
        reason: String,
    },

    /// A builder setting is out of range or missing.
    #[error("invalid configuration for `{field}`: {reason}")]
    Config {
        /// The setting's name.
        field: &'static str,
        /// Why it was rejected and how to fix it.
        reason: String,
    },

    /// Text that should be an entity tag is not one.
    #[error("invalid entity tag {input:?}: {reason}")]
    InvalidEtag {
        /// The text that was given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The request never got an HTTP response (connection, DNS, TLS, timeout, body read).
    #[error("{method} {url} failed before a response arrived: {source}; check that the server is reachable, then retry")]
    Transport {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// The transport's error.
        source: BoxError,
    },

    /// The server answered with an error status this client does not recover from.
    #[error("{method} {url} returned {status}{}; {}", problem_suffix(problem.as_deref()), status_advice(*status))]
    Status {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The parsed problem+json body, if the server sent one.
        problem: Option<Box<Problem>>,
    },

    /// A write was refused because the resource changed since it was read (412, or a 409 that
    /// names a version conflict), and was not (or could no longer be) recovered.
    #[error("{method} {url} was refused with {status}{} because the resource changed since it was read{}; re-read it and apply the change again (client.update() does this for you)", attempts_suffix(*attempts), etag_suffix(current_etag.as_ref()))]
    Conflict {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// 412 or 409.
        status: u16,
        /// How many writes were sent in total.
        attempts: u32,
        /// The resource's current validator, when the server said it.
        current_etag: Option<EntityTag>,
        /// The parsed problem+json body, if the server sent one.
        problem: Option<Box<Problem>>,
    },

    /// A three-way merge found edits on both sides at the same JSON paths.
    #[error("three-way merge for {url} found overlapping edits at {}; resolve them with Strategy::three_way_merge_with(...) or use Strategy::Reapply", paths.join(", "))]
    MergeConflict {
        /// The absolute URL.
        url: String,
        /// JSON Pointers (RFC 6901) of the conflicting members.
        paths: Vec<String>,
    },

    /// The `Abort` strategy stopped at the first version conflict; the current state is attached.
    #[error("update of {url} aborted: the resource changed since it was read (now {}); inspect error.current() and decide, or choose another strategy", etag.as_ref().map_or_else(|| "without an ETag".to_owned(), |t| format!("ETag {t}")))]
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
    #[error("{method} {url} was throttled with {status} after {attempts} attempt(s){}; slow down, or raise RetryConfig::with_max_attempts / with_total_deadline", retry_after_suffix(*retry_after))]
    RateLimited {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// 429.
        status: u16,
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
    #[error("{method} {url} was answered {status} Service Unavailable after {attempts} attempt(s){}; the server is down or overloaded, retry later", retry_after_suffix(*retry_after))]
    Unavailable {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// 503.
        status: u16,
        /// How many times the request was sent.
        attempts: u32,
        /// The server's last wait hint.
        retry_after: Option<Duration>,
        /// The parsed problem+json body, if the server sent one.
        problem: Option<Box<Problem>>,
    },

    /// The server asked for a wait longer than `RetryConfig::max_retry_after` and the client is
    /// configured to fail instead of clamping.
    #[error("{method} {url} was answered {status} and asked to wait {delay:?}, longer than the allowed {max:?}; retry after that time, or use LongWaitPolicy::Clamp / a larger with_max_retry_after")]
    RetryAfterTooLong {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// 429 or 503.
        status: u16,
        /// The wait the server asked for.
        delay: Duration,
        /// The configured maximum.
        max: Duration,
    },

    /// The per-host retry budget is empty, so the client stopped retrying to avoid a retry storm.
    #[error("{method} {url} was not retried after {status}: the retry budget for {host} is exhausted; the server is overloaded, back off before sending more")]
    BudgetExhausted {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// The host whose budget ran out.
        host: String,
        /// The status that would have been retried.
        status: u16,
    },

    /// A conditional write was needed but the server gave no strong ETag to send in `If-Match`.
    #[error("{method} {url} needs If-Match but the server sent no strong ETag for it{}; make the server send strong ETags, or accept losing concurrent changes explicitly (Precondition::unconditional() for a write, MissingEtagPolicy::Unconditional for update())", weak_suffix(*weak))]
    MissingEtag {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// Whether the server sent only a weak ETag (never usable in `If-Match`).
        weak: bool,
    },

    /// No response arrived within a timeout; a write may or may not have been applied.
    #[error("{what} timed out after {after:?} ({}); a write may or may not have been applied, so read the resource before retrying it{}", scope.describe(), scope.advice())]
    Timeout {
        /// The request or operation, e.g. `PUT http://…/items/1`.
        what: String,
        /// The limit that ran out.
        after: Duration,
        /// Which limit: one attempt's, or the whole operation's.
        scope: TimeoutScope,
    },

    /// A write was answered with a redirect, which the client never follows for writes: a
    /// followed redirect can turn a POST into a GET, drop the body, or send the precondition to
    /// another resource. Nothing was written at the new location.
    #[error("{method} {url} was redirected{}{}; writes never follow redirects, so nothing was written there: send the write to the new location yourself", status.map_or_else(String::new, |s| format!(" with {s}")), location.as_ref().map_or_else(|| " (the browser hides where to)".to_owned(), |l| format!(" to {l}")))]
    Redirected {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// The redirect status (301, 302, 303, 307, 308), when the transport saw it.
        status: Option<u16>,
        /// Where the server redirected to, when known.
        location: Option<String>,
    },

    /// A write was resent after a 503 (which a proxy may send after the origin applied it), the
    /// resend was refused, and a re-read could not show that the first attempt landed. The change
    /// is not applied again.
    #[error("{method} {url} may or may not have been applied: an earlier attempt was answered 503, the resend was refused with {status}, and {reason}; read the resource and decide before writing again")]
    OutcomeUnknown {
        /// The request method.
        method: Method,
        /// The absolute URL.
        url: String,
        /// The status that refused the resend (412, 409, 404).
        status: u16,
        /// What the re-read found.
        reason: String,
    },

    /// The response body could not be read as the requested type.
    #[error("the response from {url} could not be decoded: {source}; check that the type matches the server's JSON")]
    Decode {
        /// The absolute URL.
        url: String,
        /// The JSON error.
        source: serde_json::Error,
    },

    /// The request body could not be serialized to JSON.
    #[error("the request body could not be serialized to JSON: {source}; make the value JSON-representable (e.g. maps need string keys)")]
    Encode {
        /// The JSON error.
        source: serde_json::Error,
    },

    /// The user's change closure returned an error; nothing was written.
    #[error("the change for {url} failed: {source}; nothing was written")]
    Change {
        /// The absolute URL.
        url: String,
        /// The closure's error.
        source: BoxError,
    },

    /// The operation was cancelled through a [`crate::CancelToken`]; it may or may not have
    /// reached the server, and it is never reported as a success.
    #[error("{what} was cancelled; it may or may not have reached the server, so read the resource before assuming either")]
    Cancelled {
        /// The operation, e.g. `update of http://…/items/1`.
        what: String,
    },
}

/// Which timeout ended a call; see [`Error::Timeout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutScope {
    /// One HTTP request got no complete response within `ClientBuilder::attempt_timeout`.
    Attempt,
    /// The whole operation (requests, waits, conflict retries) passed
    /// `RetryConfig::total_deadline`.
    Operation,
}

impl TimeoutScope {
    fn describe(self) -> &'static str {
        match self {
            Self::Attempt => "no response to this request",
            Self::Operation => "the whole operation",
        }
    }

    fn advice(self) -> &'static str {
        match self {
            Self::Attempt => "; raise ClientBuilder::attempt_timeout for a slow server",
            Self::Operation => "; raise RetryConfig::with_total_deadline for long operations",
        }
    }
}

fn problem_suffix(problem: Option<&Problem>) -> String {
    match problem {
        Some(p) => match (&p.title, &p.detail) {
            (_, Some(detail)) => format!(" ({detail})"),
            (Some(title), None) => format!(" ({title})"),
            (None, None) => String::new(),
        },
        None => String::new(),
    }
}

fn status_advice(status: u16) -> &'static str {
    match status {
        400 | 422 => "fix the request body",
        401 | 403 => "check the credentials",
        404 | 410 => "the resource does not exist; create it first",
        409 => "the write conflicts with the resource's state (not a version race); fix the data before retrying",
        428 => "the server requires If-Match; read the resource first so the client has its ETag",
        s if s >= 500 => "the server failed; retry later",
        _ => "see the status and problem details",
    }
}

fn etag_suffix(etag: Option<&EntityTag>) -> String {
    etag.map_or_else(String::new, |t| format!(" (current ETag {t})"))
}

fn attempts_suffix(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

fn retry_after_suffix(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |d| format!(" (server asked to wait {d:?})"))
}

fn weak_suffix(weak: bool) -> &'static str {
    if weak {
        " (only a weak one, which If-Match never matches)"
    } else {
        ""
    }
}

impl Error {
    /// A stable machine-readable name of the error kind (also the JS `code` in the wasm adapter):
    /// `invalid_url`, `invalid_config`, `invalid_etag`, `network`, `http_status`,
    /// `precondition_failed` (a 412 conflict), `conflict` (a version 409), `merge_conflict`,
    /// `aborted`, `rate_limited`, `unavailable`, `retry_after_too_long`, `retry_budget_exhausted`,
    /// `missing_etag`, `timeout`, `redirected`, `outcome_unknown`, `decode`, `encode`,
    /// `change_failed`, `cancelled`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => "invalid_url",
            Self::Config { .. } => "invalid_config",
            Self::InvalidEtag { .. } => "invalid_etag",
            Self::Transport { .. } => "network",
            Self::Status { .. } => "http_status",
            Self::Conflict { status: 412, .. } => "precondition_failed",
            Self::Conflict { .. } => "conflict",
            Self::MergeConflict { .. } => "merge_conflict",
            Self::Aborted { .. } => "aborted",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable { .. } => "unavailable",
            Self::Timeout { .. } => "timeout",
            Self::Redirected { .. } => "redirected",
            Self::OutcomeUnknown { .. } => "outcome_unknown",
            Self::RetryAfterTooLong { .. } => "retry_after_too_long",
            Self::BudgetExhausted { .. } => "retry_budget_exhausted",
            Self::MissingEtag { .. } => "missing_etag",
            Self::Decode { .. } => "decode",
            Self::Encode { .. } => "encode",
            Self::Change { .. } => "change_failed",
            Self::Cancelled { .. } => "cancelled",
        }
    }

    /// Whether the write lost a version race (412, version 409, merge conflict or abort).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Self::Conflict { .. } | Self::MergeConflict { .. } | Self::Aborted { .. }
        )
    }

    /// Whether the write was refused with 412 Precondition Failed (a lost version race).
    pub fn is_precondition_failed(&self) -> bool {
        matches!(self, Self::Conflict { status: 412, .. })
    }

    /// Whether a timeout ended the call ([`Error::Timeout`]).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// Whether a write may or may not have been applied: a timeout, a transport failure, a
    /// cancellation, or [`Error::OutcomeUnknown`]. Read the resource before writing again.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(
            self,
            Self::OutcomeUnknown { .. }
                | Self::Timeout { .. }
                | Self::Transport { .. }
                | Self::Cancelled { .. }
        )
    }

    /// Whether the server throttled the request (429), or asked for a wait (429/503) longer than
    /// allowed or beyond the retry budget, and the client gave up waiting.
    pub fn is_rate_limited(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::RetryAfterTooLong { .. }
                | Self::BudgetExhausted { .. }
        )
    }

    /// Whether the server answered 404 Not Found or 410 Gone.
    pub fn is_not_found(&self) -> bool {
        matches!(self.status(), Some(404 | 410))
    }

    /// Whether the operation was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled { .. })
    }

    /// The HTTP status that caused the error, if one did.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. }
            | Self::Conflict { status, .. }
            | Self::RateLimited { status, .. }
            | Self::Unavailable { status, .. }
            | Self::OutcomeUnknown { status, .. }
            | Self::RetryAfterTooLong { status, .. }
            | Self::BudgetExhausted { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's problem+json body, if it sent one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Self::Status { problem, .. }
            | Self::Conflict { problem, .. }
            | Self::RateLimited { problem, .. }
            | Self::Unavailable { problem, .. } => problem.as_deref(),
            _ => None,
        }
    }

    /// How long the server asked the client to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Unavailable { retry_after, .. } => {
                *retry_after
            }
            Self::RetryAfterTooLong { delay, .. } => Some(*delay),
            _ => None,
        }
    }

    /// The resource's current state carried by an [`Error::Aborted`].
    pub fn current(&self) -> Option<&Value> {
        match self {
            Self::Aborted { current, .. } => Some(current),
            _ => None,
        }
    }

    /// The resource's current ETag, when a conflict error knows it.
    pub fn current_etag(&self) -> Option<&EntityTag> {
        match self {
            Self::Conflict { current_etag, .. } => current_etag.as_ref(),
            Self::Aborted { etag, .. } => etag.as_ref(),
            _ => None,
        }
    }

    /// The JSON Pointers of overlapping edits carried by an [`Error::MergeConflict`].
    pub fn conflict_paths(&self) -> &[String] {
        match self {
            Self::MergeConflict { paths, .. } => paths,
            _ => &[],
        }
    }
}

/// An error returned by a change closure; converts from any `std::error::Error` with `?`.
///
/// ```
/// use ifmatch::ChangeError;
///
/// fn bump(doc: &mut serde_json::Value) -> Result<(), ChangeError> {
///     let n = doc["n"].as_i64().ok_or_else(|| ChangeError::msg("`n` must be a number"))?;
///     doc["n"] = (n + 1).into();
///     Ok(())
/// }
/// let mut doc = serde_json::json!({"n": 1});
/// bump(&mut doc)?;
/// assert_eq!(doc["n"], 2);
/// # Ok::<(), ChangeError>(())
/// ```
pub struct ChangeError(BoxError);

impl ChangeError {
    /// An error with a plain message.
    pub fn msg(message: impl Into<String>) -> Self {
        Self(message.into().into())
    }

    pub(crate) fn into_inner(self) -> BoxError {
        self.0
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for ChangeError {
    fn from(err: E) -> Self {
        Self(Box::new(err))
    }
}

impl fmt::Debug for ChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
