//! Idempotency keys (draft-ietf-httpapi-idempotency-key-header): a `POST`, `PUT`, `PATCH` or
//! `DELETE` that carries `Idempotency-Key` is processed once per client and key; a retry of
//! the same request gets the first answer again (`Idempotent-Replayed: true`), the same key on
//! a different request answers 422, and a retry while the first is still being processed
//! answers 409. See `docs/server.md`, "Idempotency keys".
//!
//! One middleware ([`idempotent`]) does it for every route, inside authentication (it needs
//! the client's identity) and outside the conflict capture (a replay is not a new conflict).
//! Requests without the field pass through untouched and unbuffered.

mod key;
mod postgres;
mod settings;
mod store;
#[cfg(test)]
pub(crate) mod suite;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Extensions, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Identity;
use crate::lock::now;
use crate::problem::{Problem, ProblemKind};

pub(crate) use key::{key_of, Client, Fingerprint, Scope};
pub(crate) use postgres::PostgresStore;
pub(crate) use settings::IdempotencySettings;
pub use settings::{
    DEFAULT_IDEMPOTENCY_MAX_BYTES, DEFAULT_IDEMPOTENCY_MAX_KEYS, DEFAULT_IDEMPOTENCY_TTL,
};
pub(crate) use store::{Begin, IdempotencyStore, Limits, MemoryStore, StoredResponse, Ticket};

/// The response field that marks a replayed answer.
pub(crate) const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The records and the request body limit: the middleware's state.
pub(crate) struct Idempotency {
    pub(crate) store: Arc<dyn IdempotencyStore>,
    /// The largest request body the server accepts (the middleware reads no more).
    pub(crate) max_body_bytes: usize,
}

/// Middleware: processes each keyed write once per client and key.
pub(crate) async fn idempotent(
    State(idem): State<Arc<Idempotency>>,
    request: Request,
    next: Next,
) -> Response {
    if !key::keyed_method(request.method()) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let key = match key_of(request.headers()) {
        Ok(Some(key)) => key,
        Ok(None) => return next.run(request).await,
        Err(detail) => {
            return Problem::new(
                ProblemKind::InvalidHeader,
                &path,
                format!("{detail}. Nothing was done."),
            )
            .into_response()
        }
    };
    let client = client_of(request.extensions());
    let (parts, body) = request.into_parts();
    let bytes = match buffer(body, idem.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(problem) => return problem(&path).into_response(),
    };
    let scope = Scope { client, key };
    let fingerprint = Fingerprint::of(&parts, &bytes);
    let begun = blocking(&idem.store, {
        let scope = scope.clone();
        move |store| store.begin(&scope, fingerprint, now().unix_ms)
    })
    .await
    .unwrap_or(Begin::Unavailable);
    let ticket = match begun {
        Begin::Fresh(ticket) => ticket,
        Begin::Replay(stored) => return replay(&stored),
        Begin::Mismatch => return mismatch(&path, &scope.key).into_response(),
        Begin::InFlight => return in_flight(&path, &scope.key).into_response(),
        Begin::Unavailable => return unavailable(&path).into_response(),
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    // Processed to the end even when the client goes away meanwhile (a dropped connection
    // drops this future), so that the outcome is recorded for the client's retry.
    let pending = Pending {
        store: Arc::clone(&idem.store),
        scope,
        ticket,
        settled: false,
    };
    let task = tokio::spawn(async move { pending.settle(next.run(request).await).await });
    match task.await {
        Ok(response) => response,
        Err(err) => {
            tracing::error!(error = %err, "a keyed request's task ended abnormally");
            Problem::new(
                ProblemKind::Internal,
                &path,
                "the request failed inside the server; it may be retried with the same Idempotency-Key",
            )
            .into_response()
        }
    }
}

/// The client a request (by its `extensions`) comes from: its token's name, else its peer
/// address. Its idempotency keys, and its conflict streams, are counted under it.
pub(crate) fn client_of(extensions: &Extensions) -> Client {
    if let Some(identity) = extensions.get::<Identity>() {
        return Client::Named(identity.name.clone());
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(Client::Unknown, |info| Client::Address(info.0.ip()))
}

/// A request begun in the store: completed with its answer, or abandoned if it fails with 5xx,
/// its answer is too large to keep, or it never finishes (a panic drops it).
struct Pending {
    store: Arc<dyn IdempotencyStore>,
    scope: Scope,
    ticket: Ticket,
    settled: bool,
}

impl Pending {
    async fn settle(mut self, response: Response) -> Response {
        if response.status().is_server_error() {
            return response; // dropped unsettled: abandoned, a retry is processed afresh
        }
        let (mut parts, body) = response.into_parts();
        let exact = body.size_hint().exact();
        let fits = exact.is_some_and(|n| usize::try_from(n).is_ok_and(|n| n <= MAX_KEPT_BODY));
        if !fits {
            // A streamed or very large answer is sent as it is and not kept.
            return Response::from_parts(parts, body);
        }
        let Ok(bytes) = axum::body::to_bytes(body, MAX_KEPT_BODY).await else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let stored = StoredResponse {
            status: parts.status,
            headers: parts
                .headers
                .iter()
                .filter(|(name, _)| key::kept_field(name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            body: bytes.clone(),
        };
        let (scope, ticket) = (self.scope.clone(), self.ticket);
        self.settled = true;
        let completed = blocking(&self.store, move |store| {
            store.complete(&scope, ticket, stored, now().unix_ms);
        })
        .await;
        if completed.is_none() {
            tracing::error!("storing an idempotent answer did not finish");
        }
        parts.headers.remove(header::CONTENT_LENGTH);
        Response::from_parts(parts, Body::from(bytes))
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.settled {
            let (store, scope, ticket) = (Arc::clone(&self.store), self.scope.clone(), self.ticket);
            // A database store blocks, which an async worker must not.
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) if store.blocks() => {
                    drop(runtime.spawn_blocking(move || store.abandon(&scope, ticket)));
                }
                _ => store.abandon(&scope, ticket),
            }
        }
    }
}

/// Runs `f` on the store: on the blocking pool when it blocks (a database store), else here;
/// `None` if it panicked there.
async fn blocking<T: Send + 'static>(
    store: &Arc<dyn IdempotencyStore>,
    f: impl FnOnce(&dyn IdempotencyStore) -> T + Send + 'static,
) -> Option<T> {
    if !store.blocks() {
        return Some(f(&**store));
    }
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(&*store)).await.ok()
}

