//! RFC 9457 problem details: every 4xx/5xx answer of the server is one of these.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::etag::EntityTag;

/// The media type of every error body.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// The kinds of problem the server reports; each has a fixed status and `type` URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProblemKind {
    PreconditionFailed,
    VersionConflict,
    PreconditionRequired,
    NotFound,
    MalformedBody,
    InvalidHeader,
    UnsupportedMediaType,
    PayloadTooLarge,
    MethodNotAllowed,
    RateLimited,
    Internal,
    Locked,
    LockTokenInvalid,
    LockQueueFull,
    InvalidQuery,
    TransactionNotFound,
    TransactionConflict,
    TransactionTooLarge,
    TooManyTransactions,
    /// One client holds `--max-client-transactions` transactions open.
    TooManyClientTransactions,
    Unauthorized,
    Forbidden,
    ConflictNotFound,
    ConflictResolved,
    TooManySubscribers,
    /// One client holds `--max-subscribers-per-client` conflict streams open.
    TooManyClientSubscribers,
    VersionNotFound,
    UnsupportedApiVersion,
    /// The same problem type as `UnsupportedApiVersion`, answered 404: an unknown URL prefix
    /// (`/v3/items`) names no resource.
    UnknownApiVersionPrefix,
    /// An `Idempotency-Key` sent again with a different request.
    IdempotencyKeyReused,
    /// An `Idempotency-Key` sent again while its first request is still being processed.
    IdempotencyKeyInFlight,
    /// The request head is over `--max-header-bytes`.
    HeadersTooLarge,
    /// The request body did not arrive within `--body-timeout`.
    RequestTimeout,
    /// A write would create a document in a store that holds `--max-documents`.
    StorageFull,
    /// The database cannot be reached now (refused or lost connection, shutting down).
    StorageUnavailable,
}

