//! The JSON a batch is sent as, the results it is answered with, and where documents' paths
//! come from. Read from `Value`s by hand: a serde derive would link number formatting into the
//! wasm build (see `lock::Grant`).

use serde_json::{json, Map, Value};
use url::Url;

use super::BatchOp;
use crate::{precondition::Header, EntityTag, Problem};

/// One operation, checked and resolved, as it goes on the wire.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub op: BatchOp,
    /// The document's path as the server names it (`/items/a`), unless the op names a `ref`.
    pub path: Option<String>,
    /// The document's absolute URL (cache key, lock lookup, errors), when it has a path.
    pub url: Option<String>,
    /// The `lid` of an earlier create this op acts on.
    pub reference: Option<String>,
    /// A create's own local id.
    pub lid: Option<String>,
    pub precondition: Header,
    /// The `Lock-Token` value of a lock the client holds on the document.
    pub lock_token: Option<String>,
    pub body: Option<Value>,
}

/// `{"operations": [...]}` in the server's shape.
pub(crate) fn request_body(ops: &[Prepared]) -> Value {
    let operations: Vec<Value> = ops.iter().map(operation).collect();
    json!({ "operations": operations })
}

fn operation(prepared: &Prepared) -> Value {
    let mut op = Map::new();
    op.insert("op".into(), prepared.op.as_str().into());
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            op.insert(key.into(), value);
        }
    };
    put("path", prepared.path.clone().map(Value::from));
    put("ref", prepared.reference.clone().map(Value::from));
    put("lid", prepared.lid.clone().map(Value::from));
    match &prepared.precondition {
        Header::IfMatch(tag) => put("if_match", Some(tag.to_string().into())),
        Header::IfNoneMatchAny => put("if_none_match", Some("*".into())),
        // Only update() falls back to dates; a batch operation's header never is one.
        Header::IfUnmodifiedSince(_) | Header::None => {}
    }
    put("lock_token", prepared.lock_token.clone().map(Value::from));
    put("body", prepared.body.clone());
    Value::Object(op)
}

/// Whether sending the batch again cannot apply it twice, as a conditional single write
/// cannot (see `retry::is_retry_safe`): every writing operation carries `If-Match` or
/// `If-None-Match: *` (a repeat after the first landed fails its precondition), and none is a
/// `create` (a repeat would create a second document).
pub(crate) fn repeatable(ops: &[Prepared]) -> bool {
    ops.iter().all(|op| match op.op {
        BatchOp::Create => false,
        BatchOp::Check => true,
        _ => op.precondition != Header::None,
    })
}

/// One result as the server sent it.
#[derive(Debug, PartialEq)]
pub(crate) struct Answered {
    pub op: Option<BatchOp>,
    pub status: u16,
    pub path: Option<String>,
    /// `Some(Err(text))` for a malformed tag (ignored, and counted, by the caller).
    pub etag: Option<Result<EntityTag, String>>,
    pub body: Option<Value>,
}

/// The `results` of a batch's (or a commit's) 200; `expected` is the number of operations, when
/// the answer must have one result per operation.
pub(crate) fn parse_results(body: &[u8], expected: Option<usize>) -> Result<Vec<Answered>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON ({e})"))?;
    let results = value
        .get("results")
        .and_then(Value::as_array)
        .ok_or("the answer has no `results` list")?;
    if let Some(expected) = expected {
        if results.len() != expected {
            return Err(format!(
                "the answer has {} result(s) for {expected} operation(s)",
                results.len()
            ));
        }
    }
    results
        .iter()
        .enumerate()
        .map(|(index, result)| {
            answered(result)
                .ok_or_else(|| format!("result {index} is not an object with a numeric `status`"))
        })
        .collect()
}

