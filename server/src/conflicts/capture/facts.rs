//! What a refused request says about the conflict: which write it was, on which document,
//! based on which version, with which body.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method};
use serde_json::{Map, Value};

use crate::conflicts::query::decode_segment;
use crate::conflicts::record::{version_number, Draft, Rejected, VersionRef};
use crate::etag::{Condition, EntityTag};
use crate::routes::request::TRANSACTION_ID;
use crate::routes::response::item_path;

/// A request that can be refused as a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `POST /items`, or `PUT`/`PATCH`/`DELETE /items/{id}` (any API version).
    Item {
        method: Method,
        /// The decoded id; `None` for `POST /items`.
        id: Option<String>,
        /// Whether the body is a v2 envelope `{"data", "version"}`.
        v2: bool,
    },
    /// `POST /batch`.
    Batch,
    /// `POST /transactions/{id}/commit`, by its path.
    Commit(String),
}

impl Target {
    /// The target of a request, if it is a write that may be recorded. Requests inside a
    /// transaction are not: they are judged against the transaction's view, and its commit
    /// is what is recorded.
    pub(crate) fn classify(method: &Method, path: &str, headers: &HeaderMap) -> Option<Self> {
        if headers.contains_key(TRANSACTION_ID) {
            return None;
        }
        if method == Method::POST && path == "/batch" {
            return Some(Self::Batch);
        }
        if method == Method::POST {
            if let Some(tx) = path
                .strip_prefix("/transactions/")
                .and_then(|rest| rest.strip_suffix("/commit"))
            {
                if !tx.is_empty() && !tx.contains('/') {
                    return Some(Self::Commit(path.to_owned()));
                }
            }
        }
        let (unprefixed, prefix_v2) = match path.get(..3) {
            Some("/v1") => (&path[3..], false),
            Some("/v2") => (&path[3..], true),
            _ => (path, false),
        };
        let header_v2 = headers
            .get("api-version")
            .is_some_and(|v| v.as_bytes().trim_ascii() == b"2");
        let v2 = prefix_v2 || (unprefixed.len() == path.len() && header_v2);
        if unprefixed == "/items" && method == Method::POST {
            return Some(Self::Item {
                method: method.clone(),
                id: None,
                v2,
            });
        }
        let raw = unprefixed.strip_prefix("/items/")?;
        let writes = [Method::PUT, Method::PATCH, Method::DELETE];
        if raw.is_empty() || raw.contains('/') || !writes.contains(method) {
            return None;
        }
        Some(Self::Item {
            method: method.clone(),
            id: Some(decode_segment(raw)?),
            v2,
        })
    }

    /// Whether the body is worth reading (a delete or a commit carries none that matters).
    pub(crate) fn has_body(&self) -> bool {
        match self {
            Self::Item { method, .. } => *method != Method::DELETE,
            Self::Batch => true,
            Self::Commit(_) => false,
        }
    }
}

/// What the request asked for.
#[derive(Debug)]
pub(crate) struct Asked {
    pub(crate) target: Target,
    pub(crate) client: Option<String>,
    pub(crate) if_match: Option<HeaderValue>,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Bytes,
}

