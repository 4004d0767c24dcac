//! Third-party server shapes the emulator can take, so the suite's handling of
//! each is proven: members the server adds, an ETag that differs on every
//! read, weak ETags for a moment after a write (Apache `mod_dav`), PUT-create
//! without POST or `Location`, a collection with a trailing slash (`/dav/`),
//! and versions in the body (Kubernetes `metadata.resourceVersion`, CouchDB
//! `_rev` in the body or `?rev=`).

use std::time::{Duration, Instant};

use ifmatch_conformance::etag::EntityTag;
use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

use super::{Cond, Emulator, State};
use crate::support::faults::Fault;

/// Where a body-versioned server keeps the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyVersion {
    /// `/metadata/resourceVersion` (a string of digits); no `ETag` at all;
    /// stale writes get 409 with a `Status` body.
    Kubernetes,
    /// `/_rev`, also the `ETag`; taken from the body, `?rev=` or `If-Match`;
    /// an update without one, or with a stale one, gets 409 `{"error":"conflict"}`.
    CouchDb,
    /// Not in the body: Google Cloud Storage's generation, in the
    /// `x-goog-generation` header, sent back as `?ifGenerationMatch=`; 412.
    Generation,
}

impl BodyVersion {
    /// The JSON pointer of the version member.
    pub fn pointer(self) -> Option<&'static str> {
        match self {
            BodyVersion::Kubernetes => Some("/metadata/resourceVersion"),
            BodyVersion::CouchDb => Some("/_rev"),
            BodyVersion::Generation => None,
        }
    }

    /// The query parameter a write may carry the version in.
    fn query(self) -> Option<&'static str> {
        match self {
            BodyVersion::CouchDb => Some("rev"),
            BodyVersion::Generation => Some("ifGenerationMatch"),
            BodyVersion::Kubernetes => None,
        }
    }

    /// Whether a stale write gets 409 with this server's own body (else 412).
    pub fn conflicts_409(self) -> bool {
        self != BodyVersion::Generation
    }

    fn text(self, version: u64) -> String {
        match self {
            BodyVersion::Kubernetes | BodyVersion::Generation => version.to_string(),
            BodyVersion::CouchDb => format!("e{version}"),
        }
    }

    fn tag(self, text: &str) -> Option<EntityTag> {
        match self {
            BodyVersion::Kubernetes | BodyVersion::Generation => {
                EntityTag::strong(format!("e{text}")).ok()
            }
            BodyVersion::CouchDb => EntityTag::strong(text).ok(),
        }
    }
}

/// How the emulated server is shaped (the default: like the reference server).
#[derive(Debug, Clone, Default)]
pub struct Shape {
    /// Stores `id` and `updated_at` members of its own with every document.
    pub adds_members: bool,
    /// Sends a different `ETag` on every GET (`"e3-r1"`, `"e3-r2"`, …), any of
    /// which matches the version.
    pub etag_per_read: bool,
    /// Sends weak `ETag`s for this long after a write, as Apache `mod_dav` does.
    pub weak_after_write: Option<Duration>,
    /// No POST (405): resources are created by `PUT`, answered 201 without `Location`.
    pub put_create_only: bool,
    /// The collection's path with its trailing slash, e.g. `/dav/`; the path
    /// without the slash answers 404.
    pub collection: Option<&'static str>,
    /// The version lives in the body.
    pub body_version: Option<BodyVersion>,
    /// PATCH takes `application/json-patch+json` (RFC 6902) instead of merge patches.
    pub json_patch: bool,
    /// A POST's 201 carries no `Location`; the new id is only in the body (`/id`).
    pub post_without_location: bool,
    /// Writes without this member are refused with 422 (a required field).
    pub required_member: Option<&'static str>,
    /// Every error body carries a new `request_id`, as S3's and Azure's do.
    pub error_ids: bool,
    /// Tags every answer, a refusal's error body too, with a hash of its body
    /// (`W/"<length in hex>-…"`), as Express does: pouchdb-server's 409 carries
    /// an `ETag` of `{"error":"conflict",…}`, not of the document.
    pub tags_error_bodies: bool,
    /// Answers errors as `text/plain` to a request whose `Accept` does not name
    /// JSON, as CouchDB and pouchdb-server do.
    pub plain_errors_without_accept: bool,
    /// Refuses `If-None-Match: *` on an existing resource with 409, as Azure's
    /// `BlobAlreadyExists` does.
    pub exists_409: bool,
}

