//! API versions: which representation a request to `/items…` asks for (URL prefix `/v1`,
//! `/v2`, or on unprefixed URLs the `Api-Version` header), and the retirement headers of v1.
//!
//! Selection is a pure function of the path and the header ([`select`]); the [`negotiate`]
//! middleware runs it for every `/items…` route, refuses what it cannot serve, hands the
//! handlers an [`Api`] in the request's extensions, and decorates the answer: `Vary:
//! Api-Version` always, and on v1 `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and `Link:
//! <…>; rel="successor-version"` naming the `/v2` URL.

mod settings;
mod timestamp;

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub use timestamp::Timestamp;

use crate::problem::{Problem, ProblemKind};
use crate::Error;

/// The request field that picks the version on unprefixed URLs.
pub(crate) const API_VERSION: HeaderName = HeaderName::from_static("api-version");

/// The versions this server speaks, as the `supported` member lists them.
const SUPPORTED: [&str; 2] = ["1", "2"];

/// The default moment v1 is deprecated: 2026-06-01T00:00:00Z.
pub const DEFAULT_V1_DEPRECATION: Timestamp = Timestamp::from_unix_seconds(1_780_272_000);

/// The default moment v1 goes away: 2027-06-01T00:00:00Z.
pub const DEFAULT_V1_SUNSET: Timestamp = Timestamp::from_unix_seconds(1_811_808_000);

/// One API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiVersion {
    /// The stored JSON document as the body, `"<epoch>-<n>"` tags.
    V1,
    /// An envelope `{"id","version","modified_at_ms","data"}`, `"<epoch>-<n>.v2"` tags.
    V2,
}

/// What a request to `/items…` asked for: the version, and the prefix its URLs carry (`""`,
/// `"/v1"` or `"/v2"`), which `Location` and `Content-Location` keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Api {
    pub(crate) version: ApiVersion,
    pub(crate) prefix: &'static str,
}

impl Api {
    /// Unprefixed v1: what a request without prefix or header gets.
    pub(crate) const V1: Self = Self {
        version: ApiVersion::V1,
        prefix: "",
    };
}

/// Handlers take `Api`; outside the middleware (never for `/items…` routes) it is v1.
impl<S: Send + Sync> FromRequestParts<S> for Api {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts.extensions.get::<Self>().copied().unwrap_or(Self::V1))
    }
}

/// `/v1/…` or `/v2/…` → the version, the prefix and the rest of the path.
fn prefixed(path: &str) -> Option<(ApiVersion, &'static str, &str)> {
    for (version, prefix) in [(ApiVersion::V1, "/v1"), (ApiVersion::V2, "/v2")] {
        if let Some(rest) = path
            .strip_prefix(prefix)
            .filter(|rest| rest.starts_with('/'))
        {
            return Some((version, prefix, rest));
        }
    }
    None
}

/// The path without a `/v1` or `/v2` prefix.
pub(crate) fn unprefixed(path: &str) -> &str {
    prefixed(path).map_or(path, |(_, _, rest)| rest)
}

fn unsupported(kind: ProblemKind, instance: &str, detail: String) -> Problem {
    Problem::new(kind, instance, detail).with_member(
        "supported",
        Value::from(
            SUPPORTED
                .iter()
                .map(|v| Value::from(*v))
                .collect::<Vec<_>>(),
        ),
    )
}

/// Picks the version of a request to `path` carrying `Api-Version` field lines `header`.
pub(crate) fn select(path: &str, header: &HeaderMap) -> Result<Api, Problem> {
    let asked = asked_version(header, path)?;
    match (prefixed(path), asked) {
        (Some((version, prefix, _)), Some(asked)) if asked != version => Err(unsupported(
            ProblemKind::UnsupportedApiVersion,
            path,
            format!(
                "the URL prefix {prefix} asks for API version {} but the Api-Version header asks for {}; send one of them, or both the same (this server supports versions 1 and 2)",
                number(version),
                number(asked)
            ),
        )),
        (Some((version, prefix, _)), _) => Ok(Api { version, prefix }),
        (None, asked) => Ok(Api {
            version: asked.unwrap_or(ApiVersion::V1),
            prefix: "",
        }),
    }
}

fn number(version: ApiVersion) -> &'static str {
    match version {
        ApiVersion::V1 => "1",
        ApiVersion::V2 => "2",
    }
}

