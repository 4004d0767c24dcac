//! API version 2 on the emulated server: documents as envelopes `{"id", "version",
//! "modified_at_ms", "data"}` with their own tags, and writes whose body carries
//! `data` and optionally `version`, a precondition like `If-Match` (`0`: must not
//! exist). A write is handed to the v1 handlers with the document and the
//! equivalent header; its success is read from the state it left.

use reqwest::header::HeaderValue;
use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

use super::api_versions::{doc_id, Before};
use super::{Cond, Emulator, State};
use crate::support::faults::Fault;

/// Members a v2 write body may have.
const MEMBERS: [&str; 2] = ["data", "version"];

impl Emulator {
    /// The v2 answer to a request for `path` (prefix stripped).
    pub(super) fn v2(
        &self,
        st: &mut State,
        inner: &Request,
        path: &str,
        before: Before,
    ) -> ResponseTemplate {
        let method = inner.method.as_str();
        match (method, doc_id(path)) {
            ("GET" | "HEAD", Some(id)) => self.v2_read(st, inner, id, method == "HEAD"),
            ("GET", None) if path == "/items" => {
                let mut ids: Vec<&String> = st.docs.keys().collect();
                ids.sort();
                let items: Vec<Value> = ids.iter().map(|id| self.envelope(st, id)).collect();
                ResponseTemplate::new(200).set_body_json(json!({ "items": items }))
            }
            ("PUT" | "PATCH", Some(_)) | ("POST", None) if path.starts_with("/items") => {
                self.v2_write(st, inner, path, before)
            }
            _ => self.handle(st, inner),
        }
    }

    /// The envelope of the stored document `id`.
    fn envelope(&self, st: &State, id: &str) -> Value {
        let doc = &st.docs[id];
        json!({
            "id": id, "version": doc.version,
            "modified_at_ms": st.history.modified_at_ms(id), "data": doc.body,
        })
    }

    /// An envelope answer with the v2 tag.
    fn enveloped(&self, st: &State, status: u16, id: &str) -> ResponseTemplate {
        ResponseTemplate::new(status)
            .insert_header("ETag", self.v2_tag(st.docs[id].version).as_str())
            .set_body_raw(
                self.envelope(st, id).to_string().into_bytes(),
                "application/json",
            )
    }

    fn v2_read(&self, st: &State, req: &Request, id: &str, head: bool) -> ResponseTemplate {
        let Some(doc) = st.docs.get(id) else {
            return self.problem(404, "not-found", &format!("no item {id}"), None);
        };
        let tag = self.v2_tag(doc.version);
        let not_modified = match self.cond(req, "if-none-match") {
            Cond::Any => true,
            Cond::Tags(tags) => tags.iter().any(|t| t.to_string() == tag),
            _ => false,
        };
        if not_modified {
            return ResponseTemplate::new(304).insert_header("ETag", tag.as_str());
        }
        let answer = self.enveloped(st, 200, id);
        if head {
            return ResponseTemplate::new(200).insert_header("ETag", tag.as_str());
        }
        answer
    }

    /// A v2 PUT, PATCH or POST: the body's `data` and `version` handed to the v1
    /// handlers as the document and a precondition.
    fn v2_write(
        &self,
        st: &mut State,
        inner: &Request,
        path: &str,
        before: Before,
    ) -> ResponseTemplate {
        let patch = inner.method.as_str() == "PATCH";
        let media = if patch {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let body = match self.json_body(inner, media) {
            Ok(body) => body,
            Err(refused) => return refused,
        };
        let malformed = |detail: &str| self.problem(400, "malformed-body", detail, None);
        let Some(members) = body.as_object() else {
            return malformed("send {\"data\": …, \"version\": n}");
        };
        if let Some(other) = members.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
            return malformed(&format!("unknown member {other:?}; send data and version"));
        }
        let Some(data) = members.get("data") else {
            return malformed("the document goes in data");
        };
        let version = match members.get("version") {
            None => None,
            Some(v) => match v.as_u64() {
                Some(n) => Some(n),
                None => return malformed("version is a non-negative integer"),
            },
        };
        let mut rewritten = inner.clone();
        rewritten.body = data.to_string().into_bytes();
        let id = doc_id(path);
        let current = id.and_then(|id| st.docs.get(id)).map(|d| d.version);
        match version {
            Some(0) if self.has(Fault::VersionZeroIgnored) => {}
            Some(0) => {
                rewritten
                    .headers
                    .insert("if-none-match", HeaderValue::from_static("*"));
            }
            Some(_) if self.has(Fault::BodyVersionStaleAccepted) => {}
            Some(n) => {
                // Compared against a number that is never current.
                let n = if self.has(Fault::BodyVersionCurrentRefused) {
                    n + 1000
                } else {
                    n
                };
                if rewritten.headers.contains_key("if-match") {
                    if let Some(v) = current.filter(|v| *v != n) {
                        return self.mismatch(v, "the body version is not the current one");
                    }
                } else if let Ok(tag) = HeaderValue::from_str(&self.etag(n)) {
                    rewritten.headers.insert("if-match", tag);
                }
            }
            None => {}
        }
        let answer = self.handle(st, &rewritten);
        let written = match id {
            Some(id) => Some(id.to_owned()),
            None if st.next_id != before.next_id => Some(st.next_id.to_string()),
            None => None,
        };
        let after = written
            .as_deref()
            .and_then(|id| st.docs.get(id))
            .map(|d| d.version);
        match (written, after) {
            (Some(id), Some(v)) if Some(v) != before.version => {
                let status = if before.version.is_none() { 201 } else { 200 };
                let answer = self.enveloped(st, status, &id);
                if status == 201 {
                    return answer.insert_header("Location", format!("/v2/items/{id}").as_str());
                }
                answer
            }
            _ => answer,
        }
    }
}