fn answered(result: &Value) -> Option<Answered> {
    let status = u16::try_from(result.get("status")?.as_u64()?).ok()?;
    let text = |key: &str| result.get(key).and_then(Value::as_str).map(str::to_owned);
    Some(Answered {
        op: text("op").as_deref().and_then(BatchOp::parse),
        status,
        path: text("path"),
        etag: text("etag").map(|raw| raw.parse::<EntityTag>().map_err(|_| raw)),
        body: result.get("body").cloned(),
    })
}

/// The index of the operation a refusal names (the `operation` extension member), if it is
/// one of the batch's.
pub(crate) fn failed_operation(problem: Option<&Problem>, operations: usize) -> Option<usize> {
    let index = problem?.extensions.get("operation")?.as_u64()?;
    usize::try_from(index).ok().filter(|i| *i < operations)
}

/// The path the server knows a document by: its URL relative to `root` (the client's base URL,
/// which ends with `/`), with a leading `/`. `None` when the URL is not under the root: the
/// server behind it cannot name that document in a batch.
pub(crate) fn server_path(root: &Url, url: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    if url.origin() != root.origin() {
        return None;
    }
    let rest = url.path().strip_prefix(root.path())?;
    Some(match url.query() {
        Some(query) => format!("/{rest}?{query}"),
        None => format!("/{rest}"),
    })
}

/// The absolute URL of a path the server named, resolved as the client resolves paths (it
/// appends to the root's path).
pub(crate) fn url_under(root: &Url, path: &str) -> String {
    root.join(path.trim_start_matches('/'))
        .map_or_else(|_| path.to_owned(), Into::into)
}

