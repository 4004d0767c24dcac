//! Reading responses: bodies, ETags and error classification.

use http::{header, Method};
use serde_json::Value;

use crate::{
    batch::wire::{root_of, url_under},
    conflict::classify,
    retry::read_hint,
    stats::Counters,
    transaction,
    transport::Incoming,
    EntityTag, Error, Problem,
};

use super::Client;

/// The JSON body, `None` when empty.
pub(crate) fn json_body(url: &str, body: &[u8]) -> Result<Option<Value>, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|source| Error::Decode {
            url: url.to_owned(),
            source,
        })
}

impl Client {
    /// The response's ETag; a malformed one is ignored (and counted), never trusted.
    pub(crate) fn etag_of(&self, response: &Incoming) -> Option<EntityTag> {
        let raw = response.headers.get(header::ETAG)?;
        match raw.to_str().ok().map(str::parse::<EntityTag>) {
            Some(Ok(tag)) => Some(tag),
            _ => {
                Counters::bump(&self.inner.counters.malformed_headers);
                tracing::warn!(etag = ?raw, "ignoring a malformed ETag header");
                None
            }
        }
    }

    /// Turns a non-success response into the matching error; `sent_tag` is the `If-Match` the
    /// request carried, which tells a stale-version 409 from other 409s.
    pub(crate) fn error_for(
        &self,
        method: &Method,
        url: &str,
        response: &Incoming,
        attempts: u32,
        sent_tag: Option<&EntityTag>,
    ) -> Error {
        let status = response.status;
        let problem = Problem::from_json(&response.body);
        if status == 401 || status == 403 {
            return Error::Auth {
                method: method.clone(),
                url: url.to_owned(),
                status,
                problem: problem.map(Box::new),
            };
        }
        if let Some(p) = problem.as_ref() {
            if status == 404 && transaction::is_not_found(p) {
                return Error::TransactionLost {
                    method: method.clone(),
                    url: url.to_owned(),
                    reason: p.detail.clone(),
                    problem: problem.map(Box::new),
                };
            }
            if status == 409 && transaction::is_conflict(p) {
                let root = root_of(self.inner.base_url.as_ref(), url);
                let resolve = |path: &str| {
                    root.as_ref()
                        .map_or_else(|| path.to_owned(), |root| url_under(root, path))
                };
                return Error::TransactionConflict {
                    url: url.to_owned(),
                    stale: transaction::stale_reads(p, resolve),
                    attempts: 1,
                    problem: problem.map(Box::new),
                };
            }
        }
        if status == 423 {
            let hint = read_hint(&response.headers, super::exchange::wall_clock());
            return Error::Locked {
                method: method.clone(),
                url: url.to_owned(),
                retry_after: hint.wait.map(|(d, _)| d),
                problem: problem.map(Box::new),
                commit: None,
            };
        }
        if status == 412 && problem.as_ref().is_some_and(Problem::is_lock_token_invalid) {
            return Error::LockLost {
                url: url.to_owned(),
                reason: "the server refused its token: it expired, was released or was broken"
                    .into(),
            };
        }
        let etag = self.etag_of(response);
        if let Some(conflict) = classify(status.as_u16(), problem.as_ref(), etag.as_ref(), sent_tag)
        {
            return Error::Conflict {
                method: method.clone(),
                url: url.to_owned(),
                status,
                attempts,
                create_only: false,
                current_etag: conflict.current_etag,
                problem: problem.map(Box::new),
                ended_update: None,
            };
        }
        if status == 429 || status == 503 {
            let hint = read_hint(&response.headers, super::exchange::wall_clock());
            let (method, url) = (method.clone(), url.to_owned());
            let retry_after = hint.wait.map(|(d, _)| d);
            let problem = problem.map(Box::new);
            return if status == 429 {
                Error::RateLimited {
                    method,
                    url,
                    status,
                    attempts,
                    retry_after,
                    problem,
                }
            } else {
                Error::Unavailable {
                    method,
                    url,
                    status,
                    attempts,
                    retry_after,
                    problem,
                }
            };
        }
        Error::Status {
            method: method.clone(),
            url: url.to_owned(),
            status,
            problem: problem.map(Box::new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_whitespace_bodies_are_none() {
        assert_eq!(json_body("u", b"").unwrap(), None);
        assert_eq!(json_body("u", b" \n").unwrap(), None);
        assert_eq!(
            json_body("u", b"{\"a\":1}").unwrap(),
            Some(serde_json::json!({"a": 1}))
        );
        assert_eq!(json_body("u", b"<html>").unwrap_err().code(), "decode");
    }
}
