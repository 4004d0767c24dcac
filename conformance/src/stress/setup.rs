//! Where the counter document lives: the collection URL (used exactly as given),
//! the document created the way the target's `[create]` table says, the same
//! path on every other base URL, and how the SDK finds the version.

use std::time::{SystemTime, UNIX_EPOCH};

use ifmatch::VersionField;
use reqwest::StatusCode;
use serde_json::{Map, Value};

use super::record::{excerpt, redact};
use crate::target::{CreateMethod, LocationFrom, TargetShape, VersionSend, VersionSource};

/// What a 401/403 means for the user.
pub const AUTH_HINT: &str = "check your credentials (--header 'Authorization: …')";

/// `base_url` and `collection` joined with one slash; the collection's own
/// trailing slash is kept (a WebDAV collection is `/dav/`, not `/dav`).
pub fn collection_url(base_url: &str, collection: &str) -> String {
    format!(
        "{}/{}",
        base_url.trim_end_matches('/'),
        collection.trim_start_matches('/')
    )
}

/// The counter document: the `[body] fixture` members plus `slots` zeroed slots (`c0`, `c1`, …;
/// client *i* increments `c<i>`).
pub fn counter_body(shape: &TargetShape, slots: usize) -> Value {
    let slots: Map<String, Value> = (0..slots)
        .map(|i| (super::driver::slot(i), Value::from(0)))
        .collect();
    let mut doc = shape.body.fixture.clone();
    doc.insert("slots".into(), Value::Object(slots));
    Value::Object(doc)
}

/// An id for a counter created by `PUT`: unlikely to name anything that exists.
fn new_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("ifmatch-stress-{:x}-{:x}", nanos, std::process::id())
}

/// Most attempts at creating the counter or reading it back: a server that fails now and
/// then (a 5xx, a dropped connection) must not spoil a whole run.
pub const SETUP_ATTEMPTS: u32 = 5;
/// Pause between those attempts (a `Retry-After` is not waited out: it may be absurd).
pub const SETUP_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// Whether a setup request's answer is worth another attempt: none came, or a 5xx.
fn worth_retrying(answer: &Result<reqwest::Response, reqwest::Error>) -> bool {
    match answer {
        Ok(r) => r.status().is_server_error(),
        Err(_) => true,
    }
}

/// Reads the counter back: a dropped connection, a 5xx or a body that is not JSON is
/// retried (at most [`SETUP_ATTEMPTS`] attempts), as a GET may safely be.
pub async fn read_back(
    http: &reqwest::Client,
    location: &str,
    secrets: &[String],
) -> Result<Value, String> {
    let mut attempt = 1;
    loop {
        let last = attempt >= SETUP_ATTEMPTS;
        attempt += 1;
        let read = match http.get(location).send().await {
            Ok(read) => read,
            Err(_) if !last => {
                tokio::time::sleep(SETUP_PAUSE).await;
                continue;
            }
            Err(e) => return Err(format!("cannot read the counter back from {location}: {e}")),
        };
        let status = read.status();
        let bytes = read.bytes().await.unwrap_or_default();
        if status.is_server_error() && !last {
            tokio::time::sleep(SETUP_PAUSE).await;
            continue;
        }
        if !status.is_success() {
            let why = if status.as_u16() == 401 || status.as_u16() == 403 {
                AUTH_HINT.to_owned()
            } else {
                redact(&excerpt(&bytes), secrets)
            };
            return Err(format!(
                "reading the counter back, GET {location} answered {status}: {why}"
            ));
        }
        match serde_json::from_slice(&bytes) {
            Ok(doc) => return Ok(doc),
            Err(_) if !last => tokio::time::sleep(SETUP_PAUSE).await,
            Err(e) => {
                return Err(format!(
                    "the counter read back from {location} ({status}) is not JSON: {e}"
                ))
            }
        }
    }
}

