//! Taking a lock: the grant, a missing resource, the TTL cap, and the refusal
//! while someone else holds it.

use std::time::UNIX_EPOCH;

use serde_json::{json, Value};

use super::{ask, bare_token, hold, release, retry_after, LONG_TTL_MS};
use crate::rules::Finding;

/// A TTL no server should grant: 30 days.
const HUGE_TTL_MS: u64 = 30 * 24 * 60 * 60 * 1000;

check!(acquire_201, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let (answer, held) = ask(cx, &fx.url, "acquire-201", LONG_TTL_MS).await?;
    if matches!(answer.status(), 404 | 405 | 501) {
        return Ok(Finding::Skip(format!(
            "the server offers no locks at {}: POST answered {}, so the locking rules are skipped. If its locks live elsewhere, say where with --lock-path",
            answer.request.url,
            answer.status()
        )));
    }
    let body = answer.json();
    let member = |name: &str| body.as_ref().and_then(|b| b.get(name)).cloned();
    let mut wrong = Vec::new();
    if answer.status() != 201 {
        wrong.push(format!("the status is {}", answer.status()));
    }
    let header = answer.header("lock-token").map(bare_token);
    match (header, member("token")) {
        (None, _) => wrong.push("there is no Lock-Token header".to_owned()),
        (_, None) => wrong.push("the body has no token member".to_owned()),
        (Some(sent), Some(token)) if token.as_str() != Some(sent) => wrong.push(format!(
            "the Lock-Token header names {sent:?} but the token member is {token}"
        )),
        _ => {}
    }
    if !member("expires_at_ms").is_some_and(|v| v.is_i64() || v.is_u64()) {
        wrong.push("the body has no numeric expires_at_ms".to_owned());
    }
    let ttl = member("ttl_ms").and_then(|v| v.as_u64());
    if !ttl.is_some_and(|ms| (1..=LONG_TTL_MS).contains(&ms)) {
        wrong.push(format!(
            "ttl_ms is {}, not the TTL granted for the {LONG_TTL_MS} ms asked",
            member("ttl_ms").map_or("absent".into(), |v| v.to_string())
        ));
    }
    let Some(held) = held.filter(|_| wrong.is_empty()) else {
        return Ok(Finding::violation(
            "a lock request for a resource nobody holds answers 201 with the token in the body and (the same) in Lock-Token, expires_at_ms and the ttl_ms granted",
            wrong.join("; "),
            &answer,
        ));
    };
    // Judged by what the grant did: the lock is now held by someone.
    let (second, granted_too) =
        ask(cx, &fx.url, "acquire-201 (second client)", LONG_TTL_MS).await?;
    if granted_too.is_some() {
        return Ok(Finding::violation(
            "after the grant the lock is held: a second lock request is not granted",
            format!(
                "a second lock request was granted too ({})",
                second.status()
            ),
            &second,
        ));
    }
    release(cx, &held).await?;
    Ok(Finding::Pass(format!(
        "201 with Lock-Token {}, ttl_ms {}; a second lock request then answered {}",
        held.header,
        ttl.unwrap_or_default(),
        second.status()
    )))
});

check!(acquire_missing_404, |cx| {
    let url = cx.fresh_url();
    let (answer, _) = ask(cx, &url, "acquire-missing-404", LONG_TTL_MS).await?;
    let after = cx.snapshot(&url).await?;
    Ok(if answer.status() == 404 && after.status == 404 {
        Finding::Pass(
            "a lock request for a missing resource answered 404; the resource still does not exist"
                .into(),
        )
    } else {
        Finding::violation(
            "a lock request for a missing resource answers 404 and creates nothing",
            format!(
                "the lock request answered {}, and a GET of the resource then answered {}",
                answer.status(),
                after.status
            ),
            &answer,
        )
    })
});

check!(ttl_capped, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let (answer, held) = ask(cx, &fx.url, "ttl-capped", HUGE_TTL_MS).await?;
    let expectation =
        "a lock asked for 30 days is granted (201) for at most the server's longest TTL, and ttl_ms reports the TTL granted";
    let Some(held) = held.filter(|_| answer.status() == 201) else {
        return Ok(Finding::violation(
            expectation,
            format!("the lock request answered {}", answer.status()),
            &answer,
        ));
    };
    let granted = match held.ttl_ms {
        Some(ms) if ms < HUGE_TTL_MS => ms,
        other => {
            let observed = other.map_or("the grant has no ttl_ms".into(), |ms| {
                format!("granted ttl_ms {ms}: the full 30 days asked (a crashed client would block the resource that long)")
            });
            return Ok(Finding::violation(expectation, observed, &answer));
        }
    };
    // The expiry must agree with the TTL granted, not the one asked; the answer's
    // Date (whole seconds, the server's clock) is the reference.
    let date = answer
        .header("date")
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .and_then(|d| d.duration_since(UNIX_EPOCH).ok());
    if let (Some(expires), Some(date)) = (held.expires_at_ms, date) {
        let ahead = expires - date.as_millis() as i64;
        if ahead > granted as i64 + 2_000 {
            return Ok(Finding::violation(
                "expires_at_ms is at most ttl_ms after the answer's Date",
                format!(
                    "expires_at_ms is {} s after the Date header, but ttl_ms is {} s",
                    ahead / 1000,
                    granted / 1000
                ),
                &answer,
            ));
        }
    }
    release(cx, &held).await?;
    Ok(Finding::Pass(format!(
        "asked for 30 days, granted ttl_ms {granted} ({} s)",
        granted / 1000
    )))
});

check!(busy_423, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let first = hold(cx, &fx.url, "busy-423 (holder)", LONG_TTL_MS).await?;
    let (second, stolen) = ask(cx, &fx.url, "busy-423 (second client)", LONG_TTL_MS).await?;
    let expectation = "while another client holds the lock, a lock request that does not wait answers 423 application/problem+json with Retry-After and the lock's expires_at_ms";
    if stolen.is_some() {
        return Ok(Finding::violation(
            expectation,
            format!(
                "the second lock request was granted ({}) while the first client held the lock",
                second.status()
            ),
            &second,
        ));
    }
    let mut wrong = Vec::new();
    if second.status() != 423 {
        wrong.push(format!("the status is {}", second.status()));
    }
    if second.media_type().as_deref() != Some("application/problem+json") {
        wrong.push(format!(
            "Content-Type is {}",
            second.header("content-type").unwrap_or("absent")
        ));
    }
    match second.header("retry-after") {
        None => wrong.push("there is no Retry-After".into()),
        Some(v) if retry_after(&second).is_none() => wrong.push(format!(
            "Retry-After {v:?} is neither delay-seconds nor an HTTP-date"
        )),
        Some(_) => {}
    }
    let expires = second.json().and_then(|b| b.get("expires_at_ms").cloned());
    if !expires.as_ref().is_some_and(Value::is_number) {
        wrong.push("the problem has no numeric expires_at_ms".into());
    }
    if !wrong.is_empty() {
        return Ok(Finding::violation(expectation, wrong.join("; "), &second));
    }
    // Judged by state too: the refused request took nothing from the holder.
    let released = release(cx, &first).await?;
    if released.status() / 100 != 2 {
        return Ok(Finding::violation(
            "a refused lock request leaves the lock with its holder, who can still release it",
            format!("the holder's release then answered {}", released.status()),
            &released,
        ));
    }
    Ok(Finding::Pass(format!(
        "a second lock request answered 423 with Retry-After: {}; the holder kept the lock",
        second.header("retry-after").unwrap_or_default()
    )))
});
