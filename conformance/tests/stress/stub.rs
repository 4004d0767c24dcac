//! A small stateful JSON document server as a wiremock `Respond`, shaped by
//! [`Shape`]: where its collection is (a trailing slash is part of it), how it
//! creates (POST with a `Location`, POST naming the id only in the body, PUT with
//! `If-None-Match: *`), whether it keeps the version in the body (`_rev`, 409 on a
//! stale one, as CouchDB), wants credentials, requires preconditions (428), or
//! breaks every update (500). Several mock servers can share one [`Store`]: replicas.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// How the stub creates resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// `POST {collection}` → 201 with `Location`.
    PostLocation,
    /// `POST {collection}` → 201 with `{"meta": {"id": "<n>"}}` and no `Location`.
    PostBodyId,
    /// `PUT {collection}{id}` with `If-None-Match: *` → 201; POST is 405.
    Put,
}

/// The stub's behaviour.
#[derive(Debug, Clone)]
pub struct Shape {
    /// The collection path, exactly (e.g. `/dav/`); items are `{collection}{id}`
    /// when it ends in `/`, else `{collection}/{id}`.
    pub collection: String,
    pub create: Create,
    /// Every request must carry `Authorization: <this>`, else 401.
    pub authorization: Option<String>,
    /// Updates (PUT to an existing document) answer this status with an HTML page.
    pub broken_updates: Option<u16>,
    /// Reads of a document answer this status with a short text body.
    pub broken_reads: Option<u16>,
    /// The first this many reads (GET, counted over the store) answer 200 with half a
    /// JSON document, as a file read mid-write.
    pub torn_reads: u64,
    /// An update without `If-Match` (or without the body version) is 428.
    pub require_preconditions: bool,
    /// The version is `_rev` in the body (no ETag), sent back in the body or as
    /// `?rev=`; a stale one is 409 CouchDB-style.
    pub rev_in_body: bool,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            collection: "/things".into(),
            create: Create::PostLocation,
            authorization: None,
            broken_updates: None,
            broken_reads: None,
            torn_reads: 0,
            require_preconditions: false,
            rev_in_body: false,
        }
    }
}

/// The documents, shared by every mock server mounted on it.
#[derive(Debug, Clone, Default)]
pub struct Store(Arc<Mutex<StoreState>>);

#[derive(Debug, Default)]
struct StoreState {
    docs: HashMap<String, (Value, u64)>,
    next: u64,
    /// Requests per method, for assertions.
    counts: HashMap<String, u64>,
}

impl Store {
    /// How many requests with `method` the store has seen.
    pub fn count(&self, method: &str) -> u64 {
        self.0
            .lock()
            .unwrap()
            .counts
            .get(method)
            .copied()
            .unwrap_or(0)
    }

    /// How many documents are left.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().docs.len()
    }
}

struct Stub {
    shape: Shape,
    store: Store,
}

/// Starts a mock server answering as `shape` over `store`.
pub async fn start(shape: Shape, store: Store) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Stub { shape, store })
        .mount(&server)
        .await;
    server
}

fn item_prefix(collection: &str) -> String {
    if collection.ends_with('/') {
        collection.to_owned()
    } else {
        format!("{collection}/")
    }
}

fn etag(v: u64) -> String {
    format!("\"v{v}\"")
}

