//! `/transactions`: begin (POST), show (GET), roll back (DELETE) and commit
//! (`POST /transactions/{id}/commit`) interactive transactions. What happens inside one is in
//! `inside.rs`; the commit's critical section in `crate::txn::commit`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{Extensions, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::request::{read_body, require_json};
use super::response::internal;
use super::txn_response::{
    begun, commit_answer, not_found, shown, shown_ended, too_many, too_many_of_client,
};
use super::{blocking, AppState};
use crate::auth::{Author, Identity};
use crate::problem::{Problem, ProblemKind};
use crate::txn::{commit as commit_plan, Begun, Opened, Outcome, Phase, TxGuard, TxId, TxnManager};

type TxPath = Result<Path<String>, PathRejection>;

/// The client a transaction is counted against, as the rate limiter and the idempotency keys
/// tell clients apart: its token's name, else its peer address.
fn client_key(extensions: &Extensions) -> String {
    if let Some(identity) = extensions.get::<Identity>() {
        return format!("n:{}", identity.name);
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "u".to_owned(), |info| format!("a:{}", info.0.ip()))
}

/// The body of `POST /transactions`; every member is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BeginBody {
    ttl_ms: Option<u64>,
}

/// The id of `/transactions/{id}`; one that cannot be an id names no transaction (404).
fn path_id(path: TxPath, instance: &str) -> Result<TxId, Problem> {
    let raw = path.map(|Path(id)| id).unwrap_or_default();
    TxId::parse(raw.as_bytes()).map_err(|_| {
        Problem::new(
            ProblemKind::TransactionNotFound,
            instance,
            format!("{instance} names no transaction; use the Location that POST /transactions answered"),
        )
    })
}

/// The open transaction `id`, held for this request (requests of one transaction take
/// turns, on every replica); 404 when it is over or unknown. Give it back with [`keep`]
/// ([`in_open_tx`] does both).
pub(super) async fn open_tx(app: &AppState, id: &TxId, instance: &str) -> Result<TxGuard, Problem> {
    match app
        .txns
        .open(id)
        .await
        .map_err(|err| internal(&err, instance))?
    {
        Opened::Open(tx) => Ok(tx),
        Opened::Ended(ended) => Err(not_found(id, Some(&ended), instance)),
        Opened::Unknown => Err(not_found(id, None, instance)),
    }
}

/// Gives a held transaction back, keeping what the request did (its pins and staged writes).
/// A failure to keep them answers 500: the request's effect on the transaction is lost.
async fn keep(app: &AppState, tx: TxGuard, instance: &str) -> Result<(), Problem> {
    app.txns
        .done(tx)
        .await
        .map_err(|err| internal(&err, instance))
}

/// Runs `work` on the open transaction `id` held for this request ([`open_tx`]), then gives it
/// back ([`keep`]) whatever `work` answered, so what the request did before a refusal (a pin)
/// is kept too. `work`'s answer, unless keeping fails (500).
pub(super) async fn in_open_tx<R>(
    app: &AppState,
    id: &TxId,
    instance: &str,
    work: impl AsyncFnOnce(&mut TxGuard) -> Result<R, Problem>,
) -> Result<R, Problem> {
    let mut tx = open_tx(app, id, instance).await?;
    let answer = work(&mut tx).await;
    keep(app, tx, instance).await?;
    answer
}

