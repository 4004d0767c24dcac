//! API versions on the emulated server: `/v1/…` and `/v2/…` prefixes, or
//! `Api-Version` on unprefixed URLs. A request is routed to the v1 handlers (or the
//! v2 envelope layer, or history) with the prefix stripped and v2 tags in `If-Match`
//! turned into the v1 tags of the same version; the answer then gets `Version`, and
//! v1 answers `Deprecation`, `Sunset` and a successor `Link`.

use reqwest::header::HeaderValue;
use serde_json::{json, Map};
use wiremock::{Request, ResponseTemplate};

use super::history::history_path;
use super::{Emulator, State};
use crate::support::faults::Fault;

/// The representation a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Api {
    V1,
    V2,
}

/// 2026-06-01T00:00:00Z, as RFC 9745 writes it.
const DEPRECATION: &str = "@1780272000";
/// The same instant as an HTTP-date (the pre-RFC draft form, `DeprecationAsDate`).
const DEPRECATION_DATE: &str = "Mon, 01 Jun 2026 00:00:00 GMT";
/// 2027-06-01T00:00:00Z.
const SUNSET: &str = "Tue, 01 Jun 2027 00:00:00 GMT";

/// The id of `/items/{id}`.
pub(super) fn doc_id(path: &str) -> Option<&str> {
    path.strip_prefix("/items/").filter(|id| !id.contains('/'))
}

/// A document's version before a request, and the last id handed out.
#[derive(Debug, Clone, Copy)]
pub(super) struct Before {
    pub version: Option<u64>,
    pub next_id: u64,
}

impl Emulator {
    /// Handles a request when history or API version 2 is emulated.
    pub(super) fn versioned(&self, st: &mut State, req: &Request) -> ResponseTemplate {
        let (api, path, prefixed) = match self.api_of(req) {
            Ok(chosen) => chosen,
            Err(refused) => return refused,
        };
        let mut inner = req.clone();
        inner.url.set_path(&path);
        self.normalize_if_match(st, &mut inner, api, &path);
        let before = Before {
            version: doc_id(&path).and_then(|id| st.docs.get(id).map(|d| d.version)),
            next_id: st.next_id,
        };
        let history = history_path(&path).filter(|_| self.options.history);
        let answer = match (history, api) {
            (Some((id, n)), _) => self.history_route(st, req, api, id, n),
            (None, Api::V2) => self.v2(st, &inner, &path, before),
            (None, Api::V1) => self.handle(st, &inner),
        };
        self.record(st);
        if history.is_some() {
            return answer;
        }
        self.decorate(st, &inner, answer, api, prefixed, &path, before)
    }

    /// The API version a request selects, its path without the prefix, and whether
    /// it had one; `Err` is the refusal of an unknown or contradictory version.
    fn api_of(&self, req: &Request) -> Result<(Api, String, bool), ResponseTemplate> {
        let path = req.url.path().trim_end_matches('/').to_owned();
        let header = req
            .headers
            .get("api-version")
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        if !self.options.api_v2 {
            return Ok((Api::V1, path, false));
        }
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        let numbered = first.len() > 1
            && first.starts_with('v')
            && first[1..].bytes().all(|b| b.is_ascii_digit());
        if numbered {
            let rest = path[1 + first.len()..].to_owned();
            let api = match first {
                "v1" if self.has(Fault::V1PrefixMissing) => {
                    return Err(self.problem(404, "not-found", "no such route", None))
                }
                "v1" => Api::V1,
                "v2" => Api::V2,
                _ => return Err(self.unsupported(404, &format!("no API version {first}"))),
            };
            let named = if api == Api::V1 { "1" } else { "2" };
            if header.is_some_and(|h| h != named) {
                return Err(self.unsupported(400, "the prefix and Api-Version disagree"));
            }
            return Ok((api, rest, true));
        }
        let api = match header {
            None | Some("1") => Api::V1,
            Some("2") if self.has(Fault::ApiHeaderIgnored) => Api::V1,
            Some("2") => Api::V2,
            Some(_) if self.has(Fault::UnknownApiVersionServedAsV1) => Api::V1,
            Some(other) => {
                return Err(self.unsupported(400, &format!("Api-Version {other:?} is not served")))
            }
        };
        Ok((api, path, false))
    }

