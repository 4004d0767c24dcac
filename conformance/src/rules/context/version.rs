//! A resource's version as the target keeps it (the `ETag`, a body member or
//! another header) and the conditional writes that send it back the way the
//! target's shape says (`If-Match`, a body member, or a query parameter).

use serde_json::{json, Map, Value};

use super::{Abort, Cx};
use crate::http::{Exchange, Req};
use crate::target::{PatchFormat, VersionSend, VersionSource};

/// A version the suite read, to send back on a conditional write.
///
/// ```
/// use ifmatch_conformance::rules::Version;
///
/// let weak = Version::text("W/\"e1\"");
/// assert!(weak.is_weak());
/// assert_eq!(weak.bare(), "e1");
/// // Weak comparison: the weak and the strong tag name one state.
/// assert!(weak.same_as(&Version::text("\"e1\"")));
/// assert!(!weak.same_as(&Version::text("e2")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The version as text: the whole `ETag` value with its quotes (`"abc"`,
    /// `W/"abc"`) when read from the `ETag`; otherwise the value itself
    /// (a number stringified).
    pub text: String,
    /// The value as found in the body (a JSON string otherwise), sent back as
    /// is when the version travels in the body.
    pub json: Value,
}

impl Version {
    /// A version with this text (e.g. a fabricated one that no resource has).
    pub fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        Version {
            json: Value::String(text.clone()),
            text,
        }
    }

    /// Whether this is a weak entity tag (`W/"…"`).
    pub fn is_weak(&self) -> bool {
        self.text.trim_start().starts_with("W/")
    }

    /// The value without entity-tag quotes or a weak prefix.
    pub fn bare(&self) -> &str {
        let t = self.text.trim();
        let t = t.strip_prefix("W/").unwrap_or(t);
        t.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(t)
    }

    /// Whether two versions name the same state (weak comparison: a weak and a
    /// strong tag with one opaque value are the same).
    pub fn same_as(&self, other: &Version) -> bool {
        self.bare() == other.bare()
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// What a conditional write does.
#[derive(Debug, Clone, Copy)]
pub enum Write<'a> {
    /// `PUT` this body (fixture members are merged in by [`Cx::doc`]).
    Put(&'a Value),
    /// `PATCH` with this merge patch, sent in the target's patch format.
    Patch(&'a Value),
    /// `DELETE`.
    Delete,
}

/// The version found in a response at `source`.
pub(crate) fn read(source: &VersionSource, exchange: &Exchange) -> Option<Version> {
    match source {
        VersionSource::Etag => exchange.etag().map(|tag| Version {
            text: tag.to_string(),
            json: Value::String(tag.to_string()),
        }),
        VersionSource::Header(name) => exchange.header(name).map(|v| Version::text(v.trim())),
        VersionSource::Body(pointer) => {
            let value = exchange.json()?.pointer(pointer)?.clone();
            let text = match &value {
                Value::String(s) => s.clone(),
                Value::Null => return None,
                other => other.to_string(),
            };
            Some(Version { text, json: value })
        }
    }
}

/// Sets `value` at JSON pointer `pointer` inside `doc`, creating objects on the way.
pub(crate) fn set_pointer(doc: &mut Value, pointer: &str, value: Value) {
    let tokens: Vec<String> = pointer
        .trim_start_matches('/')
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut at = doc;
    for token in &tokens {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        at = at
            .as_object_mut()
            .expect("made an object above")
            .entry(token.clone())
            .or_insert(Value::Null);
    }
    *at = value;
}

/// `url` with `name=value` appended to its query.
pub(crate) fn with_query(url: &str, name: &str, value: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            u.query_pairs_mut().append_pair(name, value);
            u.into()
        }
        Err(_) => {
            let joiner = if url.contains('?') { '&' } else { '?' };
            format!("{url}{joiner}{name}={value}")
        }
    }
}

