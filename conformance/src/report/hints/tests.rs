use super::*;
use crate::http::RecordedRequest;
use crate::report::diff::DiffEntry;
use crate::report::WriteEvidence;
use crate::rules::CATALOGUE;

fn failure(status: u16, headers: &[(&str, &str)]) -> Failure {
    Failure {
        expectation: "e".into(),
        observed: "o".into(),
        request: None,
        response_status: Some(status),
        response_headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        response_excerpt: None,
        curl: None,
        write: None,
        diff: None,
    }
}

fn merge_patch(status: u16) -> WriteEvidence {
    let request = RecordedRequest {
        method: "PATCH".into(),
        url: "http://h/items/1".into(),
        headers: vec![("Content-Type".into(), "application/merge-patch+json".into())],
        body: Some("{\"n\":2}".into()),
    };
    WriteEvidence::new(&request, status, &[], "")
}

#[test]
fn every_catalogue_rule_has_a_hint_row_of_its_own_group() {
    let missing: Vec<&str> = CATALOGUE
        .iter()
        .map(|r| r.id)
        .filter(|id| generic_row(id).is_none())
        .collect();
    assert!(missing.is_empty(), "rules without a hint row: {missing:?}");
    for rule in CATALOGUE {
        let hint = hint_for(rule.id, None);
        assert!(
            !hint.cause.is_empty() && !hint.fix.is_empty(),
            "{}",
            rule.id
        );
        assert_ne!(hint.cause, FALLBACK.0, "{} falls back", rule.id);
    }
}

#[test]
fn unknown_rules_get_the_fallback() {
    assert_eq!(generic_row("custom.rule"), None);
    assert_eq!(hint_for("custom.rule", None).cause, FALLBACK.0);
}

#[test]
fn prefixes_end_at_a_segment_or_word() {
    assert!(prefix_matches(
        "core.etag.changes-on",
        "core.etag.changes-on-put"
    ));
    assert!(prefix_matches("core", "core.create.etag"));
    assert!(prefix_matches("core.create.etag", "core.create.etag"));
    assert!(!prefix_matches("core.if-m", "core.if-match.list"));
    assert!(!prefix_matches("core.etag", "core.etagx"));
    assert!(!prefix_matches("errors", "errorsome.x"));
}

#[test]
fn a_weak_etag_on_get_points_at_express_defaults() {
    let weak = failure(200, &[("etag", "W/\"1a-xyz\"")]);
    let hint = hint_for("core.etag.strong-on-get", Some(&weak));
    assert!(hint.fix.contains("app.set('etag', 'strong')"), "{hint:?}");
    let absent = failure(200, &[]);
    let hint = hint_for("core.etag.strong-on-get", Some(&absent));
    assert!(!hint.fix.contains("app.set"), "{hint:?}");
    assert!(hint.cause.contains("no valid strong ETag"));
}

#[test]
fn a_weak_etag_on_201_is_named_as_the_problem() {
    let weak = failure(201, &[("etag", "W/\"7\"")]);
    assert!(hint_for("core.create.etag", Some(&weak))
        .cause
        .contains("weak"));
    let none = failure(201, &[]);
    assert!(hint_for("core.create.etag", Some(&none))
        .cause
        .contains("no ETag"));
}

#[test]
fn an_unread_merge_patch_points_at_the_body_parser() {
    let mut refused = failure(200, &[]);
    refused.write = Some(merge_patch(415));
    let hint = hint_for("core.if-match.current-patch", Some(&refused));
    assert!(
        hint.fix.contains("application/merge-patch+json'] })"),
        "{hint:?}"
    );
    assert!(hint.fix.contains("await request.body()"));

    let mut ignored = failure(200, &[]);
    ignored.write = Some(merge_patch(200));
    ignored.diff = Some(vec![DiffEntry {
        pointer: "/n".into(),
        change: Change::Changed,
        sent: Some(2.into()),
        stored: Some(1.into()),
    }]);
    assert!(hint_for("core.if-match.current-patch", Some(&ignored))
        .cause
        .contains("body parser"));

    let mut applied = failure(200, &[]);
    applied.write = Some(merge_patch(200));
    assert!(!hint_for("core.if-match.current-patch", Some(&applied))
        .cause
        .contains("body parser"));
}

