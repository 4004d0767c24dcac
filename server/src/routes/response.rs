//! Paths of documents and the refusals that depend on stored state. (Successful answers about
//! documents depend on the API version: see `representation.rs`.)

use crate::precondition::Verdict;
use crate::problem::{Problem, ProblemKind};
use crate::storage::{Document, StoreError};
use crate::MismatchStatus;

/// `/items/{id}` with the id percent-encoded where it is not an unreserved character.
pub(crate) fn item_path(id: &str) -> String {
    let mut path = String::from("/items/");
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

/// 404 for a document that does not exist.
pub(crate) fn not_found(instance: &str) -> Problem {
    Problem::new(
        ProblemKind::NotFound,
        instance,
        format!(
            "no document at {instance}; list existing ones with GET /items or create it with PUT"
        ),
    )
}

/// The refusal for a failed precondition, carrying the current tag when there is one.
pub(crate) fn refused(
    verdict: Verdict,
    current: Option<&Document>,
    mismatch: MismatchStatus,
    instance: &str,
) -> Problem {
    let current_etag = current.map(|doc| doc.etag.clone());
    let mismatch_kind = match mismatch {
        MismatchStatus::PreconditionFailed => ProblemKind::PreconditionFailed,
        MismatchStatus::Conflict => ProblemKind::VersionConflict,
    };
    let problem = match (verdict, &current_etag) {
        (Verdict::IfMatchFailed, Some(etag)) => Problem::new(
            mismatch_kind,
            instance,
            format!(
                "If-Match did not match the current entity tag {etag} of {instance}: the document changed since you read it. Nothing was changed; re-read the document, re-apply your change and retry with If-Match: {etag}"
            ),
        ),
        (Verdict::WeakIfMatch, Some(etag)) => Problem::new(
            mismatch_kind,
            instance,
            format!(
                "If-Match listed only weak entity tags (W/\"…\"), which never match because If-Match uses strong comparison. Nothing was changed; retry with the strong tag from the ETag header, currently If-Match: {etag}"
            ),
        ),
        (Verdict::IfMatchFailed | Verdict::WeakIfMatch, None) => Problem::new(
            ProblemKind::PreconditionFailed,
            instance,
            format!(
                "If-Match requires an existing document, but {instance} does not exist. Nothing was changed; to create it, send PUT with If-None-Match: *"
            ),
        ),
        _ => Problem::new(
            ProblemKind::PreconditionFailed,
            instance,
            format!(
                "If-None-Match matched the current document at {instance}, so it was not overwritten. Read it with GET, or replace it with If-Match and its current entity tag"
            ),
        ),
    };
    problem
        .with_observed(current_etag.clone())
        .with_current_etag(current_etag)
}

/// 500 for a storage failure (the cause is logged, not shown), 503 with `Retry-After: 1` when
/// the database cannot be reached, or 507 for a write refused because the store holds its
/// maximum number of documents.
pub(crate) fn internal(err: &StoreError, instance: &str) -> Problem {
    if let Some(max) = err.document_cap() {
        return Problem::new(
            ProblemKind::StorageFull,
            instance,
            format!(
                "this server holds at most {max} documents (--max-documents) and is full, so no document was created and nothing was changed. Delete documents you no longer need, or ask the operator to raise --max-documents; updates of existing documents still work"
            ),
        )
        .with_member("max_documents", serde_json::json!(max));
    }
    if err.is_unavailable() {
        tracing::warn!(%instance, error = %err, "storage unavailable");
        return Problem::new(
            ProblemKind::StorageUnavailable,
            instance,
            "the server cannot reach its database now. Retry after Retry-After seconds. A write whose connection was lost while it committed may have been applied: a retry with If-Match tells (412 if it was)",
        )
        .with_header(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("1"),
        );
    }
    tracing::error!(%instance, error = %err, "storage failure");
    Problem::new(
        ProblemKind::Internal,
        instance,
        "the server could not access its storage; nothing was changed. Retry later, and report it if it persists",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_path_escapes_everything_but_unreserved_characters() {
        assert_eq!(item_path("abc-1._~Z"), "/items/abc-1._~Z");
        assert_eq!(item_path("a b/ü"), "/items/a%20b%2F%C3%BC");
    }
}
