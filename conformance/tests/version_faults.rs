//! Proof that every `versions` rule can fail: the fault-free emulation (with history
//! and API version 2) passes every versions rule, a server without history or
//! without v2 has those rules skipped with one clear reason each, and for each rule
//! a server that breaks exactly that rule makes it fail (or warn, for SHOULD rules
//! and a missing `Vary`) while no other rule is misjudged.

mod support;

use ifmatch_conformance::report::Report;
use ifmatch_conformance::rules::{ApiPrefixes, Profile};
use ifmatch_conformance::verdict::Verdict;
use support::{
    assert_all_pass, assert_fault_breaks_only_its_rules, assert_only_broken, check, config,
    emulated, fault_options, rules_of, Fault, Options,
};

const PROFILES: [Profile; 2] = [Profile::Core, Profile::Versions];
const HISTORY: &str = "versions.history-lists-writes";
const PREFIX: &str = "versions.api-prefix";
/// The rules that build on the history, then on API version 2.
const AFTER_HISTORY: [&str; 5] = [
    "versions.read-past-version",
    "versions.restore",
    "versions.unknown-version-404",
    "versions.tombstone",
    "versions.version-visible",
];
const AFTER_PREFIX: [&str; 9] = [
    "versions.api-header",
    "versions.api-unknown",
    "versions.etag-per-representation",
    "versions.cross-etag-stale",
    "versions.cross-etag",
    "versions.deprecation-headers",
    "versions.body-version-current",
    "versions.body-version-stale",
    "versions.body-version-create-only",
];

fn with_versions(history: bool, api_v2: bool) -> Options {
    Options {
        history,
        api_v2,
        ..fault_options(None)
    }
}

#[tokio::test]
async fn fault_free_emulation_passes_every_versions_rule() {
    let server = emulated(with_versions(true, true)).await;
    let report = check(&config(&server.uri(), &PROFILES, 412)).await;
    assert_eq!(rules_of(&report, Profile::Versions), 16);
    assert_all_pass(&report);
    let cross = report.outcome("versions.cross-etag").unwrap();
    assert!(cross.message.contains("accepted it"), "{}", cross.message);
}

/// Asserts that `first` skipped saying `says`, and each of `after` because of it.
fn assert_skipped_after(report: &Report, first: &str, says: &str, after: &[&str]) {
    let head = report.outcome(first).unwrap();
    assert_eq!(head.verdict, Verdict::Skip, "{}", head.message);
    assert!(head.message.contains(says), "{}", head.message);
    for id in after {
        let o = report.outcome(id).unwrap();
        assert_eq!(o.verdict, Verdict::Skip, "{id}: {}", o.message);
        assert_eq!(o.message, format!("prerequisite {first} was skip"), "{id}");
    }
}

#[tokio::test]
async fn a_server_without_history_or_v2_has_their_rules_skipped_for_one_reason_each() {
    let server = emulated(with_versions(false, false)).await;
    let report = check(&config(&server.uri(), &[Profile::Versions], 412)).await;
    assert_skipped_after(&report, HISTORY, "keeps no history", &AFTER_HISTORY);
    assert!(report
        .outcome(HISTORY)
        .unwrap()
        .message
        .contains("--versions-path"));
    assert_skipped_after(&report, PREFIX, "offers no API version 2", &AFTER_PREFIX);
    assert!(report
        .outcome(PREFIX)
        .unwrap()
        .message
        .contains("--api-prefixes"));
    assert_eq!(report.exit_code(), 0);
}

#[tokio::test]
async fn history_without_v2_is_judged_alone_and_v2_without_history_too() {
    let server = emulated(with_versions(true, false)).await;
    let report = check(&config(&server.uri(), &[Profile::Versions], 412)).await;
    for id in [HISTORY].iter().chain(&AFTER_HISTORY[..4]) {
        let o = report.outcome(id).unwrap();
        assert_eq!(o.verdict, Verdict::Pass, "{id}: {}", o.message);
    }
    assert_skipped_after(&report, PREFIX, "offers no API version 2", &AFTER_PREFIX);
    let server = emulated(with_versions(false, true)).await;
    let report = check(&config(&server.uri(), &[Profile::Versions], 412)).await;
    assert_skipped_after(&report, HISTORY, "keeps no history", &AFTER_HISTORY);
    for o in report
        .outcomes
        .iter()
        .filter(|o| AFTER_PREFIX.contains(&o.id.as_str()))
    {
        assert!(o.verdict.kept(), "{}: {}", o.id, o.message);
    }
}

