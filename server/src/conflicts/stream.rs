//! `GET /conflicts/stream`: the conflict events as Server-Sent Events.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, Extensions, HeaderMap, HeaderValue, Uri};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_core::Stream;
use tokio::sync::mpsc;

use super::log::{Admission, Event, Refused, Unsubscribe};
use super::query::{self, Route};
use crate::idempotency::client_of;
use crate::problem::{Problem, ProblemKind};
use crate::routes::AppState;

/// How long a client waits before reconnecting, sent first (the `retry` field).
const RETRY: Duration = Duration::from_millis(2000);

/// `Retry-After` of a 503 for too many subscribers (or a 429 for too many of one client's),
/// in seconds.
const RETRY_AFTER_SECS: u64 = 2;

/// `GET /conflicts/stream` → `text/event-stream`; 429 when the client holds its share of
/// streams open, 503 when the server holds all it may.
pub(crate) async fn stream(
    State(app): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    extensions: Extensions,
) -> Result<Response, Problem> {
    let instance = uri.path();
    let query = query::parse(uri.query(), Route::Stream, instance)?;
    let last = match last_event_id(&headers, instance)? {
        Some(seq) => Some(seq),
        None => query.last_event_id,
    };
    let settings = app.conflicts.settings;
    let admission = Admission {
        client: client_of(&extensions),
        max_total: settings.max_subscribers,
        max_per_client: settings.max_subscribers_per_client,
    };
    let subscription = app
        .conflicts
        .subscribe(query.filter, last, &admission)
        .await
        .map_err(|err| crate::routes::response::internal(&err, instance))?
        .map_err(|refused| too_many(refused, &admission, instance))?;
    let events = Events {
        first: true,
        replay: subscription.replay.into_iter(),
        live: subscription.live,
        _guard: subscription.guard,
    };
    let keep_alive = KeepAlive::new()
        .interval(settings.heartbeat)
        .text("heartbeat");
    Ok(Sse::new(events).keep_alive(keep_alive).into_response())
}

/// The refusal of a subscription over a cap, with `Retry-After`.
fn too_many(refused: Refused, admission: &Admission, instance: &str) -> Problem {
    let (kind, detail) = match refused {
        Refused::Client => (
            ProblemKind::TooManyClientSubscribers,
            format!(
                "you hold {} conflict streams open, the most this server keeps for one client; close one, or retry after Retry-After seconds (with Last-Event-ID, to miss nothing)",
                admission.max_per_client
            ),
        ),
        Refused::Total => (
            ProblemKind::TooManySubscribers,
            format!(
                "{} conflict streams are open, the most this server keeps at once; retry after Retry-After seconds (with Last-Event-ID, to miss nothing)",
                admission.max_total
            ),
        ),
    };
    Problem::new(kind, instance, detail)
        .with_header(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS))
}

/// `Last-Event-ID` (a whole number: the ids this server sends); 400 when malformed.
pub(super) fn last_event_id(headers: &HeaderMap, instance: &str) -> Result<Option<u64>, Problem> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    // Bytes beyond visible ASCII are malformed too (they used to read as no id at all).
    let text = String::from_utf8_lossy(value.as_bytes());
    let text = text.trim();
    if text.is_empty() {
        // What a browser sends before it has seen an id.
        return Ok(None);
    }
    query::whole_number(text).map(Some).ok_or_else(|| {
        Problem::new(
            ProblemKind::InvalidHeader,
            instance,
            format!(
                "Last-Event-ID `{}` is not an event id of this server; send the id of the last event you received (a whole number), or leave it out to start with live events",
                text.escape_debug()
            ),
        )
    })
}

/// The events of one subscriber: `retry`, the replay, then live events until the log drops
/// the subscriber (it fell behind) or the client leaves.
struct Events {
    first: bool,
    replay: std::vec::IntoIter<Arc<Event>>,
    live: mpsc::Receiver<Arc<Event>>,
    _guard: Unsubscribe,
}

impl Stream for Events {
    type Item = Result<SseEvent, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if std::mem::take(&mut this.first) {
            return Poll::Ready(Some(Ok(SseEvent::default().retry(RETRY))));
        }
        if let Some(event) = this.replay.next() {
            return Poll::Ready(Some(Ok(sse(&event))));
        }
        this.live
            .poll_recv(cx)
            .map(|event| event.map(|event| Ok(sse(&event))))
    }
}

fn sse(event: &Event) -> SseEvent {
    let named = SseEvent::default()
        .event(event.kind.name())
        .data(&event.data);
    match event.seq {
        Some(seq) => named.id(seq.to_string()),
        None => named,
    }
}
