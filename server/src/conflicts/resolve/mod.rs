//! `POST /conflicts/{id}/resolve`: decide a conflict (`mine`, `theirs` or `merged`), as a
//! conditional write against the version the conflict recorded as current.
//!
//! Order: the conflict (404) → who asks (401, 403) → media type (415) → body size (413) →
//! body (400) → already resolved (409) → what the choice needs (400) → the lock (423) →
//! the version (412) → the write. Resolutions take turns (one async mutex), so two racing
//! for the same conflict cannot both succeed, and exactly one `resolved` event is sent.

mod write;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use self::write::{plan, Outcome};
use super::log::NotResolved;
use super::record::{Choice, Record, Resolution};
use super::routes::{find, json};
use crate::auth::{unauthorized, Identity};
use crate::etag::EntityTag;
use crate::lock::{now, LockToken};
use crate::problem::{Problem, ProblemKind};
use crate::routes::request::{read_body, require_json};
use crate::routes::response::internal;
use crate::routes::AppState;

/// The body of a resolution.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Asked {
    resolution: Choice,
    #[serde(default)]
    document: Option<Value>,
    #[serde(default)]
    if_match: Option<String>,
    #[serde(default)]
    lock_token: Option<String>,
}

/// A checked resolution request.
#[derive(Debug)]
pub(super) struct Request {
    pub(super) choice: Choice,
    pub(super) document: Option<Value>,
    /// The version the resolution is conditional on: the `if_match` given, else the
    /// conflict's `current` (`None`: the document must be absent).
    pub(super) expected: Option<EntityTag>,
    pub(super) lock_token: Option<LockToken>,
}

/// `POST /conflicts/{id}/resolve` → 200 with the resolved record.
pub(crate) async fn resolve(
    State(app): State<AppState>,
    Path(id): Path<String>,
    identity: Option<Identity>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let record = find(&app, &id, instance).await?;
    authorize(&app, identity.as_ref(), &record, instance)?;
    require_json(&headers, instance)?;
    let bytes = read_body(&headers, body, app.max_body_bytes, instance).await?;
    let asked = parse(&bytes, &record, instance)?;
    let _turn = app.conflicts.resolving.lock().await;
    // Across replicas too (on shared storage): held until the answer is made.
    let _shared_turn = app
        .conflicts
        .turn(record.seq)
        .await
        .map_err(|err| internal(&err, instance))?;
    // Read again in turn: someone may have resolved it while this request waited.
    let record = find(&app, &id, instance).await?;
    if record.resolution.is_some() {
        return Err(already(&record, instance));
    }
    let by = identity.map(|identity| identity.name);
    let outcome = plan(&app, &record, asked, by.clone(), instance).await?;
    let Outcome { choice, doc } = outcome;
    let resolution = Resolution {
        choice,
        by,
        at_ms: now().unix_ms,
        etag: doc.as_ref().map(|d| d.etag.to_string()),
        version: doc.as_ref().map(crate::storage::Document::version),
    };
    let resolved = app
        .conflicts
        .resolve(&record, resolution)
        .await
        .map_err(|err| internal(&err, instance))?;
    match resolved {
        Ok(resolved) => Ok(json(
            StatusCode::OK,
            &serde_json::to_value(&resolved).unwrap_or_default(),
        )),
        Err(NotResolved::Already(resolved)) => Err(already(&resolved, instance)),
    }
}

/// With tokens configured, only the client that caused the conflict or an admin may resolve
/// it; a conflict caused anonymously, only an admin.
fn authorize(
    app: &AppState,
    identity: Option<&Identity>,
    record: &Record,
    instance: &str,
) -> Result<(), Problem> {
    if !app.conflicts.auth_enabled {
        return Ok(());
    }
    let Some(identity) = identity else {
        return Err(unauthorized(
            instance,
            "resolving a conflict needs a token: send Authorization: Bearer <token> as the client that caused it, or as an admin",
        ));
    };
    if identity.admin || record.client.as_deref() == Some(identity.name.as_str()) {
        return Ok(());
    }
    let owner = record.client.as_deref().map_or_else(
        || "an anonymous request, so only an admin may resolve it".to_owned(),
        |client| format!("client `{client}`; only it or an admin may resolve it"),
    );
    Err(Problem::new(
        ProblemKind::Forbidden,
        instance,
        format!(
            "{} was caused by {owner}, and `{}` is neither. Nothing was changed",
            record.id, identity.name
        ),
    ))
}

fn already(record: &Record, instance: &str) -> Problem {
    let by = record
        .resolution
        .as_ref()
        .and_then(|r| r.by.as_deref())
        .map_or_else(String::new, |by| format!(" by `{by}`"));
    Problem::new(
        ProblemKind::ConflictResolved,
        instance,
        format!(
            "{} is already resolved{by}; nothing was changed. Read it with GET {} to see how",
            record.id,
            record.url()
        ),
    )
    .with_member(
        "resolution",
        serde_json::to_value(&record.resolution).unwrap_or_default(),
    )
}

fn parse(bytes: &[u8], record: &Record, instance: &str) -> Result<Request, Problem> {
    let malformed = |detail: String| Problem::new(ProblemKind::MalformedBody, instance, detail);
    let asked: Asked = serde_json::from_slice(bytes).map_err(|err| {
        malformed(format!(
            "the resolution is not valid ({err}); send {{\"resolution\": \"mine\"}}, {{\"resolution\": \"theirs\"}} or {{\"resolution\": \"merged\", \"document\": {{…}}}}, optionally with if_match and lock_token"
        ))
    })?;
    match (asked.resolution, asked.document.is_some()) {
        (Choice::Merged, false) => {
            return Err(malformed(
                "a merged resolution needs the member document: the document to write".to_owned(),
            ))
        }
        (Choice::Mine | Choice::Theirs, true) => {
            return Err(malformed(
                "document goes only with \"resolution\": \"merged\"; leave it out, or resolve as merged".to_owned(),
            ))
        }
        _ => {}
    }
    let expected = match &asked.if_match {
        Some(text) => Some(EntityTag::parse(text).ok_or_else(|| {
            malformed(format!(
                "if_match `{}` is not an entity tag; send it as the ETag header gave it, quotes included",
                text.escape_debug()
            ))
        })?),
        None => record
            .current
            .as_ref()
            .and_then(|current| current.etag.as_deref())
            .and_then(EntityTag::parse),
    };
    let lock_token = asked
        .lock_token
        .map(|text| {
            LockToken::parse(text.as_bytes()).map_err(|reason| {
                malformed(format!(
                    "lock_token is malformed: {reason}; send the token the lock was granted with"
                ))
            })
        })
        .transpose()?;
    Ok(Request {
        choice: asked.resolution,
        document: asked.document,
        expected,
        lock_token,
    })
}
