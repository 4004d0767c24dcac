//! Servers the interop matrix found hard to judge: weak ETags only (json-server,
//! Apache under load) and refusals whose `ETag` tags the error body
//! (pouchdb-server). Each is judged on what it does, not skipped.

use serde_json::json;

use super::support::emulator::{BodyVersion, Shape};
use super::support::Fault;
use super::{assert_verdict, run, shape_of, Verdict};

const RACES: [&str; 2] = [
    "core.concurrency.single-winner",
    "core.concurrency.no-lost-update",
];

fn races_and_refusal() -> Vec<String> {
    let mut rules: Vec<String> = RACES.iter().map(|r| (*r).to_owned()).collect();
    rules.push("core.etag.strong-on-get".into());
    rules.push("core.if-match.current-put".into());
    rules.push("core.if-match.current-patch".into());
    rules.push("core.if-match.current-delete".into());
    rules.push("core.conflict.current-etag".into());
    rules
}

#[tokio::test]
async fn races_run_with_weak_etags_and_catch_a_server_ignoring_if_match() {
    let ignoring = run(
        Shape::default(),
        &[Fault::WeakEtags, Fault::IgnoreIfMatch],
        |c| c.rule_patterns = races_and_refusal(),
    )
    .await;
    assert_verdict(&ignoring, "core.etag.strong-on-get", Verdict::Fail, "weak");
    // The writes with the current (weak) tag are judged too: this server takes them.
    for id in [
        "core.if-match.current-patch",
        "core.if-match.current-delete",
    ] {
        assert_verdict(&ignoring, id, Verdict::Pass, "answered 2");
    }
    assert_verdict(
        &ignoring,
        "core.concurrency.single-winner",
        Verdict::Fail,
        "8 succeeded and 0 were refused",
    );
    assert_verdict(
        &ignoring,
        "core.concurrency.no-lost-update",
        Verdict::Fail,
        "acknowledged write(s) lost",
    );
}

#[tokio::test]
async fn races_on_a_server_rightly_refusing_weak_tags_say_what_would_run_them() {
    let honouring = run(Shape::default(), &[Fault::WeakEtags], |c| {
        c.rule_patterns = races_and_refusal()
    })
    .await;
    assert_verdict(
        &honouring,
        "core.if-match.current-put",
        Verdict::Skip,
        "a strong ETag on GET would make this rule and the races built on it runnable",
    );
    for id in [
        "core.if-match.current-patch",
        "core.if-match.current-delete",
    ] {
        assert_verdict(
            &honouring,
            id,
            Verdict::Skip,
            "rightly refused If-Match with one (412); a strong ETag on GET would make this rule runnable",
        );
    }
    for id in RACES {
        assert_verdict(
            &honouring,
            id,
            Verdict::Skip,
            "prerequisite core.if-match.current-put was skip",
        );
    }
    // The refusal of a non-matching If-Match is judged with a weak fixture too.
    let (verdict, message) = super::verdict(&honouring, "core.conflict.current-etag");
    assert_ne!(verdict, Verdict::Skip, "{message}");
}

#[tokio::test]
async fn a_current_version_refused_by_every_racer_is_a_skip_not_a_pass() {
    let report = run(Shape::default(), &[Fault::RejectCurrentPut], |c| {
        c.rule_patterns = RACES.iter().map(|r| (*r).to_owned()).collect();
    })
    .await;
    for id in RACES {
        assert_verdict(&report, id, Verdict::Skip, "see core.if-match.current-put");
    }
}

fn couch_query(c: &mut ifmatch_conformance::check::CheckConfig) {
    c.shape = shape_of(json!({ "version": {
        "read": "body:/_rev", "send": "query:rev", "stale-status": [409] } }));
    c.rule_patterns = vec!["core.conflict.current-etag".into()];
}

#[tokio::test]
async fn a_refusal_tagged_by_its_error_body_is_reported_on_a_query_version_target() {
    let tagging = Shape {
        body_version: Some(BodyVersion::CouchDb),
        tags_error_bodies: true,
        ..Shape::default()
    };
    let report = run(tagging, &[], couch_query).await;
    assert_verdict(
        &report,
        "core.conflict.current-etag",
        Verdict::Warn,
        "is a tag of the error body itself",
    );
    // Without an ETag on the refusal, a ?rev= target is not expected to send one.
    let plain = Shape {
        body_version: Some(BodyVersion::CouchDb),
        ..Shape::default()
    };
    let report = run(plain, &[], couch_query).await;
    assert_verdict(
        &report,
        "core.conflict.current-etag",
        Verdict::Skip,
        "no ETag is expected there",
    );
}

#[tokio::test]
async fn json_errors_are_asked_for_so_a_couchdb_shaped_server_sends_them() {
    use super::support::{check, config, fault_options, Emulator};
    use ifmatch_conformance::rules::Profile;
    use wiremock::{matchers::any, Mock, MockServer};
    let shape = Shape {
        plain_errors_without_accept: true,
        ..Shape::default()
    };
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Emulator::shaped(fault_options(None), shape))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri(), &[Profile::Errors], 412);
    cfg.rule_patterns = vec!["errors.problem.media-type".into()];
    let report = check(&cfg).await;
    assert_verdict(&report, "errors.problem.media-type", Verdict::Pass, "");
    // A configured Accept wins: one that names no JSON gets the plain-text errors.
    let mut own = config(&server.uri(), &[Profile::Errors], 412);
    own.rule_patterns = vec!["errors.problem.media-type".into()];
    own.headers = vec![("Accept".into(), "text/html".into())];
    let report = check(&own).await;
    assert_verdict(
        &report,
        "errors.problem.media-type",
        Verdict::Fail,
        "text/plain",
    );
}

#[tokio::test]
async fn an_undeclared_409_warns_saying_how_to_declare_it_and_a_declared_one_is_non_strict() {
    use super::support::{check, config, fault_options, Emulator};
    use ifmatch_conformance::rules::Profile;
    use wiremock::{matchers::any, Mock, MockServer};
    let mut options = fault_options(None);
    options.mismatch_status = 409;
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Emulator::shaped(
            options,
            Shape {
                exists_409: true,
                ..Shape::default()
            },
        ))
        .mount(&server)
        .await;
    let rules = || {
        vec![
            "core.if-none-match.star-existing".to_owned(),
            "core.if-match.stale-put".to_owned(),
        ]
    };
    let mut undeclared = config(&server.uri(), &[Profile::Core], 412);
    undeclared.rule_patterns = rules();
    let report = check(&undeclared).await;
    for id in [
        "core.if-none-match.star-existing",
        "core.if-match.stale-put",
    ] {
        assert_verdict(
            &report,
            id,
            Verdict::Warn,
            "declare it with [version] stale-status = [412, 409]",
        );
    }
    let mut declared = config(&server.uri(), &[Profile::Core], 412);
    declared.rule_patterns = rules();
    declared.shape = shape_of(json!({ "version": { "stale-status": [412, 409] } }));
    let report = check(&declared).await;
    for id in [
        "core.if-none-match.star-existing",
        "core.if-match.stale-put",
    ] {
        assert_verdict(&report, id, Verdict::NonStrict, "409");
    }
}