impl ProblemKind {
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::VersionConflict => StatusCode::CONFLICT,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MalformedBody | Self::InvalidHeader => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Locked => StatusCode::LOCKED,
            // RFC 4918 §12.1 answers a failed lock-token condition with 412 too.
            Self::LockTokenInvalid => StatusCode::PRECONDITION_FAILED,
            Self::LockQueueFull => StatusCode::SERVICE_UNAVAILABLE,
            Self::InvalidQuery => StatusCode::BAD_REQUEST,
            Self::TransactionNotFound => StatusCode::NOT_FOUND,
            Self::TransactionConflict => StatusCode::CONFLICT,
            Self::TransactionTooLarge => StatusCode::BAD_REQUEST,
            Self::TooManyTransactions => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyClientTransactions => StatusCode::TOO_MANY_REQUESTS,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::ConflictNotFound => StatusCode::NOT_FOUND,
            Self::ConflictResolved => StatusCode::CONFLICT,
            Self::TooManySubscribers => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyClientSubscribers => StatusCode::TOO_MANY_REQUESTS,
            Self::VersionNotFound => StatusCode::NOT_FOUND,
            Self::UnsupportedApiVersion => StatusCode::BAD_REQUEST,
            Self::UnknownApiVersionPrefix => StatusCode::NOT_FOUND,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::IdempotencyKeyInFlight => StatusCode::CONFLICT,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            Self::StorageUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub(crate) fn type_uri(self) -> &'static str {
        match self {
            Self::PreconditionFailed => "urn:ifmatch:problem:precondition-failed",
            Self::VersionConflict => "urn:ifmatch:problem:version-conflict",
            Self::PreconditionRequired => "urn:ifmatch:problem:precondition-required",
            Self::NotFound => "urn:ifmatch:problem:not-found",
            Self::MalformedBody => "urn:ifmatch:problem:malformed-body",
            Self::InvalidHeader => "urn:ifmatch:problem:invalid-header",
            Self::UnsupportedMediaType => "urn:ifmatch:problem:unsupported-media-type",
            Self::PayloadTooLarge => "urn:ifmatch:problem:payload-too-large",
            Self::MethodNotAllowed => "urn:ifmatch:problem:method-not-allowed",
            Self::RateLimited => "urn:ifmatch:problem:rate-limited",
            Self::Internal => "urn:ifmatch:problem:internal",
            Self::Locked => "urn:ifmatch:problem:locked",
            Self::LockTokenInvalid => "urn:ifmatch:problem:lock-token-invalid",
            Self::LockQueueFull => "urn:ifmatch:problem:lock-queue-full",
            Self::InvalidQuery => "urn:ifmatch:problem:invalid-query",
            Self::TransactionNotFound => "urn:ifmatch:problem:transaction-not-found",
            Self::TransactionConflict => "urn:ifmatch:problem:transaction-conflict",
            Self::TransactionTooLarge => "urn:ifmatch:problem:transaction-too-large",
            Self::TooManyTransactions => "urn:ifmatch:problem:too-many-transactions",
            Self::TooManyClientTransactions => "urn:ifmatch:problem:too-many-client-transactions",
            Self::Unauthorized => "urn:ifmatch:problem:unauthorized",
            Self::Forbidden => "urn:ifmatch:problem:forbidden",
            Self::ConflictNotFound => "urn:ifmatch:problem:conflict-not-found",
            Self::ConflictResolved => "urn:ifmatch:problem:conflict-resolved",
            Self::TooManySubscribers => "urn:ifmatch:problem:too-many-subscribers",
            Self::TooManyClientSubscribers => "urn:ifmatch:problem:too-many-client-subscribers",
            Self::VersionNotFound => "urn:ifmatch:problem:version-not-found",
            Self::UnsupportedApiVersion | Self::UnknownApiVersionPrefix => {
                "urn:ifmatch:problem:unsupported-api-version"
            }
            Self::IdempotencyKeyReused => "urn:ifmatch:problem:idempotency-key-reused",
            Self::IdempotencyKeyInFlight => "urn:ifmatch:problem:idempotency-key-in-flight",
            Self::HeadersTooLarge => "urn:ifmatch:problem:headers-too-large",
            Self::RequestTimeout => "urn:ifmatch:problem:request-timeout",
            Self::StorageFull => "urn:ifmatch:problem:storage-full",
            Self::StorageUnavailable => "urn:ifmatch:problem:storage-unavailable",
        }
    }

    pub(crate) fn title(self) -> &'static str {
        match self {
            Self::PreconditionFailed => "Precondition failed",
            Self::VersionConflict => "Version conflict",
            Self::PreconditionRequired => "Precondition required",
            Self::NotFound => "Not found",
            Self::MalformedBody => "Malformed request body",
            Self::InvalidHeader => "Invalid header",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::PayloadTooLarge => "Payload too large",
            Self::MethodNotAllowed => "Method not allowed",
            Self::RateLimited => "Too many requests",
            Self::Internal => "Internal server error",
            Self::Locked => "Locked",
            Self::LockTokenInvalid => "Lock token invalid",
            Self::LockQueueFull => "Lock queue full",
            Self::InvalidQuery => "Invalid query",
            Self::TransactionNotFound => "Transaction not found",
            Self::TransactionConflict => "Transaction conflict",
            Self::TransactionTooLarge => "Transaction too large",
            Self::TooManyTransactions => "Too many transactions",
            Self::TooManyClientTransactions => "Too many transactions from this client",
            Self::Unauthorized => "Unauthorized",
            Self::Forbidden => "Forbidden",
            Self::ConflictNotFound => "Conflict not found",
            Self::ConflictResolved => "Conflict already resolved",
            Self::TooManySubscribers => "Too many subscribers",
            Self::TooManyClientSubscribers => "Too many subscribers from this client",
            Self::VersionNotFound => "Version not found",
            Self::UnsupportedApiVersion | Self::UnknownApiVersionPrefix => {
                "Unsupported API version"
            }
            Self::IdempotencyKeyReused => "Idempotency key reused",
            Self::IdempotencyKeyInFlight => "Request still in flight",
            Self::HeadersTooLarge => "Request header fields too large",
            Self::RequestTimeout => "Request timeout",
            Self::StorageFull => "Insufficient storage",
            Self::StorageUnavailable => "Storage unavailable",
        }
    }
}

/// One problem answer: the body members plus any headers it must carry.
/// Boxed so that `Result<_, Problem>` stays small on the happy path.
#[derive(Debug)]
pub(crate) struct Problem(Box<Parts>);

#[derive(Debug)]
struct Parts {
    kind: ProblemKind,
    detail: String,
    instance: String,
    current_etag: Option<EntityTag>,
    /// Whether the current tag also goes into the `ETag` header: not when the answer is about
    /// another resource than the one the tag belongs to (a batch).
    etag_header: bool,
    members: serde_json::Map<String, serde_json::Value>,
    headers: HeaderMap,
    /// What the conflict log needs to know and the body does not say (see [`Observed`]).
    observed: Option<Observed>,
}

