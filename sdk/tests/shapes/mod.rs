//! One stateful stub per well-known API shape, reproducing how each keeps a document's version,
//! how a write sends it back, and how a stale write is refused (status, headers, error body).
//! The stored document is `{"n": <number>}` inside each API's own envelope; every write is
//! checked against the stored version exactly as that API does, so lost updates show.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The API a stub behaves like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `metadata.resourceVersion` in the body, no ETag; stale → 409 `Status` (reason Conflict).
    Kubernetes,
    /// `_rev` in the body (and as ETag); sent back in the body; stale → 409 `{"error":"conflict"}`.
    CouchBody,
    /// CouchDB with `?rev=` instead of the body's `_rev`.
    CouchQuery,
    /// GitHub contents: `sha` in the body, a weak ETag; stale → 409 "does not match".
    GitHub,
    /// GCS: `generation` in the body; sent back as `?ifGenerationMatch=`; stale → 412.
    Gcs,
    /// S3: strong ETag, `If-Match`; stale → 412 XML; the first conditional write meets a
    /// concurrent one → 409 `ConditionalRequestConflict` (not applied); create with
    /// `If-None-Match: *`.
    S3,
    /// A WebDAV server (Apache mod_dav): the first read after a write has a weak ETag, later
    /// ones a strong one; `Last-Modified`; stale → 412 with an HTML page.
    WebDav,
    /// A FHIR server: weak ETags `W/"<versionId>"`, compared weakly in `If-Match`; stale → 412
    /// with an `OperationOutcome`.
    Fhir,
    /// Azure Blob-like: strong ETag `"0x8D…"`; stale → 412 XML `ConditionNotMet`.
    Azure,
    /// A server whose 412 carries an `ETag` that is a hash of its error page, not the resource's.
    BogusRefusalEtag,
    /// Only ever a weak ETag, with `Last-Modified`; stale → 412.
    AlwaysWeak,
}

/// The stub's state: the document's number and version, and what it saw.
#[derive(Debug, Default)]
pub struct State {
    pub exists: bool,
    pub n: i64,
    pub version: u64,
    /// Reads since the last write (WebDAV's weak-then-strong).
    pub reads_since_write: u32,
    /// Whether S3's one 409 was answered.
    pub s3_conflicted: bool,
    /// Writes applied and refused.
    pub applied: u32,
    pub refused: u32,
}

/// A stub of one shape; mount it with [`Stub::mount`].
#[derive(Clone)]
pub struct Stub {
    pub shape: Shape,
    pub state: Arc<Mutex<State>>,
}

pub const DATE: &str = "Wed, 02 Dec 2026 07:00:00 GMT";