impl Asked {
    /// The record of the refusal `problem` (its members), judged against `current`; `None`
    /// when the refusal is not a conflict this server records.
    pub(crate) fn draft(
        &self,
        problem: &Map<String, Value>,
        current: Option<&EntityTag>,
        body_limit: usize,
    ) -> Option<Draft> {
        let kind = problem
            .get("type")?
            .as_str()?
            .strip_prefix("urn:ifmatch:problem:")?;
        let recorded = [
            "precondition-failed",
            "version-conflict",
            "locked",
            "transaction-conflict",
        ];
        if !recorded.contains(&kind) {
            return None;
        }
        let current = current.map(VersionRef::of);
        let mut draft = Draft {
            kind: kind.to_owned(),
            status: u16::try_from(problem.get("status")?.as_u64()?).ok()?,
            method: String::new(),
            doc_id: None,
            resource: String::new(),
            client: self.client.clone(),
            based_on: None,
            current,
            rejected: None,
            origin: None,
        };
        match &self.target {
            Target::Item { method, id, v2 } => {
                draft.method = method.to_string();
                draft.resource = id.as_deref().map_or_else(|| "/items".to_owned(), item_path);
                draft.doc_id.clone_from(id);
                let envelope = v2
                    .then(|| serde_json::from_slice::<Value>(&self.body).ok())
                    .flatten();
                let body_version = envelope.as_ref().and_then(|e| e.get("version")?.as_u64());
                draft.based_on =
                    based_on(self.if_match.as_ref(), body_version, draft.current.as_ref());
                draft.rejected = Some(self.rejected(method, envelope, body_limit));
            }
            Target::Batch => self.batch_op(problem, &mut draft, body_limit)?,
            Target::Commit(path) => {
                draft.method = Method::POST.to_string();
                draft.origin = Some(path.clone());
                if let Some(first) = problem.get("conflicts").and_then(|c| c.get(0)) {
                    draft.resource = first.get("path")?.as_str()?.to_owned();
                    draft.based_on = first.get("read_etag").and_then(Value::as_str).map(tag_ref);
                } else {
                    draft.resource = problem.get("path")?.as_str()?.to_owned();
                    // The commit checked its pins just before the locks: it read the current.
                    draft.based_on.clone_from(&draft.current);
                }
                draft.doc_id = draft
                    .resource
                    .strip_prefix("/items/")
                    .and_then(decode_segment);
            }
        }
        Some(draft)
    }

    /// The refused body of a single write: the document, or a v2 envelope's `data`.
    fn rejected(&self, method: &Method, envelope: Option<Value>, limit: usize) -> Rejected {
        let (body, truncated) = if *method == Method::DELETE {
            (None, false)
        } else if self.body.len() > limit {
            (None, true)
        } else {
            let document = match envelope {
                Some(mut envelope) => envelope.get_mut("data").map(Value::take),
                None => serde_json::from_slice(&self.body).ok(),
            };
            (document, false)
        };
        Rejected {
            content_type: self.content_type.clone(),
            body,
            truncated,
        }
    }

    /// Fills `draft` from the batch operation the refusal names; `None` for a failed
    /// `check`, which wrote nothing.
    fn batch_op(
        &self,
        problem: &Map<String, Value>,
        draft: &mut Draft,
        limit: usize,
    ) -> Option<()> {
        let index = usize::try_from(problem.get("operation")?.as_u64()?).ok()?;
        let batch: Value = serde_json::from_slice(&self.body).ok()?;
        let op = batch.get("operations")?.get(index)?;
        let (method, content_type) = match op.get("op")?.as_str()? {
            "create" => (Method::POST, "application/json"),
            "put" => (Method::PUT, "application/json"),
            "patch" => (Method::PATCH, "application/merge-patch+json"),
            "delete" => (Method::DELETE, "application/json"),
            _ => return None,
        };
        draft.resource = problem
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("/items")
            .to_owned();
        draft.doc_id = draft
            .resource
            .strip_prefix("/items/")
            .and_then(decode_segment);
        let if_match = op
            .get("if_match")
            .and_then(Value::as_str)
            .and_then(|text| HeaderValue::from_str(text).ok());
        draft.based_on = based_on(if_match.as_ref(), None, draft.current.as_ref());
        let body = op.get("body").filter(|_| method != Method::DELETE);
        let size = body.map_or(0, |b| serde_json::to_vec(b).map_or(0, |v| v.len()));
        draft.rejected = Some(Rejected {
            content_type: (method != Method::DELETE).then(|| content_type.to_owned()),
            body: body.filter(|_| size <= limit).cloned(),
            truncated: size > limit,
        });
        draft.method = method.to_string();
        Some(())
    }
}

