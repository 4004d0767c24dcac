//! `core.precondition.not-found-wins` against small stubs: the order in which it
//! judges the PATCH and DELETE answers, and the hint for a server without PATCH.

mod support;

use ifmatch_conformance::report::Report;
use ifmatch_conformance::rules::Profile;
use ifmatch_conformance::verdict::Verdict;
use support::{check, config};

fn verdict(report: &Report, id: &str) -> (Verdict, String) {
    let o = report
        .outcome(id)
        .unwrap_or_else(|| panic!("{id} was not checked"));
    (o.verdict, o.message.clone())
}

#[tokio::test]
async fn a_delete_evaluating_if_match_before_404_fails_even_when_patch_refused_the_id() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(422))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(412))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri(), &[Profile::Core], 412);
    cfg.rule_patterns = vec!["core.precondition.not-found-wins".into()];
    let report = check(&cfg).await;
    let (v, message) = verdict(&report, "core.precondition.not-found-wins");
    assert_eq!(v, Verdict::Fail, "{message}");
    assert_eq!(message, "DELETE answered 412");
}

#[tokio::test]
async fn a_patch_refused_as_unsupported_names_the_patch_setting() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(405))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri(), &[Profile::Core], 412);
    cfg.rule_patterns = vec!["core.precondition.not-found-wins".into()];
    let report = check(&cfg).await;
    let (v, message) = verdict(&report, "core.precondition.not-found-wins");
    assert_eq!(v, Verdict::Fail, "{message}");
    assert!(
        message.starts_with("PATCH answered 405 (") && message.contains("[body] patch = \"none\""),
        "{message}"
    );
    // Declared, the same server passes on DELETE alone.
    cfg.shape.body.patch = ifmatch_conformance::target::PatchFormat::None;
    let report = check(&cfg).await;
    assert_eq!(
        verdict(&report, "core.precondition.not-found-wins").0,
        Verdict::Pass
    );
}

/// A server with integer ids answers 422 to a PUT at the suite's invented id and
/// 404 at a valid one: with `[body] missing-id` the PUT-creation probe asks there
/// and learns that PUT does not create, instead of "could not tell".
#[tokio::test]
async fn the_put_creation_probe_retries_at_the_configured_missing_id() {
    use wiremock::matchers::{method, path, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(r"^/items/[0-9]+$"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(422))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri(), &[Profile::Core], 412);
    cfg.rule_patterns = vec!["core.if-match.star-missing".into()];
    let report = check(&cfg).await;
    let (v, message) = verdict(&report, "core.if-match.star-missing");
    assert_eq!(v, Verdict::Skip, "{message}");
    assert!(message.starts_with("could not tell"), "{message}");
    assert!(message.contains("[body] missing-id"), "{message}");
    cfg.shape.body.missing_id = Some("999999999".into());
    let report = check(&cfg).await;
    let (v, message) = verdict(&report, "core.if-match.star-missing");
    assert_eq!(v, Verdict::Skip, "{message}");
    assert!(
        message.starts_with("not applicable: this server does not create by PUT")
            && message.contains("missing id 999999999 answered 404"),
        "{message}"
    );
}
