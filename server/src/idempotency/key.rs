//! What identifies a keyed request: the key itself, who sent it, and a fingerprint of what it
//! asks for.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::IpAddr;

use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName};

/// The request field (draft-ietf-httpapi-idempotency-key-header).
pub(crate) const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The longest key accepted, in bytes (a UUID in quotes is 38).
pub(crate) const MAX_KEY_BYTES: usize = 255;

/// The request fields that change what a write means, besides its method, target and body.
const MEANINGFUL: [&str; 7] = [
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "content-type",
    "api-version",
    "transaction-id",
    "lock-token",
];

/// Who sent a keyed request: keys of different clients never meet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Client {
    /// An authenticated client, by its configured name.
    Named(String),
    /// An anonymous client, by its peer address.
    Address(IpAddr),
    /// No identity and no peer address (the router embedded without connection info).
    Unknown,
}

/// One client's key: what a record is stored under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Scope {
    pub(crate) client: Client,
    /// The field's value as sent (quotes included).
    pub(crate) key: String,
}

impl Scope {
    /// Bytes this scope costs in a record, besides the record itself.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.key.len()
            + match &self.client {
                Client::Named(name) => name.len(),
                _ => 0,
            }
    }
}

/// A 128-bit digest of the method, target, meaningful fields and body of a request: a retry
/// with the same key must match it. Not cryptographic: a collision needs one client to send
/// two different requests under one key, and only earns that client its own earlier answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Fingerprint(pub(crate) u64, pub(crate) u64);

impl Fingerprint {
    pub(crate) fn of(parts: &Parts, body: &[u8]) -> Self {
        let digest = |salt: u64| {
            let mut h = DefaultHasher::new();
            salt.hash(&mut h);
            parts.method.as_str().hash(&mut h);
            parts
                .uri
                .path_and_query()
                .map_or("", |p| p.as_str())
                .hash(&mut h);
            for name in MEANINGFUL {
                for value in parts.headers.get_all(name) {
                    name.hash(&mut h);
                    value.as_bytes().hash(&mut h);
                }
            }
            body.hash(&mut h);
            h.finish()
        };
        Self(digest(0x6966_6d61_7463_6831), digest(0x6964_656d_706f_7432))
    }
}

/// The key a request carries: `Ok(None)` without one, `Err` with what is wrong with it.
///
/// The draft makes the key a Structured Field string (`"…"`, RFC 8941 §3.3.3); a bare token
/// (`abc-123`, as many clients send) is accepted too. Either way: one field, 1 to
/// [`MAX_KEY_BYTES`] visible ASCII bytes.
pub(crate) fn key_of(headers: &HeaderMap) -> Result<Option<String>, String> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("the request carries Idempotency-Key more than once; send exactly one".into());
    }
    let bytes = value.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= MAX_KEY_BYTES
        && bytes
            .iter()
            .all(|b| (0x21..=0x7e).contains(b) || *b == b' ')
        && if bytes[0] == b'"' {
            is_sf_string(bytes)
        } else {
            !bytes.contains(&b' ') && !bytes.contains(&b'"')
        };
    if !valid {
        return Err(format!(
            "Idempotency-Key must be a quoted string such as \"8e03978e-40d5-43e8-bc93-6894a57f9324\" (or a bare token) of at most {MAX_KEY_BYTES} visible ASCII characters"
        ));
    }
    // Only visible ASCII remains, so the value is UTF-8.
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// `"…"` with `\"` and `\\` the only escapes, and something inside.
fn is_sf_string(bytes: &[u8]) -> bool {
    if bytes.len() < 3 || bytes[bytes.len() - 1] != b'"' {
        return false;
    }
    let inner = &bytes[1..bytes.len() - 1];
    let mut escaped = false;
    for &b in inner {
        match (escaped, b) {
            (true, b'"' | b'\\') => escaped = false,
            (true, _) => return false,
            (false, b'\\') => escaped = true,
            (false, b'"') => return false,
            _ => {}
        }
    }
    !escaped
}

/// Whether a method's requests may carry a key the server honours.
pub(crate) fn keyed_method(method: &axum::http::Method) -> bool {
    use axum::http::Method;
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// Whether a response field is kept with a record and sent again with a replay: every field
/// the route set (`ETag`, `Location`, `Content-Location`, `Content-Type`, `Lock-Token`,
/// `Version`, `Cache-Control`, …; the layers outside add theirs to each answer), but for the
/// ones that describe one transfer.
pub(crate) fn kept_field(name: &HeaderName) -> bool {
    ![
        header::CONTENT_LENGTH,
        header::DATE,
        header::CONNECTION,
        header::TRANSFER_ENCODING,
    ]
    .contains(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, Request};

    fn key(value: &str) -> Result<Option<String>, String> {
        let mut headers = HeaderMap::new();
        headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_str(value).unwrap());
        key_of(&headers)
    }

    #[test]
    fn quoted_strings_and_bare_tokens_are_keys() {
        assert_eq!(key_of(&HeaderMap::new()), Ok(None));
        assert_eq!(key("\"abc\""), Ok(Some("\"abc\"".into())));
        assert_eq!(key("\"a b \\\" c\""), Ok(Some("\"a b \\\" c\"".into())));
        assert_eq!(key("abc-123"), Ok(Some("abc-123".into())));
        let longest = "k".repeat(MAX_KEY_BYTES);
        assert!(key(&longest).unwrap().is_some());
    }

    #[test]
    fn malformed_keys_are_refused_with_the_expected_form() {
        let too_long = "k".repeat(MAX_KEY_BYTES + 1);
        for bad in [
            "", "\"\"", "\"abc", "a\"b", "a b", "\"a\\b\"", "\"a\"b\"", "\"a\\\"", &too_long,
        ] {
            let err = key(bad).unwrap_err();
            assert!(err.contains("quoted string"), "{bad:?}: {err}");
        }
        let mut twice = HeaderMap::new();
        twice.append(IDEMPOTENCY_KEY, HeaderValue::from_static("\"a\""));
        twice.append(IDEMPOTENCY_KEY, HeaderValue::from_static("\"a\""));
        assert!(key_of(&twice).unwrap_err().contains("more than once"));
    }

    fn parts(method: &str, uri: &str, if_match: Option<&str>) -> Parts {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(tag) = if_match {
            builder = builder.header("if-match", tag);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn fingerprints_tell_method_target_preconditions_and_body_apart() {
        let base = Fingerprint::of(&parts("PUT", "/items/1", Some("\"1\"")), b"{}");
        assert_eq!(
            base,
            Fingerprint::of(&parts("PUT", "/items/1", Some("\"1\"")), b"{}")
        );
        for other in [
            Fingerprint::of(&parts("PATCH", "/items/1", Some("\"1\"")), b"{}"),
            Fingerprint::of(&parts("PUT", "/items/2", Some("\"1\"")), b"{}"),
            Fingerprint::of(&parts("PUT", "/items/1?x=1", Some("\"1\"")), b"{}"),
            Fingerprint::of(&parts("PUT", "/items/1", Some("\"2\"")), b"{}"),
            Fingerprint::of(&parts("PUT", "/items/1", None), b"{}"),
            Fingerprint::of(&parts("PUT", "/items/1", Some("\"1\"")), b"{\"a\":1}"),
        ] {
            assert_ne!(base, other);
        }
    }
}
