//! Proof for the rules about tag lists, weak comparison in `If-None-Match`, the
//! 412 for a missing resource, the ETag a refusal names, PUT-creation, invented
//! ids, malformed bodies and the `errors` profile: each can fail, and each is not
//! judged (skipped, saying why) where it does not apply.

mod support;

use ifmatch_conformance::report::Report;
use ifmatch_conformance::rules::Profile;
use ifmatch_conformance::target::ErrorFormat;
use ifmatch_conformance::verdict::Verdict;
use support::{
    assert_fault_breaks_only_its_rules, assert_only_broken, check, config, emulated, fault_options,
    Fault,
};

macro_rules! fault_tests {
    ($($name:ident => $fault:ident,)*) => {$(
        #[tokio::test]
        async fn $name() {
            assert_fault_breaks_only_its_rules(Fault::$fault).await;
        }
    )*};
}

fault_tests! {
    weak_if_none_match_ignored_fails_weak_comparison => WeakIfNoneMatchIgnored,
    if_none_match_list_ignored_fails_list => IfNoneMatchListIgnored,
    if_match_list_refused_fails_list => IfMatchListRefused,
    invented_etag_on_missing_412_warns => EtagOn412ForMissing,
    body_hash_etag_on_conflict_warns_current_etag => ConflictEtagHashesBody,
    json_error_bodies_fail_problem_media_type => JsonErrorBodies,
    undeclared_422_for_malformed_json_fails => MalformedJson422,
    invalid_invented_ids_break_nothing => InvalidIdRejected,
}

/// Checks an emulator with `faults` for `profiles`, with `shape` adjusted.
async fn run(
    faults: &[Fault],
    profiles: &[Profile],
    shape: impl FnOnce(&mut ifmatch_conformance::target::TargetShape),
) -> Report {
    let mut options = fault_options(None);
    options.faults = faults.to_vec();
    let server = emulated(options).await;
    let mut cfg = config(&server.uri(), profiles, 412);
    shape(&mut cfg.shape);
    check(&cfg).await
}

fn verdict(report: &Report, id: &str) -> (Verdict, String) {
    let o = report
        .outcome(id)
        .unwrap_or_else(|| panic!("{id} was not checked"));
    (o.verdict, o.message.clone())
}

#[tokio::test]
async fn a_server_that_does_not_create_by_put_is_not_judged_on_puts_to_missing_urls() {
    let report = run(&[Fault::PutCannotCreate], &[Profile::Core], |_| {}).await;
    for id in [
        "core.if-none-match.star-creates",
        "core.if-match.star-missing",
        "core.precondition.missing-put-412",
    ] {
        let (v, message) = verdict(&report, id);
        assert_eq!(v, Verdict::Skip, "{id}: {message}");
        assert!(
            message.starts_with("not applicable: this server does not create by PUT (an unconditional PUT to a fresh URL answered 404)"),
            "{id}: {message}"
        );
    }
    assert_eq!(report.exit_code(), 0);
}

#[tokio::test]
async fn a_put_creating_server_is_judged_on_puts_to_missing_urls() {
    // The mutant: PUT creates, but If-Match: * creates too; the rule is judged, and fails.
    let report = run(&[Fault::IfMatchStarCreates], &[Profile::Core], |_| {}).await;
    assert_eq!(
        verdict(&report, "core.if-match.star-missing").0,
        Verdict::Fail
    );
    let report = run(&[Fault::IfMatchTagCreates], &[Profile::Core], |_| {}).await;
    assert_eq!(
        verdict(&report, "core.precondition.missing-put-412").0,
        Verdict::Fail
    );
}

#[tokio::test]
async fn an_invented_id_refused_as_invalid_is_could_not_test_and_a_declared_one_is_judged() {
    let report = run(&[Fault::InvalidIdRejected], &[Profile::Core], |_| {}).await;
    let (v, message) = verdict(&report, "core.precondition.not-found-wins");
    assert_eq!(v, Verdict::Skip, "{message}");
    assert!(
        message.starts_with("could not test: the server rejected the invented id ")
            && message.contains(" with 422 ")
            && message
                .contains("set [body] missing-id = \"…\" to a valid id that names no resource"),
        "{message}"
    );
    assert_eq!(report.exit_code(), 0);

    let declared = |s: &mut ifmatch_conformance::target::TargetShape| {
        s.body.missing_id = Some("999999999".into());
    };
    let report = run(&[Fault::InvalidIdRejected], &[Profile::Core], declared).await;
    let (v, message) = verdict(&report, "core.precondition.not-found-wins");
    assert_eq!(v, Verdict::Pass, "{message}");

    // With a valid missing id, a 412 before the 404 is seen and fails.
    let both = [Fault::InvalidIdRejected, Fault::PreconditionBeforeNotFound];
    let report = run(&both, &[Profile::Core], declared).await;
    let (v, message) = verdict(&report, "core.precondition.not-found-wins");
    assert_eq!(v, Verdict::Fail, "{message}");
    assert!(message.contains("answered 412"), "{message}");
}

