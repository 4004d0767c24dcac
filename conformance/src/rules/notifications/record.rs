//! The conflict log: a refused stale write is recorded with what the client
//! based its write on and what was current, and the log can be filtered by
//! resource.

use serde_json::Value;

use super::{
    conflict_on, names_document, offers_log, prepare, read_record, refuse, state_of, text_at,
    Conflict, Prepared, Refused,
};
use crate::http::Req;
use crate::rules::context::describe_change;
use crate::rules::{Abort, Cx, Finding};

/// What a record must say about the refused write; the problems found.
fn judge_record(
    cx: &Cx,
    doc: &Prepared,
    refused: &Refused,
    id: &str,
    record: &Value,
) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            wrong.push(what);
        }
    };
    let shown = |path: &[&str]| text_at(record, path).map_or("(none)".to_owned(), str::to_owned);
    expect(
        text_at(record, &["id"]) == Some(id),
        format!(
            "id is {} instead of {id:?} (the problem's conflict_id)",
            shown(&["id"])
        ),
    );
    expect(
        text_at(record, &["resource"]).is_some_and(|r| names_document(r, &doc.url)),
        format!(
            "resource is {}, which does not name {}",
            shown(&["resource"]),
            doc.url
        ),
    );
    expect(
        text_at(record, &["based_on", "etag"]) == Some(doc.stale.as_str()),
        format!(
            "based_on.etag is {} instead of the If-Match sent, {}",
            shown(&["based_on", "etag"]),
            doc.stale
        ),
    );
    let current = doc.current.etag.as_deref().unwrap_or_default();
    expect(
        text_at(record, &["current", "etag"]) == Some(current),
        format!(
            "current.etag is {} instead of the ETag a GET showed, {current}",
            shown(&["current", "etag"])
        ),
    );
    for (member, header) in [
        ("based_on", doc.stale_version.as_deref()),
        (
            "current",
            super::version_of(&doc.current.exchange).as_deref(),
        ),
    ] {
        if let Some(header) = header {
            let recorded = record.get(member).and_then(|m| m.get("version"));
            expect(
                recorded.map(Value::to_string).as_deref() == Some(header),
                format!(
                    "{member}.version is {} while that version's Version header said {header}",
                    recorded.map_or("(none)".into(), Value::to_string)
                ),
            );
        }
    }
    let kind = text_at(record, &["kind"]);
    let problem_type = refused
        .answer
        .json()
        .and_then(|p| p.get("type").and_then(Value::as_str).map(str::to_owned));
    expect(
        kind.is_some_and(|k| {
            !k.is_empty() && problem_type.as_deref().is_none_or(|t| t.ends_with(k))
        }),
        format!(
            "kind is {} while the refusal's problem type is {}",
            shown(&["kind"]),
            problem_type.as_deref().unwrap_or("(none)")
        ),
    );
    let status = record.get("status").and_then(Value::as_u64);
    expect(
        status == Some(u64::from(refused.answer.status())),
        format!(
            "status is {} instead of {}",
            status.map_or("(none)".into(), |s| s.to_string()),
            refused.answer.status()
        ),
    );
    expect(
        text_at(record, &["method"]) == Some("PUT"),
        format!("method is {} instead of \"PUT\"", shown(&["method"])),
    );
    expect(
        state_of(record) == Some("open"),
        format!("state is {} instead of \"open\"", shown(&["state"])),
    );
    let rejected = record.get("rejected").and_then(|r| r.get("body"));
    expect(
        rejected == Some(&refused.mine),
        format!(
            "rejected.body is {} instead of the body of the refused PUT",
            rejected.map_or("(none)".into(), Value::to_string)
        ),
    );
    let client = record.get("client");
    match &cx.notify().writer {
        Some(writer) => expect(
            client.and_then(Value::as_str) == Some(writer.name.as_str()),
            format!(
                "client is {} instead of {:?}, the name of the token the PUT carried",
                client.map_or("(none)".into(), Value::to_string),
                writer.name
            ),
        ),
        None => expect(
            client.is_none_or(Value::is_null),
            format!(
                "client is {} for an anonymous write (expected null)",
                client.map_or("(none)".into(), Value::to_string)
            ),
        ),
    }
    wrong
}

