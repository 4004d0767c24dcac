//! `Idempotency-Key` as the reference server keeps it: a keyed write is processed once; the
//! same request again gets the first answer, another request under the key 422. Faults break
//! each part.

use std::collections::HashMap;

use wiremock::{Request, ResponseTemplate};

use super::{Emulator, Fault, State};

/// The first answer to each key, with what identified its request.
#[derive(Debug, Default)]
pub(super) struct Keys(HashMap<String, (Vec<u8>, ResponseTemplate)>);

/// Method, URL, preconditions and body: what a retry must repeat.
fn fingerprint(req: &Request) -> Vec<u8> {
    let mut out = format!("{} {}\n", req.method, req.url).into_bytes();
    for name in ["if-match", "if-none-match", "content-type"] {
        if let Some(value) = req.headers.get(name) {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(value.as_bytes());
            out.push(b'\n');
        }
    }
    out.extend_from_slice(&req.body);
    out
}

impl Emulator {
    /// Answers `req` with `process`, once per key when it carries `Idempotency-Key`.
    pub(super) fn keyed(
        &self,
        st: &mut State,
        req: &Request,
        process: impl Fn(&Self, &mut State) -> ResponseTemplate,
    ) -> ResponseTemplate {
        let write = !matches!(req.method.as_str(), "GET" | "HEAD");
        let key = req
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let Some(key) = key.filter(|_| write && !self.has(Fault::KeysIgnored)) else {
            return process(self, st);
        };
        let print = fingerprint(req);
        if let Some((first, answer)) = st.keys.0.get(&key) {
            if *first != print {
                if self.has(Fault::ReusedKeyProcessed) {
                    return process(self, st);
                }
                return self.problem(
                    422,
                    "idempotency-key-reused",
                    "this Idempotency-Key was used for a different request",
                    None,
                );
            }
            let answer = answer.clone();
            if self.has(Fault::ReplayCreatesAgain) && req.method.as_str() == "POST" {
                return process(self, st);
            }
            if self.has(Fault::ReplayWritesAgain) && req.headers.contains_key("if-match") {
                let id = req.url.path().trim_start_matches("/items/").to_owned();
                let version = Self::next_version(st);
                if let Some(doc) = st.docs.get_mut(&id) {
                    doc.version = version;
                }
            }
            return answer.insert_header("Idempotent-Replayed", "true");
        }
        let answer = process(self, st);
        st.keys.0.insert(key, (print, answer.clone()));
        answer
    }
}
