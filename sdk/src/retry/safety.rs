//! Whether a request may be sent again: the pure rule behind every resend.

use http::{header, HeaderMap, Method};

use crate::transport::is_read;

/// Whether a request with `method` and `headers` may be sent again after it was answered
/// `status` (429 or 503), so that a second delivery cannot apply it twice. `repeatable` says
/// that its body makes a repeat harmless: an atomic batch whose every write is conditional and
/// creates nothing (`batch::wire::repeatable`), a transaction's commit (answered the same when
/// repeated) or begin (a second one only leaves an empty transaction to expire).
///
/// - Safe methods, repeatable bodies, and writes with `If-Match`/`If-None-Match` (a repeat
///   fails the precondition; the caller then checks whether the first attempt landed).
/// - A 429 means the server did not process the request, so a keyed write may be resent.
/// - A 503 may come from a proxy after the origin committed: a keyed POST/PATCH is resent only
///   when the server is known to honour `Idempotency-Key` (else two resources may be created).
///   PUT and DELETE are idempotent methods, so a keyed (unconditional) one may be resent.
pub(crate) fn is_retry_safe(
    method: &Method,
    headers: &HeaderMap,
    repeatable: bool,
    status: u16,
    keys_honoured: bool,
) -> bool {
    let keyed = headers.contains_key("idempotency-key");
    is_read(method)
        || repeatable
        || headers.contains_key(header::IF_MATCH)
        || headers.contains_key(header::IF_NONE_MATCH)
        || (keyed
            && (status == 429 || keys_honoured || matches!(*method, Method::PUT | Method::DELETE)))
}

/// Whether an answer with `status` to a `method` request is worth sending the request again
/// for, after a wait (subject to [`is_retry_safe`], the attempts and the deadline): 429 and 503
/// say "later" for any request; 502 and 504 come from a gateway that could not get (in time)
/// an answer from the origin, and are resent for reads only, since a write may have been
/// applied behind the gateway. Anything else (500 included: a failure a resend would likely
/// meet again) is the answer.
pub(crate) fn is_resent_status(method: &Method, status: u16) -> bool {
    matches!(status, 429 | 503) || (matches!(status, 502 | 504) && is_read(method))
}

/// Whether a request whose answer was lost (a transport error or an attempt timeout: it may
/// have been processed) may be sent again: a read changes nothing however often it arrives; a
/// keyed write only to a server declared to honour keys, which replays the first outcome.
/// Any other write may have been applied, and a resend could apply it twice.
pub(crate) fn is_resend_safe_after_loss(
    method: &Method,
    headers: &HeaderMap,
    keys_honoured: bool,
) -> bool {
    is_read(method) || (keys_honoured && headers.contains_key("idempotency-key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_errors_are_resent_for_reads_only() {
        for (method, status, resent) in [
            (Method::GET, 429, true),
            (Method::PUT, 429, true),
            (Method::GET, 503, true),
            (Method::POST, 503, true),
            (Method::GET, 502, true),
            (Method::HEAD, 504, true),
            (Method::OPTIONS, 502, true),
            (Method::PUT, 502, false),
            (Method::PATCH, 504, false),
            (Method::GET, 500, false),
            (Method::GET, 501, false),
            (Method::GET, 404, false),
            (Method::DELETE, 500, false),
        ] {
            assert_eq!(
                is_resent_status(&method, status),
                resent,
                "{method} answered {status}"
            );
        }
    }

    /// The table in docs/sdk.md ("Safety of retries"), row by row.
    #[test]
    fn resends_follow_the_documented_table() {
        let none = HeaderMap::new();
        let mut keyed = HeaderMap::new();
        keyed.insert("idempotency-key", "\"k\"".parse().unwrap());
        let mut conditional = HeaderMap::new();
        conditional.insert(header::IF_MATCH, "\"1\"".parse().unwrap());
        let mut create_only = HeaderMap::new();
        create_only.insert(header::IF_NONE_MATCH, "*".parse().unwrap());
        let (get, put, post, patch, delete) = (
            Method::GET,
            Method::PUT,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
        );
        let table: [(&Method, &HeaderMap, u16, bool, bool); 14] = [
            (&get, &none, 429, false, true),
            (&get, &none, 503, false, true),
            (&put, &conditional, 503, false, true),
            (&patch, &conditional, 429, false, true),
            (&put, &create_only, 503, false, true),
            (&post, &keyed, 429, false, true),
            (&patch, &keyed, 429, false, true),
            (&put, &keyed, 503, false, true),
            (&delete, &keyed, 503, false, true),
            (&post, &keyed, 503, false, false),
            (&patch, &keyed, 503, false, false),
            (&post, &keyed, 503, true, true),
            (&post, &none, 429, true, false),
            (&put, &none, 429, false, false),
        ];
        for (method, headers, status, honoured, expected) in table {
            assert_eq!(
                is_retry_safe(method, headers, false, status, honoured),
                expected,
                "{method} {headers:?} {status} honoured={honoured}"
            );
        }
        // A batch of conditional writes (or a commit) is repeatable; other batches are keyed
        // POSTs, resent after 503 only when keys are honoured.
        for (repeatable, headers, status, expected) in [
            (true, &none, 503, true),
            (true, &none, 429, true),
            (false, &keyed, 429, true),
            (false, &keyed, 503, false),
        ] {
            assert_eq!(
                is_retry_safe(&post, headers, repeatable, status, false),
                expected,
                "repeatable={repeatable} {headers:?} {status}"
            );
        }
    }

    /// docs/sdk.md ("Safety of retries"), the rows about lost answers.
    #[test]
    fn after_a_lost_answer_reads_and_honoured_keys_are_resent() {
        let none = HeaderMap::new();
        let mut keyed = HeaderMap::new();
        keyed.insert("idempotency-key", "\"k\"".parse().unwrap());
        let mut conditional = HeaderMap::new();
        conditional.insert(header::IF_MATCH, "\"1\"".parse().unwrap());
        for (method, headers, honoured, expected) in [
            (Method::GET, &none, false, true),
            (Method::HEAD, &none, false, true),
            (Method::GET, &conditional, false, true),
            (Method::PUT, &conditional, false, false),
            (Method::PUT, &conditional, true, false),
            (Method::POST, &keyed, false, false),
            (Method::POST, &keyed, true, true),
            (Method::DELETE, &none, true, false),
        ] {
            assert_eq!(
                is_resend_safe_after_loss(&method, headers, honoured),
                expected,
                "{method} {headers:?} honoured={honoured}"
            );
        }
    }
}
