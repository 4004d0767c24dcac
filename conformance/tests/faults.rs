//! Proof that every rule can fail: the fault-free emulation passes every rule,
//! and for each rule a server that breaks exactly that rule makes it fail (or
//! warn, for SHOULD rules) while no unrelated rule is misjudged.

mod support;

use ifmatch_conformance::rules::{Level, Profile, CATALOGUE};
use ifmatch_conformance::verdict::Verdict;
use support::{
    assert_all_pass, assert_fault_breaks_only_its_rules, assert_only_broken, check, config,
    emulated, fault_options, Fault, Options, RATE,
};

#[tokio::test]
async fn fault_free_emulation_passes_every_core_rule() {
    let server = emulated(fault_options(None)).await;
    let report = check(&config(&server.uri(), &[Profile::Core], 412)).await;
    assert_all_pass(&report);
}

#[tokio::test]
async fn fault_free_emulation_passes_the_optional_profiles() {
    let server = emulated(Options {
        require_preconditions: true,
        rate_limit: Some(RATE),
        mismatch_status: 412,
        ..Options::default()
    })
    .await;
    let profiles = [Profile::RequirePreconditions, Profile::RateLimit];
    let report = check(&config(&server.uri(), &profiles, 412)).await;
    for o in &report.outcomes {
        assert_eq!(o.verdict, Verdict::Pass, "{}: {}", o.id, o.message);
    }
}

#[tokio::test]
async fn every_rule_that_can_fail_has_a_fault() {
    for rule in CATALOGUE.iter().filter(|r| r.level != Level::Info) {
        assert!(
            Fault::ALL.iter().any(|f| f.breaks().contains(&rule.id)),
            "no fault proves that {} can fail",
            rule.id
        );
    }
}

macro_rules! fault_tests {
    ($($name:ident => $fault:ident,)*) => {$(
        #[tokio::test]
        async fn $name() {
            assert_fault_breaks_only_its_rules(Fault::$fault).await;
        }
    )*};
}

fault_tests! {
    created_with_200_fails_post_201 => CreateReturns200,
    created_without_etag_warns_create_etag => CreateWithoutEtag,
    weak_etags_fail_strong_on_get => WeakEtags,
    drifting_etag_fails_stable_without_change => EtagDriftsOnRepeatedReads,
    etag_unchanged_by_put_fails_changes_on_put => EtagUnchangedOnPut,
    etag_unchanged_by_patch_fails_changes_on_patch => EtagUnchangedOnPatch,
    write_without_etag_warns_returns_etag => NoEtagOnWrite,
    wrong_write_etag_fails_etag_matches_get => WrongEtagOnWrite,
    head_without_etag_warns_head_rule => HeadWithoutEtag,
    ignored_if_none_match_fails_not_modified => IgnoreIfNoneMatch,
    always_304_fails_modified => AlwaysNotModified,
    refused_current_put_fails_current_put => RejectCurrentPut,
    refused_current_patch_fails_current_patch => RejectCurrentPatch,
    replacing_patch_fails_merge_semantics => PatchReplaces,
    refused_current_delete_fails_current_delete => RejectCurrentDelete,
    accepted_stale_put_fails_stale_put => StalePutAccepted,
    accepted_stale_patch_fails_stale_patch => StalePatchAccepted,
    accepted_stale_delete_fails_stale_delete => StaleDeleteAccepted,
    refused_but_applied_put_fails_stale_put_by_reread => RefuseStalePutButApply,
    weak_comparison_fails_weak_refused => WeakComparisonForIfMatch,
    refused_if_match_star_fails_star_existing => RejectIfMatchStar,
    put_that_cannot_create_is_not_judged_on_conditional_puts_to_missing_urls => PutCannotCreate,
    refused_if_none_match_star_on_missing_fails_star_creates => IfNoneMatchStarRefusedOnMissing,
    ignored_if_none_match_star_fails_star_existing => IgnoreIfNoneMatchOnPut,
    if_match_star_creating_fails_star_missing => IfMatchStarCreates,
    if_match_tag_creating_fails_missing_put_412 => IfMatchTagCreates,
    precondition_before_404_fails_not_found_wins => PreconditionBeforeNotFound,
    plain_text_errors_fail_media_type => PlainTextErrors,
    wrong_problem_status_fails_status_member => ProblemStatusMismatch,
    problem_without_type_warns_type_uri => ProblemWithoutType,
    refusal_without_current_etag_warns_current_etag => NoCurrentEtagOnConflict,
    ignored_prefer_representation_warns_representation => IgnoresPreferRepresentation,
    representation_echoing_the_request_warns_representation => RepresentationEchoesRequest,
    accepted_malformed_json_fails_malformed_json => AcceptMalformedJson,
    lenient_if_match_parsing_fails_malformed_if_match => LenientIfMatchParsing,
    stale_read_cache_fails_concurrency_rules => StaleReadCache,
    ignored_if_match_fails_honoured_and_every_stale_rule => IgnoreIfMatch,
    dropped_member_fails_current_put_by_content => DropsSentMember,
    refusal_bumping_the_version_fails_stale_put => RefusalBumpsVersion,
    unconditional_put_allowed_fails_put_428 => AllowUnconditionalPut,
    unconditional_patch_allowed_fails_patch_428 => AllowUnconditionalPatch,
    unconditional_delete_allowed_fails_delete_428 => AllowUnconditionalDelete,
    bare_428_warns_names_if_match => Bare428,
    missing_retry_after_fails_retry_after => RetryAfterMissing,
    inconsistent_ratelimit_fields_warn => InconsistentRateLimitFields,
    plain_text_429_fails_problem_json => PlainText429,
    never_recovering_limit_warns_recovers => NeverRecovers,
}

#[tokio::test]
async fn undeclared_409_is_a_warning_and_declared_409_is_non_strict() {
    let server = emulated(Options {
        mismatch_status: 409,
        ..Options::default()
    })
    .await;
    let stale = [
        "core.if-match.honoured",
        "core.if-match.stale-put",
        "core.if-match.stale-patch",
        "core.if-match.stale-delete",
        "core.if-match.weak-refused",
    ];
    let undeclared = check(&config(&server.uri(), &[Profile::Core], 412)).await;
    assert_only_broken(&undeclared, &stale);
    assert!(stale
        .iter()
        .all(|id| undeclared.outcome(id).unwrap().verdict == Verdict::Warn));
    assert_eq!(undeclared.exit_code(), 0, "a warning is not a failure");
    let declared = check(&config(&server.uri(), &[Profile::Core], 409)).await;
    assert_only_broken(&declared, &[]);
    assert!(stale
        .iter()
        .all(|id| declared.outcome(id).unwrap().verdict == Verdict::NonStrict));
}

#[tokio::test]
async fn info_rule_reports_and_never_fails() {
    let server = emulated(fault_options(None)).await;
    let mut cfg = config(&server.uri(), &[Profile::Core], 412);
    cfg.rule_patterns = vec!["core.validators".into()];
    let report = check(&cfg).await;
    assert_eq!(report.outcomes.len(), 1);
    assert_eq!(report.outcomes[0].verdict, Verdict::Info);
}
