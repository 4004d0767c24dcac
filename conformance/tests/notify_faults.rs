//! Proof that every `notifications` rule can fail: the fault-free emulation
//! (with a conflict log, a stream and resolution) passes every notifications
//! rule, a server without a conflict log has them skipped for one stated reason,
//! a run without tokens skips the rules about who may resolve and says which
//! flags they need, and for each rule a server that breaks exactly that rule makes
//! it fail (or warn, for the SHOULD rule) while no other rule is misjudged.

mod support;

use ifmatch_conformance::rules::Profile;
use ifmatch_conformance::verdict::Verdict;
use support::notify::{
    assert_notify_fault_breaks_only_its_rules, emulated_notifying, notify_config, notifying_options,
};
use support::{assert_all_pass, check, config, fault_options, rules_of};

const PROFILES: [Profile; 2] = [Profile::Core, Profile::Notifications];
const RECORDED: &str = "notifications.conflict-recorded";

#[tokio::test]
async fn fault_free_emulation_passes_every_notifications_rule() {
    let server = emulated_notifying(notifying_options()).await;
    let report = check(&notify_config(&server.base_url, &PROFILES)).await;
    assert_eq!(rules_of(&report, Profile::Notifications), 16);
    assert_all_pass(&report);
}

#[tokio::test]
async fn a_server_without_a_conflict_log_has_every_rule_skipped_for_one_reason() {
    let server = emulated_notifying(fault_options(None)).await;
    let report = check(&notify_config(&server.base_url, &[Profile::Notifications])).await;
    let head = report.outcome(RECORDED).unwrap();
    assert_eq!(head.verdict, Verdict::Skip, "{}", head.message);
    assert!(
        head.message.contains("offers no conflict log")
            && head.message.contains("--conflicts-path"),
        "{}",
        head.message
    );
    for o in report.outcomes.iter().filter(|o| o.id != RECORDED) {
        assert_eq!(o.verdict, Verdict::Skip, "{}", o.id);
        assert_eq!(
            o.message,
            format!("prerequisite {RECORDED} was skip"),
            "{}",
            o.id
        );
    }
    assert_eq!(report.exit_code(), 0);
}

#[tokio::test]
async fn a_conflict_log_elsewhere_is_found_through_its_path() {
    let server = emulated_notifying(notifying_options()).await;
    let mut cfg = notify_config(&server.base_url, &[Profile::Notifications]);
    cfg.rule_patterns = vec![RECORDED.into()];
    cfg.notifications.conflicts_path = "/v2/conflicts".into();
    let missed = check(&cfg).await;
    let head = missed.outcome(RECORDED).unwrap();
    assert_eq!(head.verdict, Verdict::Skip);
    assert!(head.message.contains("/v2/conflicts"), "{}", head.message);
    cfg.notifications.conflicts_path = "conflicts".into();
    let found = check(&cfg).await;
    let head = found.outcome(RECORDED).unwrap();
    assert_eq!(head.verdict, Verdict::Pass, "{}", head.message);
}

#[tokio::test]
async fn without_tokens_the_authorization_rules_say_which_flags_they_need() {
    let server = emulated_notifying(notifying_options()).await;
    let mut cfg = config(&server.base_url, &[Profile::Notifications], 412);
    cfg.notifications.sse_wait = support::notify::SSE_WAIT;
    let report = check(&cfg).await;
    for (id, flags) in [
        ("notifications.resolve-requires-auth", &["--token"][..]),
        (
            "notifications.resolve-other-client-403",
            &["--token", "--other-token"],
        ),
        ("notifications.resolve-admin", &["--token", "--admin-token"]),
    ] {
        let o = report.outcome(id).unwrap();
        assert_eq!(o.verdict, Verdict::Skip, "{id}: {}", o.message);
        for flag in flags {
            assert!(
                o.message.contains(&format!("{flag} NAME=TOKEN")),
                "{id}: {}",
                o.message
            );
        }
    }
    // The emulator has tokens, so an anonymous conflict is an admin's to resolve:
    // the writer's resolution rules say what to pass instead of failing.
    let mine = report.outcome("notifications.resolve-mine").unwrap();
    assert_eq!(mine.verdict, Verdict::Skip, "{}", mine.message);
    assert!(
        mine.message.contains("wants credentials"),
        "{}",
        mine.message
    );
    let recorded = report.outcome(RECORDED).unwrap();
    assert_eq!(recorded.verdict, Verdict::Pass, "{}", recorded.message);
    assert_eq!(report.exit_code(), 0);
}

macro_rules! fault_tests {
    ($($name:ident => $fault:ident,)*) => {$(
        #[tokio::test]
        async fn $name() {
            assert_notify_fault_breaks_only_its_rules(support::Fault::$fault).await;
        }
    )*};
}

fault_tests! {
    records_naming_the_current_tag_as_base_fail_conflict_recorded => RecordNamesCurrentAsBase,
    an_unfiltered_log_fails_log_filter => LogIgnoresFilter,
    an_unfiltered_stream_fails_stream_delivers => StreamIgnoresFilter,
    replaying_the_last_event_fails_stream_resume => ResumeRepeatsLastEvent,
    an_unfiltered_prefix_stream_fails_stream_prefix_filter => StreamIgnoresPrefix,
    an_unfiltered_state_fails_list_state_filter => ListIgnoresState,
    ignoring_the_resume_query_warns_stream_resume_query => ResumeQueryIgnored,
    a_silent_stream_warns_stream_heartbeat => NoHeartbeat,
    mine_that_writes_nothing_fails_resolve_mine => ResolveMineKeepsCurrent,
    theirs_that_writes_fails_resolve_theirs => ResolveTheirsApplies,
    merged_that_writes_mine_fails_resolve_merged => ResolveMergedWritesMine,
    resolving_a_changed_document_fails_resolve_stale_refused => ResolveIgnoresChanges,
    resolving_twice_fails_resolve_twice_409 => ResolveTwiceApplies,
    anonymous_resolution_fails_resolve_requires_auth => AnonymousMayResolve,
    any_client_resolving_fails_resolve_other_client_403 => AnyClientMayResolve,
    a_refused_admin_fails_resolve_admin => AdminRefused,
}
