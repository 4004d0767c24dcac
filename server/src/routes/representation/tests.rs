use super::*;
use crate::etag::EntityTag;

const V1: Api = Api::V1;
const V2: Api = Api {
    version: ApiVersion::V2,
    prefix: "/v2",
};

fn doc() -> Document {
    Document {
        etag: EntityTag::strong("e-57".to_owned()),
        body: b"{\"n\":1}".to_vec(),
        at_ms: 1_767_225_610_000,
    }
}

fn with_header(name: HeaderName, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(name, HeaderValue::from_str(value).unwrap());
    headers
}

#[test]
fn v2_wraps_the_stored_document_in_an_envelope_under_its_own_tag() {
    let body: Value = serde_json::from_slice(&V2.body("a\"b", &doc())).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"id": "a\"b", "version": 57, "modified_at_ms": 1_767_225_610_000u64, "data": {"n": 1}})
    );
    assert_eq!(V1.body("x", &doc()), doc().body);
    assert_eq!(V2.etag(&doc().etag).to_string(), "\"e-57.v2\"");
    assert_eq!(V1.etag(&doc().etag).to_string(), "\"e-57\"");
    let list: Value = serde_json::from_slice(&V2.list_body(&[("x".to_owned(), doc())])).unwrap();
    assert_eq!(list["items"][0]["data"], serde_json::json!({"n": 1}));
}

#[test]
fn answers_carry_the_version_and_the_prefixed_location() {
    let response = V2.written(StatusCode::CREATED, "a b", &doc());
    let headers = response.headers();
    assert_eq!(headers[VERSION], "57");
    assert_eq!(headers[header::ETAG], "\"e-57.v2\"");
    assert_eq!(headers[header::LOCATION], "/v2/items/a%20b");
    assert_eq!(headers[header::CONTENT_LOCATION], "/v2/items/a%20b");
    let not_modified = V1.not_modified(&doc());
    assert_eq!(not_modified.headers()[VERSION], "57");
}

#[test]
fn if_match_takes_either_versions_tag() {
    for api in [V1, V2] {
        for tag in ["\"e-57\"", "\"e-57.v2\""] {
            let pre = api
                .preconditions(&with_header(header::IF_MATCH, tag), "/items/a")
                .unwrap();
            let current = doc().etag;
            let verdict = pre.evaluate(
                crate::precondition::Current::Tagged(&current),
                crate::precondition::Method::Write,
            );
            assert_eq!(verdict, Verdict::Proceed, "{api:?} {tag}");
        }
    }
}

#[test]
fn if_none_match_compares_with_the_answers_own_representation() {
    let current = doc().etag;
    let matches = |api: Api, tag: &str| {
        let pre = api
            .preconditions(&with_header(header::IF_NONE_MATCH, tag), "/items/a")
            .unwrap();
        pre.evaluate(
            crate::precondition::Current::Tagged(&current),
            crate::precondition::Method::Read,
        ) == Verdict::NotModified
    };
    assert!(matches(V1, "\"e-57\""));
    assert!(!matches(V1, "\"e-57.v2\""));
    assert!(matches(V2, "\"e-57.v2\""));
    assert!(matches(V2, "W/\"e-57.v2\""));
    assert!(!matches(V2, "\"e-57\""));
}

#[test]
fn v2_write_bodies_are_data_and_an_optional_version() {
    let read = |text: &str| {
        let mut pre = Preconditions::default();
        V2.write_body(text.as_bytes(), &mut pre, "/v2/items/a")
            .map(|data| (data, pre.if_version))
            .map_err(|problem| problem.kind())
    };
    assert_eq!(
        read(r#"{"data": {"n": 2}, "version": 57}"#),
        Ok((serde_json::json!({"n": 2}), Some(57)))
    );
    assert_eq!(read(r#"{"data": null}"#), Ok((Value::Null, None)));
    assert_eq!(
        read(r#"{"data": 1, "version": 0}"#),
        Ok((Value::from(1), Some(0)))
    );
    for bad in [
        r#"{"n": 2}"#,
        r#"{"data": 1, "extra": 2}"#,
        r#"{"data": 1, "version": -1}"#,
        r#"{"data": 1, "version": 1.5}"#,
        r#"{"data": 1, "version": "57"}"#,
        r#"[1]"#,
        "not json",
    ] {
        assert_eq!(read(bad), Err(ProblemKind::MalformedBody), "{bad}");
    }
    let mut pre = Preconditions::default();
    let plain = V1
        .write_body(br#"{"data": 1}"#, &mut pre, "/items/a")
        .unwrap();
    assert_eq!(plain, serde_json::json!({"data": 1}));
    assert_eq!(pre.if_version, None);
}

#[test]
fn v2_refusals_name_the_v2_tag_and_the_current_version() {
    let pre = Preconditions {
        if_version: Some(41),
        ..Preconditions::default()
    };
    let problem = V2.refused(
        Verdict::VersionMismatch,
        &pre,
        Some(&doc()),
        MismatchStatus::Conflict,
        "/v2/items/a",
    );
    assert_eq!(problem.kind(), ProblemKind::VersionConflict);
    let body = problem.body_value();
    assert_eq!(body["current_etag"], "\"e-57.v2\"");
    assert_eq!(body["current_version"], 57);
    let exists = V2.refused(
        Verdict::VersionExists,
        &pre,
        Some(&doc()),
        MismatchStatus::Conflict,
        "/v2/items/a",
    );
    assert_eq!(exists.kind(), ProblemKind::PreconditionFailed);
    let missing = V2.refused(
        Verdict::VersionMismatch,
        &pre,
        None,
        MismatchStatus::Conflict,
        "/v2/items/a",
    );
    assert_eq!(missing.kind(), ProblemKind::PreconditionFailed);
    assert!(missing.body_value().get("current_version").is_none());
}
