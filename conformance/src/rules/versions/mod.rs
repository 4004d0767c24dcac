//! The `versions` profile: a document's history (`GET {item}/versions` lists its
//! versions newest first, `GET {item}/versions/{n}` reads one back, a DELETE leaves a
//! tombstone), the version number it shows (`Version` header, the v2 envelope's
//! `version`, a v2 write's body `version` as a precondition) and two API versions of
//! the same documents (v1: the stored JSON; v2: an envelope `{"id", "version",
//! "modified_at_ms", "data"}`), selected by URL prefix or by `Api-Version`.
//!
//! History and API versions are detected separately: a server may offer one without
//! the other. Every verdict re-reads state with plain GETs.

mod api;
mod body;
mod catalogue;
mod cross;
mod history;
mod retirement;

use serde_json::{json, Value};

pub(super) use catalogue::RULES;

use super::urls::lock_url;
use super::{Abort, Cx};
use crate::http::{Exchange, Req};

/// Where a document's history lives by default: `{item}` is the document's URL.
pub const DEFAULT_VERSIONS_PATH: &str = "{item}/versions";
/// The request header that selects an API version on an unprefixed URL.
pub const API_VERSION_HEADER: &str = "Api-Version";
/// `Api-Version` values of the two API versions the suite knows.
const V1: &str = "1";
const V2: &str = "2";

/// The URL prefixes of API versions 1 and 2, put between the base URL and the
/// path of a document (`/v1` + `/items/7`).
///
/// # Defaults
/// `v1=/v1,v2=/v2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPrefixes {
    /// Prefix of API version 1 (plain documents); empty for none.
    pub v1: String,
    /// Prefix of API version 2 (envelopes).
    pub v2: String,
}

impl Default for ApiPrefixes {
    fn default() -> Self {
        ApiPrefixes {
            v1: "/v1".into(),
            v2: "/v2".into(),
        }
    }
}

impl ApiPrefixes {
    /// Parses `v1=/v1,v2=/v2`; a version not named keeps its default prefix.
    pub fn parse(text: &str) -> Result<ApiPrefixes, String> {
        let mut prefixes = ApiPrefixes::default();
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, path) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} has no '='; write v1=/v1,v2=/v2"))?;
            let path = path.trim().trim_end_matches('/');
            if path.contains(['?', '#', '{']) || (!path.is_empty() && !path.starts_with('/')) {
                return Err(format!("{path:?} is not a path prefix; write one like /v2"));
            }
            match name.trim() {
                "v1" => path.clone_into(&mut prefixes.v1),
                "v2" if path.is_empty() => {
                    return Err("v2 needs a prefix; unprefixed URLs are v1".into())
                }
                "v2" => path.clone_into(&mut prefixes.v2),
                other => return Err(format!("{other:?} is not v1 or v2")),
            }
        }
        Ok(prefixes)
    }
}

impl std::fmt::Display for ApiPrefixes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v1={},v2={}", self.v1, self.v2)
    }
}

/// Where the `versions` profile finds a document's history and its API versions.
#[derive(Debug, Clone, Default)]
pub struct Places {
    base_url: String,
    versions_path: String,
    prefixes: ApiPrefixes,
}

impl Places {
    /// History at `versions_path` (see [`lock_url`] for the template), API versions
    /// under `prefixes` of `base_url`.
    pub fn new(base_url: &str, versions_path: &str, prefixes: &ApiPrefixes) -> Self {
        Places {
            base_url: base_url.trim_end_matches('/').to_owned(),
            versions_path: versions_path.to_owned(),
            prefixes: prefixes.clone(),
        }
    }

    /// The URL of `item`'s history.
    pub fn history(&self, collection_url: &str, item: &str) -> String {
        lock_url(&self.versions_path, collection_url, item)
    }

    /// `url` (under the base URL) as API version 1 serves it.
    pub fn v1(&self, url: &str) -> Option<String> {
        self.prefixed(url, &self.prefixes.v1)
    }

    /// `url` (under the base URL) as API version 2 serves it.
    pub fn v2(&self, url: &str) -> Option<String> {
        self.prefixed(url, &self.prefixes.v2)
    }

    fn prefixed(&self, url: &str, prefix: &str) -> Option<String> {
        let rest = url.strip_prefix(&self.base_url)?;
        rest.starts_with('/')
            .then(|| format!("{}{prefix}{rest}", self.base_url))
    }
}

/// What the `versions` profile's plan placeholders stand for in a dry run, given
/// the collection URL and the dry run's stand-ins for a created and a fresh URL.
pub(crate) fn placeholders(
    places: &Places,
    collection: &str,
    resource: &str,
    fresh: &str,
) -> Vec<(&'static str, String)> {
    // Resolved with stand-ins, so that URL parsing does not escape the placeholders.
    const RESOURCE: &str = "ifmatch-conformance-stand-in-resource";
    const FRESH: &str = "ifmatch-conformance-stand-in-fresh";
    let real = |text: &str| text.replace(RESOURCE, resource).replace(FRESH, fresh);
    let collection = collection.trim_end_matches('/');
    let (item, new) = (
        format!("{collection}/{RESOURCE}"),
        format!("{collection}/{FRESH}"),
    );
    let unknown = |url: Option<String>| url.map_or("<not under --base-url>".into(), |u| real(&u));
    vec![
        ("{history}", real(&places.history(collection, &item))),
        ("{v1-resource}", unknown(places.v1(&item))),
        ("{v2-resource}", unknown(places.v2(&item))),
        ("{v2-fresh}", unknown(places.v2(&new))),
    ]
}

