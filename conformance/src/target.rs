//! The shape of the API under test: how resources are created, where their
//! version lives and how a write sends it back, which statuses mean "stale",
//! what bodies look like, and what error format to expect.
//!
//! These are the `[create]`, `[version]`, `[body]` and `[errors]` tables of
//! `ifmatch-conformance.toml` (see `docs/conformance.md`, "Describing your API").
//! Every value has a default that describes the reference server, so a
//! configuration names only what differs.
//!
//! Sources and destinations are written as short strings, e.g. `"etag"`,
//! `"body:/metadata/resourceVersion"`, `"query:rev"`; they parse with
//! [`FromStr`] and print back the same way.
//!
//! ```
//! use ifmatch_conformance::target::{TargetShape, VersionSend, VersionSource};
//!
//! let mut shape = TargetShape::default();
//! shape.version.read = "body:/_rev".parse().unwrap();
//! shape.version.send = "query:rev".parse().unwrap();
//! assert_eq!(shape.version.read, VersionSource::Body("/_rev".into()));
//! assert_eq!(shape.version.send.to_string(), "query:rev");
//! assert!("body:no-slash".parse::<VersionSource>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use serde_json::{Map, Value};

/// The whole description of a target's shape.
///
/// # Defaults
/// Everything as the reference server does it: [`CreateShape::default`],
/// [`VersionShape::default`], [`BodyShape::default`], errors `problem+json`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct TargetShape {
    /// How the suite creates its test resources.
    pub create: CreateShape,
    /// Where a resource's version lives and how a write sends it back.
    pub version: VersionShape,
    /// What the suite's request bodies look like and how stored ones are compared.
    pub body: BodyShape,
    /// The error body format the `errors` profile expects.
    pub errors: ErrorsShape,
}

/// How test resources are created.
///
/// # Defaults
/// `method = "post"` to the collection, `location = "header"`, and
/// `url = "{collection}/{id}"` (used by `put`, by `location = "template"`, and to
/// build URLs that name no resource).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct CreateShape {
    /// `post` to the collection, or `put` at a new URL with `If-None-Match: *`.
    pub method: CreateMethod,
    /// A resource's URL: `{collection}` is the collection URL exactly as
    /// configured (a trailing slash is kept), `{id}` the resource's id.
    pub url: String,
    /// Where the new resource's URL comes from.
    pub location: LocationFrom,
}

impl Default for CreateShape {
    fn default() -> Self {
        CreateShape {
            method: CreateMethod::Post,
            url: "{collection}/{id}".into(),
            location: LocationFrom::Header,
        }
    }
}

/// The request that creates a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CreateMethod {
    /// `POST {collection}`; the server picks the URL.
    Post,
    /// `PUT {url}` with `If-None-Match: *`; the suite picks the id.
    Put,
}

/// Where a created resource's URL comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum LocationFrom {
    /// `header`: the `Location` header, resolved against the collection URL.
    Header,
    /// `body:/pointer`: the id at this JSON pointer of the create response's body,
    /// put into [`CreateShape::url`].
    Body(String),
    /// `template`: the URL the suite chose (`put` only).
    Template,
}

/// Where a resource's version lives and how writes send it back.
///
/// # Defaults
/// `read = "etag"`, `send = "if-match"`, `stale-status = [412]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct VersionShape {
    /// Where a read finds the version.
    pub read: VersionSource,
    /// How a conditional write carries the version it was based on.
    pub send: VersionSend,
    /// The statuses that mean "your version is stale" (412, 409, or both).
    #[serde(rename = "stale-status")]
    pub stale_statuses: Vec<u16>,
}

impl Default for VersionShape {
    fn default() -> Self {
        VersionShape {
            read: VersionSource::Etag,
            send: VersionSend::IfMatch,
            stale_statuses: vec![412],
        }
    }
}

/// Where a read finds a resource's version.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum VersionSource {
    /// `etag`: the `ETag` header.
    Etag,
    /// `body:/pointer`: a member of the JSON body, e.g. `/metadata/resourceVersion`.
    Body(String),
    /// `header:Name`: another response header, e.g. `header:x-goog-generation`.
    Header(String),
}