#[tokio::test]
async fn history_and_api_versions_elsewhere_are_found_through_their_flags() {
    let server = emulated(with_versions(true, true)).await;
    let mut cfg = config(&server.uri(), &[Profile::Versions], 412);
    cfg.rule_patterns = vec![HISTORY.into(), PREFIX.into()];
    cfg.versions_path = "{item}/history".into();
    cfg.api_prefixes = ApiPrefixes::parse("v2=/api/2").unwrap();
    let missed = check(&cfg).await;
    for o in &missed.outcomes {
        assert_eq!(o.verdict, Verdict::Skip, "{}", o.id);
    }
    assert!(missed.outcomes[0].message.contains("/history"));
    assert!(missed.outcomes[1].message.contains("/api/2/items/"));
    cfg.versions_path = "/items/{id}/versions".into();
    cfg.api_prefixes = ApiPrefixes::default();
    let found = check(&cfg).await;
    for o in &found.outcomes {
        assert_eq!(o.verdict, Verdict::Pass, "{}: {}", o.id, o.message);
    }
}

#[tokio::test]
async fn declared_409_makes_stale_body_versions_non_strict() {
    let server = emulated(Options {
        mismatch_status: 409,
        ..with_versions(true, true)
    })
    .await;
    let mut cfg = config(&server.uri(), &[Profile::Versions], 409);
    cfg.rule_patterns = vec![PREFIX.into(), "versions.*stale".into()];
    let report = check(&cfg).await;
    for id in ["versions.body-version-stale", "versions.cross-etag-stale"] {
        let o = report.outcome(id).unwrap();
        assert_eq!(o.verdict, Verdict::NonStrict, "{id}: {}", o.message);
    }
    assert_eq!(report.exit_code(), 0);
}

#[tokio::test]
async fn missing_vary_only_warns_api_header() {
    let server = emulated(fault_options(Some(Fault::NoVary))).await;
    let report = check(&config(&server.uri(), &Fault::NoVary.profiles(), 412)).await;
    assert_only_broken(&report, &Fault::NoVary.breaks());
    let header = report.outcome("versions.api-header").unwrap();
    assert_eq!(header.verdict, Verdict::Warn, "{}", header.message);
    assert!(header.message.contains("Vary"), "{}", header.message);
    assert_eq!(report.exit_code(), 0);
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
    history_without_the_create_fails_history_lists_writes => HistoryMissesCreate,
    past_version_with_the_current_body_fails_read_past_version => PastVersionWrongBody,
    restore_that_rewinds_history_fails_restore => RestoreRewindsHistory,
    version_numbers_of_other_documents_fail_unknown_version_404 => UnknownVersionAnyDoc,
    delete_forgetting_history_warns_tombstone => TombstoneMissing,
    missing_v1_prefix_fails_api_prefix => V1PrefixMissing,
    ignored_api_version_header_fails_api_header => ApiHeaderIgnored,
    unknown_api_version_served_fails_api_unknown => UnknownApiVersionServedAsV1,
    shared_tags_fail_etag_per_representation => V2SharesV1Tag,
    stale_v1_tag_accepted_on_v2_fails_cross_etag_stale => CrossTagStaleAccepted,
    deprecation_as_a_date_warns_deprecation_headers => DeprecationAsDate,
    writes_without_version_fail_version_visible => VersionHeaderMissingOnWrites,
    misread_body_version_fails_body_version_current => BodyVersionCurrentRefused,
    ignored_stale_body_version_fails_body_version_stale => BodyVersionStaleAccepted,
    ignored_version_zero_fails_body_version_create_only => VersionZeroIgnored,
}
