//! Property tests of `POST /batch` bodies: any JSON is read into operations or refused with a
//! problem, never a panic; well-formed operations keep what the client sent.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::parse::{operations, OpKind, Target};
use crate::fuzz::{config, json};
use crate::problem::ProblemKind;

const MEMBERS: &[&str] = &[
    "op",
    "path",
    "ref",
    "lid",
    "if_match",
    "if_none_match",
    "lock_token",
    "body",
    "other",
];

/// An operation object with members from `MEMBERS`, each with a plausible or an arbitrary value.
fn operation() -> impl Strategy<Value = Value> {
    let value = prop_oneof![
        prop_oneof![
            Just("create"),
            Just("put"),
            Just("patch"),
            Just("delete"),
            Just("check")
        ]
        .prop_map(Value::from),
        "/items/[a-z%0-9]{0,4}|[a-z.]{0,4}|\"[a-z]{0,3}\"|\\*|.{0,4}".prop_map(Value::from),
        json(),
    ];
    proptest::collection::btree_map(proptest::sample::select(MEMBERS), value, 0..6)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn any_batch_is_read_or_refused(
        ops in proptest::collection::vec(operation(), 0..5),
        extra in proptest::option::of(json()),
        whole in json(),
    ) {
        let mut request = Map::new();
        request.insert("operations".into(), Value::from(ops));
        if let Some(extra) = extra {
            request.insert("extra".into(), extra);
        }
        for body in [Value::Object(request), whole] {
            if let Err(problem) = operations(body, 4, "/batch") {
                prop_assert_eq!(problem.kind(), ProblemKind::MalformedBody);
            }
        }
    }

    #[test]
    fn well_formed_puts_keep_their_id_condition_and_body(
        ids in proptest::collection::vec("[a-z0-9]{1,6}", 1..4),
        body in json(),
    ) {
        let ops: Vec<Value> = ids
            .iter()
            .map(|id| json!({"op": "put", "path": format!("/items/{id}"), "if_match": "\"t-1\"", "body": body}))
            .collect();
        let parsed = operations(json!({ "operations": ops }), 4, "/batch").expect("well-formed");
        for (op, id) in parsed.iter().zip(&ids) {
            prop_assert_eq!(op.kind, OpKind::Put);
            prop_assert_eq!(&op.target, &Target::Id(id.clone()));
            prop_assert!(op.is_conditional());
            prop_assert_eq!(op.body.as_ref(), Some(&body));
        }
    }
}
