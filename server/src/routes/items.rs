//! The `/items` collection: list and create.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::request::{read_body, require_json, transaction_id};
use super::response::internal;
use super::{blocking, inside, AppState};
use crate::api_version::Api;
use crate::auth::Author;
use crate::precondition::{Current, Method, Verdict};
use crate::problem::{Problem, ProblemKind};
use crate::storage::Document;

/// `GET /items` → `{"items":[{"id":…,"etag":…,"value":…}]}` in creation order (v2: a list of
/// envelopes).
pub(super) async fn list(
    State(app): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    api: Api,
) -> Result<Response, Problem> {
    if transaction_id(&headers, uri.path())?.is_some() {
        return Err(Problem::new(
            ProblemKind::InvalidHeader,
            uri.path(),
            "GET /items lists committed documents and is not transactional here: send it without Transaction-Id, and read the documents you need inside the transaction one by one (GET /items/{id})",
        ));
    }
    let docs = blocking(&app.store, |store| store.list())
        .await
        .map_err(|err| internal(&err, uri.path()))?;
    let body = api.list_body(&docs);
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    Ok((StatusCode::OK, headers, body).into_response())
}

/// Stored bodies are canonical JSON already, so they are spliced in as they are.
pub(super) fn list_body(docs: &[(String, Document)]) -> Vec<u8> {
    let mut body = b"{\"items\":[".to_vec();
    for (index, (id, doc)) in docs.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        body.extend_from_slice(b"{\"id\":");
        body.extend_from_slice(&json_string(id));
        body.extend_from_slice(b",\"etag\":");
        body.extend_from_slice(&json_string(&doc.etag.to_string()));
        body.extend_from_slice(b",\"value\":");
        body.extend_from_slice(&doc.body);
        body.push(b'}');
    }
    body.extend_from_slice(b"]}");
    body
}

fn json_string(text: &str) -> Vec<u8> {
    // Serializing a string cannot fail.
    serde_json::to_vec(text).unwrap_or_default()
}

/// `POST /items` → 201 with `Location`, `ETag` and the stored document.
pub(super) async fn create(
    State(app): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    api: Api,
    Author(author): Author,
    body: Body,
) -> Result<Response, Problem> {
    let instance = uri.path();
    if let Some(tx) = transaction_id(&headers, instance)? {
        return Ok(inside::create(&app, api, tx, instance, &headers, body).await);
    }
    let mut pre = api.preconditions(&headers, instance)?;
    require_json(&headers, instance)?;
    let bytes = read_body(&headers, body, app.max_body_bytes, instance).await?;
    let value = api.write_body(&bytes, &mut pre, instance)?;
    // The collection exists but has no entity tag: only `If-Match: *` can hold.
    let verdict = pre.evaluate(Current::Untagged, Method::Write);
    if verdict != Verdict::Proceed {
        return Err(api.refused(verdict, &pre, None, app.mismatch, instance));
    }
    let canonical = canonical_json(&value);
    let (id, doc) = blocking(&app.store, move |store| {
        store.insert_new_as(author.as_deref(), canonical)
    })
    .await
    .map_err(|err| internal(&err, instance))?;
    Ok(api.written(StatusCode::CREATED, &id, &doc))
}

/// The one serialization of a document (compact). It is computed once per write and stored,
/// so every later read returns exactly the bytes the write answered with.
pub(crate) fn canonical_json(value: &serde_json::Value) -> Vec<u8> {
    // Serializing a `Value` cannot fail: its map keys are always strings.
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etag::EntityTag;

    #[test]
    fn list_body_is_valid_json_with_the_stored_values() {
        let docs = vec![
            (
                "a\"b".to_owned(),
                Document {
                    etag: EntityTag::strong("e-1".to_owned()),
                    body: b"{\"n\":1}".to_vec(),
                    at_ms: 0,
                },
            ),
            (
                "c".to_owned(),
                Document {
                    etag: EntityTag::strong("e-2".to_owned()),
                    body: b"[]".to_vec(),
                    at_ms: 0,
                },
            ),
        ];
        let parsed: serde_json::Value = serde_json::from_slice(&list_body(&docs)).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"items":[
                {"id":"a\"b","etag":"\"e-1\"","value":{"n":1}},
                {"id":"c","etag":"\"e-2\"","value":[]},
            ]})
        );
        assert_eq!(list_body(&[]), b"{\"items\":[]}");
    }

    #[test]
    fn canonical_json_drops_whitespace() {
        let value: serde_json::Value = serde_json::from_str("{ \"a\": [ 2, {} ] }").unwrap();
        assert_eq!(canonical_json(&value), b"{\"a\":[2,{}]}");
    }
}