/// The v2 form of `url`; a check that cannot derive it is skipped.
pub(super) fn v2_url(cx: &Cx, url: &str) -> Result<String, Abort> {
    cx.versions().v2(url).ok_or_else(|| {
        Abort::Prerequisite(format!(
            "cannot derive the API version 2 URL of {url}: it is not under --base-url"
        ))
    })
}

/// One entry of a history listing.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub version: Option<u64>,
    pub etag: Option<String>,
    pub deleted: bool,
}

/// The entries of a history listing (`{"versions": [...]}`), newest first as sent.
pub(super) fn entries(answer: &Exchange) -> Option<Vec<Entry>> {
    let listed = answer.json()?.get("versions")?.as_array()?.clone();
    Some(
        listed
            .iter()
            .map(|e| Entry {
                version: e.get("version").and_then(Value::as_u64),
                etag: e.get("etag").and_then(Value::as_str).map(str::to_owned),
                deleted: e.get("deleted").and_then(Value::as_bool) == Some(true),
            })
            .collect(),
    )
}

/// `GET {history}` of the document at `url`: the answer and its entries.
pub(super) async fn history(cx: &Cx, url: &str) -> Result<(Exchange, Vec<Entry>), Abort> {
    let answer = cx
        .send(Req::get(&cx.versions().history(cx.collection_url(), url)))
        .await?;
    let listed = entries(&answer).unwrap_or_default();
    Ok((answer, listed))
}

/// The version number the history gives the version tagged `tag`; a check that
/// cannot find it is skipped (`versions.history-lists-writes` judges the listing).
pub(super) async fn version_of(cx: &Cx, url: &str, tag: &str) -> Result<u64, Abort> {
    let (answer, listed) = history(cx, url).await?;
    listed
        .iter()
        .find(|e| e.etag.as_deref() == Some(tag))
        .and_then(|e| e.version)
        .ok_or_else(|| {
            Abort::Prerequisite(format!(
                "GET {} answered {} without a version for ETag {tag}",
                answer.request.url,
                answer.status()
            ))
        })
}

/// The URL of version `n` of the document at `url`.
pub(super) fn version_url(cx: &Cx, url: &str, n: u64) -> String {
    let history = cx.versions().history(cx.collection_url(), url);
    format!("{}/{n}", history.trim_end_matches('/'))
}

/// A v2 representation: `{"id", "version", "modified_at_ms", "data"}`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Envelope {
    pub id: Option<String>,
    pub version: Option<u64>,
    pub modified_at_ms: Option<u64>,
    pub data: Value,
}

/// The envelope of a v2 answer, if its body is one (an object with `data`).
pub(super) fn envelope(answer: &Exchange) -> Option<Envelope> {
    let body = answer.json()?;
    let data = body.get("data")?.clone();
    Some(Envelope {
        id: body.get("id").and_then(Value::as_str).map(str::to_owned),
        version: body.get("version").and_then(Value::as_u64),
        modified_at_ms: body.get("modified_at_ms").and_then(Value::as_u64),
        data,
    })
}

/// A v2 write body: `{"data": data}`, with `"version": n` when given.
pub(super) fn v2_body(data: &Value, version: Option<u64>) -> Value {
    match version {
        Some(n) => json!({ "data": data, "version": n }),
        None => json!({ "data": data }),
    }
}

/// The `Version` header as a number.
pub(super) fn version_header(answer: &Exchange) -> Option<u64> {
    answer.header("version")?.trim().parse().ok()
}

/// A PUT of `body` with `If-Match: tag` that the check builds on: its answer, or a
/// skip when it is refused.
pub(super) async fn rewrite(
    cx: &Cx,
    url: &str,
    body: &Value,
    tag: &str,
) -> Result<Exchange, Abort> {
    let answer = cx
        .send(Req::put(url).json(body).header("If-Match", tag))
        .await?;
    if answer.status() / 100 != 2 || answer.etag_raw().is_none() {
        return Err(Abort::Prerequisite(format!(
            "a PUT of {url} with its current If-Match answered {} {}",
            answer.status(),
            if answer.etag_raw().is_none() {
                "without an ETag"
            } else {
                ""
            }
        )));
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_with_defaults_and_refuse_nonsense() {
        assert_eq!(ApiPrefixes::parse("").unwrap(), ApiPrefixes::default());
        let parsed = ApiPrefixes::parse("v2=/api/v2/, v1=").unwrap();
        assert_eq!((parsed.v1.as_str(), parsed.v2.as_str()), ("", "/api/v2"));
        assert_eq!(parsed.to_string(), "v1=,v2=/api/v2");
        for bad in ["v3=/v3", "v2", "v2=", "v2=v2", "v1=/v1?x"] {
            assert!(ApiPrefixes::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn places_put_the_prefix_after_the_base_url() {
        let places = Places::new(
            "http://h:1/api/",
            "{item}/versions",
            &ApiPrefixes::default(),
        );
        let item = "http://h:1/api/items/7";
        assert_eq!(places.v2(item).unwrap(), "http://h:1/api/v2/items/7");
        assert_eq!(places.v1(item).unwrap(), "http://h:1/api/v1/items/7");
        assert_eq!(places.v2("http://other/items/7"), None);
        assert_eq!(
            places.history("http://h:1/api/items", item),
            "http://h:1/api/items/7/versions"
        );
        let elsewhere = Places::new("http://h:1", "/history/{id}", &ApiPrefixes::default());
        assert_eq!(
            elsewhere.history("http://h:1/items", "http://h:1/items/7"),
            "http://h:1/history/7"
        );
    }
}
