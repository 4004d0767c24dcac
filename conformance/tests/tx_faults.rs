//! Proof that every `transactions` rule can fail: the fault-free emulation (which
//! has batches and transactions) passes every transactions rule, a server without
//! them has them skipped with one clear reason each, and for each rule a server
//! that breaks exactly that rule makes it fail (or warn, for SHOULD rules) while no
//! other rule is misjudged.

mod support;

use ifmatch_conformance::rules::Profile;
use ifmatch_conformance::verdict::Verdict;
use support::{
    assert_all_pass, assert_fault_breaks_only_its_rules, check, config, emulated, fault_options,
    rules_of, Options,
};

const PROFILES: [Profile; 2] = [Profile::Core, Profile::Transactions];
const BATCH: &str = "transactions.batch-commits";
const BEGIN: &str = "transactions.tx-begin-201";

#[tokio::test]
async fn fault_free_emulation_passes_every_transactions_rule() {
    let server = emulated(fault_options(None)).await;
    let report = check(&config(&server.uri(), &PROFILES, 412)).await;
    assert_eq!(rules_of(&report, Profile::Transactions), 19);
    assert_all_pass(&report);
}

#[tokio::test]
async fn declared_409_makes_the_stale_batch_non_strict() {
    let server = emulated(Options {
        mismatch_status: 409,
        ..fault_options(None)
    })
    .await;
    let mut cfg = config(&server.uri(), &[Profile::Transactions], 409);
    cfg.rule_patterns = vec!["transactions.batch-*".into()];
    let declared = check(&cfg).await;
    let stale = declared
        .outcome("transactions.batch-all-or-nothing")
        .unwrap();
    assert_eq!(stale.verdict, Verdict::NonStrict, "{}", stale.message);
    assert_eq!(declared.exit_code(), 0);
    cfg.mismatch_status = 412;
    let undeclared = check(&cfg).await;
    let stale = undeclared
        .outcome("transactions.batch-all-or-nothing")
        .unwrap();
    assert_eq!(stale.verdict, Verdict::Warn, "{}", stale.message);
    // Declared in the target description instead (`[version] stale-status = [412, 409]`),
    // the batch is judged as the core rules judge a single request: non-strict.
    cfg.shape.version.stale_statuses = vec![412, 409];
    let described = check(&cfg).await;
    let stale = described
        .outcome("transactions.batch-all-or-nothing")
        .unwrap();
    assert_eq!(stale.verdict, Verdict::NonStrict, "{}", stale.message);
}

/// Asserts that the rules `under` skip with the first rule's reason.
fn assert_skipped_after(report: &ifmatch_conformance::report::Report, first: &str, says: &str) {
    let head = report.outcome(first).unwrap();
    assert_eq!(head.verdict, Verdict::Skip, "{}", head.message);
    assert!(head.message.contains(says), "{}", head.message);
    let kind = if first == BATCH {
        "transactions.batch-"
    } else {
        "transactions.tx-"
    };
    for o in report
        .outcomes
        .iter()
        .filter(|o| o.id.starts_with(kind) && o.id != first)
    {
        assert_eq!(o.verdict, Verdict::Skip, "{}", o.id);
        assert_eq!(
            o.message,
            format!("prerequisite {first} was skip"),
            "{}",
            o.id
        );
    }
}

#[tokio::test]
async fn a_server_without_batches_or_transactions_has_their_rules_skipped_for_one_reason_each() {
    let server = emulated(Options {
        no_batches: true,
        no_transactions: true,
        ..fault_options(None)
    })
    .await;
    let report = check(&config(&server.uri(), &[Profile::Transactions], 412)).await;
    assert_skipped_after(&report, BATCH, "offers no batches");
    assert!(report
        .outcome(BATCH)
        .unwrap()
        .message
        .contains("--batch-path"));
    assert_skipped_after(&report, BEGIN, "offers no transactions");
    assert!(report
        .outcome(BEGIN)
        .unwrap()
        .message
        .contains("--transactions-path"));
    let serializable = report
        .outcome("transactions.concurrency.serializable")
        .unwrap();
    assert_eq!(
        serializable.message,
        format!("prerequisite {BEGIN} was skip")
    );
    assert_eq!(report.exit_code(), 0);
}

