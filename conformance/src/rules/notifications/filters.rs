//! The other filters of the log and the stream: `prefix` on the stream (a
//! subscriber hears of documents under the prefix and of no others) and `state`
//! on the log (open and resolved conflicts are listed apart).

use serde_json::{json, Value};

use super::resolve::resolve_as;
use super::stream::{await_event, describe, record_id, stream_with, EVENT_WAIT};
use super::{as_who, conflict, conflict_on, prepare, text_at, Conflict, Who};
use crate::http::{EventStream, Exchange, Req};
use crate::rules::{Abort, Cx, Finding};

/// A prefix stream, or the violation of a server that did not answer one.
async fn prefix_stream(cx: &Cx, prefix: &str) -> Result<Result<EventStream, Finding>, Abort> {
    Ok(match stream_with(cx, &[("prefix", prefix)], None).await? {
        Ok(stream) => Ok(stream),
        Err(answer) => Err(Finding::violation(
            "GET {conflicts}/stream?prefix=P answers 200 text/event-stream, as with resource=R",
            format!(
                "GET {} answered {} {}",
                answer.request.url,
                answer.status(),
                answer
                    .header("content-type")
                    .unwrap_or("without a Content-Type")
            ),
            &answer,
        )),
    })
}

check!(stream_prefix_filter, |cx| {
    // The other document is created first, so that its path cannot extend this one's.
    let b = prepare(cx).await?;
    let a = prepare(cx).await?;
    let known = conflict_on(cx, &a, 1).await?;
    let exact = known.resource.clone();
    let Some(cut) = exact.rfind('/').filter(|at| *at > 0) else {
        return Err(Abort::Prerequisite(format!(
            "the record names its resource {exact:?}, which has no parent path to use as a prefix"
        )));
    };
    let parent = exact[..=cut].to_owned();
    let mut narrow = match prefix_stream(cx, &exact).await? {
        Ok(stream) => stream,
        Err(finding) => return Ok(finding),
    };
    let mut wide = match prefix_stream(cx, &parent).await? {
        Ok(stream) => stream,
        Err(finding) => return Ok(finding),
    };
    let elsewhere = conflict_on(cx, &b, 2).await?;
    if elsewhere.resource.starts_with(&exact) || !elsewhere.resource.starts_with(&parent) {
        return Err(Abort::Prerequisite(format!(
            "the two test documents' resources, {exact} and {}, do not allow a prefix that matches one and not the other under a common parent",
            elsewhere.resource
        )));
    }
    let wanted = conflict_on(cx, &a, 3).await?;
    let expectation = "a subscriber filtered by prefix=P receives `event: conflict` for every document whose resource starts with P, and nothing about other documents";
    let (before, found) = await_event(&mut narrow, "conflict", &wanted.id).await;
    if let Some(leak) = before
        .iter()
        .find(|e| record_id(e).as_deref() == Some(elsewhere.id.as_str()))
    {
        return Ok(Finding::violation(
            expectation,
            format!(
                "subscribed with prefix={exact}, the stream delivered {} about {}, which is not under the prefix",
                leak.event, elsewhere.resource
            ),
            &narrow.exchange(),
        ));
    }
    if found.is_none() {
        return Ok(missed(&narrow, &exact, &wanted, &before, expectation));
    }
    let (before, found) = await_event(&mut wide, "conflict", &wanted.id).await;
    let heard_other = before
        .iter()
        .any(|e| record_id(e).as_deref() == Some(elsewhere.id.as_str()));
    if found.is_none() || !heard_other {
        let lost = if heard_other { &wanted } else { &elsewhere };
        return Ok(missed(&wide, &parent, lost, &before, expectation));
    }
    Ok(Finding::Pass(format!(
        "a subscriber with prefix={exact} received conflict {} and nothing about {}; one with prefix={parent} received both",
        wanted.id, elsewhere.resource
    )))
});

/// The violation of a prefix stream that did not deliver `lost`.
fn missed(
    stream: &EventStream,
    prefix: &str,
    lost: &Conflict,
    received: &[crate::sse::Event],
    expectation: &str,
) -> Finding {
    Finding::violation(
        expectation,
        format!(
            "subscribed with prefix={prefix}, within {} s of conflict {} on {} the subscriber received {}",
            EVENT_WAIT.as_secs(),
            lost.id,
            lost.resource,
            describe(received)
        ),
        &stream.exchange(),
    )
}

/// `GET {conflicts}?resource=<a>&resource=<b>&state=<state>`: the exchange and
/// the `(id, state)` of every record listed, if it answered a list.
async fn listed_in(
    cx: &Cx,
    resources: [&str; 2],
    state: &str,
) -> Result<(Exchange, Option<Vec<(String, String)>>), Abort> {
    let mut url = reqwest::Url::parse(cx.conflicts_url()).map_err(|e| {
        Abort::Prerequisite(format!(
            "the conflicts URL {} is not a URL: {e}",
            cx.conflicts_url()
        ))
    })?;
    for resource in resources {
        url.query_pairs_mut().append_pair("resource", resource);
    }
    url.query_pairs_mut().append_pair("state", state);
    let answer = cx
        .send(as_who(cx, Req::get(url.as_str()), Who::Writer))
        .await?;
    let records = (answer.status() == 200)
        .then(|| answer.json())
        .flatten()
        .and_then(|body| {
            body.get("conflicts")?
                .as_array()?
                .iter()
                .map(|r: &Value| {
                    let id = text_at(r, &["id"])?.to_owned();
                    Some((id, text_at(r, &["state"]).unwrap_or("(none)").to_owned()))
                })
                .collect::<Option<Vec<_>>>()
        });
    Ok((answer, records))
}

check!(list_state_filter, |cx| {
    let open = conflict(cx).await?;
    let done = conflict(cx).await?;
    let resolution = resolve_as(cx, &done, json!({ "resolution": "theirs" }), Who::Writer).await?;
    if resolution.status() != 200 {
        return Err(Abort::Prerequisite(format!(
            "resolving conflict {} as \"theirs\" answered {}; notifications.resolve-theirs judges that",
            done.id,
            resolution.status()
        )));
    }
    let expectation = "GET {conflicts}?state=open lists unresolved conflicts and no resolved one; state=resolved the reverse";
    let resources = [open.resource.as_str(), done.resource.as_str()];
    for (state, inside, outside) in [("open", &open, &done), ("resolved", &done, &open)] {
        let (answer, records) = listed_in(cx, resources, state).await?;
        let Some(records) = records else {
            return Ok(Finding::violation(
                expectation,
                format!(
                    "GET {} answered {} without a list of records with id",
                    answer.request.url,
                    answer.status()
                ),
                &answer,
            ));
        };
        let mut wrong = Vec::new();
        if !records.iter().any(|(id, _)| *id == inside.id) {
            wrong.push(format!("it misses {} ({state})", inside.id));
        }
        if records.iter().any(|(id, _)| *id == outside.id) {
            wrong.push(format!("it lists {}, which is not {state}", outside.id));
        }
        if let Some((id, other)) = records.iter().find(|(_, s)| s != state) {
            wrong.push(format!("it lists {id} in state {other}"));
        }
        if !wrong.is_empty() {
            return Ok(Finding::violation(
                expectation,
                format!(
                    "conflict {} is open and {} resolved; GET {} answered {}, and {}",
                    open.id,
                    done.id,
                    answer.request.url,
                    answer.status(),
                    wrong.join("; ")
                ),
                &answer,
            ));
        }
    }
    Ok(Finding::Pass(format!(
        "state=open listed the open conflict {} and not the resolved {}; state=resolved the reverse",
        open.id, done.id
    )))
});
