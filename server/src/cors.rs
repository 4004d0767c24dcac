//! CORS (`--cors-origin`), so that pages on other origins can call the server from a browser.
//!
//! Off unless origins are configured. For a request whose `Origin` is allowed, a preflight
//! (`OPTIONS` with `Access-Control-Request-Method`) is answered 204 here, before the rate limit
//! and authentication (browsers send preflights without credentials or custom fields), and
//! every other answer, refusals included, gets `Access-Control-Allow-Origin` and
//! `Access-Control-Expose-Headers`. A request from an origin that is not allowed goes through
//! unchanged, without any `Access-Control-*` field, so the browser withholds the answer from the
//! page. No `Access-Control-Allow-Credentials`: the server uses no cookies, and bearer tokens
//! travel in `Authorization`, which the preflight allows.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{Config, Error};

/// The methods a preflight allows.
pub(crate) const ALLOW_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";

/// The request fields a preflight allows: every field the SDK and the npm package send.
pub(crate) const ALLOW_HEADERS: &str = "Accept, Api-Version, Authorization, Cache-Control, \
     Content-Type, Idempotency-Key, If-Match, If-None-Match, If-Unmodified-Since, Last-Event-ID, Lock-Token, \
     Prefer, Transaction-Id";

/// The answer fields a page may read beyond the CORS-safelisted ones: every field the server
/// sends that the SDK reads (and `Retry-After-Ms`, which the SDK reads from gateways in front).
pub(crate) const EXPOSE_HEADERS: &str = "Accept-Patch, Allow, Content-Location, Deprecation, \
     ETag, Idempotent-Replayed, Link, Location, Lock-Token, Preference-Applied, RateLimit, RateLimit-Policy, Retry-After, Retry-After-Ms, Sunset, \
     Transaction-Id, Version, WWW-Authenticate";

/// How long a browser may cache a preflight's answer, in seconds.
pub(crate) const MAX_AGE_SECS: u32 = 600;

const EXPECTED: &str =
    "`*` or an origin `http://HOST[:PORT]` or `https://HOST[:PORT]` without a path (e.g. http://localhost:5173)";

/// Checks one `--cors-origin` value and gives it in the form browsers send (lower case).
pub(crate) fn parse_origin(text: &str) -> Result<String, Error> {
    let invalid = || Error::InvalidValue {
        what: "CORS origin",
        value: text.to_owned(),
        expected: EXPECTED,
    };
    if text == "*" {
        return Ok(text.to_owned());
    }
    let lower = text.to_ascii_lowercase();
    let authority = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))
        .ok_or_else(invalid)?;
    let (host, port) = if authority.starts_with('[') {
        // An IPv6 literal: `[…]` then an optional `:PORT`.
        let end = authority.find(']').ok_or_else(invalid)? + 1;
        let (host, rest) = authority.split_at(end);
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':').ok_or_else(invalid)?)),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if host_ok && port_ok {
        Ok(lower)
    } else {
        Err(invalid())
    }
}

/// CORS setters; see `docs/server.md` ("CORS").
impl Config {
    /// Allows pages on `origin` (`https://app.example` or `http://localhost:5173`; `*` for any
    /// origin) to call the server from a browser. Repeatable. Checked when the server starts
    /// ([`crate::spawn`], [`crate::router`]): a malformed origin is an
    /// [`Error::InvalidValue`].
    pub fn with_cors_origin(mut self, origin: impl Into<String>) -> Self {
        self.cors_origins.push(origin.into());
        self
    }

    /// The origins allowed by CORS, as given.
    pub fn cors_origins(&self) -> &[String] {
        &self.cors_origins
    }

    /// Checks the CORS origins now, as [`crate::spawn`] and [`crate::router`] do when they
    /// start: an [`Error::InvalidValue`] names the first malformed one.
    pub fn check_cors_origins(&self) -> Result<(), Error> {
        Cors::new(&self.cors_origins).map(drop)
    }
}