/// The version of the document a refused write was judged against (`None`: absent), for the
/// conflict log (`crate::conflicts`). A refusal that carries it may be recorded as a conflict;
/// it travels in the response's extensions and is never sent to the client. Refusals that are
/// not conflicts (a batch operation refused against the batch's own earlier write) leave it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Observed(pub(crate) Option<EntityTag>);

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    type_uri: &'static str,
    title: &'static str,
    status: u16,
    detail: &'a str,
    instance: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_etag: Option<String>,
    #[serde(flatten)]
    members: &'a serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    /// A problem about the request to `instance` (the request path).
    pub(crate) fn new(kind: ProblemKind, instance: &str, detail: impl Into<String>) -> Self {
        Self(Box::new(Parts {
            kind,
            detail: detail.into(),
            instance: instance.to_owned(),
            current_etag: None,
            etag_header: true,
            members: serde_json::Map::new(),
            headers: HeaderMap::new(),
            observed: None,
        }))
    }

    /// Reports the current entity tag in the `ETag` header and the `current_etag` member.
    pub(crate) fn with_current_etag(mut self, etag: Option<EntityTag>) -> Self {
        self.0.current_etag = etag;
        self
    }

    /// Turns a problem about one document into one about a request to `instance` that
    /// touched it (a batch): `detail` gets `context` in front, and the current tag stays a body
    /// member only, since an `ETag` header would describe `instance`.
    pub(crate) fn within(mut self, instance: &str, context: &str) -> Self {
        self.0.instance = instance.to_owned();
        self.0.detail = format!("{context}: {}", self.0.detail);
        self.0.etag_header = false;
        self
    }

    /// Adds an extension member to the body (RFC 9457 §3.2); clients ignore ones they do not know.
    pub(crate) fn with_member(mut self, name: &str, value: serde_json::Value) -> Self {
        self.0.members.insert(name.to_owned(), value);
        self
    }

    /// Marks the problem as a refused write the conflict log may record, judged against
    /// `current` (see [`Observed`]).
    pub(crate) fn with_observed(mut self, current: Option<EntityTag>) -> Self {
        self.0.observed = Some(Observed(current));
        self
    }

    /// Adds a header to the answer; `value` must be a valid header value.
    pub(crate) fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.insert(name, value);
        self
    }

    #[cfg(test)]
    pub(crate) fn kind(&self) -> ProblemKind {
        self.0.kind
    }

    /// The body as JSON, for tests that look at the members.
    #[cfg(test)]
    pub(crate) fn body_value(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body_json()).unwrap_or_default()
    }

    fn body_json(&self) -> Vec<u8> {
        let parts = &self.0;
        let body = Body {
            type_uri: parts.kind.type_uri(),
            title: parts.kind.title(),
            status: parts.kind.status().as_u16(),
            detail: &parts.detail,
            instance: &parts.instance,
            current_etag: parts.current_etag.as_ref().map(ToString::to_string),
            members: &parts.members,
        };
        // Serializing a struct of strings and integers cannot fail.
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = self.body_json();
        let parts = *self.0;
        let mut headers = parts.headers;
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(etag) = parts.current_etag.as_ref().filter(|_| parts.etag_header) {
            if let Ok(value) = HeaderValue::from_str(&etag.to_string()) {
                headers.insert(header::ETAG, value);
            }
        }
        let mut response = (parts.kind.status(), headers, body).into_response();
        if let Some(observed) = parts.observed {
            response.extensions_mut().insert(observed);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_member_equals_http_status_for_every_kind() {
        let kinds = [
            ProblemKind::PreconditionFailed,
            ProblemKind::VersionConflict,
            ProblemKind::PreconditionRequired,
            ProblemKind::NotFound,
            ProblemKind::MalformedBody,
            ProblemKind::InvalidHeader,
            ProblemKind::UnsupportedMediaType,
            ProblemKind::PayloadTooLarge,
            ProblemKind::MethodNotAllowed,
            ProblemKind::RateLimited,
            ProblemKind::Internal,
            ProblemKind::Locked,
            ProblemKind::LockTokenInvalid,
            ProblemKind::LockQueueFull,
            ProblemKind::InvalidQuery,
            ProblemKind::TransactionNotFound,
            ProblemKind::TransactionConflict,
            ProblemKind::TransactionTooLarge,
            ProblemKind::TooManyTransactions,
            ProblemKind::TooManyClientTransactions,
            ProblemKind::Unauthorized,
            ProblemKind::Forbidden,
            ProblemKind::ConflictNotFound,
            ProblemKind::ConflictResolved,
            ProblemKind::TooManySubscribers,
            ProblemKind::TooManyClientSubscribers,
            ProblemKind::VersionNotFound,
            ProblemKind::UnsupportedApiVersion,
            ProblemKind::UnknownApiVersionPrefix,
            ProblemKind::StorageFull,
        ];
        for kind in kinds {
            let problem = Problem::new(kind, "/items/x", "detail");
            let body: serde_json::Value = serde_json::from_slice(&problem.body_json()).unwrap();
            assert_eq!(body["status"], kind.status().as_u16(), "{kind:?}");
            assert_eq!(body["type"], kind.type_uri(), "{kind:?}");
            assert!(body.get("current_etag").is_none());
            let response = problem.into_response();
            assert_eq!(response.status(), kind.status());
            assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        }
    }

    #[test]
    fn extension_members_sit_beside_the_standard_ones() {
        let problem = Problem::new(ProblemKind::Locked, "/items/x/lock", "held")
            .with_member("owner", serde_json::json!("alice"))
            .with_member("expires_at_ms", serde_json::json!(5));
        let body: serde_json::Value = serde_json::from_slice(&problem.body_json()).unwrap();
        assert_eq!(body["status"], 423);
        assert_eq!(body["owner"], "alice");
        assert_eq!(body["expires_at_ms"], 5);
    }
}