/// The root paths are relative to: the base URL, or without one the origin of `endpoint`.
pub(crate) fn root_of(base: Option<&Url>, endpoint: &str) -> Option<Url> {
    match base {
        Some(base) => Some(base.clone()),
        None => Url::parse(endpoint).ok()?.join("/").ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(text: &str) -> EntityTag {
        text.parse().unwrap()
    }

    fn prepared(op: BatchOp, precondition: Header) -> Prepared {
        Prepared {
            op,
            path: Some("/items/a".into()),
            url: Some("http://h/items/a".into()),
            reference: None,
            lid: None,
            precondition,
            lock_token: None,
            body: None,
        }
    }

    #[test]
    fn operations_are_sent_in_the_servers_shape() {
        let ops = [
            Prepared {
                path: None,
                url: None,
                lid: Some("order".into()),
                body: Some(json!({"total": 0})),
                ..prepared(BatchOp::Create, Header::None)
            },
            Prepared {
                body: Some(json!({"n": 2})),
                ..prepared(BatchOp::Put, Header::IfMatch(tag("\"v3\"")))
            },
            Prepared {
                path: None,
                url: None,
                reference: Some("order".into()),
                body: Some(json!({"total": 10})),
                ..prepared(BatchOp::Patch, Header::None)
            },
            Prepared {
                lock_token: Some("\"lock-1\"".into()),
                ..prepared(BatchOp::Delete, Header::IfMatch(tag("\"v12\"")))
            },
            prepared(BatchOp::Check, Header::IfNoneMatchAny),
        ];
        assert_eq!(
            request_body(&ops),
            json!({"operations": [
                {"op": "create", "lid": "order", "body": {"total": 0}},
                {"op": "put", "path": "/items/a", "if_match": "\"v3\"", "body": {"n": 2}},
                {"op": "patch", "ref": "order", "body": {"total": 10}},
                {"op": "delete", "path": "/items/a", "if_match": "\"v12\"", "lock_token": "\"lock-1\""},
                {"op": "check", "path": "/items/a", "if_none_match": "*"},
            ]})
        );
    }

    /// The batch rows of the "Safety of retries" table in docs/sdk.md.
    #[test]
    fn only_a_batch_of_conditional_writes_may_be_sent_again() {
        let conditional = || Header::IfMatch(tag("\"1\""));
        let table: [(Vec<Prepared>, bool); 6] = [
            (vec![prepared(BatchOp::Put, conditional())], true),
            (
                vec![
                    prepared(BatchOp::Patch, conditional()),
                    prepared(BatchOp::Delete, Header::IfNoneMatchAny),
                    prepared(BatchOp::Check, Header::None),
                ],
                true,
            ),
            (vec![prepared(BatchOp::Put, Header::None)], false),
            (
                vec![
                    prepared(BatchOp::Put, conditional()),
                    prepared(BatchOp::Delete, Header::None),
                ],
                false,
            ),
            (vec![prepared(BatchOp::Create, Header::None)], false),
            (
                vec![prepared(BatchOp::Create, Header::IfNoneMatchAny)],
                false,
            ),
        ];
        for (index, (ops, expected)) in table.iter().enumerate() {
            assert_eq!(repeatable(ops), *expected, "row {index}");
        }
    }

    #[test]
    fn results_are_read_leniently_but_must_match_the_operations() {
        let body = br#"{"results":[
            {"op":"create","status":201,"path":"/items/k3","etag":"\"v50\"","body":{"total":0}},
            {"op":"delete","status":204,"path":"/items/b"},
            {"status":200,"path":"/items/c","etag":"not-a-tag"}]}"#;
        let results = parse_results(body, Some(3)).unwrap();
        assert_eq!(
            results[0],
            Answered {
                op: Some(BatchOp::Create),
                status: 201,
                path: Some("/items/k3".into()),
                etag: Some(Ok(tag("\"v50\""))),
                body: Some(json!({"total": 0})),
            }
        );
        assert_eq!(results[1].etag, None);
        assert_eq!(results[2].op, None);
        assert_eq!(results[2].etag, Some(Err("not-a-tag".into())));
        assert!(parse_results(body, Some(2))
            .unwrap_err()
            .contains("3 result(s) for 2 operation(s)"));
        assert!(parse_results(b"<html>", Some(1))
            .unwrap_err()
            .contains("not JSON"));
        assert!(parse_results(b"{}", None).unwrap_err().contains("results"));
        assert!(parse_results(br#"{"results":[{"status":"200"}]}"#, None)
            .unwrap_err()
            .contains("result 0"));
    }

    #[test]
    fn a_refusal_names_its_operation_only_when_it_is_one_of_the_batch() {
        let problem = |body: &str| Problem::from_json(body.as_bytes());
        assert_eq!(
            failed_operation(problem(r#"{"operation":2}"#).as_ref(), 3),
            Some(2)
        );
        assert_eq!(
            failed_operation(problem(r#"{"operation":3}"#).as_ref(), 3),
            None
        );
        assert_eq!(
            failed_operation(problem(r#"{"operation":"1"}"#).as_ref(), 3),
            None
        );
        assert_eq!(failed_operation(problem(r#"{}"#).as_ref(), 3), None);
        assert_eq!(failed_operation(None, 3), None);
    }

    #[test]
    fn paths_are_relative_to_the_base_url() {
        let root = Url::parse("http://h:1/api/").unwrap();
        assert_eq!(
            server_path(&root, "http://h:1/api/items/a").as_deref(),
            Some("/items/a")
        );
        assert_eq!(
            server_path(&root, "http://h:1/api/items/a?v=1").as_deref(),
            Some("/items/a?v=1")
        );
        assert_eq!(server_path(&root, "http://h:1/other/items/a"), None);
        assert_eq!(server_path(&root, "http://elsewhere:1/api/items/a"), None);
        assert_eq!(url_under(&root, "/items/k3"), "http://h:1/api/items/k3");
        let bare = root_of(None, "http://h:1/api/batch").unwrap();
        assert_eq!(bare.as_str(), "http://h:1/");
        assert_eq!(
            server_path(&bare, "http://h:1/api/items/a").as_deref(),
            Some("/api/items/a")
        );
        assert_eq!(root_of(Some(&root), "http://x/batch"), Some(root));
    }
}