/// The JSON Patch (RFC 6902) operations that do what `merge` does to a document
/// holding every member it names: `null` removes, anything else is set whole.
pub(crate) fn json_patch_ops(merge: &Value, path: &str, ops: &mut Vec<Value>) {
    let Value::Object(members) = merge else {
        ops.push(json!({ "op": "replace", "path": if path.is_empty() { "" } else { path }, "value": merge }));
        return;
    };
    for (key, value) in members {
        let at = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
        match value {
            Value::Null => ops.push(json!({ "op": "remove", "path": at })),
            v => ops.push(json!({ "op": "add", "path": at, "value": v })),
        }
    }
}

impl Cx {
    /// The version of the resource a response shows, read where `[version] read` says.
    pub fn version_of(&self, exchange: &Exchange) -> Option<Version> {
        read(&self.shape().version.read, exchange)
    }

    /// Whether versions are read from the `ETag` header.
    pub fn versions_are_etags(&self) -> bool {
        self.shape().version.read == VersionSource::Etag
    }

    /// The request for `write` at `url`, carrying `version` (when given) the way
    /// `[version] send` says: `If-Match: <tag>`, the member at `body:/…` of the
    /// JSON sent, or `?name=<version>`. A PATCH is a merge patch or the JSON
    /// Patch operations doing the same, as `[body] patch` says; with `patch =
    /// "none"` the rule is skipped, saying so.
    pub fn write_req(
        &self,
        url: &str,
        write: Write<'_>,
        version: Option<&Version>,
    ) -> Result<Req, Abort> {
        let send = &self.shape().version.send;
        let mut url = url.to_owned();
        if let (Some(v), VersionSend::Query(name)) = (version, send) {
            url = with_query(&url, name, v.bare());
        }
        let body_version = match (version, send) {
            (Some(v), VersionSend::Body(pointer)) => Some((pointer.as_str(), v)),
            _ => None,
        };
        let req = match write {
            Write::Put(body) => {
                let mut body = body.clone();
                if let Some((pointer, v)) = body_version {
                    set_pointer(&mut body, pointer, v.json.clone());
                }
                Req::put(&url).json(&body)
            }
            Write::Patch(merge) => match self.shape().body.patch {
                PatchFormat::None => return Err(Abort::Prerequisite(PATCH_NONE.into())),
                PatchFormat::Merge => {
                    let mut merge = merge.clone();
                    if let Some((pointer, v)) = body_version {
                        set_pointer(&mut merge, pointer, v.json.clone());
                    }
                    Req::patch(&url).merge_patch(&merge)
                }
                PatchFormat::JsonPatch => {
                    let mut ops = Vec::new();
                    if let Some((pointer, v)) = body_version {
                        ops.push(json!({ "op": "test", "path": pointer, "value": v.json }));
                    }
                    json_patch_ops(merge, "", &mut ops);
                    Req::patch(&url)
                        .raw_body("application/json-patch+json", Value::Array(ops).to_string())
                }
            },
            Write::Delete => match body_version {
                Some((pointer, v)) => {
                    let mut body = json!({});
                    set_pointer(&mut body, pointer, v.json.clone());
                    Req::delete(&url).json(&body)
                }
                None => Req::delete(&url),
            },
        };
        Ok(match (version, send) {
            (Some(v), VersionSend::IfMatch) => req.header("If-Match", self.if_match_value(v)),
            _ => req,
        })
    }

    /// Skips a PATCH rule on a server declared without PATCH (`[body] patch = "none"`).
    pub fn needs_patch(&self) -> Result<(), Abort> {
        match self.shape().body.patch {
            PatchFormat::None => Err(Abort::Prerequisite(PATCH_NONE.into())),
            _ => Ok(()),
        }
    }

    /// How `version` is written in `If-Match`: an entity tag as read, any
    /// other version quoted.
    pub fn if_match_value(&self, version: &Version) -> String {
        if self.versions_are_etags() {
            version.text.clone()
        } else {
            format!("\"{}\"", version.bare())
        }
    }

    /// Sends `write` with `version` and returns the exchange.
    pub async fn write(
        &self,
        url: &str,
        write: Write<'_>,
        version: Option<&Version>,
    ) -> Result<Exchange, Abort> {
        let req = self.write_req(url, write, version)?;
        self.send(req).await
    }

