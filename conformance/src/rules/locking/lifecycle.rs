//! A lock's life: it expires by itself, is renewed and released with its token
//! only, its tokens are never reused, and (informational) it can be broken.

use std::time::{Duration, Instant};

use serde_json::json;

use super::writes::expiring;
use super::{
    ask, grant, hold, refused_unchanged, release, reread, sleep_until, unknown_token, Held,
    LONG_TTL_MS,
};
use crate::http::{Exchange, Req};
use crate::rules::{break_url, Abort, Cx, Finding};

/// The lease `expiry` leaves to run out.
const EXPIRY_TTL_MS: u64 = 600;
/// The first lease `renew` extends.
const RENEWED_TTL_MS: u64 = 800;
/// Locks `token-unique` takes and releases before it tries the first token again.
const ROUNDS: usize = 5;

check!(expiry, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let first = expiring(cx, &fx.url, "expiry (left to expire)", EXPIRY_TTL_MS).await?;
    let ttl = Duration::from_millis(first.ttl_ms.unwrap_or(EXPIRY_TTL_MS));
    let (early, taken) = ask(cx, &fx.url, "expiry (before it)", LONG_TTL_MS).await?;
    // A grant counts against the rule only while the first lease surely still ran;
    // on a slow run it may come after the expiry, which is what the rule asks.
    if let Some(taken) = taken.filter(|_| Instant::now() >= first.sent + ttl) {
        cx.forget_lock(&first.header);
        release(cx, &taken).await?;
        return Ok(Finding::Pass(format!(
            "a lock left alone for its {} ms TTL freed itself: the next lock request was granted",
            ttl.as_millis()
        )));
    }
    if early.status() / 100 == 2 {
        return Ok(Finding::violation(
            "a lock holds until its expiry: before it, another lock request is refused",
            format!(
                "a second lock request was granted ({}) before the first lock's {} ms ran out",
                early.status(),
                ttl.as_millis()
            ),
            &early,
        ));
    }
    sleep_until(first.surely_expired_at(EXPIRY_TTL_MS)).await;
    let (late, next) = ask(cx, &fx.url, "expiry (after it)", LONG_TTL_MS).await?;
    cx.forget_lock(&first.header);
    match next {
        Some(next) if late.status() == 201 => {
            release(cx, &next).await?;
            Ok(Finding::Pass(format!(
                "a lock left alone for its {} ms TTL freed itself: the next lock request was granted",
                ttl.as_millis()
            )))
        }
        _ => Ok(Finding::violation(
            "a lock that is neither renewed nor released frees itself at its expiry: the next lock request is granted",
            format!(
                "{} ms after the grant, with nobody releasing the lock, a lock request answered {}",
                first.granted.elapsed().as_millis(),
                late.status()
            ),
            &late,
        )),
    }
});

/// `PUT {lock}` with `token` and a new TTL.
fn renewal(held: &Held, token: &str) -> Req {
    Req::put(&held.lock_url)
        .header("Lock-Token", token)
        .json(&json!({ "ttl_ms": LONG_TTL_MS }))
}

check!(renew, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let held = expiring(cx, &fx.url, "renew", RENEWED_TTL_MS).await?;
    let expectation = "a renewal with the holder's token answers 200 with the same token and a later expires_at_ms; with another token, 412";
    let sent = Instant::now();
    let renewed = cx.send(renewal(&held, &held.header)).await?;
    let first_lease = Duration::from_millis(held.ttl_ms.unwrap_or(RENEWED_TTL_MS));
    if renewed.status() == 412 && sent >= held.sent + first_lease {
        return Err(Abort::Prerequisite(format!(
            "the renewal left {} ms after the lock request, when the {} ms lease may have ended already; this run is too slow to judge renewals",
            (sent - held.sent).as_millis(),
            first_lease.as_millis()
        )));
    }
    let again = grant(&held.lock_url, &renewed, sent, Instant::now());
    let wrong = match &again {
        _ if renewed.status() != 200 => Some(format!("the renewal answered {}", renewed.status())),
        None => Some("the renewal's answer names no token".into()),
        Some(g) if g.token != held.token => Some(format!(
            "the renewal answered another token ({:?}, was {:?})",
            g.token, held.token
        )),
        Some(g) if g.expires_at_ms.is_none() || g.expires_at_ms <= held.expires_at_ms => {
            Some(format!(
                "expires_at_ms did not move later ({:?}, was {:?})",
                g.expires_at_ms, held.expires_at_ms
            ))
        }
        Some(_) => None,
    };
    if let Some(observed) = wrong {
        return Ok(Finding::violation(expectation, observed, &renewed));
    }
    let other = cx.send(renewal(&held, &unknown_token(cx))).await?;
    if other.status() != 412 {
        return Ok(Finding::violation(
            expectation,
            format!(
                "a renewal with a token the server never issued answered {}",
                other.status()
            ),
            &other,
        ));
    }
    // Judged by state: past the first lease's end the lock is still held.
    sleep_until(held.surely_expired_at(RENEWED_TTL_MS)).await;
    let (later, taken) = ask(cx, &fx.url, "renew (after the first lease)", LONG_TTL_MS).await?;
    if taken.is_some() {
        return Ok(Finding::violation(
            "a renewed lock outlives its first lease: a lock request after the first lease's end is refused",
            format!(
                "it was granted ({}): the renewal did not extend the lock",
                later.status()
            ),
            &later,
        ));
    }
    let released = release(cx, &held).await?;
    if released.status() / 100 != 2 {
        return Ok(Finding::violation(
            "a renewal keeps the token: the renewed lock is released with it",
            format!("the release answered {}", released.status()),
            &released,
        ));
    }
    Ok(Finding::Pass(format!(
        "the renewal answered 200 with the same token; another token got 412; {} ms after the grant the lock was still held",
        held.granted.elapsed().as_millis()
    )))
});

