//! What a write's answer means: which value and version to report, what the cache learns, and,
//! after an ambiguous retry, whether an earlier attempt already landed. Pure functions only.

use http::Method;
use serde_json::Value;

use crate::EntityTag;

/// A successful (2xx) answer to a write, reduced to what the decisions need.
#[derive(Debug)]
pub(crate) struct Answer<'a> {
    pub method: &'a Method,
    /// The absolute URL written to.
    pub target: &'a str,
    /// The JSON sent (the document for PUT/POST, the merge patch for PATCH).
    pub sent: Option<&'a Value>,
    pub etag: Option<EntityTag>,
    /// `Content-Location`, resolved against the target.
    pub content_location: Option<String>,
    /// `Location`, resolved against the target.
    pub location: Option<String>,
    /// The decoded JSON body, `None` when empty or not JSON.
    pub body: Option<Value>,
}

/// What the client does with its cache after a write.
#[derive(Debug, PartialEq)]
pub(crate) enum CacheAction {
    /// Remember `body` at version `etag` for `url`.
    Store {
        url: String,
        etag: EntityTag,
        body: Value,
    },
    /// Forget `url`: what the client held no longer describes the resource.
    Forget { url: String },
}

/// The reported result of a write and the cache actions it implies.
#[derive(Debug, PartialEq)]
pub(crate) struct Interpreted {
    /// The resource's representation when known, else the server's answer (see `etag`).
    pub value: Value,
    /// The version `value` is at; `None` when `value` is not known to be the representation,
    /// so a caller cannot make a later write conditional on a body it never saw stored.
    pub etag: Option<EntityTag>,
    pub cache: Vec<CacheAction>,
}

/// Interprets a successful write. RFC 9110 §6.4.2: a PUT/PATCH/POST answer's body is the
/// resource's representation only when `Content-Location` names that resource (or the client
/// was told the server always answers so: `trust_bodies`); otherwise it is a status message,
/// e.g. `{"ok":true,"rev":"…"}`, and must never become the cached document. §9.3.4: a PUT
/// answered with an ETag stored exactly what was sent, so the document sent is its body.
pub(crate) fn interpret(answer: Answer<'_>, trust_bodies: bool) -> Interpreted {
    let Answer {
        method,
        target,
        sent,
        etag,
        content_location,
        location,
        body,
    } = answer;
    // The resource whose representation a body would be: the created one for POST.
    let subject = if method == Method::POST {
        location.as_deref()
    } else {
        Some(target)
    };
    let describes_subject = subject.is_some()
        && (content_location.as_deref() == subject || (trust_bodies && content_location.is_none()));
    // Moved, not copied: a body is either the subject's representation or returned as it is.
    let (representation, body) = if describes_subject {
        (body, None)
    } else {
        (None, body)
    };
    let strong = etag.clone().filter(|tag| !tag.is_weak());

    // What the subject's cache entry becomes: `Some((body, tag))` to store, `None` to forget.
    let (value, etag, learned) = match (method, representation) {
        (&Method::DELETE, _) => (Value::Null, None, None),
        (_, Some(doc)) => {
            let learned = strong.map(|tag| (doc.clone(), tag));
            (doc, etag, learned)
        }
        (&Method::PUT, None) => {
            let doc = sent.cloned().unwrap_or(Value::Null);
            let learned = strong.map(|tag| (doc.clone(), tag));
            (doc, etag, learned)
        }
        // PATCH or POST answered with something that is not (known to be) the resource.
        (_, None) => (body.unwrap_or(Value::Null), None, None),
    };
    let mut cache = Vec::new();
    if method == Method::POST {
        // The collection changed too.
        cache.push(CacheAction::Forget {
            url: target.to_owned(),
        });
    }
    if let Some(url) = subject {
        cache.push(match learned {
            Some((body, etag)) => CacheAction::Store {
                url: url.to_owned(),
                etag,
                body,
            },
            None => CacheAction::Forget {
                url: url.to_owned(),
            },
        });
    }
    Interpreted { value, etag, cache }
}

