//! Third-party server shapes: the suite adapts to each (as its configuration
//! describes it) and judges it truthfully, and a fault on each shape is still
//! seen. The shapes are the emulator's (`support/emulator/shapes.rs`).

mod support;

/// Servers that keep their version in the body, a header or the query.
#[path = "shapes/versions.rs"]
mod versions;
/// Interop limitations: weak ETags, refusals tagged by their error body.
#[path = "shapes/weak.rs"]
mod weak;

use std::time::Duration;

use ifmatch_conformance::check::CheckConfig;
use ifmatch_conformance::report::Report;
use ifmatch_conformance::rules::Profile;
use ifmatch_conformance::target::TargetShape;
use ifmatch_conformance::verdict::Verdict;
use serde_json::json;
use support::emulator::Shape;
use support::{assert_only_broken, check, config, fault_options, Emulator, Fault};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

/// Checks the `core` profile of an emulated server of `shape` with `faults`,
/// configured by `describe`.
pub(crate) async fn run(
    shape: Shape,
    faults: &[Fault],
    describe: impl FnOnce(&mut CheckConfig),
) -> Report {
    run_on(shape, faults, describe).await.0
}

/// As [`run`], also returning the server (to look at what is left on it).
pub(crate) async fn run_on(
    shape: Shape,
    faults: &[Fault],
    describe: impl FnOnce(&mut CheckConfig),
) -> (Report, MockServer) {
    let mut options = fault_options(None);
    options.faults = faults.to_vec();
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Emulator::shaped(options, shape))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri(), &[Profile::Core], 412);
    describe(&mut cfg);
    (check(&cfg).await, server)
}

/// The ids the emulated server still holds.
pub(crate) async fn left_on(server: &MockServer) -> serde_json::Value {
    reqwest::get(format!("{}/items", server.uri()))
        .await
        .expect("the emulator answers")
        .json()
        .await
        .expect("a JSON list")
}

pub(crate) fn shape_of(toml_like: serde_json::Value) -> TargetShape {
    let shape: TargetShape = serde_json::from_value(toml_like).expect("a valid shape");
    shape.validate().expect("a consistent shape");
    shape
}

pub(crate) fn verdict(report: &Report, id: &str) -> (Verdict, String) {
    let o = report
        .outcome(id)
        .unwrap_or_else(|| panic!("{id} was not checked"));
    (o.verdict, o.message.clone())
}

