//! The middleware that records refused writes, in one place for every route that writes.
//!
//! Handlers answer as they always did; a refusal they mark with [`Observed`] (the version the
//! write was judged against, which only they know exactly) is recorded here, with what the
//! request says (method, path, client, `If-Match`, body), and its problem body gains
//! `conflict_id` and `conflict_url`. Requests that cannot be refused as a conflict pass
//! through untouched and unbuffered.

mod facts;

use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use self::facts::{Asked, Target};
use super::record::Record;
use super::Conflicts;
use crate::auth::Identity;
use crate::lock::now;
use crate::problem::Observed;

/// The largest problem body read back to add the conflict members (problems are small).
const MAX_PROBLEM_BYTES: usize = 256 * 1024;

/// Middleware: records the refusals of writes as conflicts.
pub(crate) async fn capture(
    State(conflicts): State<Arc<Conflicts>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(target) = Target::classify(request.method(), request.uri().path(), request.headers())
    else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let bytes = if target.has_body() {
        match buffer(body, conflicts.max_body_bytes).await {
            Ok(bytes) => bytes,
            Err((read, err)) => {
                let failed = Body::new(crate::bounds::Failed::new(read, err));
                return next.run(Request::from_parts(parts, failed)).await;
            }
        }
    } else {
        Bytes::new()
    };
    let asked = Asked {
        target,
        client: parts.extensions.get::<Identity>().map(|i| i.name.clone()),
        if_match: parts.headers.get(header::IF_MATCH).cloned(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: bytes.clone(),
    };
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if !matches!(
        response.status(),
        StatusCode::CONFLICT | StatusCode::PRECONDITION_FAILED | StatusCode::LOCKED
    ) {
        return response;
    }
    let Some(Observed(current)) = response.extensions().get::<Observed>().cloned() else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    let Ok(problem) = axum::body::to_bytes(body, MAX_PROBLEM_BYTES).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(Value::Object(members)) = serde_json::from_slice::<Value>(&problem) else {
        return Response::from_parts(parts, Body::from(problem));
    };
    let Some(draft) = asked.draft(&members, current.as_ref(), conflicts.settings.body_limit) else {
        return Response::from_parts(parts, Body::from(problem));
    };
    let record = match conflicts.record(draft, now().unix_ms).await {
        Ok(record) => record,
        Err(err) => {
            // The refusal stands; only its record is missing.
            tracing::error!(error = %err, "recording a conflict failed");
            return Response::from_parts(parts, Body::from(problem));
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(with_conflict(&problem, &record)))
}

/// The problem body with `conflict_id` and `conflict_url` appended, the other members kept as
/// they were, in their order.
fn with_conflict(problem: &[u8], record: &Record) -> Vec<u8> {
    let mut body = problem.trim_ascii_end().to_vec();
    body.pop(); // the object's closing brace; the body parsed as an object
    let members = json!({"conflict_id": record.id, "conflict_url": record.url()}).to_string();
    body.push(b',');
    body.extend_from_slice(&members.as_bytes()[1..]);
    body
}

/// Reads the body, at most `limit + 1` bytes: enough to record it, and for the handler to
/// refuse a larger one with 413 in its own order of checks. A body that fails to arrive (the
/// client went away, or missed the body timeout) is passed on with its failure, so the handler
/// answers as for any unreadable body: a body cut short must never be parsed and written.
async fn buffer(mut body: Body, limit: usize) -> Result<Bytes, (Bytes, axum::Error)> {
    let mut buffer = Vec::new();
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = match frame {
            Ok(frame) => frame,
            Err(err) => return Err((Bytes::from(buffer), err)),
        };
        if let Ok(data) = frame.into_data() {
            buffer.extend_from_slice(&data);
            if buffer.len() > limit {
                break;
            }
        }
    }
    Ok(Bytes::from(buffer))
}