fn with_doc(shape: &Shape, status: u16, body: &Value, v: u64) -> ResponseTemplate {
    let r = ResponseTemplate::new(status);
    if shape.rev_in_body {
        let mut body = body.clone();
        body["_rev"] = json!(format!("{v}-x"));
        r.set_body_json(body)
    } else {
        r.insert_header("ETag", etag(v).as_str())
            .set_body_json(body)
    }
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

impl Respond for Stub {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let shape = &self.shape;
        let mut state = self.store.0.lock().unwrap();
        *state.counts.entry(request.method.to_string()).or_default() += 1;
        if let Some(want) = &shape.authorization {
            if header(request, "authorization") != Some(want.as_str()) {
                return ResponseTemplate::new(401)
                    .set_body_json(json!({ "error": "unauthorized", "reason": "no valid token" }));
            }
        }
        let path = request.url.path().to_owned();
        let method = request.method.as_str();
        let body: Option<Value> = serde_json::from_slice(&request.body).ok();
        let prefix = item_prefix(&shape.collection);
        if path == shape.collection {
            if method != "POST" || shape.create == Create::Put {
                return ResponseTemplate::new(405);
            }
            let Some(mut doc) = body else {
                return ResponseTemplate::new(400);
            };
            state.next += 1;
            let id = format!("n{}", state.next);
            doc.as_object_mut().map(|o| o.remove("_rev"));
            state.docs.insert(format!("{prefix}{id}"), (doc.clone(), 1));
            return match shape.create {
                Create::PostBodyId => ResponseTemplate::new(201)
                    .set_body_json(json!({ "ok": true, "meta": { "id": id } })),
                _ => with_doc(shape, 201, &doc, 1)
                    .insert_header("Location", format!("{prefix}{id}").as_str()),
            };
        }
        let Some(id) = path
            .strip_prefix(&prefix)
            .filter(|id| !id.contains('/') && !id.is_empty())
        else {
            return ResponseTemplate::new(404).set_body_string("<html><h1>Not Found</h1></html>");
        };
        let _ = id;
        let current = state.docs.get(&path).cloned();
        if let (Some(status), "GET", Some(_)) = (shape.broken_reads, method, &current) {
            return ResponseTemplate::new(status).set_body_string("upstream   timed out");
        }
        let gets = state.counts.get("GET").copied().unwrap_or(0);
        if method == "GET" && current.is_some() && gets <= shape.torn_reads {
            return ResponseTemplate::new(200)
                .insert_header("ETag", "\"torn\"")
                .set_body_string("{\"slots\": {\"c0\": ");
        }
        match (method, current) {
            ("GET", Some((doc, v))) => with_doc(shape, 200, &doc, v),
            ("DELETE", Some(_)) => {
                state.docs.remove(&path);
                ResponseTemplate::new(204)
            }
            ("GET" | "DELETE", None) => ResponseTemplate::new(404),
            ("PUT", None) => {
                let creates =
                    shape.create == Create::Put && header(request, "if-none-match") == Some("*");
                match (creates, body) {
                    (true, Some(doc)) => {
                        state.docs.insert(path, (doc.clone(), 1));
                        with_doc(shape, 201, &doc, 1)
                    }
                    _ => ResponseTemplate::new(404),
                }
            }
            ("PUT", Some((_, v))) => {
                let Some(mut doc) = body else {
                    return ResponseTemplate::new(400);
                };
                if let Some(status) = shape.broken_updates {
                    // Some servers echo the request's credentials in their error pages.
                    let echo = header(request, "authorization")
                        .map_or_else(String::new, |a| format!("\n    <!-- {a} -->"));
                    return ResponseTemplate::new(status).set_body_string(format!(
                        "<html>\n  <body>\n    <h1>Internal Server Error</h1>\n    <p>database is locked</p>{echo}\n  </body>\n</html>",
                    ));
                }
                let sent = if shape.rev_in_body {
                    // As CouchDB: the body's _rev, else ?rev=.
                    let query = request
                        .url
                        .query_pairs()
                        .find(|(k, _)| k == "rev")
                        .map(|(_, r)| Value::from(r.into_owned()));
                    doc.as_object_mut()
                        .and_then(|o| o.remove("_rev"))
                        .or(query)
                        .and_then(|r| r.as_str().map(|s| s == format!("{v}-x")))
                } else {
                    header(request, "if-match").map(|t| t == etag(v) || t == "*")
                };
                match sent {
                    None if shape.require_preconditions => ResponseTemplate::new(428)
                        .set_body_json(json!({ "error": "precondition required" })),
                    Some(false) if shape.rev_in_body => ResponseTemplate::new(409).set_body_json(
                        json!({ "error": "conflict", "reason": "Document update conflict." }),
                    ),
                    Some(false) => ResponseTemplate::new(412),
                    _ => {
                        state.docs.insert(path, (doc.clone(), v + 1));
                        with_doc(shape, 200, &doc, v + 1)
                    }
                }
            }
            _ => ResponseTemplate::new(405),
        }
    }
}
