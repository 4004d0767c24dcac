//! The conflict stream (`GET {conflicts}/stream`, Server-Sent Events): a
//! subscriber filtered to a resource hears of its conflicts as they happen, a
//! subscriber that reconnects with `Last-Event-ID` misses nothing and hears
//! nothing twice, and a quiet stream sends heartbeats.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{as_who, conflict, conflict_on, prepare, Conflict, Who};
use crate::http::{EventStream, Exchange, Next, Req};
use crate::rules::{Abort, Cx, Finding};
use crate::sse::{Event, Item};

/// Longest wait for an event the suite caused to reach a subscriber.
pub(super) const EVENT_WAIT: Duration = Duration::from_secs(5);

/// `GET {conflicts}/stream?resource=<resource>` (as the writer), optionally
/// resuming after `last_event_id`.
pub(super) async fn subscribe(
    cx: &Cx,
    resource: &str,
    last_event_id: Option<&str>,
) -> Result<EventStream, Abort> {
    open_with(cx, &[("resource", resource)], last_event_id).await
}

/// `GET {conflicts}/stream` with the `query` pairs (as the writer), with
/// `Last-Event-ID: <last_event_id>` when given.
pub(super) async fn open_with(
    cx: &Cx,
    query: &[(&str, &str)],
    last_event_id: Option<&str>,
) -> Result<EventStream, Abort> {
    let base = format!("{}/stream", cx.conflicts_url().trim_end_matches('/'));
    let mut url = reqwest::Url::parse(&base)
        .map_err(|e| Abort::Prerequisite(format!("the stream URL {base} is not a URL: {e}")))?;
    url.query_pairs_mut().extend_pairs(query);
    let mut req = Req::get(url.as_str()).header("Accept", "text/event-stream");
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    Ok(cx.probe.open_stream(as_who(cx, req, Who::Writer)).await?)
}

/// A subscription that answered as a stream; a server without one skips the rule.
pub(super) async fn stream_of(
    cx: &Cx,
    resource: &str,
    last: Option<&str>,
) -> Result<Result<EventStream, Exchange>, Abort> {
    stream_with(cx, &[("resource", resource)], last).await
}

/// [`stream_of`] with any `query` pairs.
pub(super) async fn stream_with(
    cx: &Cx,
    query: &[(&str, &str)],
    last: Option<&str>,
) -> Result<Result<EventStream, Exchange>, Abort> {
    let stream = open_with(cx, query, last).await?;
    if matches!(stream.status(), 404 | 405 | 501) {
        return Err(Abort::Prerequisite(format!(
            "the server offers no conflict stream: GET {} answered {}",
            stream.exchange().request.url,
            stream.status()
        )));
    }
    Ok(if stream.is_event_stream() {
        Ok(stream)
    } else {
        Err(stream.exchange())
    })
}

/// An event's data as JSON, and the record id in it.
pub(super) fn record_id(event: &Event) -> Option<String> {
    let data: Value = serde_json::from_str(&event.data).ok()?;
    data.get("id")?.as_str().map(str::to_owned)
}

/// Reads events until one of type `kind` about record `id` arrives (within
/// [`EVENT_WAIT`]); every event read before it is returned too.
pub(super) async fn await_event(
    stream: &mut EventStream,
    kind: &str,
    id: &str,
) -> (Vec<Event>, Option<Event>) {
    let deadline = Instant::now() + EVENT_WAIT;
    let mut before = Vec::new();
    loop {
        match stream.next(deadline).await {
            Next::Item(Item::Event(event)) => {
                if event.event == kind && record_id(&event).as_deref() == Some(id) {
                    return (before, Some(event));
                }
                before.push(event);
            }
            Next::Item(_) => {}
            Next::Ended | Next::TimedOut => return (before, None),
        }
    }
}