/// How a conditional write sends the version back.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum VersionSend {
    /// `if-match`: the `If-Match` header (a quoted entity tag).
    IfMatch,
    /// `body:/pointer`: set inside the JSON body sent, e.g. `/_rev`.
    Body(String),
    /// `query:name`: a query parameter, e.g. `query:rev` or `query:ifGenerationMatch`.
    Query(String),
}

/// Request bodies and how stored bodies are compared.
///
/// # Defaults
/// No fixture members, nothing ignored, `patch = "merge"`,
/// `malformed-status = [400]`, `missing-id` invented by the suite.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct BodyShape {
    /// Members every body the suite sends carries (for APIs with required fields).
    pub fixture: Map<String, Value>,
    /// JSON pointers of members the server adds or changes itself (`/id`,
    /// `/updated_at`); a stored body matches what was sent when every other member does.
    pub ignore: Vec<String>,
    /// The PATCH format the server takes.
    pub patch: PatchFormat,
    /// Statuses a malformed body may get (RFC 9110 allows 400 and 422).
    #[serde(rename = "malformed-status")]
    pub malformed_statuses: Vec<u16>,
    /// An id that names no resource and is valid for this API (e.g. `999999999`
    /// for integer ids); the suite invents a string id when this is unset.
    pub missing_id: Option<String>,
}

impl Default for BodyShape {
    fn default() -> Self {
        BodyShape {
            fixture: Map::new(),
            ignore: Vec::new(),
            patch: PatchFormat::Merge,
            malformed_statuses: vec![400],
            missing_id: None,
        }
    }
}

/// The PATCH format a server takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatchFormat {
    /// `application/merge-patch+json` (RFC 7396).
    Merge,
    /// `application/json-patch+json` (RFC 6902).
    JsonPatch,
    /// The server has no PATCH: PATCH rules are skipped, saying so.
    None,
}

/// The error body format expected by the `errors` profile.
///
/// # Defaults
/// `format = "problem+json"`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ErrorsShape {
    /// What error bodies should be.
    pub format: ErrorFormat,
}

/// What error bodies should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum ErrorFormat {
    /// `problem+json`: `application/problem+json` (RFC 9457).
    #[default]
    #[serde(rename = "problem+json")]
    ProblemJson,
    /// `json`: any JSON body (Kubernetes `Status`, OData errors, `{"error": …}`).
    #[serde(rename = "json")]
    Json,
    /// `any`: error bodies are not judged.
    #[serde(rename = "any")]
    Any,
}

fn split(s: &str) -> (&str, Option<&str>) {
    match s.split_once(':') {
        Some((kind, rest)) => (kind.trim(), Some(rest.trim())),
        None => (s.trim(), None),
    }
}

fn pointer(what: &str, p: &str) -> Result<String, String> {
    if p.starts_with('/') {
        Ok(p.to_owned())
    } else {
        Err(format!(
            "{what}: {p:?} is not a JSON pointer; write it with a leading slash, e.g. body:/_rev"
        ))
    }
}

fn name(what: &str, n: &str, example: &str) -> Result<String, String> {
    if !n.is_empty() && n.chars().all(|c| c.is_ascii_graphic()) {
        Ok(n.to_owned())
    } else {
        Err(format!("{what}: {n:?} is not a name; write e.g. {example}"))
    }
}

impl FromStr for LocationFrom {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match split(s) {
            ("header", None) => Ok(LocationFrom::Header),
            ("template", None) => Ok(LocationFrom::Template),
            ("body", Some(p)) => pointer("create.location", p).map(LocationFrom::Body),
            _ => Err(format!(
                "create.location {s:?}: write \"header\", \"template\" or \"body:/id\""
            )),
        }
    }
}

impl FromStr for VersionSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match split(s) {
            ("etag", None) => Ok(VersionSource::Etag),
            ("body", Some(p)) => pointer("version.read", p).map(VersionSource::Body),
            ("header", Some(n)) => {
                name("version.read", n, "header:x-version").map(VersionSource::Header)
            }
            _ => Err(format!(
                "version.read {s:?}: write \"etag\", \"body:/metadata/resourceVersion\" or \"header:x-version\""
            )),
        }
    }
}

