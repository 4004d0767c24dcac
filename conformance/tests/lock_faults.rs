//! Proof that every `locking` rule can fail: the fault-free emulation (which has
//! locks) passes every locking rule, a server without locks has them all skipped
//! with one clear reason, and for each rule a server that breaks exactly that rule
//! makes it fail (or warn, for SHOULD rules) while no other rule is misjudged.

mod support;

use ifmatch_conformance::rules::Profile;
use ifmatch_conformance::verdict::Verdict;
use support::{
    assert_all_pass, assert_fault_breaks_only_its_rules, check, config, emulated, fault_options,
    rules_of, Options,
};

const PROFILES: [Profile; 2] = [Profile::Core, Profile::Locking];

#[tokio::test]
async fn fault_free_emulation_passes_every_locking_rule() {
    let server = emulated(fault_options(None)).await;
    let report = check(&config(&server.uri(), &PROFILES, 412)).await;
    assert_eq!(rules_of(&report, Profile::Locking), 16);
    assert_all_pass(&report);
}

#[tokio::test]
async fn a_server_without_locks_has_every_locking_rule_skipped_for_one_stated_reason() {
    let server = emulated(Options {
        no_locks: true,
        ..fault_options(None)
    })
    .await;
    let report = check(&config(&server.uri(), &[Profile::Locking], 412)).await;
    let first = report.outcome("locking.acquire-201").unwrap();
    assert_eq!(first.verdict, Verdict::Skip);
    assert!(
        first.message.contains("offers no locks") && first.message.contains("--lock-path"),
        "{}",
        first.message
    );
    for o in report.outcomes.iter().skip(1) {
        assert_eq!(o.verdict, Verdict::Skip, "{}", o.id);
        assert_eq!(
            o.message, "prerequisite locking.acquire-201 was skip",
            "{}",
            o.id
        );
    }
    assert_eq!(report.exit_code(), 0);
}

#[tokio::test]
async fn locks_elsewhere_are_found_through_the_lock_path() {
    let server = emulated(fault_options(None)).await;
    let mut cfg = config(&server.uri(), &[Profile::Locking], 412);
    cfg.lock_path = "{item}/nowhere".into();
    cfg.rule_patterns = vec!["locking.acquire-201".into()];
    let missed = check(&cfg).await;
    assert_eq!(missed.outcomes[0].verdict, Verdict::Skip);
    assert!(
        missed.outcomes[0].message.contains("/nowhere"),
        "{}",
        missed.outcomes[0].message
    );
    cfg.lock_path = "/items/{id}/lock".into();
    let found = check(&cfg).await;
    assert_eq!(
        found.outcomes[0].verdict,
        Verdict::Pass,
        "{}",
        found.outcomes[0].message
    );
}

macro_rules! fault_tests {
    ($($name:ident => $fault:ident,)*) => {$(
        #[tokio::test]
        async fn $name() {
            assert_fault_breaks_only_its_rules(support::Fault::$fault).await;
        }
    )*};
}

fault_tests! {
    grant_with_200_fails_acquire_201 => LockGrant200,
    lock_creating_a_missing_resource_fails_acquire_missing_404 => LockMissingCreates,
    uncapped_ttl_warns_ttl_capped => TtlUncapped,
    busy_without_retry_after_fails_busy_423 => BusyWithoutRetryAfter,
    writes_ignoring_the_lock_fail_write_without_token_423 => WritesIgnoreLock,
    token_switching_if_match_off_fails_holder_writes => TokenSkipsIfMatch,
    stale_token_accepted_when_free_fails_stale_token_412 => StaleTokenAccepted,
    locked_reads_fail_reads_unblocked => ReadsLocked,
    expired_lock_still_busy_fails_expiry => ExpiredLockStillBusy,
    renewal_that_does_not_extend_fails_renew => RenewDoesNotExtend,
    release_with_any_token_fails_release => ReleaseWithAnyToken,
    reused_tokens_fail_token_unique => TokensReused,
    racy_grant_fails_mutual_exclusion => RacyGrant,
    waiters_served_by_deadline_warn_queue_fifo => QueueByDeadline,
    full_queue_answering_423_warns_queue_full_503 => QueueFullAnswers423,
}