pub(super) fn describe(events: &[Event]) -> String {
    if events.is_empty() {
        return "nothing".into();
    }
    events
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e.event,
                record_id(e).unwrap_or_else(|| "(no record id)".into())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

const NOT_A_STREAM: &str = "GET {conflicts}/stream answers 200 text/event-stream";

check!(stream_delivers, |cx| {
    let a = prepare(cx).await?;
    let known = conflict_on(cx, &a, 1).await?;
    let b = prepare(cx).await?;
    let mut stream = match stream_of(cx, &known.resource, None).await? {
        Ok(stream) => stream,
        Err(answer) => {
            return Ok(Finding::violation(
                NOT_A_STREAM,
                format!(
                    "the subscription answered {} {}",
                    answer.status(),
                    answer
                        .header("content-type")
                        .unwrap_or("without a Content-Type")
                ),
                &answer,
            ))
        }
    };
    let elsewhere = conflict_on(cx, &b, 2).await?;
    let wanted = conflict_on(cx, &a, 3).await?;
    let expectation = "a subscriber filtered to a resource receives `event: conflict` with an `id` and the record as data, for that resource only";
    let (before, found) = await_event(&mut stream, "conflict", &wanted.id).await;
    if let Some(leak) = before
        .iter()
        .find(|e| record_id(e).as_deref() == Some(elsewhere.id.as_str()))
    {
        return Ok(Finding::violation(
            expectation,
            format!(
                "subscribed with resource={}, the stream delivered {} about {}, another resource",
                known.resource, leak.event, elsewhere.resource
            ),
            &stream.exchange(),
        ));
    }
    let Some(event) = found else {
        return Ok(Finding::violation(
            expectation,
            format!(
                "within {} s of conflict {} on {}, the subscriber received {}",
                EVENT_WAIT.as_secs(),
                wanted.id,
                wanted.resource,
                describe(&before)
            ),
            &stream.exchange(),
        ));
    };
    let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
    let seq = data.get("seq").map(|s| s.to_string());
    let problem = match (&event.id, &seq) {
        (None, _) => Some("it has no id field".to_owned()),
        (Some(id), _) if id.is_empty() => Some("its id is empty".to_owned()),
        (Some(id), Some(seq)) if id != seq => {
            Some(format!("its id {id:?} is not the record's seq {seq}"))
        }
        _ if data.get("resource").and_then(Value::as_str) != Some(wanted.resource.as_str()) => {
            Some("its data names another resource".to_owned())
        }
        _ => None,
    };
    if let Some(problem) = problem {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the event about conflict {} arrived, but {problem}",
                wanted.id
            ),
            &stream.exchange(),
        ));
    }
    Ok(Finding::Pass(format!(
        "a subscriber filtered to {} received `event: conflict` id {} with record {}, and nothing about {}",
        wanted.resource,
        event.id.unwrap_or_default(),
        wanted.id,
        elsewhere.resource
    )))
});

check!(stream_resume, |cx| { resumed(cx, Resume::Header).await });

check!(stream_resume_query, |cx| {
    resumed(cx, Resume::Query).await
});

/// How a subscriber says where it resumes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Resume {
    /// `Last-Event-ID: <id>`.
    Header,
    /// `?last_event_id=<id>`, for clients that cannot set headers.
    Query,
}

