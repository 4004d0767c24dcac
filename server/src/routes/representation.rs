//! One handler set, two representations: what differs between API v1 and v2 for documents
//! lives here, as methods of [`Api`]. v1 answers with the stored document and its tag
//! `"<epoch>-<n>"`; v2 with an envelope `{"id","version","modified_at_ms","data"}` under its
//! own strong tag `"<epoch>-<n>.v2"`, and takes writes as `{"data", "version"?}`.
//!
//! Both tags name the same stored version, so `If-Match` accepts either on either URL (the
//! `.v2` suffix is dropped before comparing). `If-None-Match` compares with the answer's own
//! representation only: a cache holding the v1 bytes must not get a 304 for the v2 ones.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::request::{parse_json, preconditions};
use super::response::{item_path, refused};
use crate::api_version::{Api, ApiVersion};
use crate::etag::{Condition, EntityTag};
use crate::precondition::{Current, Method, Preconditions, Verdict};
use crate::problem::{Problem, ProblemKind};
use crate::storage::Document;
use crate::MismatchStatus;

/// The response field with the version number of the answer's tag.
pub(crate) const VERSION: HeaderName = HeaderName::from_static("version");

const V2_SUFFIX: &str = ".v2";

impl Api {
    /// The tag of `doc`'s representation in this version.
    pub(crate) fn etag(self, stored: &EntityTag) -> EntityTag {
        match self.version {
            ApiVersion::V1 => stored.clone(),
            ApiVersion::V2 => stored.with_opaque(format!("{}{V2_SUFFIX}", stored.opaque())),
        }
    }

    /// `{prefix}/items/{id}`: where this version's client finds the document.
    pub(crate) fn item_path(self, id: &str) -> String {
        format!("{}{}", self.prefix, item_path(id))
    }