std::thread_local! {
    /// Whether the request being answered on this thread gets plain-text errors
    /// (set by `respond` for [`Shape::plain_errors_without_accept`]).
    pub(super) static PLAIN_ERRORS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether `req` names JSON in its `Accept`.
pub(super) fn accepts_json(req: &Request) -> bool {
    req.headers
        .get_all("accept")
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.contains("json")))
}

/// The last `request_id` an error body carried.
static REQUEST_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Emulator {
    /// The emulated server with `shape`.
    pub fn shaped(options: super::Options, shape: Shape) -> Self {
        let mut emulator = Emulator::new(options);
        emulator.shape = std::sync::Arc::new(shape);
        emulator
    }

    /// Where items live: `/items/` or the shaped collection.
    pub(super) fn items_prefix(&self) -> &'static str {
        self.shape.collection.unwrap_or("/items/")
    }

    /// Routes a shaped collection (`/dav/`) or refuses POST on a PUT-create-only
    /// server; `None` leaves the request to the usual routes.
    pub(super) fn shaped_route(&self, st: &mut State, req: &Request) -> Option<ResponseTemplate> {
        let raw = req.url.path();
        let method = req.method.as_str();
        let Some(collection) = self.shape.collection else {
            let is_collection = raw.trim_end_matches('/') == "/items";
            return (is_collection && method == "POST" && self.shape.put_create_only)
                .then(|| self.problem(405, "method-not-allowed", "create with PUT", None));
        };
        if raw == collection {
            return Some(match method {
                "POST" if !self.shape.put_create_only => self.post(st, req),
                "GET" => {
                    ResponseTemplate::new(200).set_body_json(st.docs.keys().collect::<Vec<_>>())
                }
                _ => self.problem(405, "method-not-allowed", "use GET", None),
            });
        }
        let Some(id) = raw
            .strip_prefix(collection)
            .filter(|id| !id.is_empty() && !id.contains('/'))
        else {
            return Some(self.problem(
                404,
                "not-found",
                &format!("no such resource; the collection is {collection}"),
                None,
            ));
        };
        let id = id.to_owned();
        Some(match method {
            "GET" | "HEAD" => self.get(st, req, &id, method == "HEAD"),
            "PUT" => self.put(st, req, &id),
            "PATCH" => self.patch(st, req, &id),
            "DELETE" => self.delete(st, req, &id),
            _ => self.problem(
                405,
                "method-not-allowed",
                "use GET, PUT, PATCH or DELETE",
                None,
            ),
        })
    }

    /// The `ETag` a read shows, if the server sends one.
    pub(super) fn read_tag(
        &self,
        st: &State,
        id: &str,
        version: u64,
        reads: u32,
    ) -> Option<String> {
        match self.shape.body_version {
            Some(BodyVersion::Kubernetes) => return None,
            Some(BodyVersion::CouchDb) => return Some(format!("\"e{version}\"")),
            Some(BodyVersion::Generation) | None => {}
        }
        if self.settling(st, id) {
            return Some(format!("W/\"e{version}\""));
        }
        if self.shape.etag_per_read {
            return Some(format!("\"e{version}-r{reads}\""));
        }
        Some(self.etag(version))
    }

    /// The `ETag` a write response carries, if any.
    pub(super) fn written_tag(&self, version: u64) -> Option<String> {
        match self.shape.body_version {
            Some(BodyVersion::Kubernetes) => None,
            _ if self.shape.weak_after_write.is_some() => Some(format!("W/\"e{version}\"")),
            _ => Some(self.etag(version)),
        }
    }

    /// Whether the document was written so recently that its `ETag` is weak.
    fn settling(&self, st: &State, id: &str) -> bool {
        match (self.shape.weak_after_write, st.written.get(id)) {
            (Some(window), Some(at)) => at.elapsed() < window,
            _ => false,
        }
    }

    /// Notes a write of `id` (for the weak window).
    pub(super) fn wrote(st: &mut State, id: &str) {
        st.written.insert(id.to_owned(), Instant::now());
    }

    /// The document as the server shows it: with the members it adds and the
    /// version member.
    pub(super) fn shown(&self, st: &State, id: &str, body: &Value, version: u64) -> Value {
        let mut body = body.clone();
        let Some(members) = body.as_object_mut() else {
            return body;
        };
        if self.shape.adds_members {
            let touched = st.touched.get(id).copied().unwrap_or(0);
            members.insert("id".into(), json!(id));
            members.insert("updated_at".into(), json!(format!("t{version}.{touched}")));
        }
        match self.shape.body_version {
            Some(BodyVersion::Kubernetes) => {
                let meta = members.entry("metadata").or_insert_with(|| json!({}));
                if let Some(meta) = meta.as_object_mut() {
                    meta.insert(
                        "resourceVersion".into(),
                        json!(BodyVersion::Kubernetes.text(version)),
                    );
                }
            }
            Some(BodyVersion::CouchDb) => {
                members.insert("_id".into(), json!(id));
                members.insert("_rev".into(), json!(BodyVersion::CouchDb.text(version)));
            }
            Some(BodyVersion::Generation) | None => {}
        }
        body
    }

    /// A body as stored: without the version member (and `_id`) the client sent.
    pub(super) fn unversioned(&self, mut body: Value) -> Value {
        if let (Some(bv), Some(members)) = (self.shape.body_version, body.as_object_mut()) {
            match bv {
                BodyVersion::CouchDb => {
                    members.remove("_rev");
                    members.remove("_id");
                }
                BodyVersion::Generation => {}
                BodyVersion::Kubernetes => {
                    if let Some(meta) = members.get_mut("metadata").and_then(Value::as_object_mut) {
                        meta.remove("resourceVersion");
                        if meta.is_empty() {
                            members.remove("metadata");
                        }
                    }
                }
            }
        }
        body
    }

    /// The precondition of a write: `If-Match` as sent, or on a body-versioned
    /// server the version in the body, a JSON Patch `test`, `?rev=` or (CouchDB)
    /// `If-Match`. A CouchDB update without any version names no version (refused).
    pub(super) fn write_cond(&self, st: &State, id: &str, req: &Request, im: Cond) -> Cond {
        let Some(bv) = self.shape.body_version else {
            return im;
        };
        let body: Option<Value> = serde_json::from_slice(&req.body).ok();
        let from_body = bv.pointer().and_then(|pointer| {
            body.as_ref().and_then(|b| match b {
                Value::Array(ops) => ops
                    .iter()
                    .find(|op| op["op"] == "test" && op["path"] == pointer)
                    .map(|op| op["value"].clone()),
                b => b.pointer(pointer).cloned(),
            })
        });
        let from_query = bv.query().and_then(|name| {
            req.url
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| Value::String(v.into_owned()))
        });
        let found = from_body.or(from_query).and_then(|v| match v {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        match (found, bv, im) {
            (Some(text), _, _) => bv.tag(&text).map_or(Cond::Invalid, |t| Cond::Tags(vec![t])),
            (None, BodyVersion::CouchDb, Cond::Tags(tags)) => Cond::Tags(tags),
            (None, BodyVersion::CouchDb, _) if st.docs.contains_key(id) => Cond::Tags(vec![]),
            (None, _, _) => Cond::Absent,
        }
    }

    /// A body-versioned server's refusal of a stale write.
    pub(super) fn version_conflict(&self, bv: BodyVersion) -> ResponseTemplate {
        let body = match bv {
            BodyVersion::Kubernetes => json!({
                "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Conflict", "code": 409,
                "message": "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again"
            }),
            BodyVersion::CouchDb | BodyVersion::Generation => {
                json!({ "error": "conflict", "reason": "Document update conflict." })
            }
        };
        let text = body.to_string();
        let r = ResponseTemplate::new(409);
        let r = if self.shape.tags_error_bodies {
            r.insert_header(
                "ETag",
                format!("W/\"{:x}-c0aD2MvSZJYhjj\"", text.len()).as_str(),
            )
        } else {
            r
        };
        r.set_body_raw(text.into_bytes(), "application/json")
    }

    /// The 422 for a PUT or POST body without the required member, if any.
    pub(super) fn missing_required(&self, body: &Value) -> Option<ResponseTemplate> {
        let member = self.shape.required_member?;
        body.get(member).is_none().then(|| {
            self.problem(
                422,
                "invalid-body",
                &format!("\"{member}\" is required"),
                None,
            )
        })
    }

    /// Adds a fresh `request_id` to an error body when the shape says so.
    pub(super) fn stamp_error(&self, body: &mut Value) {
        if let (true, Some(members)) = (self.shape.error_ids, body.as_object_mut()) {
            let id = REQUEST_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            members.insert("request_id".into(), json!(format!("req-{id}")));
        }
    }

    /// Adds the version header of a shape that keeps its version in one.
    pub(super) fn version_header(&self, r: ResponseTemplate, version: u64) -> ResponseTemplate {
        match self.shape.body_version {
            Some(BodyVersion::Generation) => {
                r.insert_header("x-goog-generation", version.to_string().as_str())
            }
            _ => r,
        }
    }

    /// The PATCH media type this server takes.
    pub(super) fn patch_media(&self) -> &'static str {
        if self.shape.json_patch {
            "application/json-patch+json"
        } else {
            "application/merge-patch+json"
        }
    }

    /// A refused write that still touches the document: its `updated_at`
    /// (`RefusalTouchesUpdatedAt`) or its version, content unchanged (`RefusalBumpsVersion`).
    pub(super) fn touch_on_refusal(&self, st: &mut State, id: &str) {
        if self.has(Fault::RefusalTouchesUpdatedAt) {
            *st.touched.entry(id.to_owned()).or_default() += 1;
        }
        if self.has(Fault::RefusalBumpsVersion) {
            let version = Self::next_version(st);
            if let Some(doc) = st.docs.get_mut(id) {
                doc.older.push(doc.version);
                doc.version = version;
            }
        }
    }
}