#[test]
fn an_etag_on_a_refusal_points_at_error_body_etags() {
    let with = failure(409, &[("etag", "W/\"2c-abc\"")]);
    assert!(hint_for("core.conflict.current-etag", Some(&with))
        .fix
        .contains("Don't send ETag on errors"));
    let without = failure(412, &[]);
    assert!(hint_for("core.conflict.current-etag", Some(&without))
        .fix
        .contains("current_etag"));
}

#[test]
fn races_and_stale_writes_get_the_atomic_update() {
    assert!(hint_for("core.concurrency.no-lost-update", None)
        .fix
        .contains("WHERE id = ? AND version = ?"));
    let accepted = failure(200, &[]);
    assert!(hint_for("core.if-match.stale-put", Some(&accepted))
        .fix
        .contains("version = version + 1"));
    assert!(hint_for("core.if-match.stale-delete", None)
        .fix
        .contains("DELETE FROM items WHERE id = ? AND version = ?"));
    assert!(hint_for("core.if-none-match.star-existing", None)
        .fix
        .contains("ON CONFLICT DO NOTHING"));
}

#[test]
fn invented_ids_and_422_point_at_the_target_description() {
    assert!(
        hint_for("core.precondition.not-found-wins", Some(&failure(422, &[])))
            .fix
            .contains("missing-id")
    );
    assert!(
        hint_for("core.bad-input.malformed-json", Some(&failure(422, &[])))
            .fix
            .contains("malformed-status = [400, 422]")
    );
    assert!(
        !hint_for("core.bad-input.malformed-json", Some(&failure(200, &[])))
            .fix
            .contains("malformed-status")
    );
}

fn put_with_body() -> RecordedRequest {
    RecordedRequest {
        method: "PUT".into(),
        url: "http://h/items/1".into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Some("{\"n\":2}".into()),
    }
}

#[test]
fn a_refused_test_document_points_at_the_fixture() {
    let mut f = failure(422, &[]);
    f.request = Some(put_with_body());
    let hint = hint_for("core.if-match.current-put", Some(&f));
    assert!(hint.fix.contains("[body] fixture"), "{hint:?}");
    // A GET answered 422 is not a refused document.
    let mut get = failure(422, &[]);
    get.request = Some(RecordedRequest {
        method: "GET".into(),
        body: None,
        ..put_with_body()
    });
    assert!(!hint_for("core.if-match.current-put", Some(&get))
        .fix
        .contains("[body] fixture"));
}

#[test]
fn dropped_members_point_at_schema_stripping() {
    let mut f = failure(200, &[]);
    f.write = Some(WriteEvidence::new(&put_with_body(), 200, &[], ""));
    f.diff = Some(vec![DiffEntry {
        pointer: "/rule".into(),
        change: Change::Missing,
        sent: Some("x".into()),
        stored: None,
    }]);
    let hint = hint_for("core.if-match.current-put", Some(&f));
    assert!(hint.cause.contains("Pydantic"), "{hint:?}");
    assert!(hint.fix.contains("[body] ignore"));
}

#[test]
fn an_undeclared_409_points_at_stale_status() {
    let mut f = failure(200, &[]);
    f.write = Some(WriteEvidence::new(&put_with_body(), 409, &[], ""));
    let hint = hint_for("core.if-match.stale-put", Some(&f));
    assert!(hint.fix.contains("stale-status = [409]"), "{hint:?}");
}

#[test]
fn optional_profiles_have_rule_specific_rows_before_their_generic_one() {
    assert!(hint_for("locking.token-unique", None).fix.contains("UUID"));
    assert!(hint_for("notifications.stream-heartbeat", None)
        .fix
        .contains("text/event-stream"));
    assert_eq!(
        generic_row("notifications.stream-resume"),
        Some("notifications.stream")
    );
    assert_eq!(
        generic_row("notifications.resolve-mine"),
        Some("notifications")
    );
    assert_eq!(generic_row("versions.restore"), Some("versions"));
}