/// Subscribes, hears one event, disconnects, misses two, resumes `how` after the
/// event heard and judges what arrives.
async fn resumed(cx: &Cx, how: Resume) -> Result<Finding, Abort> {
    let doc = prepare(cx).await?;
    let known = conflict_on(cx, &doc, 1).await?;
    let Ok(mut first) = stream_of(cx, &known.resource, None).await? else {
        return Err(Abort::Prerequisite("the subscription did not answer as a stream; notifications.stream-delivers judges that".into()));
    };
    let heard = conflict_on(cx, &doc, 2).await?;
    let (_, event) = await_event(&mut first, "conflict", &heard.id).await;
    drop(first);
    let Some(last) = event.map(|e| e.last_event_id).filter(|id| !id.is_empty()) else {
        return Err(Abort::Prerequisite(format!("a subscriber did not hear of conflict {} with an event id; notifications.stream-delivers judges that", heard.id)));
    };
    let mut missed: Vec<Conflict> = Vec::new();
    for n in 3..5 {
        missed.push(conflict_on(cx, &doc, n).await?);
    }
    let (query, header, sent) = match how {
        Resume::Header => (
            vec![("resource", known.resource.as_str())],
            Some(last.as_str()),
            format!("Last-Event-ID: {last}"),
        ),
        Resume::Query => (
            vec![
                ("resource", known.resource.as_str()),
                ("last_event_id", last.as_str()),
            ],
            None,
            format!("?last_event_id={last}"),
        ),
    };
    let Ok(mut resumed) = stream_with(cx, &query, header).await? else {
        return Err(Abort::Prerequisite(
            "the resumed subscription did not answer as a stream".into(),
        ));
    };
    let live = conflict_on(cx, &doc, 5).await?;
    let (received, found) = await_event(&mut resumed, "conflict", &live.id).await;
    let mut got: Vec<String> = received
        .iter()
        .map(|e| format!("{} {}", e.event, record_id(e).unwrap_or_default()))
        .collect();
    got.extend(found.as_ref().map(|_| format!("conflict {}", live.id)));
    let want: Vec<String> = missed
        .iter()
        .chain([&live])
        .map(|c| format!("conflict {}", c.id))
        .collect();
    if got != want {
        let expectation = match how {
            Resume::Header => "a subscriber that reconnects with Last-Event-ID first receives every event after that id, in order, then live ones: none missing, none repeated".to_owned(),
            Resume::Query => "a subscriber that reconnects with ?last_event_id= (for clients that cannot set headers) is treated as one that sends Last-Event-ID: every event after that id, in order, then live ones".to_owned(),
        };
        return Ok(Finding::violation(
            expectation,
            format!("reconnected with {sent} (the event of {}) after conflicts {} happened; then {} happened live. The stream delivered [{}] instead of [{}]", heard.id, missed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(" and "), live.id, got.join(", "), want.join(", ")),
            &resumed.exchange(),
        ));
    }
    Ok(Finding::Pass(format!(
        "reconnected with {sent}, the subscriber received exactly the {} conflicts it missed, in order, then the live one ({})",
        missed.len(),
        want.join(", ")
    )))
}

check!(stream_heartbeat, |cx| {
    let quiet = format!("/ifmatch-conformance-{}-quiet", cx.run_token());
    let Ok(mut stream) = stream_of(cx, &quiet, None).await? else {
        return Err(Abort::Prerequisite("the subscription did not answer as a stream; notifications.stream-delivers judges that".into()));
    };
    let wait = cx.notify().sse_wait;
    let started = Instant::now();
    let deadline = started + wait;
    loop {
        match stream.next(deadline).await {
            Next::Item(Item::Comment(_)) => {
                return Ok(Finding::Pass(format!(
                    "a stream with no events sent a comment (heartbeat) after {} ms",
                    started.elapsed().as_millis()
                )))
            }
            Next::Item(_) => {}
            Next::Ended => {
                return Ok(Finding::violation(
                    "a quiet stream stays open and sends a comment (`: heartbeat`) now and then, so that proxies and clients know it is alive",
                    format!("the server closed a quiet stream after {} ms without a comment", started.elapsed().as_millis()),
                    &stream.exchange(),
                ))
            }
            Next::TimedOut => {
                return Ok(Finding::violation(
                    "a quiet stream sends a comment (`: heartbeat`) now and then, so that proxies and clients know it is alive",
                    format!("no comment arrived within {} s on a stream with no events (if the server's heartbeat interval is longer, raise --sse-wait)", wait.as_secs_f64()),
                    &stream.exchange(),
                ))
            }
        }
    }
});

/// A conflict and a stream filtered to its resource, if the server streams.
pub(super) async fn watched_conflict(cx: &Cx) -> Result<(Conflict, Option<EventStream>), Abort> {
    let c = conflict(cx).await?;
    let stream = match subscribe(cx, &c.resource, None).await {
        Ok(stream) if stream.is_event_stream() => Some(stream),
        _ => None,
    };
    Ok((c, stream))
}
