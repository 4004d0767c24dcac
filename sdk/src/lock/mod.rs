//! Pessimistic locks: the state of a held lock and the server's answers, as plain data.
//! The I/O (acquire, renew, release) lives with the client in `client/lock.rs`.

mod state;

use std::time::Duration;

use serde_json::Value;

pub(crate) use state::{Holder, LockRegistry, LockState};

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

    pub(crate) fn ttl(&self) -> Duration {
        Duration::from_millis(self.ttl_ms)
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
    fn the_lock_sub_resource_follows_the_resource() {
        assert_eq!(lock_url("http://h/items/1"), "http://h/items/1/lock");
        assert_eq!(lock_url("http://h/items/1/"), "http://h/items/1/lock");
        assert_eq!(
            lock_url("http://h/items/1?v=2"),
            "http://h/items/1/lock?v=2"
        );
    }
}