#[tokio::test]
async fn a_declared_missing_id_that_names_a_resource_is_refused() {
    let server = emulated(fault_options(None)).await;
    let made = reqwest::Client::new()
        .post(format!("{}/items", server.uri()))
        .json(&serde_json::json!({ "kept": true }))
        .send()
        .await
        .unwrap();
    let id = made.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let mut cfg = config(&server.uri(), &[Profile::Core], 412);
    cfg.shape.body.missing_id = Some(id.clone());
    cfg.rule_patterns = vec!["core.precondition.not-found-wins".into()];
    let report = check(&cfg).await;
    let (v, message) = verdict(&report, "core.precondition.not-found-wins");
    assert_eq!(v, Verdict::Skip, "{message}");
    assert!(
        message.contains("does not name a missing resource"),
        "{message}"
    );
}

#[tokio::test]
async fn a_declared_422_for_malformed_json_passes_and_says_so() {
    let report = run(&[Fault::MalformedJson422], &[Profile::Core], |s| {
        s.body.malformed_statuses = vec![400, 422];
    })
    .await;
    assert_only_broken(&report, &[]);
    let (v, message) = verdict(&report, "core.bad-input.malformed-json");
    assert_eq!(v, Verdict::Pass);
    assert!(
        message.contains("422") && message.contains("[body] malformed-status"),
        "{message}"
    );
    let report = run(&[Fault::MalformedJson422], &[Profile::Core], |_| {}).await;
    let (_, message) = verdict(&report, "core.bad-input.malformed-json");
    assert!(
        message.contains("declare it with [body] malformed-status = [400, 422]"),
        "{message}"
    );
}

#[tokio::test]
async fn json_errors_pass_the_errors_profile_when_declared() {
    let json = |s: &mut ifmatch_conformance::target::TargetShape| {
        s.errors.format = ErrorFormat::Json;
    };
    let report = run(&[Fault::JsonErrorBodies], &[Profile::Errors], json).await;
    assert_only_broken(&report, &[]);
    assert_eq!(
        verdict(&report, "errors.problem.media-type").0,
        Verdict::Pass
    );
    for id in ["errors.problem.status-member", "errors.problem.type-uri"] {
        let (v, message) = verdict(&report, id);
        assert_eq!(v, Verdict::Skip, "{id}");
        assert!(
            message.starts_with("not applicable to json errors"),
            "{message}"
        );
    }
    // The mutant: declared JSON, but plain text comes.
    let report = run(&[Fault::PlainTextErrors], &[Profile::Errors], json).await;
    assert_only_broken(&report, &["errors.problem.media-type"]);
    let any = |s: &mut ifmatch_conformance::target::TargetShape| {
        s.errors.format = ErrorFormat::Any;
    };
    let report = run(&[Fault::PlainTextErrors], &[Profile::Errors], any).await;
    for o in &report.outcomes {
        assert_eq!(o.verdict, Verdict::Skip, "{}", o.id);
    }
    let (_, message) = verdict(&report, "errors.problem.media-type");
    assert!(message.contains("format = \"any\""), "{message}");
}

#[tokio::test]
async fn the_errors_profile_is_not_checked_by_default() {
    let report = run(&[Fault::PlainTextErrors], &[Profile::Core], |_| {}).await;
    assert!(report.outcome("errors.problem.media-type").is_none());
    // Only the core SHOULD that needs a member in the error body notices the text bodies.
    assert_only_broken(&report, &["core.conflict.representation"]);
}

#[tokio::test]
async fn verdict_texts_name_what_is_wrong() {
    let report = run(&[Fault::WeakEtags], &[Profile::Core], |_| {}).await;
    let (_, message) = verdict(&report, "core.create.etag");
    assert!(
        message.contains("is weak; the contract needs a strong tag"),
        "{message}"
    );
    let report = run(&[Fault::ConflictEtagHashesBody], &[Profile::Core], |_| {}).await;
    let (_, message) = verdict(&report, "core.conflict.current-etag");
    assert!(
        message.contains("is not the current ETag: a re-read answered \"e"),
        "{message}"
    );
    let report = run(&[Fault::EtagOn412ForMissing], &[Profile::Core], |_| {}).await;
    let (_, message) = verdict(&report, "core.precondition.missing-412-no-etag");
    assert!(
        message.contains("the 412 for a missing resource carries ETag \"e0\""),
        "{message}"
    );
    let report = run(&[Fault::IfNoneMatchListIgnored], &[Profile::Core], |_| {}).await;
    let (_, message) = verdict(&report, "core.if-none-match.list");
    assert!(message.contains("answered 200 instead of 304"), "{message}");
}