    /// How the version travels on writes, for messages (`If-Match`, `body:/_rev`, `?rev=`).
    pub fn version_carrier(&self) -> String {
        match &self.shape().version.send {
            VersionSend::IfMatch => "If-Match".into(),
            VersionSend::Body(p) => format!("the body member {p}"),
            VersionSend::Query(n) => format!("?{n}="),
        }
    }

    /// The pointers never compared when judging stored content (see
    /// [`TargetShape::not_compared`](crate::target::TargetShape::not_compared)).
    pub fn ignored_pointers(&self) -> Vec<String> {
        self.shape().not_compared()
    }
}

/// Why PATCH rules skip on a server without PATCH.
pub(crate) const PATCH_NONE: &str = "not applicable: [body] patch = \"none\" says the server takes no PATCH; set [body] patch = \"merge\" or \"json-patch\" to judge PATCH rules";

#[cfg(test)]
mod tests {
    use super::*;

    fn response(headers: &[(&str, &str)], body: &str) -> Exchange {
        use crate::http::{RecordedRequest, RecordedResponse};
        Exchange {
            request: RecordedRequest {
                method: "GET".into(),
                url: "http://h/x".into(),
                headers: vec![],
                body: None,
            },
            response: RecordedResponse {
                status: 200,
                headers: headers
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect(),
                body: body.into(),
            },
        }
    }

    #[test]
    fn versions_are_read_where_the_shape_says() {
        let x = response(
            &[("etag", "W/\"a\""), ("x-goog-generation", " 17 ")],
            r#"{"metadata":{"resourceVersion":"5"},"_rev":3,"gone":null}"#,
        );
        let etag = read(&VersionSource::Etag, &x).unwrap();
        assert_eq!(etag.text, "W/\"a\"");
        assert!(etag.is_weak());
        let body = read(&VersionSource::Body("/metadata/resourceVersion".into()), &x).unwrap();
        assert_eq!((body.text.as_str(), &body.json), ("5", &json!("5")));
        let number = read(&VersionSource::Body("/_rev".into()), &x).unwrap();
        assert_eq!((number.text.as_str(), &number.json), ("3", &json!(3)));
        assert_eq!(read(&VersionSource::Body("/gone".into()), &x), None);
        assert_eq!(read(&VersionSource::Body("/missing".into()), &x), None);
        let header = read(&VersionSource::Header("x-goog-generation".into()), &x).unwrap();
        assert_eq!(header.text, "17");
        assert_eq!(
            read(&VersionSource::Etag, &response(&[("etag", "bare")], "")),
            None
        );
    }

    #[test]
    fn versions_compare_weakly_and_strip_quotes() {
        let strong = Version::text("\"e1\"");
        let weak = Version::text("W/\"e1\"");
        assert!(weak.is_weak() && !strong.is_weak());
        assert!(weak.same_as(&strong));
        assert_eq!(strong.bare(), "e1");
        assert_eq!(Version::text("5").bare(), "5");
    }

    #[test]
    fn pointers_are_set_creating_objects() {
        let mut doc = json!({ "n": 1 });
        set_pointer(&mut doc, "/metadata/resourceVersion", json!("7"));
        set_pointer(&mut doc, "/_rev", json!("1-a"));
        assert_eq!(
            doc,
            json!({ "n": 1, "metadata": { "resourceVersion": "7" }, "_rev": "1-a" })
        );
    }

    #[test]
    fn queries_are_appended_and_encoded() {
        assert_eq!(
            with_query("http://h/db/x", "rev", "1-a"),
            "http://h/db/x?rev=1-a"
        );
        assert_eq!(
            with_query("http://h/x?a=1", "g", "a b"),
            "http://h/x?a=1&g=a+b"
        );
    }

    #[test]
    fn merge_patches_become_json_patch_operations() {
        let mut ops = Vec::new();
        json_patch_ops(&json!({ "n": 2, "drop": null }), "", &mut ops);
        assert_eq!(
            ops,
            [
                json!({ "op": "remove", "path": "/drop" }),
                json!({ "op": "add", "path": "/n", "value": 2 })
            ]
        );
    }
}