/// What an unconditional re-read found, after a write that was resent and then refused.
#[derive(Debug)]
pub(crate) enum Reread<'a> {
    /// 2xx with this JSON body (`Null` when empty).
    Found(&'a Value),
    /// 404 or 410.
    Missing,
}

/// Whether an earlier attempt of a write evidently landed: a proxy answered 503 after the
/// origin committed, the resend met the write's own precondition, and the stored state is what
/// the write asked for. Anything else leaves the outcome unknown.
pub(crate) fn landed(method: &Method, sent: Option<&Value>, reread: Reread<'_>) -> bool {
    match (method, reread) {
        (&Method::DELETE, Reread::Missing) => true,
        (&Method::PUT | &Method::POST, Reread::Found(stored)) => sent == Some(stored),
        (&Method::PATCH, Reread::Found(stored)) => {
            sent.is_some_and(|patch| &apply_merge_patch(stored, patch) == stored)
        }
        _ => false,
    }
}

/// RFC 7396 JSON Merge Patch: `null` removes, objects merge recursively, anything else replaces.
pub(crate) fn apply_merge_patch(target: &Value, patch: &Value) -> Value {
    let Value::Object(members) = patch else {
        return patch.clone();
    };
    let mut out = match target {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    for (key, value) in members {
        if value.is_null() {
            out.remove(key);
        } else {
            let merged = apply_merge_patch(out.get(key).unwrap_or(&Value::Null), value);
            out.insert(key.clone(), merged);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const URL: &str = "http://h/items/1";

    fn tag(text: &str) -> EntityTag {
        text.parse().unwrap()
    }

    fn answer<'a>(method: &'a Method, sent: Option<&'a Value>) -> Answer<'a> {
        Answer {
            method,
            target: URL,
            sent,
            etag: Some(tag("\"2\"")),
            content_location: None,
            location: None,
            body: None,
        }
    }

    fn store(url: &str, etag: &str, body: Value) -> CacheAction {
        CacheAction::Store {
            url: url.into(),
            etag: tag(etag),
            body,
        }
    }

    fn forget(url: &str) -> CacheAction {
        CacheAction::Forget { url: url.into() }
    }

    // The table in docs/sdk.md ("The ETag cache") is this test, row by row.

    #[test]
    fn put_with_a_strong_etag_and_a_status_body_caches_what_was_sent() {
        let sent = json!({"n": 2, "title": "kept"});
        let mut a = answer(&Method::PUT, Some(&sent));
        a.body = Some(json!({"ok": true, "rev": "2"}));
        let out = interpret(a, false);
        assert_eq!(out.value, sent);
        assert_eq!(out.etag, Some(tag("\"2\"")));
        assert_eq!(out.cache, vec![store(URL, "\"2\"", sent)]);
    }

    #[test]
    fn a_body_named_by_content_location_is_the_representation() {
        let sent = json!({"n": 2});
        let stored = json!({"n": 2, "updated": "now"});
        for method in [Method::PUT, Method::PATCH] {
            let mut a = answer(&method, Some(&sent));
            a.body = Some(stored.clone());
            a.content_location = Some(URL.into());
            let out = interpret(a, false);
            assert_eq!(out.value, stored, "{method}");
            assert_eq!(out.cache, vec![store(URL, "\"2\"", stored.clone())]);
        }
    }

    #[test]
    fn trusted_bodies_need_no_content_location_but_another_one_still_disqualifies() {
        let sent = json!({"n": 2});
        let mut a = answer(&Method::PATCH, Some(&sent));
        a.body = Some(json!({"n": 3}));
        assert_eq!(
            interpret(a, true).cache,
            vec![store(URL, "\"2\"", json!({"n": 3}))]
        );
        let mut elsewhere = answer(&Method::PATCH, Some(&sent));
        elsewhere.body = Some(json!({"n": 3}));
        elsewhere.content_location = Some("http://h/status/9".into());
        let out = interpret(elsewhere, true);
        assert_eq!(out.cache, vec![forget(URL)]);
        assert_eq!(out.etag, None);
    }

    #[test]
    fn patch_without_a_representation_forgets_and_reports_no_version() {
        let patch = json!({"n": 3});
        let mut a = answer(&Method::PATCH, Some(&patch));
        a.body = Some(json!({"ok": true}));
        let out = interpret(a, false);
        assert_eq!(out.value, json!({"ok": true}));
        assert_eq!(
            out.etag, None,
            "a status body must not be paired with the new ETag"
        );
        assert_eq!(out.cache, vec![forget(URL)]);
    }

    #[test]
    fn weak_or_missing_etags_are_never_cached_after_a_write() {
        let sent = json!({"n": 2});
        let mut weak = answer(&Method::PUT, Some(&sent));
        weak.etag = Some(tag("W/\"2\""));
        assert_eq!(interpret(weak, false).cache, vec![forget(URL)]);
        let mut none = answer(&Method::PUT, Some(&sent));
        none.etag = None;
        let out = interpret(none, false);
        assert_eq!(out.cache, vec![forget(URL)]);
        assert_eq!(out.value, sent);
    }

    #[test]
    fn delete_forgets() {
        let out = interpret(answer(&Method::DELETE, None), false);
        assert_eq!(out.cache, vec![forget(URL)]);
        assert_eq!(out.etag, None);
    }

    #[test]
    fn post_caches_the_created_resource_only_when_the_body_is_its_representation() {
        let created = "http://h/items/9";
        let sent = json!({"n": 0});
        let mut a = answer(&Method::POST, Some(&sent));
        a.target = "http://h/items";
        a.location = Some(created.into());
        a.content_location = Some(created.into());
        a.body = Some(json!({"id": "9", "n": 0}));
        let out = interpret(a, false);
        assert_eq!(
            out.cache,
            vec![
                forget("http://h/items"),
                store(created, "\"2\"", json!({"id": "9", "n": 0}))
            ]
        );
        assert_eq!(out.etag, Some(tag("\"2\"")));

        let mut status = answer(&Method::POST, Some(&sent));
        status.target = "http://h/items";
        status.location = Some(created.into());
        status.body = Some(json!({"ok": true, "id": "9"}));
        let out = interpret(status, false);
        assert_eq!(out.cache, vec![forget("http://h/items"), forget(created)]);
        assert_eq!(out.value, json!({"ok": true, "id": "9"}));
        assert_eq!(out.etag, None);
    }

    #[test]
    fn landed_means_the_stored_state_is_what_the_write_asked_for() {
        let doc = json!({"n": 2});
        assert!(landed(
            &Method::PUT,
            Some(&doc),
            Reread::Found(&json!({"n": 2}))
        ));
        assert!(!landed(
            &Method::PUT,
            Some(&doc),
            Reread::Found(&json!({"n": 3}))
        ));
        assert!(!landed(&Method::PUT, Some(&doc), Reread::Missing));
        assert!(landed(&Method::DELETE, None, Reread::Missing));
        assert!(!landed(&Method::DELETE, None, Reread::Found(&doc)));
        let patch = json!({"n": 2, "gone": null});
        assert!(landed(
            &Method::PATCH,
            Some(&patch),
            Reread::Found(&json!({"n": 2, "other": 1}))
        ));
        assert!(!landed(
            &Method::PATCH,
            Some(&patch),
            Reread::Found(&json!({"n": 2, "gone": 1}))
        ));
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let target = json!({"a": "b", "c": {"d": "e", "f": "g"}, "arr": [1]});
        let patch = json!({"a": "z", "c": {"f": null}, "arr": [2], "new": {"x": 1}});
        assert_eq!(
            apply_merge_patch(&target, &patch),
            json!({"a": "z", "c": {"d": "e"}, "arr": [2], "new": {"x": 1}})
        );
        assert_eq!(apply_merge_patch(&json!({"a": 1}), &json!([1])), json!([1]));
    }
}