#[tokio::test]
async fn a_server_demanding_preconditions_is_asked_with_if_none_match_star() {
    let mut options = fault_options(None);
    options.faults = vec![Fault::PutCannotCreate];
    options.require_preconditions = true;
    let server = emulated(options).await;
    let report = check(&config(&server.uri(), &[Profile::Core], 412)).await;
    for id in [
        "core.if-none-match.star-creates",
        "core.if-match.star-missing",
        "core.precondition.missing-put-412",
    ] {
        let (v, message) = verdict(&report, id);
        assert_eq!(v, Verdict::Skip, "{id}: {message}");
        assert!(
            message.contains("answered 428, and one with If-None-Match: * answered 404"),
            "{id}: {message}"
        );
    }
    // Where PUT with If-None-Match: * does create, the 428 server is judged (and passes).
    let mut options = fault_options(None);
    options.require_preconditions = true;
    let server = emulated(options).await;
    let report = check(&config(&server.uri(), &[Profile::Core], 412)).await;
    assert_eq!(
        verdict(&report, "core.if-match.star-missing").0,
        Verdict::Pass
    );
}

#[tokio::test]
async fn without_patch_not_found_wins_is_judged_by_delete() {
    let no_patch = |s: &mut ifmatch_conformance::target::TargetShape| {
        s.body.patch = ifmatch_conformance::target::PatchFormat::None;
    };
    let cfg_rules = |report: &Report| verdict(report, "core.precondition.not-found-wins");
    let report = run(&[], &[Profile::Core], no_patch).await;
    let (v, message) = cfg_rules(&report);
    assert_eq!(v, Verdict::Pass, "{message}");
    assert!(message.contains("no PATCH sent"), "{message}");
    let report = run(
        &[Fault::PreconditionBeforeNotFound],
        &[Profile::Core],
        no_patch,
    )
    .await;
    let (v, message) = cfg_rules(&report);
    assert_eq!(v, Verdict::Fail, "{message}");
    assert!(message.contains("DELETE answered 412"), "{message}");
}

#[tokio::test]
async fn a_409_carrying_a_hash_of_its_body_is_not_the_current_etag() {
    let mut options = fault_options(None);
    options.faults = vec![Fault::ConflictEtagHashesBody];
    options.mismatch_status = 409;
    let server = emulated(options).await;
    let report = check(&config(&server.uri(), &[Profile::Core], 409)).await;
    assert_only_broken(&report, &["core.conflict.current-etag"]);
    let (v, message) = verdict(&report, "core.conflict.current-etag");
    assert_eq!(v, Verdict::Warn);
    assert!(
        message.starts_with("the 409's ETag header \"")
            && message.contains("is not the current ETag: a re-read answered \"e"),
        "{message}"
    );
    // The same server without the fault names the current ETag, and passes.
    let mut options = fault_options(None);
    options.mismatch_status = 409;
    let server = emulated(options).await;
    let report = check(&config(&server.uri(), &[Profile::Core], 409)).await;
    assert_eq!(
        verdict(&report, "core.conflict.current-etag").0,
        Verdict::Pass
    );
}

#[tokio::test]
async fn creation_verdicts_name_the_status_and_where_the_url_came_from() {
    let report = run(&[Fault::CreateReturns200], &[Profile::Core], |_| {}).await;
    let (v, message) = verdict(&report, "core.create.etag");
    assert_eq!(v, Verdict::Pass, "{message}");
    assert!(message.starts_with("the 200 carries \"e"), "{message}");
    let (_, message) = verdict(&report, "core.create.post-201");
    assert_eq!(message, "POST answered 200");

    // A PUT-create server without Location: the URL is the one the suite chose.
    let shape = support::emulator::Shape {
        put_create_only: true,
        ..Default::default()
    };
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(support::Emulator::shaped(fault_options(None), shape))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri(), &[Profile::Core], 412);
    cfg.shape.create.method = ifmatch_conformance::target::CreateMethod::Put;
    let report = check(&cfg).await;
    let (v, message) = verdict(&report, "core.create.post-201");
    assert_eq!(v, Verdict::Pass, "{message}");
    assert!(
        message.starts_with("PUT answered 201 Created at http://")
            && message.ends_with(", the URL the suite chose"),
        "{message}"
    );
    assert!(!message.contains("Location"), "{message}");
}
