//! Reading what a request says: id, conditional headers, media type, body.

use std::pin::Pin;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::rejection::PathRejection;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::etag::Condition;
use crate::lock::LockToken;
use crate::precondition::Preconditions;
use crate::problem::{Problem, ProblemKind};
use crate::txn::TxId;

/// The id from `/items/{id}`.
pub(crate) fn item_id(
    path: Result<Path<String>, PathRejection>,
    instance: &str,
) -> Result<String, Problem> {
    path.map(|Path(id)| id).map_err(|rejection| {
        Problem::new(
            ProblemKind::NotFound,
            instance,
            format!("{instance} does not name a document ({rejection}); ids are the last path segment of a Location the server returned"),
        )
    })
}

/// Parses `If-Match` and `If-None-Match`; several field lines count as one list.
pub(crate) fn preconditions(headers: &HeaderMap, instance: &str) -> Result<Preconditions, Problem> {
    Ok(Preconditions {
        if_match: condition(headers, header::IF_MATCH, "If-Match", instance)?,
        if_none_match: condition(headers, header::IF_NONE_MATCH, "If-None-Match", instance)?,
        if_version: None,
    })
}

fn condition(
    headers: &HeaderMap,
    name: HeaderName,
    display: &str,
    instance: &str,
) -> Result<Option<Condition>, Problem> {
    let mut values = headers.get_all(name).iter().peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    let joined = values
        .map(|v| v.as_bytes())
        .collect::<Vec<_>>()
        .join(&b","[..]);
    Condition::parse(&joined).map(Some).map_err(|reason| {
        Problem::new(
            ProblemKind::InvalidHeader,
            instance,
            format!(
                "{display} value `{}` is malformed: {reason}. Send `*` or a comma-separated list of quoted entity-tags exactly as the ETag header returned them, e.g. {display}: \"abc-1\"",
                shorten(&String::from_utf8_lossy(&joined))
            ),
        )
    })
}

/// The `Lock-Token` field: `None` when absent; 400 when malformed or sent more than once.
pub(crate) fn lock_token(
    headers: &HeaderMap,
    instance: &str,
) -> Result<Option<LockToken>, Problem> {
    let mut values = headers.get_all(LOCK_TOKEN).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid = |reason: &str| {
        Problem::new(
            ProblemKind::InvalidHeader,
            instance,
            format!(
                "Lock-Token value `{}` is malformed: {reason}. Send the token exactly as the Lock-Token header of the lock's 201 answer gave it, e.g. Lock-Token: \"lock-…\"",
                shorten(&String::from_utf8_lossy(value.as_bytes()))
            ),
        )
    };
    if values.next().is_some() {
        return Err(invalid(
            "the field is sent more than once; send exactly one token",
        ));
    }
    LockToken::parse(value.as_bytes())
        .map(Some)
        .map_err(|reason| invalid(&reason))
}

/// The `Transaction-Id` field: `None` when absent; 400 when malformed or sent more than once.
pub(crate) fn transaction_id(headers: &HeaderMap, instance: &str) -> Result<Option<TxId>, Problem> {
    let mut values = headers.get_all(TRANSACTION_ID).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid = |reason: &str| {
        Problem::new(
            ProblemKind::InvalidHeader,
            instance,
            format!(
                "Transaction-Id value `{}` is malformed: {reason}. Send the id exactly as POST /transactions gave it, e.g. Transaction-Id: tx-…",
                shorten(&String::from_utf8_lossy(value.as_bytes()))
            ),
        )
    };
    if values.next().is_some() {
        return Err(invalid(
            "the field is sent more than once; send exactly one id",
        ));
    }
    TxId::parse(value.as_bytes())
        .map(Some)
        .map_err(|reason| invalid(&reason))
}

/// The field that names the transaction a request acts in.
pub(crate) const TRANSACTION_ID: HeaderName = HeaderName::from_static("transaction-id");

/// The field that carries a lock token (RFC 4918 §10.5).
pub(crate) const LOCK_TOKEN: HeaderName = HeaderName::from_static("lock-token");

fn shorten(text: &str) -> String {
    const MAX: usize = 100;
    if text.chars().count() <= MAX {
        return text.escape_debug().to_string();
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{}…", cut.escape_debug())
}

/// Requires a JSON media type: `application/json` or any `+json` suffix type.
pub(crate) fn require_json(headers: &HeaderMap, instance: &str) -> Result<(), Problem> {
    let media = media_type(headers);
    let is_json = media.as_deref().is_some_and(|media| {
        media == "application/json"
            || media
                .split_once('/')
                .is_some_and(|(kind, subtype)| !kind.is_empty() && subtype.ends_with("+json"))
    });
    if is_json {
        return Ok(());
    }
    Err(Problem::new(
        ProblemKind::UnsupportedMediaType,
        instance,
        format!(
            "{}; send the document as JSON with Content-Type: application/json",
            describe_media(media.as_deref())
        ),
    ))
}

/// The media type PATCH accepts.
pub(crate) const MERGE_PATCH: &str = "application/merge-patch+json";

/// Requires `application/merge-patch+json`; the 415 names it in `Accept-Patch` (RFC 5789 §3.1).
pub(crate) fn require_merge_patch(headers: &HeaderMap, instance: &str) -> Result<(), Problem> {
    let media = media_type(headers);
    if media.as_deref() == Some(MERGE_PATCH) {
        return Ok(());
    }
    Err(Problem::new(
        ProblemKind::UnsupportedMediaType,
        instance,
        format!(
            "{}; PATCH takes a JSON Merge Patch (RFC 7396) with Content-Type: {MERGE_PATCH}",
            describe_media(media.as_deref())
        ),
    )
    .with_header(
        HeaderName::from_static("accept-patch"),
        header::HeaderValue::from_static(MERGE_PATCH),
    ))
}

fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    Some(essence.to_ascii_lowercase())
}