impl Stub {
    /// A stub holding `{"n": 0}` at version 1.
    pub fn new(shape: Shape) -> Self {
        let state = State {
            exists: true,
            version: 1,
            // The first read is not right after a write.
            reads_since_write: 1,
            ..State::default()
        };
        Self {
            shape,
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// A stub with no document yet.
    pub fn empty(shape: Shape) -> Self {
        let stub = Self::new(shape);
        stub.state.lock().unwrap().exists = false;
        stub
    }

    pub async fn mount(&self, server: &MockServer) {
        Mock::given(wiremock::matchers::any())
            .respond_with(self.clone())
            .mount(server)
            .await;
    }

    pub fn n(&self) -> i64 {
        self.state.lock().unwrap().n
    }

    /// The version as the API writes it in bodies and tags.
    fn token(&self, version: u64) -> String {
        match self.shape {
            Shape::CouchBody | Shape::CouchQuery => format!("{version}-abc"),
            Shape::GitHub => format!("sha{version:038}"),
            Shape::Azure => format!("0x8DC{version:012}"),
            _ => version.to_string(),
        }
    }

    fn representation(&self, s: &State) -> Value {
        let v = self.token(s.version);
        match self.shape {
            Shape::Kubernetes => json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cfg", "resourceVersion": v}, "data": {"n": s.n}}),
            Shape::CouchBody | Shape::CouchQuery => json!({"_id": "doc", "_rev": v, "n": s.n}),
            Shape::GitHub => json!({"name": "n.json", "path": "n.json", "sha": v, "n": s.n}),
            Shape::Gcs => {
                json!({"kind": "storage#object", "name": "obj", "generation": v, "n": s.n})
            }
            Shape::Fhir => {
                json!({"resourceType": "Basic", "id": "1", "meta": {"versionId": v}, "n": s.n})
            }
            _ => json!({"n": s.n}),
        }
    }

    /// The ETag a read carries (`None`: the API sends none).
    fn etag(&self, s: &State) -> Option<String> {
        let v = self.token(s.version);
        match self.shape {
            Shape::Kubernetes | Shape::Gcs => None,
            Shape::GitHub | Shape::Fhir | Shape::AlwaysWeak => Some(format!("W/\"{v}\"")),
            Shape::WebDav if s.reads_since_write == 0 => Some(format!("W/\"dav-{v}\"")),
            Shape::WebDav => Some(format!("\"dav-{v}\"")),
            _ => Some(format!("\"{v}\"")),
        }
    }

    /// The version the write names, as this API reads it.
    fn sent_version(&self, request: &Request, body: &Value) -> Option<String> {
        let query = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let if_match = request
            .headers
            .get("if-match")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = |pointer: &str| {
            body.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match self.shape {
            Shape::Kubernetes => text("/metadata/resourceVersion"),
            Shape::CouchBody => text("/_rev"),
            Shape::CouchQuery => query("rev"),
            Shape::GitHub => text("/sha"),
            Shape::Gcs => query("ifGenerationMatch"),
            // Weak comparison, on purpose.
            Shape::Fhir => {
                if_match.map(|t| t.trim_start_matches("W/").trim_matches('"').to_owned())
            }
            Shape::WebDav => {
                if_match.map(|t| t.trim_matches('"').trim_start_matches("dav-").to_owned())
            }
            // If-Match never matches a weak tag; If-Unmodified-Since is checked separately.
            Shape::AlwaysWeak => if_match
                .filter(|t| !t.starts_with("W/"))
                .map(|t| t.trim_matches('"').to_owned()),
            _ => if_match.map(|t| t.trim_matches('"').to_owned()),
        }
    }

    fn refusal(&self) -> ResponseTemplate {
        let json = |status: u16, body: Value| {
            ResponseTemplate::new(status)
                .insert_header("content-type", "application/json")
                .set_body_string(body.to_string())
        };
        let xml = |status: u16, code: &str| {
            ResponseTemplate::new(status)
                .insert_header("content-type", "application/xml")
                .set_body_string(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>refused</Message></Error>"))
        };
        match self.shape {
            Shape::Kubernetes => json(409, json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Failure", "message": "Operation cannot be fulfilled on configmaps \"cfg\": the object has been modified; please apply your changes to the latest version and try again",
                "reason": "Conflict", "details": {"name": "cfg", "kind": "configmaps"}, "code": 409})),
            Shape::CouchBody | Shape::CouchQuery => {
                json(409, json!({"error": "conflict", "reason": "Document update conflict."}))
            }
            Shape::GitHub => json(409, json!({"message": "n.json does not match sha0000", "documentation_url": "https://docs.github.com/rest/repos/contents", "status": "409"})),
            Shape::Gcs => json(412, json!({"error": {"code": 412, "message": "At least one of the pre-conditions you specified did not hold.", "errors": [{"reason": "conditionNotMet"}]}})),
            Shape::S3 => xml(412, "PreconditionFailed"),
            Shape::Azure => xml(412, "ConditionNotMet"),
            Shape::Fhir => json(412, json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "conflict"}]})),
            Shape::WebDav | Shape::AlwaysWeak => ResponseTemplate::new(412)
                .insert_header("content-type", "text/html")
                .set_body_string("<!DOCTYPE HTML><html><head><title>412 Precondition Failed</title></head><body><h1>Precondition Failed</h1></body></html>"),
            Shape::BogusRefusalEtag => json(412, json!({"message": "precondition failed"}))
                .insert_header("etag", "\"hash-of-this-error-page\""),
        }
    }

    fn read(&self, s: &mut State) -> ResponseTemplate {
        if !s.exists {
            return ResponseTemplate::new(404);
        }
        let mut out = ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .insert_header("last-modified", DATE)
            .set_body_string(self.representation(s).to_string());
        if let Some(tag) = self.etag(s) {
            out = out.insert_header("etag", tag.as_str());
        }
        s.reads_since_write += 1;
        out
    }

    fn write(&self, request: &Request, s: &mut State) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        if header("if-none-match") == Some("*") {
            if s.exists {
                s.refused += 1;
                return self.refusal();
            }
        } else if !s.exists {
            return ResponseTemplate::new(404);
        } else if self.shape == Shape::S3 && header("if-match").is_some() && !s.s3_conflicted {
            s.s3_conflicted = true;
            s.refused += 1;
            return ResponseTemplate::new(409)
                .insert_header("content-type", "application/xml")
                .set_body_string("<Error><Code>ConditionalRequestConflict</Code><Message>A conflicting operation occurred. If using PutObject you can retry the request.</Message></Error>");
        } else {
            let unmodified = header("if-unmodified-since") == Some(DATE);
            let current = self.token(s.version);
            // An ETag-versioned API applies a write without any precondition (last write wins).
            let unconditional = header("if-match").is_none()
                && header("if-unmodified-since").is_none()
                && !matches!(
                    self.shape,
                    Shape::Kubernetes
                        | Shape::CouchBody
                        | Shape::CouchQuery
                        | Shape::GitHub
                        | Shape::Gcs
                );
            let matches = unconditional
                || self.sent_version(request, &body).as_deref() == Some(current.as_str())
                || (self.shape == Shape::AlwaysWeak && unmodified);
            if !matches {
                s.refused += 1;
                return self.refusal();
            }
        }
        let n = body
            .pointer("/data/n")
            .or_else(|| body.pointer("/n"))
            .and_then(Value::as_i64)
            .unwrap_or(-1);
        s.exists = true;
        s.n = n;
        s.version += 1;
        s.applied += 1;
        s.reads_since_write = 0;
        let mut out = ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_string(json!({"ok": true}).to_string());
        if let Some(tag) = self.etag(s) {
            out = out.insert_header("etag", tag.as_str());
        }
        out
    }
}

impl Respond for Stub {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut s = self.state.lock().unwrap();
        match request.method.as_str() {
            "GET" => self.read(&mut s),
            "PUT" => self.write(request, &mut s),
            _ => ResponseTemplate::new(405),
        }
    }
}

/// The `n` of a document of any shape.
pub fn n_of(doc: &Value) -> i64 {
    doc.pointer("/data/n")
        .or_else(|| doc.pointer("/n"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// Adds one to `n`, wherever the shape keeps it.
pub fn increment(doc: &mut Value) -> Result<(), ifmatch::ChangeError> {
    let n = n_of(doc) + 1;
    match doc.pointer_mut("/data/n") {
        Some(slot) => *slot = n.into(),
        None => doc["n"] = n.into(),
    }
    Ok(())
}
