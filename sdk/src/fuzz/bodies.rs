//! Server bodies: problem+json, lock grants, transaction answers, conflict records, batch
//! results, version histories, 409 bodies of well-known APIs, and the `Version` value.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::{body, config, json, object_with};
use crate::{
    batch::wire::parse_results, conflict::names_version_conflict, lock::Grant, transaction::Began,
    versions::parse_history, ConflictPage, ConflictRecord, EntityTag, Problem, Version,
};

const PROBLEM_KEYS: &[&str] = &[
    "type",
    "title",
    "status",
    "detail",
    "instance",
    "current_etag",
    "conflicts",
    "x",
];
const RECORD_KEYS: &[&str] = &[
    "id",
    "seq",
    "state",
    "kind",
    "status",
    "method",
    "resource",
    "client",
    "at_ms",
    "based_on",
    "current",
    "rejected",
    "resolution",
];

/// A problem+json object whose members have the right types (the `current_etag` written either
/// as a full tag or bare, as servers do).
fn well_typed_problem() -> impl Strategy<Value = Value> {
    (
        proptest::option::of(".{0,12}"),
        proptest::option::of(any::<u16>()),
        proptest::option::of(".{0,12}"),
        proptest::option::of("(W/)?\"[a-z0-9-]{0,6}\"|[a-z0-9-]{0,6}"),
        json(),
    )
        .prop_map(|(type_, status, detail, etag, extra)| {
            let mut map = serde_json::Map::new();
            let mut put = |k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    map.insert(k.to_owned(), v);
                }
            };
            put("type", type_.map(Value::from));
            put("status", status.map(Value::from));
            put("detail", detail.map(Value::from));
            put("current_etag", etag.map(Value::from));
            put("extra", Some(extra));
            Value::Object(map)
        })
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn body_parsers_never_panic(bytes in body()) {
        let _ = Problem::from_json(&bytes);
        let _ = Grant::parse(&bytes);
        let _ = Began::parse(&bytes);
        let _ = names_version_conflict(&bytes);
        let _ = parse_results(&bytes, None);
        let _ = parse_results(&bytes, Some(2));
        if let Ok(history) = parse_history("http://h/d/versions", &bytes) {
            for entry in history.versions {
                let _ = entry.at();
            }
        }
    }

    #[test]
    fn problem_shapes_never_panic_and_reach_a_fixpoint(value in object_with(PROBLEM_KEYS)) {
        let bytes = serde_json::to_vec(&value).unwrap();
        let problem = Problem::from_json(&bytes).expect("an object is a problem");
        let _ = (problem.is_version_conflict(), problem.is_lock_token_invalid());
        let _ = crate::transaction::stale_reads(&problem, str::to_owned);
        // What the SDK hands on (`to_json`) reads back as the same problem.
        let again = Problem::from_json(&serde_json::to_vec(&problem.to_json()).unwrap());
        prop_assert_eq!(again.as_ref(), Some(&problem));
    }

    #[test]
    fn well_typed_problems_keep_every_member(value in well_typed_problem()) {
        let problem = Problem::from_json(&serde_json::to_vec(&value).unwrap()).unwrap();
        prop_assert_eq!(problem.status, value.get("status").and_then(Value::as_u64).map(|s| s as u16));
        prop_assert_eq!(problem.detail.as_deref(), value.get("detail").and_then(Value::as_str));
        prop_assert_eq!(problem.current_etag.is_some(), value.get("current_etag").is_some());
        prop_assert_eq!(&problem.extensions["extra"], &value["extra"]);
    }

    #[test]
    fn conflict_records_never_panic(
        record in object_with(RECORD_KEYS),
        nested in object_with(&["etag", "version", "choice", "by", "at_ms", "body", "truncated"]),
    ) {
        let _ = ConflictRecord::from_json(&record);
        // The nested objects, where the parser looks into them.
        let mut with_nested = record.clone();
        for key in ["based_on", "current", "rejected", "resolution"] {
            with_nested[key] = nested.clone();
        }
        if let Ok(parsed) = ConflictRecord::from_json(&with_nested) {
            let _ = parsed.at();
        }
        let _ = ConflictPage::from_json(&json!({"conflicts": [record, with_nested], "next_after": nested}));
    }

    #[test]
    fn lock_grants_keep_what_the_server_said(token in ".{1,12}", ttl_ms in 1u64.., fencing in any::<u64>()) {
        let body = json!({"token": token, "ttl_ms": ttl_ms, "fencing": fencing}).to_string();
        let grant = Grant::parse(body.as_bytes()).expect("a grant");
        prop_assert_eq!(&grant.token, &token);
        prop_assert_eq!(grant.fencing, Some(fencing));
        // However long the server grants, the lock's clock arithmetic must not overflow.
        prop_assert!(grant.ttl() <= crate::lock::MAX_TTL);
        let now = web_time::Instant::now();
        let lock = crate::lock::LockState::new(
            "http://h/d".to_owned(),
            http::HeaderValue::from_static("t"),
            grant.token.clone(),
            grant.fencing,
            None,
            grant.ttl(),
            now,
        );
        lock.renewed(grant.ttl(), now);
        let _ = lock.renew_in(now);
    }

    #[test]
    fn batch_results_round_trip(
        results in proptest::collection::vec(
            (any::<u16>(), proptest::option::of("/[a-z]{0,6}"), proptest::option::of("(W/)?\"[a-z0-9]{0,4}\"|bad tag"), json()),
            0..5,
        ),
    ) {
        let wire: Vec<Value> = results
            .iter()
            .map(|(status, path, etag, body)| json!({"status": status, "path": path, "etag": etag, "body": body, "op": "put"}))
            .collect();
        let body = serde_json::to_vec(&json!({ "results": wire })).unwrap();
        let answered = parse_results(&body, Some(results.len())).expect("well-formed results");
        for (answer, (status, path, etag, body)) in answered.iter().zip(&results) {
            prop_assert_eq!(answer.status, *status);
            prop_assert_eq!(&answer.path, path);
            prop_assert_eq!(answer.etag.as_ref().map(|e| e.is_ok()), etag.as_ref().map(|e| e.parse::<EntityTag>().is_ok()));
            prop_assert_eq!(answer.body.as_ref(), Some(body));
        }
        prop_assert!(parse_results(&body, Some(results.len() + 1)).is_err());
    }

    #[test]
    fn versions_round_trip(n in any::<u64>(), token in "[!-~]{1,12}") {
        prop_assert_eq!(Version::from_header(&n.to_string()), Some(Version::from(n)));
        prop_assert_eq!(Version::from_json(&Version::from(n).to_json()), Some(Version::from(n)));
        let text = Version::from(token.as_str());
        prop_assert_eq!(Version::from_json(&text.to_json()), Some(text));
    }

    #[test]
    fn version_headers_never_panic(raw in ".{0,24}") {
        let _ = Version::from_header(&raw);
    }

    #[test]
    fn etag_parser_never_panics_on_any_text(raw in "(W/)?\"?.{0,12}\"?") {
        if let Ok(tag) = raw.parse::<EntityTag>() {
            prop_assert_eq!(tag.to_string().parse::<EntityTag>().ok(), Some(tag));
        }
    }
}
