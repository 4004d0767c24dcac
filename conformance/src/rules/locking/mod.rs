//! The `locking` profile: pessimistic locks with a TTL on a JSON sub-resource
//! (`POST {resource}/lock` takes one, `PUT` renews, `DELETE` releases), judged by
//! what the holder and others may do next and by re-reading the resource.
//!
//! TTLs are short (a few hundred milliseconds where a rule waits for an expiry),
//! so the whole profile takes a few seconds. Every lock a check takes is released
//! by the check, or by the runner's cleanup before it deletes the check's resources.

mod acquire;
mod catalogue;
mod contention;
mod lifecycle;
mod queue;
mod writes;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub(super) use catalogue::RULES;

use super::context::{describe_change, Snapshot};
use super::{Abort, Cx, Finding};
use crate::http::{Exchange, Probe, Req};

/// The `owner` the suite names itself with.
const OWNER: &str = "ifmatch-conformance";
/// A lease long enough that it never runs out while a check works with it.
const LONG_TTL_MS: u64 = 5_000;
/// Added to a lease before the suite counts on its expiry: the server's clock
/// rounds, and the grant was made a little after the request left.
const EXPIRY_MARGIN: Duration = Duration::from_millis(150);

/// A lock granted to the suite.
#[derive(Debug, Clone)]
pub(super) struct Held {
    /// The lock's URL.
    pub lock_url: String,
    /// The `Lock-Token` value to send: as the grant's header gave it, else the
    /// body's token in double quotes.
    pub header: String,
    /// The token itself, without quotes.
    pub token: String,
    /// The TTL the server says it granted, in milliseconds.
    pub ttl_ms: Option<u64>,
    /// The expiry the server reports (Unix milliseconds).
    pub expires_at_ms: Option<i64>,
    /// When the request that got the lock was sent.
    pub sent: Instant,
    /// When its 201 arrived.
    pub granted: Instant,
    /// The 201.
    pub exchange: Exchange,
}

impl Held {
    /// The latest moment the lease can end by itself, by the suite's clock: it was
    /// granted at the latest when the 201 arrived.
    pub fn surely_expired_at(&self, asked_ttl_ms: u64) -> Instant {
        let ttl = self.ttl_ms.unwrap_or(asked_ttl_ms);
        self.granted + Duration::from_millis(ttl) + EXPIRY_MARGIN
    }
}

/// The bare token of a `Lock-Token` value: `"t"`, `<t>` (WebDAV's Coded-URL) or `t`.
pub(super) fn bare_token(value: &str) -> &str {
    let value = value.trim();
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('<').and_then(|v| v.strip_suffix('>')))
        .unwrap_or(value)
}

