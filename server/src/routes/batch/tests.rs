//! Reading batch requests: every malformed shape is refused before anything runs.

use serde_json::{json, Value};

use super::parse::{item_id, operations, OpKind, Operation, Target};
use crate::problem::{Problem, ProblemKind};

fn parse(value: Value) -> Result<Vec<Operation>, Problem> {
    operations(value, 5, "/batch")
}

fn refused(value: Value) -> Value {
    let problem = parse(value).unwrap_err();
    assert_eq!(problem.kind(), ProblemKind::MalformedBody);
    problem.body_value()
}

#[test]
fn every_op_with_lid_and_ref_is_read() {
    let ops = parse(json!({"operations": [
        {"op": "create", "lid": "new.1", "body": {"n": 0}},
        {"op": "put", "path": "/items/a%20b", "if_match": "\"t-1\"", "body": null},
        {"op": "patch", "ref": "new.1", "body": {"n": 1}},
        {"op": "delete", "path": "/items/b", "if_none_match": "*", "lock_token": "\"lock-x\""},
        {"op": "check", "path": "/items/c", "if_match": "\"t-2\", \"t-3\""},
    ]}))
    .unwrap();
    let kinds: Vec<_> = ops.iter().map(|op| op.kind).collect();
    assert_eq!(
        kinds,
        [
            OpKind::Create,
            OpKind::Put,
            OpKind::Patch,
            OpKind::Delete,
            OpKind::Check
        ]
    );
    assert_eq!(ops[0].target, Target::New);
    assert_eq!(ops[1].target, Target::Id("a b".to_owned()));
    assert_eq!(ops[1].body, Some(Value::Null));
    assert_eq!(ops[2].target, Target::Created(0));
    assert!(ops[3].lock_token.is_some() && ops[3].is_conditional());
    assert!(!ops[0].is_conditional());
}

#[test]
fn malformed_requests_as_a_whole_name_no_operation() {
    let too_many = json!({"operations": vec![json!({"op": "check", "path": "/items/a"}); 6]});
    for bad in [
        json!([]),
        json!({}),
        json!({"operations": []}),
        json!({"operations": {}}),
        json!({"operations": [], "extra": 1}),
        too_many,
    ] {
        let body = refused(bad.clone());
        assert!(body.get("operation").is_none(), "{bad}: {body}");
    }
}

#[test]
fn malformed_operations_name_their_index_and_what_to_do() {
    let cases = [
        (json!({"op": "upsert", "path": "/items/a"}), "not known"),
        (json!({"path": "/items/a"}), "no op"),
        (json!({"op": "put", "path": "/items/a"}), "needs a body"),
        (
            json!({"op": "delete", "path": "/items/a", "body": {}}),
            "takes no body",
        ),
        (
            json!({"op": "put", "path": "/items/a", "ifMatch": "x", "body": 1}),
            "unknown member `ifMatch`",
        ),
        (
            json!({"op": "put", "path": "/items/a", "if_match": "abc", "body": 1}),
            "if_match `abc` is malformed",
        ),
        (
            json!({"op": "put", "path": "/items/a", "if_match": 5, "body": 1}),
            "must be a string",
        ),
        (
            json!({"op": "patch", "ref": "later", "body": {}}),
            "names no lid",
        ),
        (
            json!({"op": "patch", "ref": "x", "path": "/items/a", "body": {}}),
            "both path and ref",
        ),
        (json!({"op": "check"}), "needs the document"),
        (
            json!({"op": "create", "path": "/items/a", "body": {}}),
            "neither path nor ref",
        ),
        (
            json!({"op": "create", "lid": "a b", "body": {}}),
            "is not 1 to 64",
        ),
        (
            json!({"op": "put", "lid": "x", "path": "/items/a", "body": {}}),
            "leave lid out",
        ),
        (
            json!({"op": "check", "path": "/things/a"}),
            "is not /items/{id}",
        ),
        (
            json!({"op": "check", "path": "/items/a/lock"}),
            "does not name one document",
        ),
        (
            json!({"op": "check", "path": "/items/%zz"}),
            "percent-encoding",
        ),
        (
            json!({"op": "create", "lock_token": "\"lock-a\"", "body": {}}),
            "leave lock_token out",
        ),
        (
            json!({"op": "delete", "path": "/items/a", "lock_token": "\"open"}),
            "lock_token is malformed",
        ),
        (json!("put"), "not a JSON object"),
    ];
    for (op, expected) in cases {
        let body = refused(json!({"operations": [
            {"op": "check", "path": "/items/z"},
            op.clone(),
            {"op": "create", "lid": "later", "body": {}},
        ]}));
        assert_eq!(body["operation"], 1, "{op}: {body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(expected), "{op}: {detail}");
        assert!(detail.starts_with("operation 1 is malformed"), "{detail}");
    }
}

#[test]
fn duplicate_lids_are_refused() {
    let body = refused(json!({"operations": [
        {"op": "create", "lid": "x", "body": {}},
        {"op": "create", "lid": "x", "body": {}},
    ]}));
    assert_eq!(body["operation"], 1);
    assert_eq!(body["op"], "create");
}

#[test]
fn paths_are_percent_decoded_like_urls() {
    assert_eq!(item_id("/items/abc").unwrap(), "abc");
    assert_eq!(item_id("/items/a%2Fb").unwrap(), "a/b");
    assert_eq!(item_id("/items/%C3%BC").unwrap(), "ü");
    for bad in [
        "/items/",
        "items/a",
        "/items/a/b",
        "/items/%",
        "/items/%FF",
        "/items/a?x",
    ] {
        assert!(item_id(bad).is_err(), "{bad}");
    }
}