/// Applies JSON Patch operations (RFC 6902: add, replace, remove, test) to
/// `doc`; a `test` of `version_at` was judged as the write's precondition.
pub fn apply_json_patch(
    doc: &mut Value,
    ops: &Value,
    version_at: Option<&str>,
) -> Result<(), String> {
    let ops = ops
        .as_array()
        .ok_or("a JSON Patch is an array of operations")?;
    for op in ops {
        let path = op["path"].as_str().ok_or("an operation needs a path")?;
        let (parent, key) = path.rsplit_once('/').ok_or("paths start with /")?;
        let key = key.replace("~1", "/").replace("~0", "~");
        match op["op"].as_str() {
            Some("test") if Some(path) == version_at => {}
            Some("test") => {
                if doc.pointer(path) != Some(&op["value"]) {
                    return Err(format!("test failed at {path}"));
                }
            }
            Some("add" | "replace") => {
                let target = doc
                    .pointer_mut(parent)
                    .and_then(Value::as_object_mut)
                    .ok_or(format!("no object at {parent}"))?;
                target.insert(key, op["value"].clone());
            }
            Some("remove") => {
                let target = doc
                    .pointer_mut(parent)
                    .and_then(Value::as_object_mut)
                    .ok_or(format!("no object at {parent}"))?;
                target
                    .remove(&key)
                    .ok_or(format!("nothing to remove at {path}"))?;
            }
            other => return Err(format!("unsupported op {other:?}")),
        }
    }
    Ok(())
}
