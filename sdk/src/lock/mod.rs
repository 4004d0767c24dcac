//! Pessimistic locks: the state of a held lock and the server's answers, as plain data.
//! The I/O (acquire, renew, release) lives with the client in `client/lock.rs`.

mod state;

use std::time::Duration;

use serde_json::Value;

pub(crate) use state::{Holder, LockRegistry, LockState};

/// A granted `ttl_ms` beyond a day is read as a day: far beyond any lease a server means, and
/// small enough that the lease's clock arithmetic (`now + ttl`) cannot overflow (a grant of
/// `u64::MAX` ms used to panic there). The SDK renews well before either anyway.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// A lock the server granted (`201` to `POST …/lock`, `200` to a renewal).
#[derive(Debug, PartialEq)]
pub(crate) struct Grant {
    pub token: String,
    pub owner: Option<String>,
    pub ttl_ms: u64,
    pub fencing: Option<u64>,
}

impl Grant {
    /// Parses a grant; `None` when the body is not one (a server of another shape). Read from
    /// a `Value` by hand: a serde derive would link number formatting into the wasm build.
    pub(crate) fn parse(body: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(body).ok()?;
        let token = value.get("token")?.as_str()?.to_owned();
        let ttl_ms = value.get("ttl_ms")?.as_u64()?;
        (!token.is_empty() && ttl_ms > 0).then(|| Self {
            token,
            owner: value
                .get("owner")
                .and_then(Value::as_str)
                .map(str::to_owned),
            ttl_ms,
            fencing: value.get("fencing").and_then(Value::as_u64),
        })
    }

    /// The lease granted, capped at [`MAX_TTL`].
    pub(crate) fn ttl(&self) -> Duration {
        Duration::from_millis(self.ttl_ms).min(MAX_TTL)
    }
}

/// The lock sub-resource of a resource: `…/items/1` → `…/items/1/lock`.
pub(crate) fn lock_url(resource: &str) -> String {
    match resource.split_once('?') {
        Some((path, query)) => format!("{}/lock?{query}", path.trim_end_matches('/')),
        None => format!("{}/lock", resource.trim_end_matches('/')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_are_parsed_leniently_but_need_a_token_and_a_ttl() {
        let grant = Grant::parse(
            br#"{"token":"abc","owner":"me","ttl_ms":3000,"fencing":7,"expires_at_ms":1}"#,
        )
        .unwrap();
        assert_eq!(grant.ttl(), Duration::from_secs(3));
        assert_eq!(grant.fencing, Some(7));
        assert!(Grant::parse(br#"{"token":"","ttl_ms":3000}"#).is_none());
        assert!(Grant::parse(br#"{"token":"a","ttl_ms":0}"#).is_none());
        assert!(Grant::parse(b"<html>").is_none());
    }

    #[test]
    fn an_absurd_ttl_is_capped_instead_of_overflowing_the_clock() {
        // Found by fuzzing: `now + ttl` panicked for a grant of `u64::MAX` ms.
        let grant = Grant::parse(br#"{"token":"a","ttl_ms":18446744073709551615}"#).unwrap();
        assert_eq!(grant.ttl(), MAX_TTL);
        let now = web_time::Instant::now();
        let header = http::HeaderValue::from_static("a");
        let lock = LockState::new(
            String::new(),
            header,
            "a".into(),
            None,
            None,
            grant.ttl(),
            now,
        );
        lock.renewed(grant.ttl(), now);
        assert_eq!(lock.ttl(), MAX_TTL);
    }

    #[test]
    fn the_lock_sub_resource_follows_the_resource() {
        assert_eq!(lock_url("http://h/items/1"), "http://h/items/1/lock");
        assert_eq!(lock_url("http://h/items/1/"), "http://h/items/1/lock");
        assert_eq!(
            lock_url("http://h/items/1?v=2"),
            "http://h/items/1/lock?v=2"
        );
    }
}
