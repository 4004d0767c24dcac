//! `POST /conflicts/{id}/resolve`: settle a recorded conflict, then keep the cache truthful.

use std::{future::IntoFuture, sync::Arc};

use bytes::Bytes;
use http::{header, HeaderValue, Method, StatusCode};
use serde_json::Value;

use crate::{
    cache::CacheEntry,
    conflicts::{ConflictRecord, Resolution},
    rt::{traced, BoxFuture},
    transport::Incoming,
    EntityTag, Error, Problem,
};

use super::{
    super::{
        options::{request_options, Options},
        response::json_body,
        Client,
    },
    requests::malformed,
};

/// A resolution of one conflict; built by [`super::Conflicts::resolve`]. The answer is the
/// record, resolved.
///
/// The server applies it as a conditional write against the version the conflict recorded as
/// current (or against [`Resolve::if_match`]): when the document changed since, it is refused
/// with 412 ([`Error::is_precondition_failed`]) and the conflict stays open; read the
/// document and resolve again with `.if_match(..)` of the version you based the decision on.
///
/// After a resolution the ETag cache follows it: a `merged` document (and a `mine` that
/// replayed a PUT) is cached with the new tag; otherwise the entry is kept only if it already
/// holds that tag, and forgotten if not (or if the document was deleted).
///
/// ```no_run
/// # async fn demo(client: ifmatch::Client, read: ifmatch::Versioned<serde_json::Value>) -> Result<(), ifmatch::Error> {
/// use ifmatch::conflicts::Resolution;
///
/// let record = client
///     .conflicts()
///     .resolve("c-12", Resolution::Merged(serde_json::json!({"title": "both"})))
///     .if_match(read.etag.as_ref().expect("a strong tag"))
///     .await?;
/// assert!(!record.is_open());
/// # Ok(()) }
/// ```
#[must_use = "a resolution does nothing until it is awaited"]
#[derive(Debug)]
pub struct Resolve {
    client: Client,
    path: String,
    resolution: Resolution,
    if_match: Option<EntityTag>,
    lock_token: Option<String>,
    options: Options,
}

request_options!(Resolve);

impl Resolve {
    pub(super) fn new(client: Client, path: String, resolution: Resolution) -> Self {
        Self {
            client,
            path,
            resolution,
            if_match: None,
            lock_token: None,
            options: Options::default(),
        }
    }

    /// Conditional on this version of the document instead of the one the conflict recorded
    /// (for a client that read the document again since).
    pub fn if_match(mut self, tag: &EntityTag) -> Self {
        self.if_match = Some(tag.clone());
        self
    }

    /// The token of a lock on the document (sent as `lock_token`), when it is locked.
    pub fn lock_token(mut self, token: impl Into<String>) -> Self {
        self.lock_token = Some(token.into());
        self
    }

    /// Made under `lock` (sends its token).
    pub fn under(self, lock: &crate::LockGuard) -> Self {
        let token = lock.token().to_owned();
        self.lock_token(token)
    }

    /// Sends the resolution.
    ///
    /// # Errors
    /// - `precondition_failed` (412, [`Error::is_precondition_failed`]): the document changed
    ///   since; the conflict stays open.
    /// - `conflict_resolved` ([`Error::ConflictResolved`]): someone resolved it already.
    /// - `unauthorized` (401) / `forbidden` (403, [`Error::Auth`]): no valid token, or a token
    ///   of another client than the one that caused it (only it, or an admin, may resolve).
    /// - `locked` (423): the document is locked by someone else (pass `.under(&lock)`).
    /// - 404 ([`Error::is_not_found`]) for an unknown or forgotten conflict; 400 for `mine`
    ///   when the server did not keep the refused body.
    pub async fn send(self) -> Result<ConflictRecord, Error> {
        let Self {
            client,
            path,
            resolution,
            if_match,
            lock_token,
            options,
        } = self;
        let url = client.target(&path, &options)?;
        let mut body = resolution.to_json();
        if let Some(tag) = &if_match {
            body.insert("if_match".into(), tag.to_string().into());
        }
        if let Some(token) = lock_token {
            body.insert("lock_token".into(), token.into());
        }
        let body =
            serde_json::to_vec(&Value::Object(body)).map_err(|source| Error::Encode { source })?;
        let span = tracing::debug_span!("ifmatch.resolve", url = %url);
        let work = async {
            let mut op = client.op(&options);
            let mut request = client.outgoing(&op, Method::POST, &url);
            request.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            request.body = Bytes::from(body);
            let response = client.exchange(&mut op, request).await?.response;
            if !response.status.is_success() {
                return Err(refusal(&client, &url, &response, op.requests));
            }
            let value = json_body(&url, &response.body)?.unwrap_or(Value::Null);
            let record = ConflictRecord::from_json(&value).map_err(|what| malformed(&url, what))?;
            client.after_resolution(&record, &resolution);
            Ok(record)
        };
        client
            .bounded(format!("POST {url}"), &url, false, traced(span, work))
            .await
    }
}

/// A refused resolution as its error; `conflict-resolved` has its own.
fn refusal(client: &Client, url: &str, response: &Incoming, attempts: u32) -> Error {
    let problem = Problem::from_json(&response.body);
    if response.status == StatusCode::CONFLICT
        && problem
            .as_ref()
            .is_some_and(|p| p.type_.ends_with("conflict-resolved"))
    {
        return Error::ConflictResolved {
            url: url.to_owned(),
            problem: problem.map(Box::new),
        };
    }
    client.error_for(&Method::POST, url, response, attempts, None)
}

impl Client {
    /// Keeps the cache truthful after a resolution (see [`Resolve`]).
    fn after_resolution(&self, record: &ConflictRecord, resolution: &Resolution) {
        let Ok(url) = self.resolve(&record.resource, &[]) else {
            return;
        };
        let key = self.key(&url);
        let tag = record
            .resolution
            .as_ref()
            .and_then(|r| r.etag.clone())
            .filter(|t| !t.is_weak());
        let Some(tag) = tag else {
            self.inner.cache.remove(&key);
            return;
        };
        let replayed_put = || {
            record
                .rejected
                .as_ref()
                .filter(|_| record.method == "PUT")
                .and_then(|r| r.body.clone())
        };
        let written = match resolution {
            Resolution::Merged(doc) => Some(doc.clone()),
            Resolution::Mine => replayed_put(),
            _ => None,
        };
        match written {
            Some(body) => self.inner.cache.put(
                key,
                CacheEntry {
                    etag: tag,
                    body: Arc::new(body),
                },
            ),
            None if self.inner.cache.get(&key).is_some_and(|e| e.etag == tag) => {}
            None => self.inner.cache.remove(&key),
        }
    }
}

impl IntoFuture for Resolve {
    type Output = Result<ConflictRecord, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