/// Reads a grant (a 201 or 200 with a token) out of an exchange.
pub(super) fn grant(
    lock_url: &str,
    exchange: &Exchange,
    sent: Instant,
    granted: Instant,
) -> Option<Held> {
    let body = exchange.json();
    let body_token = body
        .as_ref()
        .and_then(|b| b.get("token"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let header = exchange.header("lock-token").map(str::to_owned);
    let token = header
        .as_deref()
        .map(|h| bare_token(h).to_owned())
        .or(body_token)?;
    Some(Held {
        lock_url: lock_url.to_owned(),
        header: header.unwrap_or_else(|| format!("\"{token}\"")),
        token,
        ttl_ms: body
            .as_ref()
            .and_then(|b| b.get("ttl_ms"))
            .and_then(Value::as_u64),
        expires_at_ms: body
            .as_ref()
            .and_then(|b| b.get("expires_at_ms"))
            .and_then(Value::as_i64),
        sent,
        granted,
        exchange: exchange.clone(),
    })
}

/// `POST {lock}` with `{"owner", "ttl_ms"}` and `wait_ms` when given.
pub(super) fn lock_request(lock_url: &str, who: &str, ttl_ms: u64, wait_ms: Option<u64>) -> Req {
    let mut body = json!({ "owner": format!("{OWNER} {who}"), "ttl_ms": ttl_ms });
    if let Some(wait) = wait_ms {
        body["wait_ms"] = Value::from(wait);
    }
    Req::post(lock_url).json(&body)
}

/// Sends a lock request with `probe` and reads the grant, if any.
pub(super) async fn try_lock(
    probe: &Probe,
    req: Req,
    lock_url: &str,
) -> Result<(Exchange, Option<Held>), Abort> {
    let sent = Instant::now();
    let exchange = probe.send(req).await?;
    let held = (exchange.status() / 100 == 2)
        .then(|| grant(lock_url, &exchange, sent, Instant::now()))
        .flatten();
    Ok((exchange, held))
}

/// Asks for the lock of `item` without waiting; a grant is remembered for cleanup.
pub(super) async fn ask(
    cx: &Cx,
    item: &str,
    who: &str,
    ttl_ms: u64,
) -> Result<(Exchange, Option<Held>), Abort> {
    let lock_url = cx.lock_url(item);
    let (exchange, held) = try_lock(
        &cx.probe,
        lock_request(&lock_url, who, ttl_ms, None),
        &lock_url,
    )
    .await?;
    if let Some(held) = &held {
        cx.remember_lock(&held.lock_url, &held.header);
    }
    Ok((exchange, held))
}

/// Takes the lock of `item`; a check that cannot is skipped (the rules about
/// taking a lock judge that).
pub(super) async fn hold(cx: &Cx, item: &str, who: &str, ttl_ms: u64) -> Result<Held, Abort> {
    let (exchange, held) = ask(cx, item, who, ttl_ms).await?;
    match held {
        Some(held) if exchange.status() == 201 => Ok(held),
        _ => Err(Abort::Prerequisite(format!(
            "could not take a lock: POST {} answered {} {}",
            exchange.request.url,
            exchange.status(),
            if exchange.status() == 201 {
                "without a token"
            } else {
                ""
            }
        ))),
    }
}

/// `DELETE {lock}` with the holder's token; a 2xx forgets the lock.
pub(super) async fn release(cx: &Cx, held: &Held) -> Result<Exchange, Abort> {
    let sent = cx
        .send(Req::delete(&held.lock_url).header("Lock-Token", held.header.clone()))
        .await?;
    if sent.status() / 100 == 2 {
        cx.forget_lock(&held.header);
    }
    Ok(sent)
}

/// A token no server ever issued, as a `Lock-Token` value.
pub(super) fn unknown_token(cx: &Cx) -> String {
    format!("\"ifmatch-conformance-{}-never-issued\"", cx.run_token())
}

/// GETs `url`, as the holder of `token` when given: a server that also locks reads
/// (not this contract's rule, but not a write defect either) still answers the holder.
pub(super) async fn reread(cx: &Cx, url: &str, token: Option<&Held>) -> Result<Snapshot, Abort> {
    let req = match token {
        Some(held) => Req::get(url).header("Lock-Token", held.header.clone()),
        None => Req::get(url),
    };
    let exchange = cx.send(req).await?;
    Ok(Snapshot {
        status: exchange.status(),
        etag: exchange.etag_raw().map(str::to_owned),
        body: exchange.json(),
        exchange,
    })
}

/// Judges a write that must be refused with `status` and change nothing: `None`
/// when it was, else the violation.
pub(super) async fn refused_unchanged(
    cx: &Cx,
    before: &Snapshot,
    attempt: &Exchange,
    status: u16,
    what: &str,
    reader: Option<&Held>,
) -> Result<Option<Finding>, Abort> {
    let after = reread(cx, &attempt.request.url, reader).await?;
    let change = describe_change(before, &after);
    if attempt.status() == status && change.is_none() {
        return Ok(None);
    }
    let observed = match change {
        Some(change) => format!(
            "{what} answered {}, and a re-read shows {change}",
            attempt.status()
        ),
        None => format!("{what} answered {} (state unchanged)", attempt.status()),
    };
    Ok(Some(Finding::violation(
        format!("{what} is refused with {status} and the resource stays exactly as it was"),
        observed,
        attempt,
    )))
}

/// Whole seconds a `Retry-After` value asks for, when it parses.
pub(super) fn retry_after(exchange: &Exchange) -> Option<Duration> {
    exchange
        .header("retry-after")
        .and_then(crate::rate_limit::parse_retry_after)
}

/// Sleeps until `at` (at once when it is past).
pub(super) async fn sleep_until(at: Instant) {
    tokio::time::sleep(at.saturating_duration_since(Instant::now())).await;
}

#[cfg(test)]
mod tests {
    use super::bare_token;

    #[test]
    fn tokens_are_read_in_every_accepted_form() {
        assert_eq!(bare_token("\"lock-1\""), "lock-1");
        assert_eq!(bare_token(" <lock-1> "), "lock-1");
        assert_eq!(bare_token("lock-1"), "lock-1");
        assert_eq!(bare_token("\"lock-1"), "\"lock-1");
    }
}