/// Creates the counter document and returns its URL. A dropped connection or a 5xx is
/// retried (at most [`SETUP_ATTEMPTS`] attempts): a `POST` carries one `Idempotency-Key`
/// for all of them, and a `PUT` create (`If-None-Match: *`) refused with 412 after an
/// unanswered attempt is the earlier attempt's success (the id is fresh).
pub async fn create_counter(
    http: &reqwest::Client,
    shape: &TargetShape,
    collection_url: &str,
    body: &Value,
    secrets: &[String],
) -> Result<String, String> {
    let (request, template) = match shape.create.method {
        CreateMethod::Post => (http.post(collection_url), None),
        CreateMethod::Put => {
            let url = shape.item_url(collection_url, &new_id());
            (http.put(&url).header("If-None-Match", "*"), Some(url))
        }
    };
    let what = match &template {
        Some(url) => format!("PUT {url} (If-None-Match: *)"),
        None => format!("POST {collection_url}"),
    };
    let request = match template {
        None => request.header("Idempotency-Key", format!("\"{}\"", new_id())),
        Some(_) => request,
    }
    .json(body);
    let mut attempt = 1;
    let mut unanswered_before = false;
    let response = loop {
        let answer = match request.try_clone() {
            Some(r) => r.send().await,
            None => return Err(format!("{what}: the request cannot be repeated")),
        };
        if attempt < SETUP_ATTEMPTS && worth_retrying(&answer) {
            unanswered_before |= answer.is_err();
            attempt += 1;
            tokio::time::sleep(SETUP_PAUSE).await;
            continue;
        }
        break answer.map_err(|e| {
            format!(
                "cannot reach {collection_url}: {e}; is the server running and --base-url right?"
            )
        })?;
    };
    let status = response.status();
    if unanswered_before && status == StatusCode::PRECONDITION_FAILED {
        if let Some(url) = template {
            return Ok(url);
        }
    }
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = response.bytes().await.unwrap_or_default();
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return Err(format!("{what} answered {status}: {AUTH_HINT}"));
    }
    if !status.is_success() {
        return Err(format!(
            "{what} answered {status} ({}); check --collection and the [create] table of the config",
            redact(&excerpt(&bytes), secrets)
        ));
    }
    match &shape.create.location {
        LocationFrom::Header => match location.and_then(|l| crate::rules::resolve(collection_url, &l)) {
            Some(url) => Ok(url),
            None => template.ok_or_else(|| {
                format!(
                    "{what} answered {status} without a usable Location header; if the response body names the new resource, set [create] location = \"body:/id\" (the id's JSON pointer)"
                )
            }),
        },
        LocationFrom::Body(pointer) => {
            let id = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|doc| match doc.pointer(pointer) {
                    Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                });
            match id {
                Some(id) => Ok(shape.item_url(collection_url, &id)),
                None => Err(format!(
                    "{what} answered {status} without an id at {pointer} in its body ({}); fix [create] location",
                    redact(&excerpt(&bytes), secrets)
                )),
            }
        }
        LocationFrom::Template => template.ok_or_else(|| {
            "[create] location = \"template\" needs [create] method = \"put\"".to_owned()
        }),
    }
}

/// `url` (on `first`) addressed by the same path on `other`.
pub fn on_base(url: &str, first: &str, other: &str) -> String {
    if let Some(rest) = url.strip_prefix(first) {
        return format!("{other}{rest}");
    }
    // A Location on another origin: keep its path and query.
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let tail = &u.as_str()[u.origin().ascii_serialization().len()..];
            let origin = reqwest::Url::parse(other)
                .map(|o| o.origin().ascii_serialization())
                .unwrap_or_else(|_| other.to_owned());
            format!("{origin}{tail}")
        }
        Err(_) => url.to_owned(),
    }
}