fn describe_media(media: Option<&str>) -> String {
    match media {
        None => "the request has no usable Content-Type".to_owned(),
        Some(media) => format!("Content-Type `{}` is not accepted here", shorten(media)),
    }
}

/// Reads the whole body, refusing more than `limit` bytes with 413.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    mut body: Body,
    limit: usize,
    instance: &str,
) -> Result<Bytes, Problem> {
    let too_large = || {
        Problem::new(
            ProblemKind::PayloadTooLarge,
            instance,
            format!("the request body is larger than this server's limit of {limit} bytes; send a smaller document"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut buffer = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|err| match crate::bounds::timed_out(&err) {
            Some(timeout) => Problem::new(
                ProblemKind::RequestTimeout,
                instance,
                format!(
                    "the request body did not arrive within this server's limit of {} ms; nothing was written. Send the whole body without pausing, or ask for a longer --body-timeout",
                    timeout.as_millis()
                ),
            )
            .with_header(header::CONNECTION, HeaderValue::from_static("close")),
            None => Problem::new(
                ProblemKind::MalformedBody,
                instance,
                format!("the request body could not be read ({err}); resend the request"),
            ),
        })?;
        if let Ok(data) = frame.into_data() {
            if buffer.len() + data.len() > limit {
                return Err(too_large());
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buffer))
}

/// Parses a JSON body.
pub(crate) fn parse_json(bytes: &[u8], instance: &str) -> Result<Value, Problem> {
    serde_json::from_slice(bytes).map_err(|err| {
        Problem::new(
            ProblemKind::MalformedBody,
            instance,
            format!("the request body is not valid JSON ({err}); send one complete JSON document"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn json_and_json_suffix_media_types_are_accepted() {
        for value in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/merge-patch+json",
            "application/vnd.example+json",
        ] {
            assert!(require_json(&with_type(value), "/items").is_ok(), "{value}");
        }
    }

    #[test]
    fn other_or_missing_media_types_are_refused_with_415() {
        for value in ["text/plain", "application/jsonx", "json", "/+json"] {
            let problem = require_json(&with_type(value), "/items").unwrap_err();
            assert_eq!(problem.kind(), ProblemKind::UnsupportedMediaType, "{value}");
        }
        let problem = require_json(&HeaderMap::new(), "/items").unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::UnsupportedMediaType);
    }

    #[test]
    fn patch_requires_exactly_merge_patch() {
        assert!(require_merge_patch(&with_type("application/merge-patch+json"), "/i").is_ok());
        assert!(require_merge_patch(&with_type("application/json"), "/i").is_err());
        assert!(require_merge_patch(&with_type("application/json-patch+json"), "/i").is_err());
    }

    #[test]
    fn several_if_match_lines_form_one_list() {
        let mut headers = HeaderMap::new();
        headers.append(header::IF_MATCH, HeaderValue::from_static("\"a\""));
        headers.append(header::IF_MATCH, HeaderValue::from_static("\"b\""));
        let pre = preconditions(&headers, "/items/x").unwrap();
        assert!(matches!(pre.if_match, Some(Condition::Tags(tags)) if tags.len() == 2));
        assert!(pre.if_none_match.is_none());
    }

    #[test]
    fn lock_token_is_optional_single_and_well_formed() {
        assert_eq!(lock_token(&HeaderMap::new(), "/i").unwrap(), None);
        let mut headers = HeaderMap::new();
        headers.insert(LOCK_TOKEN, HeaderValue::from_static("\"lock-a-1-b\""));
        assert_eq!(
            lock_token(&headers, "/i").unwrap().unwrap().as_str(),
            "lock-a-1-b"
        );
        headers.append(LOCK_TOKEN, HeaderValue::from_static("\"lock-a-2-b\""));
        let twice = lock_token(&headers, "/i").unwrap_err();
        assert_eq!(twice.kind(), ProblemKind::InvalidHeader);
        headers.insert(LOCK_TOKEN, HeaderValue::from_static("\"unclosed"));
        assert!(lock_token(&headers, "/i").is_err());
    }

    #[test]
    fn unquoted_if_match_is_an_invalid_header() {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_MATCH, HeaderValue::from_static("abc"));
        let problem = preconditions(&headers, "/items/x").unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::InvalidHeader);
    }
}