/// `POST /transactions` → 201 with the id; 503 when too many are open.
pub(super) async fn begin(
    State(app): State<AppState>,
    uri: Uri,
    extensions: Extensions,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let bytes = read_body(&headers, body, app.max_body_bytes, instance).await?;
    let asked = if bytes.trim_ascii().is_empty() {
        BeginBody::default()
    } else {
        require_json(&headers, instance)?;
        serde_json::from_slice(&bytes).map_err(|err| {
            Problem::new(
                ProblemKind::MalformedBody,
                instance,
                format!("the transaction options are not valid ({err}); send a JSON object with the optional member ttl_ms (whole milliseconds), or no body for the default"),
            )
        })?
    };
    if asked.ttl_ms == Some(0) {
        return Err(Problem::new(
            ProblemKind::MalformedBody,
            instance,
            "ttl_ms must be at least 1 (milliseconds); leave it out for the default of 30000",
        ));
    }
    let limits = app.txns.limits();
    let ttl = limits.ttl(asked.ttl_ms);
    let client = client_key(&extensions);
    let begun_now = app
        .txns
        .begin(ttl, &client)
        .await
        .map_err(|err| internal(&err, instance))?;
    match begun_now {
        Begun::Open(id, ttl, expires_at_ms) => Ok(begun(&id, ttl, expires_at_ms)),
        Begun::Full => Err(too_many(limits.max_open, instance)),
        Begun::ClientFull => Err(too_many_of_client(limits.max_per_client, instance)),
    }
}

/// `GET /transactions/{id}` → 200 with its state, what it read and what it staged.
pub(super) async fn show(
    State(app): State<AppState>,
    path: TxPath,
    uri: Uri,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = path_id(path, instance)?;
    // Showing changes nothing: the held transaction is let go unchanged.
    match app
        .txns
        .open(&id)
        .await
        .map_err(|err| internal(&err, instance))?
    {
        Opened::Open(tx) => Ok(shown(&id, "open", tx.ttl, tx.expires_at_ms, &tx.summary())),
        Opened::Ended(ended) if !ended.is_gone() => Ok(shown_ended(&id, &ended)),
        Opened::Ended(ended) => Err(not_found(&id, Some(&ended), instance)),
        Opened::Unknown => Err(not_found(&id, None, instance)),
    }
}

/// `DELETE /transactions/{id}` → 204: rolled back, nothing applied.
pub(super) async fn rollback(
    State(app): State<AppState>,
    path: TxPath,
    uri: Uri,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = path_id(path, instance)?;
    let tx = open_tx(&app, &id, instance).await?;
    app.txns
        .finish(tx, Outcome::RolledBack)
        .await
        .map_err(|err| internal(&err, instance))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /transactions/{id}/commit` → 200 with the real tags, 409 when a version it read
/// changed, 423 when a document it writes is locked by someone else. Committing again answers
/// the same while the server remembers the transaction.
pub(super) async fn commit(
    State(app): State<AppState>,
    path: TxPath,
    uri: Uri,
    Author(author): Author,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let id = path_id(path, instance)?;
    // A second commit of the same transaction (through any replica) waits here for the
    // first, then repeats its answer.
    let tx = match app
        .txns
        .open(&id)
        .await
        .map_err(|err| internal(&err, instance))?
    {
        Opened::Open(tx) => tx,
        Opened::Ended(ended) => {
            return commit_answer(&id, &ended, instance)
                .ok_or_else(|| not_found(&id, Some(&ended), instance))
        }
        Opened::Unknown => return Err(not_found(&id, None, instance)),
    };
    debug_assert!(matches!(tx.phase, Phase::Open));
    let plan = tx.plan();
    let locks = Arc::clone(&app.locks);
    let recorder = TxnManager::recorder(&tx);
    let recorded = recorder.is_some();
    // A storage failure applies nothing and leaves the transaction open: commit again.
    // The versions it writes are the committing client's.
    let outcome = blocking(&app.store, move |store| {
        commit_plan(store, &locks, &plan, author.as_deref(), recorder.as_ref())
    })
    .await
    .map_err(|err| internal(&err, instance))?;
    let ended = if recorded && matches!(outcome, Outcome::Committed(_)) {
        app.txns.recorded(tx, outcome)
    } else {
        app.txns
            .finish(tx, outcome)
            .await
            .map_err(|err| internal(&err, instance))?
    };
    commit_answer(&id, &ended, instance).ok_or_else(|| not_found(&id, Some(&ended), instance))
}
