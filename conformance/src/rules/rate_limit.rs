//! The `rate-limit` profile: a burst meets 429 with a usable `Retry-After`,
//! consistent `RateLimit` fields, a problem body, and recovery after the wait.

use std::time::{Duration, Instant};

use super::{Abort, Cx, Finding};
use crate::http::{Exchange, Req};
use crate::rate_limit::{parse_fields, parse_retry_after};

/// Most requests one burst sends looking for a 429.
const BURST_REQUESTS: usize = 300;
/// Longest one burst lasts.
const BURST_TIME: Duration = Duration::from_secs(10);
/// Longest the recovery check waits, whatever `Retry-After` says.
const MAX_WAIT: Duration = Duration::from_secs(10);

async fn provoke_429(cx: &Cx) -> Result<Exchange, Abort> {
    let started = Instant::now();
    for _ in 0..BURST_REQUESTS {
        let sent = cx.send(Req::get(cx.collection_url()).keep_429()).await?;
        if sent.status() == 429 {
            return Ok(sent);
        }
        if started.elapsed() > BURST_TIME {
            break;
        }
    }
    Err(Abort::Prerequisite(format!(
        "no 429 within {BURST_REQUESTS} requests or {}s; the server does not appear to rate-limit",
        BURST_TIME.as_secs()
    )))
}

check!(retry_after, |cx| {
    let limited = provoke_429(cx).await?;
    Ok(match limited.header("retry-after") {
        Some(v) if parse_retry_after(v).is_some() => {
            Finding::Pass(format!("429 carries Retry-After: {v}"))
        }
        other => Finding::violation(
            "429 carries Retry-After as delay-seconds (e.g. 2) or an HTTP-date",
            format!(
                "Retry-After is {}",
                other.map_or("absent".into(), |v| format!("{v:?}"))
            ),
            &limited,
        ),
    })
});

check!(fields_consistent, |cx| {
    let limited = provoke_429(cx).await?;
    let (policy, limit) = (
        limited.header("ratelimit-policy"),
        limited.header("ratelimit"),
    );
    if policy.is_none() && limit.is_none() {
        return Ok(Finding::Pass(
            "no RateLimit fields sent (nothing to contradict Retry-After)".into(),
        ));
    }
    let expectation = "RateLimit-Policy and RateLimit parse as the IETF draft syntax; on a 429 RateLimit says r=0 and its t is within 1s of Retry-After";
    let bad = |observed: String| Ok(Finding::violation(expectation, observed, &limited));
    if let Some(p) = policy.filter(|p| parse_fields(p).is_none()) {
        return bad(format!("RateLimit-Policy {p:?} is malformed"));
    }
    let Some(items) = limit.map(parse_fields) else {
        return Ok(Finding::Pass(
            "RateLimit-Policy sent without RateLimit".into(),
        ));
    };
    let Some(item) = items.and_then(|i| i.into_iter().next()) else {
        return bad(format!(
            "RateLimit {:?} is malformed",
            limit.unwrap_or_default()
        ));
    };
    let retry = limited.header("retry-after").and_then(parse_retry_after);
    match (item.param("r"), item.param("t"), retry) {
        (Some(r), _, _) if r != 0 => bad(format!("a 429 says r={r} requests remain")),
        (_, Some(t), Some(wait)) if (t - wait.as_secs() as i64).abs() > 1 => bad(format!(
            "RateLimit t={t} but Retry-After is {}s",
            wait.as_secs()
        )),
        _ => Ok(Finding::Pass(format!(
            "RateLimit {:?} agrees with Retry-After",
            limit.unwrap_or_default()
        ))),
    }
});

check!(problem_json, |cx| {
    let limited = provoke_429(cx).await?;
    let status = limited.json().and_then(|b| b.get("status").cloned());
    Ok(
        if limited.media_type().as_deref() == Some("application/problem+json")
            && status == Some(serde_json::Value::from(429))
        {
            Finding::Pass("the 429 is a problem+json with status 429".into())
        } else {
            Finding::violation(
                "the 429 body is application/problem+json with \"status\": 429",
                format!(
                    "Content-Type {}, status member {}",
                    limited.header("content-type").unwrap_or("absent"),
                    status.map_or("absent".into(), |s| s.to_string())
                ),
                &limited,
            )
        },
    )
});

check!(recovers, |cx| {
    let limited = provoke_429(cx).await?;
    let Some(wait) = limited.header("retry-after").and_then(parse_retry_after) else {
        return Err(Abort::Prerequisite(
            "the 429 had no usable Retry-After to wait for".into(),
        ));
    };
    // Sub-second rounding: a server saying "1" may mean 1.4 s.
    tokio::time::sleep(wait.min(MAX_WAIT) + Duration::from_millis(500)).await;
    let again = cx.send(Req::get(cx.collection_url()).keep_429()).await?;
    Ok(if again.status() != 429 {
        Finding::Pass(format!(
            "after waiting {}s the request answered {}",
            wait.as_secs(),
            again.status()
        ))
    } else {
        Finding::violation(
            "after waiting as long as Retry-After said, the request is served",
            format!("still 429 after {}s", wait.min(MAX_WAIT).as_secs()),
            &again,
        )
    })
});