impl FromStr for VersionSend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match split(s) {
            ("if-match", None) => Ok(VersionSend::IfMatch),
            ("body", Some(p)) => pointer("version.send", p).map(VersionSend::Body),
            ("query", Some(n)) => name("version.send", n, "query:rev").map(VersionSend::Query),
            _ => Err(format!(
                "version.send {s:?}: write \"if-match\", \"body:/_rev\" or \"query:rev\""
            )),
        }
    }
}

macro_rules! string_forms {
    ($($ty:ty),*) => {$(
        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                s.parse()
            }
        }
    )*};
}
string_forms!(LocationFrom, VersionSource, VersionSend);

impl fmt::Display for LocationFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocationFrom::Header => f.write_str("header"),
            LocationFrom::Template => f.write_str("template"),
            LocationFrom::Body(p) => write!(f, "body:{p}"),
        }
    }
}

impl fmt::Display for VersionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSource::Etag => f.write_str("etag"),
            VersionSource::Body(p) => write!(f, "body:{p}"),
            VersionSource::Header(n) => write!(f, "header:{n}"),
        }
    }
}

impl fmt::Display for VersionSend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSend::IfMatch => f.write_str("if-match"),
            VersionSend::Body(p) => write!(f, "body:{p}"),
            VersionSend::Query(n) => write!(f, "query:{n}"),
        }
    }
}

impl TargetShape {
    /// Checks the combinations that cannot work, naming the fix.
    pub fn validate(&self) -> Result<(), String> {
        let c = &self.create;
        if !c.url.contains("{id}") {
            return Err(format!(
                "create.url {:?} has no {{id}}; write e.g. \"{{collection}}/{{id}}\"",
                c.url
            ));
        }
        if c.method == CreateMethod::Post && c.location == LocationFrom::Template {
            return Err(
                "create.location = \"template\" needs create.method = \"put\" (with post the server picks the URL); use \"header\" or \"body:/id\"".into(),
            );
        }
        let v = &self.version;
        if v.stale_statuses.is_empty() || v.stale_statuses.iter().any(|s| ![409, 412].contains(s)) {
            return Err(format!(
                "version.stale-status {:?}: list 412, 409 or both",
                v.stale_statuses
            ));
        }
        let b = &self.body;
        if b.malformed_statuses.is_empty()
            || b.malformed_statuses.iter().any(|s| !(400..500).contains(s))
        {
            return Err(format!(
                "body.malformed-status {:?}: list 4xx statuses, e.g. [400, 422]",
                b.malformed_statuses
            ));
        }
        if let Some(p) = b.ignore.iter().find(|p| !p.starts_with('/')) {
            return Err(format!(
                "body.ignore {p:?} is not a JSON pointer; write it with a leading slash, e.g. \"/id\""
            ));
        }
        if let Some(id) = &b.missing_id {
            if id.is_empty() || id.contains(['/', '?', '#']) {
                return Err(format!(
                    "body.missing-id {id:?} must be one path segment, e.g. \"999999999\""
                ));
            }
        }
        Ok(())
    }

    /// The URL of the resource with `id` in the collection at `collection_url`
    /// (used exactly as configured: a trailing slash is kept).
    pub fn item_url(&self, collection_url: &str, id: &str) -> String {
        self.create
            .url
            .replace("{collection}", collection_url)
            .replace("{id}", id)
    }

    /// The JSON pointers never compared when judging stored content: `[body]
    /// ignore`, and the version member itself where the version lives in the body.
    pub fn not_compared(&self) -> Vec<String> {
        let mut pointers = self.body.ignore.clone();
        if let VersionSource::Body(p) = &self.version.read {
            pointers.push(p.clone());
        }
        if let VersionSend::Body(p) = &self.version.send {
            pointers.push(p.clone());
        }
        pointers
    }

    /// Whether the version is the ETag header, sent back in `If-Match` (the HTTP way).
    pub fn uses_etags(&self) -> bool {
        self.version.read == VersionSource::Etag && self.version.send == VersionSend::IfMatch
    }
}

#[cfg(test)]
mod tests;
