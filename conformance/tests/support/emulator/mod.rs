//! A stateful emulation of a conforming server as a wiremock `Respond`, with
//! switchable faults. State lives behind one mutex, so compare-and-swap is atomic
//! unless a fault says otherwise.

// A refusal is returned as the response itself; boxing it would only add noise
// to a test-only emulator.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ifmatch_conformance::etag::{self, EntityTag};
use serde_json::{json, Map, Value};
use wiremock::{Request, Respond, ResponseTemplate};

use super::faults::Fault;

mod api_versions;
mod batch;
mod conflicts;
mod envelope;
mod history;
mod idempotency;
mod lock_routes;
mod locks;
mod reads;
mod shapes;
mod staging;
mod stream;
mod tx;
mod tx_items;
mod writes;

pub use conflicts::{ADMINS, CLIENTS};
pub use locks::{MAX_LOCK_TTL_MS, MAX_LOCK_WAITERS};
pub use shapes::{BodyVersion, Shape};
pub use stream::{start_front, StreamSource, HEARTBEAT};

/// How the emulated server behaves.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub faults: Vec<Fault>,
    /// 412 or 409 for a failed `If-Match` on an existing resource.
    pub mismatch_status: u16,
    pub require_preconditions: bool,
    /// Token bucket: this many requests at once, refilled at this many a second.
    pub rate_limit: Option<u32>,
    /// No `/items/{id}/lock`: the server offers no locks (404).
    pub no_locks: bool,
    /// No `/batch` (404).
    pub no_batches: bool,
    /// No `/transactions`, and `Transaction-Id` is ignored (404).
    pub no_transactions: bool,
    /// Keeps a conflict log (`/conflicts`, and a stream behind the front in
    /// `stream.rs`) of refused writes; without it `/conflicts` is 404.
    pub conflicts: bool,
    /// Keeps version history (`/items/{id}/versions`) and sends `Version`.
    pub history: bool,
    /// Serves API version 2 (`/v2/…`, `Api-Version: 2`) and retires v1.
    pub api_v2: bool,
}

#[derive(Debug, Clone)]
struct Doc {
    body: Value,
    version: u64,
    older: Vec<u64>,
    reads_since_write: u32,
}

#[derive(Debug)]
struct Bucket {
    capacity: f64,
    tokens: f64,
    last: Instant,
}

#[derive(Debug, Default)]
struct State {
    docs: HashMap<String, Doc>,
    next_id: u64,
    next_version: u64,
    /// Versions last seen by a read, for the `StaleReadCache` fault.
    cache: HashMap<String, u64>,
    bucket: Option<Bucket>,
    limited_forever: bool,
    locks: locks::LockTable,
    txs: tx::TxTable,
    history: history::History,
    /// When each document was last written (for a shape's weak window).
    written: HashMap<String, Instant>,
    /// Refused writes that touched a document anyway (`RefusalTouchesUpdatedAt`).
    touched: HashMap<String, u64>,
    /// The first answers to `Idempotency-Key`s.
    keys: idempotency::Keys,
}

/// Preconditions as the emulator understands them.
enum Cond {
    Absent,
    Any,
    Tags(Vec<EntityTag>),
    Invalid,
}

/// The emulated server; mount it with `Mock::given(any()).respond_with(emulator)`.
#[derive(Debug, Clone)]
pub struct Emulator {
    options: Arc<Options>,
    state: Arc<Mutex<State>>,
    /// The conflict log, outside `state` so that the stream front can read it.
    conflicts: Arc<Mutex<conflicts::Log>>,
    /// A third-party shape (see `shapes.rs`); the default is the reference shape.
    shape: Arc<Shape>,
}

impl Emulator {
    pub fn new(options: Options) -> Self {
        let bucket = options.rate_limit.map(|n| Bucket {
            capacity: f64::from(n),
            tokens: f64::from(n),
            last: Instant::now(),
        });
        let state = State {
            bucket,
            ..State::default()
        };
        Emulator {
            options: Arc::new(options),
            state: Arc::new(Mutex::new(state)),
            conflicts: Arc::default(),
            shape: Arc::default(),
        }
    }

    fn has(&self, fault: Fault) -> bool {
        self.options.faults.contains(&fault)
    }

    fn etag(&self, version: u64) -> String {
        if self.has(Fault::WeakEtags) {
            format!("W/\"e{version}\"")
        } else {
            format!("\"e{version}\"")
        }
    }

    fn problem(
        &self,
        status: u16,
        kind: &str,
        detail: &str,
        current: Option<String>,
    ) -> ResponseTemplate {
        self.problem_with(status, kind, detail, current, Map::new())
    }

