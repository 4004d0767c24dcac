//! What identifies a keyed request: the key itself, who sent it, and a fingerprint of what it
//! asks for.

use std::hash::Hash;
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
///
/// FNV-1a (128 bits) over length-prefixed fields: the same request gives the same digest in
/// every process and every build, so replicas sharing records in a database agree (std's
/// `DefaultHasher` promises neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Fingerprint(pub(crate) u64, pub(crate) u64);

/// FNV-1a with 128 bits of state.
struct Fnv128(u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

    fn bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u128::from(byte);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// A field, after its length, so that no two field sequences feed the same bytes.
    fn field(&mut self, bytes: &[u8]) {
        self.bytes(&(bytes.len() as u64).to_le_bytes());
        self.bytes(bytes);
    }
}

impl Fingerprint {
    pub(crate) fn of(parts: &Parts, body: &[u8]) -> Self {
        let mut h = Fnv128(Fnv128::OFFSET);
        h.field(parts.method.as_str().as_bytes());
        h.field(
            parts
                .uri
                .path_and_query()
                .map_or("", |p| p.as_str())
                .as_bytes(),
        );
        for name in MEANINGFUL {
            for value in parts.headers.get_all(name) {
                h.field(name.as_bytes());
                h.field(value.as_bytes());
            }
        }
        h.field(body);
        #[allow(clippy::cast_possible_truncation)] // the halves, on purpose
        Self((h.0 >> 64) as u64, h.0 as u64)
    }

    /// The 16 bytes, high half first (how a database keeps it).
    pub(crate) fn to_bytes(self) -> [u8; 16] {
        ((u128::from(self.0) << 64) | u128::from(self.1)).to_be_bytes()
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

/// The digest of `PUT /items/1`, `If-Match: "1"`, body `{}` (checked by a test; computed
/// independently of this code).
#[cfg(test)]
const PINNED_FINGERPRINT: [u8; 16] = [
    0x45, 0x69, 0xda, 0x15, 0x73, 0x89, 0x50, 0x96, 0xb3, 0x46, 0x64, 0x6f, 0x5b, 0x68, 0x49, 0xe3,
];

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

    #[test]
    fn fnv_1a_128_gives_the_published_values() {
        for (input, expected) in [
            (&b""[..], Fnv128::OFFSET),
            (b"a", 0xd228_cb69_6f1a_8caf_7891_2b70_4e4a_8964),
            (b"foobar", 0x343e_1662_793c_64bf_6f0d_3597_ba44_6f18),
        ] {
            let mut h = Fnv128(Fnv128::OFFSET);
            h.bytes(input);
            assert_eq!(h.0, expected, "{input:?}");
        }
    }

    #[test]
    fn a_fingerprint_is_the_same_in_every_process_and_build() {
        // Pinned: replicas sharing records in a database must compute the same digest.
        let fp = Fingerprint::of(&parts("PUT", "/items/1", Some("\"1\"")), b"{}");
        assert_eq!(
            fp.to_bytes(),
            PINNED_FINGERPRINT,
            "the fingerprint changed; replicas of mixed versions would refuse retries with 422"
        );
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