pub(crate) fn dump(report: &Report) -> String {
    report
        .outcomes
        .iter()
        .map(|o| format!("{:<10} {:<45} {}", o.verdict.as_str(), o.id, o.message))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn adds() -> Shape {
    Shape {
        adds_members: true,
        ..Shape::default()
    }
}

pub(crate) fn assert_verdict(report: &Report, id: &str, want: Verdict, text: &str) {
    let (got, message) = verdict(report, id);
    assert_eq!(got, want, "{id}: {message}\n{}", dump(report));
    assert!(message.contains(text), "{id}: {message:?} lacks {text:?}");
}

#[tokio::test]
async fn a_server_adding_members_is_judged_by_content() {
    let (report, server) = run_on(adds(), &[], |_| {}).await;
    assert_only_broken(&report, &[]);
    assert_eq!(left_on(&server).await, json!([]), "cleanup");
    assert_verdict(
        &report,
        "core.if-match.current-put",
        Verdict::Pass,
        "the body sent was stored",
    );
}

#[tokio::test]
async fn a_dropped_member_still_fails_current_put_on_a_server_adding_members() {
    let report = run(adds(), &[Fault::DropsSentMember], |_| {}).await;
    assert_only_broken(&report, &Fault::DropsSentMember.breaks());
    assert_verdict(
        &report,
        "core.if-match.current-put",
        Verdict::Fail,
        "/suite: sent \"ifmatch-conformance\", missing",
    );
    // The stale rules build on a write that succeeded, not on current-put's verdict.
    assert_verdict(
        &report,
        "core.if-match.stale-delete",
        Verdict::Pass,
        "refused with 412",
    );
}

#[tokio::test]
async fn a_refused_write_changing_a_member_fails_unless_the_member_is_ignored() {
    let fault = Fault::RefusalTouchesUpdatedAt;
    let report = run(adds(), &[fault], |_| {}).await;
    assert_only_broken(&report, &fault.breaks());
    assert_verdict(
        &report,
        "core.if-match.stale-put",
        Verdict::Fail,
        "/updated_at",
    );
    let ignored = run(adds(), &[fault], |c| {
        c.shape = shape_of(json!({ "body": { "ignore": ["/updated_at"] } }));
    })
    .await;
    assert_only_broken(&ignored, &[]);
}

#[tokio::test]
async fn an_etag_differing_on_every_read_fails_only_the_stability_rule() {
    let shape = Shape {
        etag_per_read: true,
        ..Shape::default()
    };
    let report = run(shape, &[], |_| {}).await;
    // The 201's and the 412's ETags are indeed not the one the next GET shows
    // (SHOULD rules, warnings); nothing else is misjudged.
    assert_only_broken(
        &report,
        &[
            "core.etag.stable-without-change",
            "core.create.etag",
            "core.conflict.current-etag",
        ],
    );
    assert_verdict(
        &report,
        "core.etag.stable-without-change",
        Verdict::Fail,
        "differs between reads",
    );
    assert_verdict(
        &report,
        "core.if-match.stale-put",
        Verdict::Pass,
        "nothing changed",
    );
    assert_verdict(
        &report,
        "core.write.etag-matches-get",
        Verdict::Skip,
        "stable-without-change",
    );
}

#[tokio::test]
async fn a_weak_etag_for_a_moment_after_a_write_is_waited_for() {
    let shape = Shape {
        weak_after_write: Some(Duration::from_millis(300)),
        ..Shape::default()
    };
    let report = run(shape, &[], |_| {}).await;
    // The 201 and the PUT answer with the weak tag of the moment: warnings that are true.
    assert_only_broken(&report, &["core.create.etag", "core.write.returns-etag"]);
    assert_verdict(&report, "core.etag.strong-on-get", Verdict::Pass, "waited");
    assert_verdict(
        &report,
        "core.if-match.stale-put",
        Verdict::Pass,
        "a weak ETag for a moment",
    );
}

#[tokio::test]
async fn always_weak_etags_still_fail_after_the_bounded_wait() {
    let report = run(Shape::default(), &[Fault::WeakEtags], |_| {}).await;
    assert_verdict(
        &report,
        "core.etag.strong-on-get",
        Verdict::Fail,
        "still weak after waiting 3 s",
    );
}

#[tokio::test]
async fn a_put_create_server_without_location_is_checked_by_its_template() {
    let shape = Shape {
        put_create_only: true,
        ..Shape::default()
    };
    let report = run(shape.clone(), &[], |c| {
        c.shape = shape_of(json!({ "create": { "method": "put" } }));
    })
    .await;
    assert_only_broken(&report, &[]);
    assert_verdict(
        &report,
        "core.if-match.current-put",
        Verdict::Pass,
        "stored",
    );
    // Described as a POST server, the skip says what to configure.
    let undescribed = run(shape, &[], |_| {}).await;
    assert_verdict(
        &undescribed,
        "core.etag.strong-on-get",
        Verdict::Skip,
        "method = \"put\"",
    );
}

#[tokio::test]
async fn a_collection_with_a_trailing_slash_is_used_as_given() {
    let shape = Shape {
        collection: Some("/dav/"),
        ..Shape::default()
    };
    let report = run(shape, &[], |c| c.collection = "/dav/".into()).await;
    assert_only_broken(&report, &[]);
    assert_verdict(
        &report,
        "core.if-none-match.star-creates",
        Verdict::Pass,
        "created",
    );
}

#[tokio::test]
async fn a_server_ignoring_if_match_is_named_plainly() {
    let report = run(Shape::default(), &[Fault::IgnoreIfMatch], |_| {}).await;
    let o = report.outcome("core.if-match.honoured").unwrap();
    assert_eq!(o.verdict, Verdict::Fail);
    let observed = &o.failure.as_ref().unwrap().observed;
    assert!(
        observed.starts_with("This server ignores If-Match:"),
        "{observed}"
    );
}

#[tokio::test]
async fn races_repeat_and_a_pass_says_how_often() {
    let report = run(Shape::default(), &[], |c| {
        c.repeat = 3;
        c.rule_patterns = vec!["core.concurrency".into()];
    })
    .await;
    assert_verdict(
        &report,
        "core.concurrency.single-winner",
        Verdict::Pass,
        "tried 3 times, never lost",
    );
    assert_verdict(
        &report,
        "core.concurrency.no-lost-update",
        Verdict::Pass,
        "tried 3 times, never lost",
    );
    let racy = run(Shape::default(), &[Fault::StaleReadCache], |c| {
        c.repeat = 2;
        c.rule_patterns = vec!["core.concurrency".into()];
    })
    .await;
    let o = racy.outcome("core.concurrency.single-winner").unwrap();
    assert_eq!(o.verdict, Verdict::Fail, "{}", o.message);
    assert!(o.message.starts_with("try 1 of 2:"), "{}", o.message);
}

#[tokio::test]
async fn a_new_id_in_the_create_body_is_used_when_declared() {
    let shape = Shape {
        adds_members: true,
        post_without_location: true,
        ..Shape::default()
    };
    let report = run(shape.clone(), &[], |c| {
        c.shape = shape_of(json!({ "create": { "location": "body:/id" } }));
    })
    .await;
    assert_only_broken(&report, &[]);
    assert_verdict(&report, "core.if-match.stale-put", Verdict::Pass, "412");
    let undescribed = run(shape, &[], |_| {}).await;
    assert_verdict(
        &undescribed,
        "core.etag.strong-on-get",
        Verdict::Skip,
        "location = \"body:/id\"",
    );
}

#[tokio::test]
async fn fixture_members_go_into_every_body_sent() {
    let shape = Shape {
        required_member: Some("title"),
        ..Shape::default()
    };
    let report = run(shape.clone(), &[], |c| {
        c.shape = shape_of(json!({ "body": { "fixture": { "title": "conformance" } } }));
    })
    .await;
    assert_only_broken(&report, &[]);
    let bare = run(shape, &[], |_| {}).await;
    assert_verdict(
        &bare,
        "core.etag.strong-on-get",
        Verdict::Skip,
        "answered 422",
    );
}

#[tokio::test]
async fn error_bodies_with_request_ids_are_not_a_change_of_state() {
    let shape = Shape {
        error_ids: true,
        ..Shape::default()
    };
    let report = run(shape, &[], |_| {}).await;
    assert_only_broken(&report, &[]);
    assert_verdict(
        &report,
        "core.precondition.missing-put-412",
        Verdict::Pass,
        "412",
    );
}

#[tokio::test]
async fn a_server_with_weak_etags_only_is_still_judged_on_if_match() {
    let rules = || {
        vec![
            "core.etag.strong-on-get".to_owned(),
            "core.if-match.honoured".to_owned(),
            "core.if-match.stale-put".to_owned(),
        ]
    };
    let ignoring = run(
        Shape::default(),
        &[Fault::WeakEtags, Fault::IgnoreIfMatch],
        |c| c.rule_patterns = rules(),
    )
    .await;
    assert_verdict(&ignoring, "core.etag.strong-on-get", Verdict::Fail, "weak");
    let o = ignoring.outcome("core.if-match.honoured").unwrap();
    assert_eq!(o.verdict, Verdict::Fail, "{}", o.message);
    assert!(
        o.message.starts_with("This server ignores If-Match:"),
        "{}",
        o.message
    );
    // The stale write is judged with the weak tag as the version, and accepted.
    assert_verdict(
        &ignoring,
        "core.if-match.stale-put",
        Verdict::Fail,
        "answered 200",
    );
    // A server that honours If-Match refuses its own weak tags: nothing can be made stale.
    let honouring = run(Shape::default(), &[Fault::WeakEtags], |c| {
        c.rule_patterns = rules()
    })
    .await;
    assert_verdict(&honouring, "core.if-match.honoured", Verdict::Pass, "412");
    assert_verdict(
        &honouring,
        "core.if-match.stale-put",
        Verdict::Skip,
        "rightly refused",
    );
}