/// The allowed origins: the middleware's state.
#[derive(Debug)]
pub(crate) struct Cors {
    any: bool,
    origins: Vec<String>,
}

impl Cors {
    /// `None` when no origin is configured: CORS is off.
    pub(crate) fn new(origins: &[String]) -> Result<Option<Self>, Error> {
        if origins.is_empty() {
            return Ok(None);
        }
        let origins = origins
            .iter()
            .map(|origin| parse_origin(origin))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Self {
            any: origins.iter().any(|origin| origin == "*"),
            origins,
        }))
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if it is allowed.
    fn allow(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        if self.any {
            return Some(HeaderValue::from_static("*"));
        }
        let text = origin.to_str().ok()?;
        self.origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(text))
            .then(|| origin.clone())
    }
}

/// Middleware: answers allowed preflights and marks allowed answers readable.
pub(crate) async fn cors(State(cors): State<Arc<Cors>>, request: Request, next: Next) -> Response {
    let allowed = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|origin| cors.allow(origin));
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = match &allowed {
        Some(_) if preflight => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from(MAX_AGE_SECS),
            );
            response
        }
        _ => next.run(request).await,
    };
    let headers = response.headers_mut();
    if !cors.any {
        // The answer depends on Origin: a cache must not give one origin's answer to another.
        add_vary_origin(headers);
    }
    if let Some(allow_origin) = allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        if !preflight {
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSE_HEADERS),
            );
        }
    }
    response
}

fn add_vary_origin(headers: &mut HeaderMap) {
    let listed = headers.get_all(header::VARY).iter().any(|value| {
        value.to_str().is_ok_and(|text| {
            text.split(',')
                .any(|name| name.trim().eq_ignore_ascii_case("origin") || name.trim() == "*")
        })
    });
    if !listed {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_and_lowered() {
        assert_eq!(parse_origin("*").unwrap(), "*");
        assert_eq!(
            parse_origin("HTTP://LocalHost:5173").unwrap(),
            "http://localhost:5173"
        );
        assert!(parse_origin("https://app.example").is_ok());
        assert!(parse_origin("http://[::1]:8000").is_ok());
        assert!(parse_origin("http://[::1]").is_ok());
        for bad in [
            "",
            "localhost:5173",
            "http://",
            "http://a/",
            "http://a/b",
            "http://a:0",
            "http://a:99999",
            "http://a:x",
            "ftp://a",
            "null",
            "http://a b",
            "http://[::1]x",
            "http://a:1:2",
        ] {
            let err = parse_origin(bad).unwrap_err().to_string();
            assert!(err.contains("without a path"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn only_listed_origins_are_allowed() {
        let cors = Cors::new(&["http://a.example".into(), "http://b.example:8000".into()])
            .unwrap()
            .unwrap();
        let allow = |o: &'static str| cors.allow(&HeaderValue::from_static(o));
        assert_eq!(allow("http://a.example").unwrap(), "http://a.example");
        assert_eq!(
            allow("http://b.example:8000").unwrap(),
            "http://b.example:8000"
        );
        assert!(allow("http://b.example").is_none());
        assert!(allow("https://a.example").is_none());
        assert!(allow("null").is_none());
        let any = Cors::new(&["*".into()]).unwrap().unwrap();
        assert_eq!(any.allow(&HeaderValue::from_static("null")).unwrap(), "*");
        assert!(Cors::new(&[]).unwrap().is_none());
        assert!(Cors::new(&["http://a/".into()]).is_err());
    }

    #[test]
    fn vary_origin_is_added_once() {
        let mut headers = HeaderMap::new();
        headers.append(header::VARY, HeaderValue::from_static("Api-Version"));
        add_vary_origin(&mut headers);
        add_vary_origin(&mut headers);
        let vary: Vec<_> = headers.get_all(header::VARY).iter().collect();
        assert_eq!(vary, ["Api-Version", "Origin"]);
    }
}