fn tag_ref(text: &str) -> VersionRef {
    EntityTag::parse(text).map_or_else(
        || VersionRef {
            etag: Some(text.to_owned()),
            version: version_number(text),
        },
        |tag| VersionRef::of(&tag),
    )
}

/// What the client based its write on: the first tag of `If-Match` (`*` as it is), or the
/// v2 body `version`. With both, the one that did not hold.
fn based_on(
    if_match: Option<&HeaderValue>,
    body_version: Option<u64>,
    current: Option<&VersionRef>,
) -> Option<VersionRef> {
    let from_header = if_match.and_then(|value| match Condition::parse(value.as_bytes()).ok()? {
        Condition::Any => Some(VersionRef {
            etag: Some("*".to_owned()),
            version: None,
        }),
        Condition::Tags(tags) => tags.first().map(VersionRef::of),
    });
    let from_body = body_version.map(|version| VersionRef {
        etag: None,
        version: Some(version),
    });
    let current_version = current.and_then(|c| c.version);
    match (from_header, from_body) {
        (Some(header), Some(body))
            if header.version.is_some() && header.version == current_version =>
        {
            Some(body)
        }
        (Some(header), _) => Some(header),
        (None, body) => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(method: Method, path: &str) -> Option<Target> {
        Target::classify(&method, path, &HeaderMap::new())
    }

    #[test]
    fn only_writes_that_can_conflict_are_captured() {
        assert!(matches!(
            classify(Method::PUT, "/items/a"),
            Some(Target::Item { v2: false, .. })
        ));
        assert!(matches!(
            classify(Method::PATCH, "/v2/items/a"),
            Some(Target::Item { v2: true, .. })
        ));
        assert!(matches!(
            classify(Method::POST, "/v1/items"),
            Some(Target::Item { id: None, .. })
        ));
        assert_eq!(classify(Method::POST, "/batch"), Some(Target::Batch));
        assert!(matches!(
            classify(Method::POST, "/transactions/tx-1/commit"),
            Some(Target::Commit(_))
        ));
        for (method, path) in [
            (Method::GET, "/items/a"),
            (Method::POST, "/items/a/lock"),
            (Method::PUT, "/items/a/lock"),
            (Method::DELETE, "/items/a/lock"),
            (Method::POST, "/conflicts/c-1/resolve"),
            (Method::PUT, "/items"),
            (Method::POST, "/transactions"),
            (Method::PUT, "/v3/items/a"),
        ] {
            assert_eq!(classify(method.clone(), path), None, "{method} {path}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(TRANSACTION_ID, HeaderValue::from_static("tx-1"));
        assert_eq!(Target::classify(&Method::PUT, "/items/a", &headers), None);
        headers.clear();
        headers.insert("api-version", HeaderValue::from_static("2"));
        let put = Target::classify(&Method::PUT, "/items/a%20b", &headers);
        assert_eq!(
            put,
            Some(Target::Item {
                method: Method::PUT,
                id: Some("a b".into()),
                v2: true
            })
        );
    }

    #[test]
    fn based_on_prefers_the_condition_that_failed() {
        let tag = HeaderValue::from_static("\"e-4\"");
        let current = VersionRef {
            etag: Some("\"e-4\"".into()),
            version: Some(4),
        };
        let chosen = based_on(Some(&tag), Some(3), Some(&current)).unwrap();
        assert_eq!(chosen.version, Some(3));
        let stale = HeaderValue::from_static("\"e-2\"");
        assert_eq!(
            based_on(Some(&stale), Some(4), Some(&current))
                .unwrap()
                .version,
            Some(2)
        );
        let star = based_on(Some(&HeaderValue::from_static("*")), None, None).unwrap();
        assert_eq!(star.etag.as_deref(), Some("*"));
        assert_eq!(based_on(None, None, None), None);
    }
}