/// The `Api-Version` header: `None` when absent; several lines must agree.
fn asked_version(headers: &HeaderMap, instance: &str) -> Result<Option<ApiVersion>, Problem> {
    let mut asked = None;
    for value in headers.get_all(API_VERSION) {
        let text = String::from_utf8_lossy(value.as_bytes());
        let version = match text.trim() {
            "1" => ApiVersion::V1,
            "2" => ApiVersion::V2,
            other => {
                let shown: String = other.chars().take(40).collect();
                return Err(unsupported(
                    ProblemKind::UnsupportedApiVersion,
                    instance,
                    format!(
                        "Api-Version `{}` is not a version this server speaks; send Api-Version: 1 or Api-Version: 2 (or use the URL prefixes /v1 and /v2)",
                        shown.escape_debug()
                    ),
                ));
            }
        };
        if asked.is_some_and(|earlier| earlier != version) {
            return Err(unsupported(
                ProblemKind::UnsupportedApiVersion,
                instance,
                "the Api-Version header is sent twice with different versions; send it once, 1 or 2".to_owned(),
            ));
        }
        asked = Some(version);
    }
    Ok(asked)
}

/// 404 `unsupported-api-version` for `/v3/items…` and the like: a prefix that looks like a
/// version in front of `/items`.
pub(crate) fn unknown_prefix(path: &str) -> Option<Problem> {
    let rest = path.strip_prefix("/v")?;
    let (label, tail) = rest.split_once('/')?;
    let about_items = tail == "items" || tail.starts_with("items/");
    if label.is_empty() || !about_items || prefixed(path).is_some() {
        return None;
    }
    let shown: String = label.chars().take(20).collect();
    Some(unsupported(
        ProblemKind::UnknownApiVersionPrefix,
        path,
        format!(
            "there is no API version `v{}` on this server; it serves /v1/items… and /v2/items… (and /items…, version 1 unless Api-Version says otherwise)",
            shown.escape_debug()
        ),
    ))
}

/// When v1 is deprecated and goes away, as the v1 answers announce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retirement {
    /// `None`: no `Deprecation` and no `Sunset`.
    pub(crate) deprecation: Option<Timestamp>,
    /// Only announced with a deprecation.
    pub(crate) sunset: Option<Timestamp>,
}

impl Retirement {
    /// The defaults: deprecated at [`DEFAULT_V1_DEPRECATION`], sunset at [`DEFAULT_V1_SUNSET`].
    pub(crate) const DEFAULT: Self = Self {
        deprecation: Some(DEFAULT_V1_DEPRECATION),
        sunset: Some(DEFAULT_V1_SUNSET),
    };

    /// Refuses a sunset that is not after the deprecation.
    pub(crate) fn checked(self) -> Result<Self, Error> {
        if let (Some(deprecation), Some(sunset)) = (self.deprecation, self.sunset) {
            if sunset <= deprecation {
                return Err(Error::InvalidValue {
                    what: "v1 sunset",
                    value: sunset.to_string(),
                    expected: "a time after the v1 deprecation (--v1-deprecation)",
                });
            }
        }
        Ok(self)
    }

    /// Adds `Deprecation`, `Sunset` and the successor `Link` to a v1 answer about `path`.
    fn announce(&self, headers: &mut HeaderMap, path: &str) {
        let Some(deprecation) = self.deprecation else {
            return;
        };
        // RFC 9745: a Structured Fields Date, `@` and Unix seconds.
        let value = format!("@{}", deprecation.unix_seconds());
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static("deprecation"), value);
        }
        if let Some(sunset) = self.sunset {
            let date = httpdate::fmt_http_date(sunset.to_system_time());
            if let Ok(value) = HeaderValue::from_str(&date) {
                headers.insert(HeaderName::from_static("sunset"), value);
            }
        }
        let successor = format!("</v2{}>; rel=\"successor-version\"", unprefixed(path));
        if let Ok(value) = HeaderValue::from_str(&successor) {
            headers.append(header::LINK, value);
        }
    }
}

/// The middleware of every `/items…` route: selects the version (or refuses with 400), puts
/// the [`Api`] into the request's extensions, and decorates the answer.
pub(crate) async fn negotiate(
    State(retirement): State<Retirement>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let (mut response, version) = match select(&path, request.headers()) {
        Ok(api) => {
            request.extensions_mut().insert(api);
            (next.run(request).await, Some(api.version))
        }
        Err(problem) => (problem.into_response(), None),
    };
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Api-Version"));
    if version == Some(ApiVersion::V1) {
        retirement.announce(headers, &path);
    }
    response
}

#[cfg(test)]
mod tests;