check!(conflict_recorded, |cx| {
    offers_log(cx).await?;
    let doc = prepare(cx).await?;
    let refused = refuse(cx, &doc, 1).await?;
    let expectation = "a stale If-Match write is refused and recorded: the problem names conflict_id, and the record names the resource, based_on (the tag sent), current (the tag then current), kind, status, the rejected body and state open";
    let (Some(id), Some(url)) = (&refused.id, &refused.record_url) else {
        return Ok(Finding::violation(
            expectation,
            format!(
                "PUT {} with a stale If-Match answered {} with no conflict_id in its problem body",
                doc.url,
                refused.answer.status()
            ),
            &refused.answer,
        ));
    };
    let (read, record) = read_record(cx, url).await?;
    let Some(record) = record else {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the refusal named conflict {id}, and GET {url} answered {} without a JSON record",
                read.status()
            ),
            &read,
        ));
    };
    let wrong = judge_record(cx, &doc, &refused, id, &record);
    if !wrong.is_empty() {
        return Ok(Finding::violation(
            expectation,
            format!("GET {url} answered a record whose {}", wrong.join("; ")),
            &read,
        ));
    }
    let after = cx.snapshot(&doc.url).await?;
    if let Some(change) = describe_change(&doc.current, &after) {
        return Ok(Finding::violation(
            "a refused write changes nothing",
            format!("after the refusal, a re-read shows {change}"),
            &after.exchange,
        ));
    }
    Ok(Finding::Pass(format!(
        "a stale PUT was refused with {} naming conflict {id}; GET {url} answered the record with the resource, the tag sent as based_on, the current tag, kind {:?} and state open; the document is unchanged",
        refused.answer.status(),
        text_at(&record, &["kind"]).unwrap_or_default()
    )))
});

/// `GET {conflicts}?resource=<resource>`: the exchange and the ids listed.
async fn listed(
    cx: &Cx,
    resource: &str,
) -> Result<(crate::http::Exchange, Option<Vec<(String, String)>>), Abort> {
    let mut url = reqwest::Url::parse(cx.conflicts_url()).map_err(|e| {
        Abort::Prerequisite(format!(
            "the conflicts URL {} is not a URL: {e}",
            cx.conflicts_url()
        ))
    })?;
    url.query_pairs_mut().append_pair("resource", resource);
    let answer = cx
        .send(super::as_who(
            cx,
            Req::get(url.as_str()),
            super::Who::Writer,
        ))
        .await?;
    let ids = answer.json().and_then(|body| {
        body.get("conflicts")?
            .as_array()?
            .iter()
            .map(|r| {
                Some((
                    text_at(r, &["id"])?.to_owned(),
                    text_at(r, &["resource"])?.to_owned(),
                ))
            })
            .collect::<Option<Vec<_>>>()
    });
    Ok((answer, ids))
}

check!(log_filter, |cx| {
    let a = prepare(cx).await?;
    let first: Conflict = conflict_on(cx, &a, 1).await?;
    let second = conflict_on(cx, &a, 2).await?;
    let b = prepare(cx).await?;
    let other = conflict_on(cx, &b, 3).await?;
    let expectation = "GET {conflicts}?resource=R lists every record of R and only records of R";
    for (resource, mine, foreign) in [
        (&first.resource, vec![&first.id, &second.id], &other.id),
        (&other.resource, vec![&other.id], &first.id),
    ] {
        let (answer, ids) = listed(cx, resource).await?;
        let Some(ids) = ids.filter(|_| answer.status() == 200) else {
            return Ok(Finding::violation(
                expectation,
                format!(
                    "GET {} answered {} without a list of records with id and resource",
                    answer.request.url,
                    answer.status()
                ),
                &answer,
            ));
        };
        let strangers: Vec<String> = ids
            .iter()
            .filter(|(id, r)| r != resource || id == foreign)
            .map(|(id, r)| format!("{id} ({r})"))
            .collect();
        let shown = match strangers.len() {
            n if n > 5 => format!("{} and {} more", strangers[..5].join(", "), n - 5),
            _ => strangers.join(", "),
        };
        let missing: Vec<&str> = mine
            .iter()
            .filter(|m| !ids.iter().any(|(id, _)| id == **m))
            .map(|m| m.as_str())
            .collect();
        if !strangers.is_empty() || !missing.is_empty() {
            return Ok(Finding::violation(
                expectation,
                format!(
                    "GET {} listed other resources' records [{shown}] and missed [{}]",
                    answer.request.url,
                    missing.join(", ")
                ),
                &answer,
            ));
        }
    }
    Ok(Finding::Pass(format!(
        "filtered by resource, the log listed exactly {} and {} for {} and exactly {} for {}",
        first.id, second.id, first.resource, other.id, other.resource
    )))
});