    /// A problem with extension `members` (e.g. a lock's `expires_at_ms`).
    fn problem_with(
        &self,
        status: u16,
        kind: &str,
        detail: &str,
        current: Option<String>,
        members: Map<String, Value>,
    ) -> ResponseTemplate {
        if self.has(Fault::JsonErrorBodies) {
            let body = json!({ "error": { "code": status, "message": detail } });
            let r = ResponseTemplate::new(status)
                .set_body_raw(body.to_string().into_bytes(), "application/json");
            return match current {
                Some(tag) => r.insert_header("ETag", tag.as_str()),
                None => r,
            };
        }
        let plain = shapes::PLAIN_ERRORS.with(|p| p.get())
            || (self.has(Fault::PlainTextErrors) && status != 429)
            || (self.has(Fault::PlainText429) && status == 429);
        if plain {
            let r = ResponseTemplate::new(status)
                .set_body_raw(detail.as_bytes().to_vec(), "text/plain");
            return match current {
                Some(tag) => r.insert_header("ETag", tag.as_str()),
                None => r,
            };
        }
        let reported = if self.has(Fault::ProblemStatusMismatch) {
            if status == 500 {
                400
            } else {
                500
            }
        } else {
            status
        };
        let mut body = json!({ "type": format!("urn:emulator:problem:{kind}"), "title": kind, "status": reported, "detail": detail });
        body.as_object_mut().unwrap().extend(members);
        self.stamp_error(&mut body);
        if self.has(Fault::ProblemWithoutType) {
            body.as_object_mut().unwrap().remove("type");
        }
        let mut response = ResponseTemplate::new(status);
        if let Some(tag) = current {
            body["current_etag"] = Value::from(tag.clone());
            response = response.insert_header("ETag", tag.as_str());
        }
        response.set_body_raw(body.to_string().into_bytes(), "application/problem+json")
    }

    fn cond(&self, req: &Request, name: &str) -> Cond {
        let Some(value) = req.headers.get(name).and_then(|v| v.to_str().ok()) else {
            return Cond::Absent;
        };
        if name == "if-match" && self.has(Fault::IgnoreIfMatch) {
            return Cond::Absent;
        }
        if value.trim() == "*" {
            return Cond::Any;
        }
        let lenient = self.has(Fault::LenientIfMatchParsing);
        let tags: Option<Vec<EntityTag>> = value
            .split(',')
            .map(|t| {
                etag::parse(t)
                    .or_else(|| lenient.then(|| EntityTag::strong(t.trim()).ok()).flatten())
            })
            .collect();
        tags.map_or(Cond::Invalid, Cond::Tags)
    }

    /// Strong comparison against the version the server believes is current.
    fn tag_matches(&self, tag: &EntityTag, version: u64, weak_ok: bool) -> bool {
        let opaque = tag.opaque().split("-r").next().unwrap_or_default();
        (weak_ok || !tag.is_weak() || self.has(Fault::WeakComparisonForIfMatch))
            && opaque == format!("e{version}")
    }

    fn write_response(&self, status: u16, version: u64, body: Option<&Value>) -> ResponseTemplate {
        let mut r = self.version_header(ResponseTemplate::new(status), version);
        if !self.has(Fault::NoEtagOnWrite) {
            let shown = if self.has(Fault::WrongEtagOnWrite) {
                version + 1000
            } else {
                version
            };
            if let Some(tag) = self.written_tag(shown) {
                r = r.insert_header("ETag", tag.as_str());
            }
        }
        match body {
            Some(b) => r.set_body_raw(b.to_string().into_bytes(), "application/json"),
            None => r,
        }
    }

    fn mismatch(&self, version: u64, detail: &str) -> ResponseTemplate {
        self.mismatch_with(version, detail, Map::new())
    }