    /// The body of `doc` (document `id`) in this version; stored bodies are canonical JSON
    /// already, so they are spliced in as they are.
    pub(crate) fn body(self, id: &str, doc: &Document) -> Vec<u8> {
        match self.version {
            ApiVersion::V1 => doc.body.clone(),
            ApiVersion::V2 => {
                let mut body = b"{\"id\":".to_vec();
                // Serializing a string cannot fail.
                body.extend_from_slice(&serde_json::to_vec(id).unwrap_or_default());
                body.extend_from_slice(
                    format!(
                        ",\"version\":{},\"modified_at_ms\":{},\"data\":",
                        doc.version(),
                        doc.at_ms
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(&doc.body);
                body.push(b'}');
                body
            }
        }
    }

    /// `{"items":[…]}`: v1 lists `{"id","etag","value"}`, v2 lists envelopes.
    pub(crate) fn list_body(self, docs: &[(String, Document)]) -> Vec<u8> {
        if self.version == ApiVersion::V1 {
            return super::items::list_body(docs);
        }
        let mut body = b"{\"items\":[".to_vec();
        for (index, (id, doc)) in docs.iter().enumerate() {
            if index > 0 {
                body.push(b',');
            }
            body.extend_from_slice(&self.body(id, doc));
        }
        body.extend_from_slice(b"]}");
        body
    }

    /// `200`/`201` with `doc` in this version, its tag, `Version`, and `Location` if given.
    pub(crate) fn document(
        self,
        status: StatusCode,
        id: &str,
        doc: &Document,
        location: Option<&str>,
    ) -> Response {
        let mut headers = self.validators(doc);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
            headers.insert(header::LOCATION, location);
        }
        (status, headers, self.body(id, doc)).into_response()
    }

    /// `200`/`201` answering a write with the stored representation; `Content-Location` names
    /// the document (so clients may cache the body with its tag), `Location` a creation.
    pub(crate) fn written(self, status: StatusCode, id: &str, doc: &Document) -> Response {
        let path = self.item_path(id);
        let location = (status == StatusCode::CREATED).then_some(path.as_str());
        let mut response = self.document(status, id, doc, location);
        if let Ok(value) = HeaderValue::from_str(&path) {
            response
                .headers_mut()
                .insert(header::CONTENT_LOCATION, value);
        }
        response
    }

    /// The answer to a read of `doc` under `pre`: 200 with it, 304, or the refusal (a read's
    /// failed `If-Match` is 412 in every profile: the 409 profile is about writes).
    pub(crate) fn read(
        self,
        pre: &Preconditions,
        id: &str,
        doc: &Document,
        instance: &str,
    ) -> Result<Response, Problem> {
        match pre.evaluate(Current::Tagged(&doc.etag), Method::Read) {
            Verdict::Proceed => Ok(self.document(StatusCode::OK, id, doc, None)),
            Verdict::NotModified => Ok(self.not_modified(doc)),
            verdict => Err(self.refused(
                verdict,
                pre,
                Some(doc),
                MismatchStatus::PreconditionFailed,
                instance,
            )),
        }
    }

    /// `304 Not Modified`: the tag, `Version`, no body.
    pub(crate) fn not_modified(self, doc: &Document) -> Response {
        (StatusCode::NOT_MODIFIED, self.validators(doc)).into_response()
    }

    fn validators(self, doc: &Document) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&self.etag(&doc.etag).to_string()) {
            headers.insert(header::ETAG, value);
        }
        headers.insert(VERSION, HeaderValue::from(doc.version()));
        // Clients may store the answer but must revalidate before reuse.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers
    }

    /// The request's `If-Match` / `If-None-Match`, made comparable with stored tags: see the
    /// module documentation.
    pub(crate) fn preconditions(
        self,
        headers: &HeaderMap,
        instance: &str,
    ) -> Result<Preconditions, Problem> {
        let mut pre = preconditions(headers, instance)?;
        if let Some(Condition::Tags(tags)) = &mut pre.if_match {
            for tag in tags.iter_mut() {
                if let Some(stored) = tag.opaque().strip_suffix(V2_SUFFIX) {
                    *tag = tag.with_opaque(stored.to_owned());
                }
            }
        }
        if let (ApiVersion::V2, Some(Condition::Tags(tags))) =
            (self.version, &mut pre.if_none_match)
        {
            for tag in tags.iter_mut() {
                *tag = match tag.opaque().strip_suffix(V2_SUFFIX) {
                    Some(stored) => tag.with_opaque(stored.to_owned()),
                    // A v1 tag names other bytes; no stored tag ends in `.v1`.
                    None => tag.with_opaque(format!("{}.v1", tag.opaque())),
                };
            }
        }
        Ok(pre)
    }

    /// Whether `--require-preconditions` can be judged before the body is read: not in v2,
    /// where the body's `version` counts as a precondition.
    pub(crate) fn conditions_in_headers_only(self) -> bool {
        self.version == ApiVersion::V1
    }

    /// The document (or merge patch) a write carries, and in v2 the body's `version`, which
    /// joins `pre`. v2 bodies are `{"data": …, "version"?: n}` and nothing else.
    pub(crate) fn write_body(
        self,
        bytes: &[u8],
        pre: &mut Preconditions,
        instance: &str,
    ) -> Result<Value, Problem> {
        let value = parse_json(bytes, instance)?;
        if self.version == ApiVersion::V1 {
            return Ok(value);
        }
        let malformed = |detail: String| Problem::new(ProblemKind::MalformedBody, instance, detail);
        let Value::Object(mut members) = value else {
            return Err(malformed(
                "a v2 write body is a JSON object {\"data\": <document>, \"version\": <n>} (version optional); put the document in data".to_owned(),
            ));
        };
        let data = members.remove("data");
        let version = members.remove("version");
        if let Some(unknown) = members.keys().next() {
            return Err(malformed(format!(
                "unknown member `{}` in a v2 write body; it has only data and version",
                unknown.escape_debug()
            )));
        }
        let Some(data) = data else {
            return Err(malformed(
                "a v2 write body needs the member data with the document (for PATCH, the merge patch)".to_owned(),
            ));
        };
        if let Some(version) = version {
            pre.if_version = Some(version.as_u64().ok_or_else(|| {
                malformed(format!(
                    "version must be a whole number of at least 0 (the version you read, or 0 for \"must not exist\"), not {version}"
                ))
            })?);
        }
        Ok(data)
    }

    /// The refusal for a failed precondition, in this version's terms: v2 names its own tag
    /// and adds `current_version`.
    pub(crate) fn refused(
        self,
        verdict: Verdict,
        pre: &Preconditions,
        current: Option<&Document>,
        mismatch: MismatchStatus,
        instance: &str,
    ) -> Problem {
        let problem = match verdict {
            Verdict::VersionMismatch | Verdict::VersionExists => {
                version_refused(verdict, pre, current, mismatch, instance)
            }
            _ => refused(verdict, current, mismatch, instance),
        };
        match (self.version, current) {
            (ApiVersion::V2, Some(doc)) => problem
                .with_current_etag(Some(self.etag(&doc.etag)))
                .with_member("current_version", Value::from(doc.version())),
            _ => problem,
        }
    }
}

/// The refusal of a v2 body `version`.
fn version_refused(
    verdict: Verdict,
    pre: &Preconditions,
    current: Option<&Document>,
    mismatch: MismatchStatus,
    instance: &str,
) -> Problem {
    let asked = pre.if_version.unwrap_or_default();
    let problem = match (verdict, current) {
        (Verdict::VersionExists, current) => Problem::new(
            ProblemKind::PreconditionFailed,
            instance,
            format!(
                "\"version\": 0 asks that {instance} not exist, but it does (version {}). Nothing was changed; read it with GET, or send the version you read",
                current.map_or(0, Document::version)
            ),
        ),
        (_, Some(doc)) => Problem::new(
            match mismatch {
                MismatchStatus::PreconditionFailed => ProblemKind::PreconditionFailed,
                MismatchStatus::Conflict => ProblemKind::VersionConflict,
            },
            instance,
            format!(
                "the body's version {asked} is not the current version {} of {instance}: the document changed since you read it. Nothing was changed; re-read the document, re-apply your change and retry with \"version\": {}",
                doc.version(),
                doc.version()
            ),
        ),
        (_, None) => Problem::new(
            ProblemKind::PreconditionFailed,
            instance,
            format!(
                "the body's version {asked} requires an existing document, but {instance} does not exist. Nothing was changed; to create it, send \"version\": 0 or no version"
            ),
        ),
    };
    let current_etag = current.map(|doc| doc.etag.clone());
    problem
        .with_observed(current_etag.clone())
        .with_current_etag(current_etag)
}

#[cfg(test)]
mod tests;