check!(release_lock, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let held = hold(cx, &fx.url, "release (holder)", LONG_TTL_MS).await?;
    let expectation = "a release with another token answers 412 and frees nothing; with the holder's token, 204 and the lock is free";
    let wrong = cx
        .send(Req::delete(&held.lock_url).header("Lock-Token", unknown_token(cx)))
        .await?;
    if wrong.status() != 412 {
        return Ok(Finding::violation(
            expectation,
            format!(
                "a release with a token the server never issued answered {}",
                wrong.status()
            ),
            &wrong,
        ));
    }
    let (still, taken) = ask(cx, &fx.url, "release (after a wrong release)", LONG_TTL_MS).await?;
    if taken.is_some() {
        return Ok(Finding::violation(
            expectation,
            "after the refused release the lock was granted to another request: it had been freed",
            &still,
        ));
    }
    let right = release(cx, &held).await?;
    if right.status() != 204 {
        return Ok(Finding::violation(
            expectation,
            format!("the holder's release answered {}", right.status()),
            &right,
        ));
    }
    let (next, freed) = ask(cx, &fx.url, "release (after the release)", LONG_TTL_MS).await?;
    match freed {
        Some(freed) => {
            release(cx, &freed).await?;
            Ok(Finding::Pass(
                "a wrong token's release got 412 and freed nothing; the holder's got 204 and the next lock request was granted".into(),
            ))
        }
        None => Ok(Finding::violation(
            expectation,
            format!(
                "after the holder's release a lock request answered {}",
                next.status()
            ),
            &next,
        )),
    }
});

/// The violation when `held` carries a token an earlier grant had.
fn reused(earlier: &[Held], held: &Held) -> Option<Finding> {
    let at = earlier.iter().position(|e| e.token == held.token)?;
    Some(Finding::violation(
        "every grant has a token never issued before",
        format!(
            "grant {} has the token of grant {} ({:?})",
            earlier.len() + 1,
            at + 1,
            held.token
        ),
        &held.exchange,
    ))
}

async fn take_and_release(cx: &Cx, item: &str, round: usize) -> Result<Held, Abort> {
    let held = hold(
        cx,
        item,
        &format!("token-unique (grant {round})"),
        LONG_TTL_MS,
    )
    .await?;
    let freed = release(cx, &held).await?;
    if freed.status() / 100 != 2 {
        return Err(Abort::Prerequisite(format!(
            "the holder's release answered {}",
            freed.status()
        )));
    }
    Ok(held)
}

check!(token_unique, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let mut earlier: Vec<Held> = Vec::new();
    for round in 1..=ROUNDS {
        let held = take_and_release(cx, &fx.url, round).await?;
        if let Some(broken) = reused(&earlier, &held) {
            return Ok(broken);
        }
        earlier.push(held);
    }
    let current = hold(cx, &fx.url, "token-unique (newest)", LONG_TTL_MS).await?;
    if let Some(broken) = reused(&earlier, &current) {
        return Ok(broken);
    }
    let first = &earlier[0];
    let renewed = cx.send(renewal(&current, &first.header)).await?;
    if renewed.status() != 412 {
        return Ok(old_token_matched("a renewal", &renewed));
    }
    let before = reread(cx, &fx.url, Some(&current)).await?;
    let write = cx
        .send(
            Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": 2 })))
                .header("If-Match", fx.etag.to_string())
                .header("Lock-Token", first.header.clone()),
        )
        .await?;
    let what = "a PUT with the first grant's token while a newer lock is held";
    if let Some(broken) = refused_unchanged(cx, &before, &write, 412, what, Some(&current)).await? {
        return Ok(broken);
    }
    release(cx, &current).await?;
    Ok(Finding::Pass(format!(
        "{} grants had {} different tokens; the first grant's token got 412 on the newest lock, for a renewal and a PUT",
        ROUNDS + 1,
        ROUNDS + 1
    )))
});

fn old_token_matched(what: &str, exchange: &Exchange) -> Finding {
    Finding::violation(
        "an old token never matches a newer lock: it is refused with 412",
        format!(
            "{what} of the newest lock with the first grant's token answered {}",
            exchange.status()
        ),
        exchange,
    )
}

check!(break_info, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let held = hold(cx, &fx.url, "break (holder)", LONG_TTL_MS).await?;
    let broke = cx.send(Req::delete(&break_url(&held.lock_url))).await?;
    if broke.status() / 100 != 2 {
        return Ok(Finding::Info(format!(
            "DELETE {} without a token answered {}: the server offers no break, or restricts it",
            broke.request.url,
            broke.status()
        )));
    }
    cx.forget_lock(&held.header);
    let (after, next) = ask(cx, &fx.url, "break (after it)", LONG_TTL_MS).await?;
    let then = match &next {
        Some(next) => {
            release(cx, next).await?;
            "the lock was then granted to another request".to_owned()
        }
        None => format!("a lock request then answered {}", after.status()),
    };
    Ok(Finding::Info(format!(
        "DELETE …?break=true without a token answered {} and {then}: whoever can reach the server can end anyone's lock; restrict it to administrators where clients are not trusted",
        broke.status()
    )))
});