    fn unsupported(&self, status: u16, why: &str) -> ResponseTemplate {
        let mut members = Map::new();
        members.insert("supported".into(), json!(["1", "2"]));
        let detail = format!("{why}; the supported API versions are 1 and 2");
        self.problem_with(status, "unsupported-api-version", &detail, None, members)
    }

    /// The ETag of `version`'s v2 representation.
    pub(super) fn v2_tag(&self, version: u64) -> String {
        if self.has(Fault::V2SharesV1Tag) {
            self.etag(version)
        } else {
            format!("\"e{version}.v2\"")
        }
    }

    /// Turns v2 tags in `If-Match` into the v1 tags of the same version (either
    /// representation's tag names the stored version); `CrossTagStaleAccepted`
    /// makes any v1 tag sent to a v2 URL the current one.
    fn normalize_if_match(&self, st: &State, inner: &mut Request, api: Api, path: &str) {
        let Some(value) = inner.headers.get("if-match").and_then(|v| v.to_str().ok()) else {
            return;
        };
        let current = doc_id(path)
            .and_then(|id| st.docs.get(id))
            .map(|d| d.version);
        let tags: Vec<String> = value
            .split(',')
            .map(|t| {
                let t = t.trim();
                if let Some(v1) = t.strip_suffix(".v2\"") {
                    return format!("{v1}\"");
                }
                match current {
                    Some(v)
                        if api == Api::V2 && t != "*" && self.has(Fault::CrossTagStaleAccepted) =>
                    {
                        self.etag(v)
                    }
                    _ => t.to_owned(),
                }
            })
            .collect();
        if let Ok(joined) = HeaderValue::from_str(&tags.join(", ")) {
            inner.headers.insert("if-match", joined);
        }
    }

    /// Adds `Version`, and on v1 answers the retirement fields, to an answer.
    #[allow(clippy::too_many_arguments)]
    fn decorate(
        &self,
        st: &State,
        inner: &Request,
        answer: ResponseTemplate,
        api: Api,
        prefixed: bool,
        path: &str,
        before: Before,
    ) -> ResponseTemplate {
        let mut answer = answer;
        let method = inner.method.as_str();
        let read = matches!(method, "GET" | "HEAD");
        let id = match doc_id(path) {
            Some(id) => Some(id.to_owned()),
            None if path == "/items" && st.next_id != before.next_id => {
                Some(st.next_id.to_string())
            }
            None => None,
        };
        let version = id
            .as_deref()
            .and_then(|id| st.docs.get(id))
            .map(|d| d.version);
        let written = version.is_some() && version != before.version;
        let shown = if self.has(Fault::VersionHeaderMissingOnWrites) {
            read
        } else {
            read || written
        };
        if let (Some(v), true) = (version, shown && self.options.history) {
            answer = answer.insert_header("Version", v.to_string().as_str());
        }
        if !self.options.api_v2 {
            return answer;
        }
        if !prefixed && !self.has(Fault::NoVary) {
            answer = answer.insert_header("Vary", "Api-Version");
        }
        if api == Api::V1 {
            let since = if self.has(Fault::DeprecationAsDate) {
                DEPRECATION_DATE
            } else {
                DEPRECATION
            };
            answer = answer
                .insert_header("Deprecation", since)
                .insert_header("Sunset", SUNSET);
            if let Some(id) = doc_id(path) {
                let link = format!("</v2/items/{id}>; rel=\"successor-version\"");
                answer = answer.insert_header("Link", link.as_str());
            }
        }
        answer
    }
}