fn unavailable(path: &str) -> Problem {
    Problem::new(
        ProblemKind::Internal,
        path,
        "the server could not read its idempotency records; nothing was done. Retry with the same Idempotency-Key",
    )
}

/// The largest answer kept for replays: 8 MiB (an item is at most the request body limit; a
/// batch's answer lists up to `--max-batch-operations` of them).
const MAX_KEPT_BODY: usize = 8 * 1024 * 1024;

/// The first answer again, marked as a replay.
fn replay(stored: &StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body.clone()));
    *response.status_mut() = stored.status;
    let headers = response.headers_mut();
    for (name, value) in &stored.headers {
        headers.append(name.clone(), value.clone());
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

fn mismatch(path: &str, key: &str) -> Problem {
    Problem::new(
        ProblemKind::IdempotencyKeyReused,
        path,
        format!("Idempotency-Key {key} was already used for a different request (method, target, preconditions or body); nothing was done. Send a new key for a new request, and the same request for a retry"),
    )
}

fn in_flight(path: &str, key: &str) -> Problem {
    Problem::new(
        ProblemKind::IdempotencyKeyInFlight,
        path,
        format!("the request with Idempotency-Key {key} is still being processed; nothing more was done. Retry it in a moment to get its outcome"),
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
}

/// Reads the body, at most `limit` bytes: 413 beyond, 400 if it fails to arrive.
async fn buffer(mut body: Body, limit: usize) -> Result<Bytes, fn(&str) -> Problem> {
    let mut buffer = Vec::new();
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let Ok(frame) = frame else {
            return Err(|path| {
                Problem::new(
                    ProblemKind::MalformedBody,
                    path,
                    "the request body did not arrive whole; nothing was done",
                )
            });
        };
        if let Ok(data) = frame.into_data() {
            buffer.extend_from_slice(&data);
            if buffer.len() > limit {
                return Err(|path| {
                    Problem::new(
                        ProblemKind::PayloadTooLarge,
                        path,
                        "the request body is larger than this server accepts (--max-body-bytes); nothing was done",
                    )
                });
            }
        }
    }
    Ok(Bytes::from(buffer))
}
