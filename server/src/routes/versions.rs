//! A document's history: `GET /items/{id}/versions` lists the kept versions newest first,
//! `GET`/`HEAD /items/{id}/versions/{n}` reads one as it was. Restoring is an ordinary
//! conditional write of an old body, so history is never rewritten.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::request::item_id;
use super::response::internal;
use super::{blocking, AppState};
use crate::api_version::Api;
use crate::problem::{Problem, ProblemKind};
use crate::storage::{HistoryPolicy, Lookup, VersionInfo};

/// `GET /items/{id}/versions` → `{"versions": [...], "policy": {...}}`, the same JSON in both
/// API versions.
pub(super) async fn list(
    State(app): State<AppState>,
    path: super::item::IdPath,
    uri: Uri,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = item_id(path, instance)?;
    let document = document_path(instance);
    let history = blocking(&app.store, move |store| store.history(&id))
        .await
        .map_err(|err| internal(&err, instance))?
        .ok_or_else(|| no_history(instance, &document))?;
    let versions: Vec<Value> = history.iter().map(entry).collect();
    let body = json!({"versions": versions, "policy": policy(app.store.policy())});
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    Ok((StatusCode::OK, headers, body.to_string()).into_response())
}

fn entry(info: &VersionInfo) -> Value {
    let mut value = json!({
        "version": info.version,
        "at_ms": info.at_ms,
        "author": info.author,
        "deleted": info.deleted,
        "size": info.size,
    });
    if let Some(etag) = &info.etag {
        value["etag"] = Value::from(etag.to_string());
    }
    value
}

fn policy(policy: HistoryPolicy) -> Value {
    json!({
        "max_versions": policy.max_versions,
        "max_age_ms": policy.max_age_ms,
        "tombstone_ttl_ms": policy.tombstone_ttl_ms,
    })
}

/// `GET`/`HEAD /items/{id}/versions/{n}` → that version in the request's API version, with
/// its tag and `Version: n`; `If-None-Match` → 304 as on the document.
pub(super) async fn read(
    State(app): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
    api: Api,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let (id, number) = path.map(|Path(pair)| pair).map_err(|rejection| {
        Problem::new(
            ProblemKind::NotFound,
            instance,
            format!("{instance} does not name a version of a document ({rejection}); version URLs are /items/{{id}}/versions/{{n}}"),
        )
    })?;
    let pre = api.preconditions(&headers, instance)?;
    // Anything but a number names no version; asking for 0 finds the oldest kept one.
    let version = number.parse::<u64>().unwrap_or(0);
    let key = id.clone();
    let lookup = blocking(&app.store, move |store| store.version(&key, version))
        .await
        .map_err(|err| internal(&err, instance))?;
    let doc = match lookup {
        Lookup::Found(doc) => doc,
        Lookup::NoHistory => return Err(no_history(instance, &document_path(instance))),
        Lookup::NotKept { oldest } => {
            return Err(version_not_found(instance, &number, oldest));
        }
    };
    api.read(&pre, &id, &doc, instance)
}

/// The document's path from a `…/versions` or `…/versions/{n}` path.
fn document_path(instance: &str) -> String {
    instance
        .rsplit_once("/versions")
        .map_or(instance, |(document, _)| document)
        .to_owned()
}

fn no_history(instance: &str, document: &str) -> Problem {
    Problem::new(
        ProblemKind::NotFound,
        instance,
        format!(
            "{document} has no history: it never existed, or it was deleted long enough ago that its history is gone; list existing documents with GET /items"
        ),
    )
}

fn version_not_found(instance: &str, asked: &str, oldest: u64) -> Problem {
    let shown: String = asked.chars().take(40).collect();
    Problem::new(
        ProblemKind::VersionNotFound,
        instance,
        format!(
            "version `{}` of this document is not kept: it was never this document's, it was pruned, or it is the deletion entry. The oldest version still kept is {oldest}; list them with GET {}",
            shown.escape_debug(),
            instance.rsplit_once('/').map_or(instance, |(list, _)| list)
        ),
    )
    .with_member("oldest", Value::from(oldest))
}