/// How the SDK's clients find and send the version, from the target's `[version]`
/// table: `None` for ETags in `If-Match`, a [`VersionField`] for a version in the body.
pub fn sdk_version_field(shape: &TargetShape) -> Result<Option<VersionField>, String> {
    let (read, send) = (&shape.version.read, &shape.version.send);
    match (read, send) {
        (VersionSource::Etag, VersionSend::IfMatch) => Ok(None),
        (VersionSource::Body(r), VersionSend::Body(s)) if r == s => Ok(Some(VersionField::at(r))),
        (VersionSource::Body(r), VersionSend::Body(s)) => {
            Ok(Some(VersionField::at(r).sent_at(s)))
        }
        (VersionSource::Body(r), VersionSend::Query(q)) => {
            Ok(Some(VersionField::at(r).sent_in_query(q)))
        }
        _ => Err(format!(
            "the SDK's update() cannot write with [version] read = \"{read}\", send = \"{send}\": \
             it reads the version from the ETag (sent back with send = \"if-match\") or from the body \
             (read = \"body:/pointer\", sent back with send = \"body:/pointer\" or \"query:name\"; \
             ClientBuilder::version_field); describe the server one of those ways if it allows it, \
             or use --strategy naive"
        )),
    }
}

/// `doc` without the member at `pointer` (a naive write must carry no version).
pub fn without_member(doc: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let key = last.replace("~1", "/").replace("~0", "~");
    let parent = if parent.is_empty() {
        Some(doc)
    } else {
        doc.pointer_mut(parent)
    };
    if let Some(Value::Object(map)) = parent {
        map.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collection_trailing_slash_is_kept() {
        assert_eq!(collection_url("http://h/", "/dav/"), "http://h/dav/");
        assert_eq!(collection_url("http://h", "items"), "http://h/items");
    }

    #[test]
    fn the_counter_carries_the_fixture() {
        let mut shape = TargetShape::default();
        shape.body.fixture.insert("title".into(), json!("t"));
        assert_eq!(
            counter_body(&shape, 2),
            json!({ "title": "t", "slots": { "c0": 0, "c1": 0 } })
        );
    }

    #[test]
    fn other_base_urls_get_the_same_path() {
        let url = "http://a:1/api/items/7?x=1";
        assert_eq!(
            on_base(url, "http://a:1/api", "http://b:2/api"),
            "http://b:2/api/items/7?x=1"
        );
        assert_eq!(
            on_base("http://c:3/items/7", "http://a:1", "http://b:2"),
            "http://b:2/items/7"
        );
    }

    #[test]
    fn version_modes_map_to_the_sdk_or_name_the_option() {
        let mut shape = TargetShape::default();
        assert_eq!(sdk_version_field(&shape), Ok(None));
        shape.version.read = "body:/_rev".parse().unwrap();
        shape.version.send = "body:/_rev".parse().unwrap();
        assert_eq!(
            sdk_version_field(&shape),
            Ok(Some(VersionField::at("/_rev")))
        );
        shape.version.send = "query:rev".parse().unwrap();
        assert_eq!(
            sdk_version_field(&shape),
            Ok(Some(VersionField::at("/_rev").sent_in_query("rev")))
        );
        shape.version.send = "body:/meta/rev".parse().unwrap();
        assert_eq!(
            sdk_version_field(&shape),
            Ok(Some(VersionField::at("/_rev").sent_at("/meta/rev")))
        );
        shape.version.read = "header:x-goog-generation".parse().unwrap();
        shape.version.send = "query:ifGenerationMatch".parse().unwrap();
        let err = sdk_version_field(&shape).unwrap_err();
        assert!(
            err.contains("read = \"header:x-goog-generation\", send = \"query:ifGenerationMatch\""),
            "{err}"
        );
    }

    #[test]
    fn naive_writes_drop_the_version_member() {
        let mut doc = json!({ "_rev": "1", "m": { "a/b": 1, "k": 2 } });
        without_member(&mut doc, "/_rev");
        without_member(&mut doc, "/m/a~1b");
        without_member(&mut doc, "/nope/x");
        assert_eq!(doc, json!({ "m": { "k": 2 } }));
    }
}