#[tokio::test]
async fn batches_without_transactions_are_judged_alone() {
    let server = emulated(Options {
        no_transactions: true,
        ..fault_options(None)
    })
    .await;
    let report = check(&config(&server.uri(), &[Profile::Transactions], 412)).await;
    for o in report.outcomes.iter().filter(|o| o.id.contains(".batch-")) {
        assert_eq!(o.verdict, Verdict::Pass, "{}: {}", o.id, o.message);
    }
    assert_skipped_after(&report, BEGIN, "offers no transactions");
}

#[tokio::test]
async fn without_locks_the_lock_rules_are_skipped_saying_so() {
    let server = emulated(Options {
        no_locks: true,
        ..fault_options(None)
    })
    .await;
    let mut cfg = config(&server.uri(), &[Profile::Transactions], 412);
    cfg.rule_patterns = vec![
        BATCH.into(),
        BEGIN.into(),
        "transactions.*-locked-423".into(),
    ];
    let report = check(&cfg).await;
    for id in [
        "transactions.batch-locked-423",
        "transactions.tx-commit-locked-423",
    ] {
        let o = report.outcome(id).unwrap();
        assert_eq!(o.verdict, Verdict::Skip, "{id}: {}", o.message);
        assert!(o.message.contains("offers no locks"), "{}", o.message);
    }
    assert_eq!(report.exit_code(), 0);
}

#[tokio::test]
async fn batches_and_transactions_elsewhere_are_found_through_their_paths() {
    let server = emulated(fault_options(None)).await;
    let mut cfg = config(&server.uri(), &[Profile::Transactions], 412);
    cfg.rule_patterns = vec![BATCH.into(), BEGIN.into()];
    cfg.batch_path = "/v2/batch".into();
    cfg.transactions_path = "/v2/transactions".into();
    let missed = check(&cfg).await;
    for o in &missed.outcomes {
        assert_eq!(o.verdict, Verdict::Skip, "{}", o.id);
        assert!(o.message.contains("/v2/"), "{}", o.message);
    }
    cfg.batch_path = "/batch".into();
    cfg.transactions_path = "transactions".into();
    let found = check(&cfg).await;
    for o in &found.outcomes {
        assert_eq!(o.verdict, Verdict::Pass, "{}: {}", o.id, o.message);
    }
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
    batch_results_with_wrong_tags_fail_batch_commits => BatchWrongTags,
    operations_seeing_the_original_fail_batch_order => BatchOpsSeeOriginal,
    ignored_lid_refs_fail_batch_lid_ref => BatchLidRefsIgnored,
    partial_apply_on_a_stale_op_fails_all_or_nothing => BatchPartialOnStale,
    refusal_without_operation_warns_names_operation => BatchProblemWithoutOperation,
    skipped_missing_documents_fail_batch_missing_404 => BatchMissingSkipped,
    begin_with_200_fails_tx_begin_201 => TxBegin200,
    dirty_reads_fail_tx_isolation => TxDirtyReads,
    reads_missing_own_writes_fail_read_own_writes => TxReadsMissOwnWrites,
    read_committed_warns_repeatable_read => TxReadsCommitted,
    commit_skipping_deletes_fails_commit_applies => TxCommitSkipsDeletes,
    write_skew_fails_conflict_409 => TxWriteSkew,
    rollback_that_commits_fails_tx_rollback => TxRollbackCommits,
    transactions_that_never_expire_fail_tx_expiry => TxNeverExpires,
    recommit_applying_again_warns_commit_idempotent => TxRecommitApplies,
    unknown_ids_ignored_fail_tx_unknown_404 => TxUnknownIdIgnored,
    racy_commit_fails_serializable => TxRacyCommit,
    batches_ignoring_locks_fail_batch_locked_423 => BatchIgnoresLocks,
    commits_ignoring_locks_fail_tx_commit_locked_423 => TxCommitIgnoresLocks,
}