    /// A refused write of `doc`: with its current representation in the problem member
    /// `current` when `req` asked for it (`Prefer: return=representation`).
    fn refusal(&self, req: &Request, st: &State, id: &str, detail: &str) -> ResponseTemplate {
        let doc = &st.docs[id];
        let asked = req
            .headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains("return=representation"));
        let mut extra = Map::new();
        if asked && !self.has(Fault::IgnoresPreferRepresentation) {
            let current = if self.has(Fault::RepresentationEchoesRequest) {
                serde_json::from_slice(&req.body).unwrap_or(Value::Null)
            } else {
                self.shown(st, id, &doc.body, doc.version)
            };
            extra.insert("current".into(), current);
        }
        self.mismatch_with(doc.version, detail, extra)
    }

    fn mismatch_with(
        &self,
        version: u64,
        detail: &str,
        extra: Map<String, Value>,
    ) -> ResponseTemplate {
        if let Some(bv) = self.shape.body_version.filter(|bv| bv.conflicts_409()) {
            return self.version_conflict(bv);
        }
        let hashes_body = self.has(Fault::ConflictEtagHashesBody);
        let current =
            (!self.has(Fault::NoCurrentEtagOnConflict) && !hashes_body).then(|| self.etag(version));
        let status = if self.options.mismatch_status == 409 {
            409
        } else {
            412
        };
        let kind = if status == 409 {
            "version-conflict"
        } else {
            "precondition-failed"
        };
        let mut members = self.record_conflict(status, kind, version);
        members.extend(extra);
        let r = self.problem_with(status, kind, detail, current, members);
        if hashes_body {
            // A framework's ETag middleware hashing the error body, as Express does.
            let hash = detail.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            return r.insert_header("ETag", format!("\"{hash:x}\"").as_str());
        }
        r
    }

    fn rate_limited(&self, st: &mut State) -> Option<ResponseTemplate> {
        let bucket = st.bucket.as_mut()?;
        let now = Instant::now();
        bucket.tokens = (bucket.tokens
            + now.duration_since(bucket.last).as_secs_f64() * bucket.capacity)
            .min(bucket.capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 && !st.limited_forever {
            bucket.tokens -= 1.0;
            return None;
        }
        st.limited_forever = self.has(Fault::NeverRecovers);
        let mut r = self.problem(
            429,
            "rate-limited",
            "too many requests; wait as Retry-After says",
            None,
        );
        if !self.has(Fault::RetryAfterMissing) {
            r = r.insert_header("Retry-After", "1");
        }
        let t = if self.has(Fault::InconsistentRateLimitFields) {
            60
        } else {
            1
        };
        Some(
            r.insert_header(
                "RateLimit-Policy",
                format!("\"default\";q={};w=1", bucket.capacity).as_str(),
            )
            .insert_header("RateLimit", format!("\"default\";r=0;t={t}").as_str()),
        )
    }

    fn handle(&self, st: &mut State, req: &Request) -> ResponseTemplate {
        if let Some(limited) = self.rate_limited(st) {
            return limited;
        }
        if let Some(shaped) = self.shaped_route(st, req) {
            return shaped;
        }
        let path = req.url.path().trim_end_matches('/').to_owned();
        self.note_write(req, &path);
        if let Some(answer) = self.conflict_route(st, req, &path) {
            return answer;
        }
        if let Some(answer) = self.transactional(st, req, &path) {
            return answer;
        }
        let method = req.method.as_str();
        if path == "/items" {
            return match method {
                "GET" => {
                    let ids: Vec<&String> = st.docs.keys().collect();
                    ResponseTemplate::new(200).set_body_json(ids)
                }
                "POST" => self.post(st, req),
                _ => self.problem(405, "method-not-allowed", "use GET or POST", None),
            };
        }
        let locked = path
            .strip_prefix("/items/")
            .and_then(|p| p.strip_suffix("/lock"));
        if let Some(id) = locked.filter(|id| !id.contains('/') && !self.options.no_locks) {
            return self.lock_route(st, req, id);
        }
        let Some(id) = path.strip_prefix("/items/").filter(|id| !id.contains('/')) else {
            return self.problem(404, "not-found", "no such collection", None);
        };
        if self.has(Fault::InvalidIdRejected) && !id.bytes().all(|b| b.is_ascii_digit()) {
            return self.problem(422, "invalid-id", "ids are integers", None);
        }
        let id = id.to_owned();
        match method {
            "GET" | "HEAD" => self.get(st, req, &id, method == "HEAD"),
            "PUT" => self.put(st, req, &id),
            "PATCH" => self.patch(st, req, &id),
            "DELETE" => self.delete(st, req, &id),
            _ => self.problem(
                405,
                "method-not-allowed",
                "use GET, HEAD, PUT, PATCH or DELETE",
                None,
            ),
        }
    }

    fn json_body(&self, req: &Request, media: &str) -> Result<Value, ResponseTemplate> {
        let ct = req
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !ct.starts_with(media) {
            return Err(self.problem(
                415,
                "unsupported-media-type",
                &format!("send {media}"),
                None,
            ));
        }
        match serde_json::from_slice(&req.body) {
            Ok(v) => Ok(v),
            Err(_) if self.has(Fault::AcceptMalformedJson) => Ok(Value::String(
                String::from_utf8_lossy(&req.body).into_owned(),
            )),
            Err(e) => Err(self.problem(
                if self.has(Fault::MalformedJson422) {
                    422
                } else {
                    400
                },
                "malformed-body",
                &format!("invalid JSON: {e}"),
                None,
            )),
        }
    }

    fn next_version(st: &mut State) -> u64 {
        st.next_version += 1;
        st.next_version
    }
}

impl Respond for Emulator {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state.lock().expect("emulator state poisoned");
        let plain = self.shape.plain_errors_without_accept && !shapes::accepts_json(request);
        shapes::PLAIN_ERRORS.with(|p| p.set(plain));
        self.keyed(&mut state, request, |this, st| {
            if this.options.history || this.options.api_v2 {
                this.versioned(st, request)
            } else {
                this.handle(st, request)
            }
        })
    }
}
