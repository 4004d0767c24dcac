//! Proof that every `idempotency` rule can fail: the fault-free emulation (which honours keys)
//! passes them, the reference server passes them, and for each rule a server that breaks
//! exactly that rule makes it fail while no other rule is misjudged.

mod support;

use ifmatch_conformance::rules::Profile;
use ifmatch_conformance::verdict::Verdict;
use support::{
    assert_all_pass, assert_fault_breaks_only_its_rules, check, config, emulated, fault_options,
    rules_of,
};

const PROFILES: [Profile; 2] = [Profile::Core, Profile::Idempotency];

#[tokio::test]
async fn fault_free_emulation_passes_every_idempotency_rule() {
    let server = emulated(fault_options(None)).await;
    let report = check(&config(&server.uri(), &PROFILES, 412)).await;
    assert_eq!(rules_of(&report, Profile::Idempotency), 4);
    assert_all_pass(&report);
}

#[tokio::test]
async fn the_reference_server_passes_the_idempotency_profile() {
    let server = ifmatch_server::spawn(ifmatch_server::Config::new())
        .await
        .unwrap();
    let report = check(&config(&server.base_url(), &[Profile::Idempotency], 412)).await;
    for o in &report.outcomes {
        assert!(
            matches!(o.verdict, Verdict::Pass | Verdict::Info),
            "{}: {} {}",
            o.id,
            o.verdict.as_str(),
            o.message
        );
    }
    assert_eq!(report.outcomes.len(), 4);
    server.shutdown().await;
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
    ignored_keys_fail_every_replay_rule => KeysIgnored,
    a_replayed_create_that_creates_again_fails_replay_create => ReplayCreatesAgain,
    a_replay_that_writes_again_fails_replay_conditional_write => ReplayWritesAgain,
    a_reused_key_processed_fails_key_reuse_422 => ReusedKeyProcessed,
}
