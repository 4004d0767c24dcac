//! Shared test support: the emulated server, its faults, and helpers to run the
//! checker and judge a report.
#![allow(dead_code, unused_imports)]

pub mod emulator;
pub mod faults;
pub mod merge;
pub mod notify;

use ifmatch_conformance::check::{self, CheckConfig};
use ifmatch_conformance::report::Report;
use ifmatch_conformance::rules::{Level, Profile, CATALOGUE};
use ifmatch_conformance::verdict::Verdict;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

pub use emulator::{Emulator, Options};
pub use faults::Fault;

/// The token bucket of emulated servers checked for the `rate-limit` profile.
pub const RATE: u32 = 30;

/// Emulator options for a test of `fault` (or of no fault): the behaviours its
/// profiles need, switched on.
pub fn fault_options(fault: Option<Fault>) -> Options {
    let profiles = fault.map_or(vec![], |f| f.profiles());
    Options {
        faults: fault.into_iter().collect(),
        mismatch_status: 412,
        require_preconditions: profiles.contains(&Profile::RequirePreconditions),
        rate_limit: profiles.contains(&Profile::RateLimit).then_some(RATE),
        no_locks: false,
        no_batches: false,
        no_transactions: false,
        conflicts: profiles.contains(&Profile::Notifications),
        history: profiles.contains(&Profile::Versions),
        api_v2: profiles.contains(&Profile::Versions),
    }
}

/// Checks an emulated server with `fault` and asserts that exactly the fault's
/// rules fail or warn, and that the exit status says whether a MUST rule broke.
pub async fn assert_fault_breaks_only_its_rules(fault: Fault) {
    let server = emulated(fault_options(Some(fault))).await;
    let report = check(&config(&server.uri(), &fault.profiles(), 412)).await;
    assert_only_broken(&report, &fault.breaks());
    let must_broken = fault.breaks().iter().any(|id| {
        CATALOGUE
            .iter()
            .any(|r| r.id == *id && r.level == Level::Must)
    });
    assert_eq!(
        report.exit_code(),
        i32::from(must_broken),
        "exit status for {fault:?}"
    );
}

/// Starts a wiremock server that answers every request with the emulator.
pub async fn emulated(options: Options) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Emulator::new(options))
        .mount(&server)
        .await;
    server
}

/// A configuration with a fixed run token, so reports are deterministic.
pub fn config(base_url: &str, profiles: &[Profile], mismatch_status: u16) -> CheckConfig {
    let mut config = CheckConfig::new(base_url);
    config.profiles = profiles.to_vec();
    config.mismatch_status = mismatch_status;
    config.run_token = "test".into();
    config
}

/// Runs the checker and returns the report (panics on a setup error).
pub async fn check(config: &CheckConfig) -> Report {
    check::run(config, None)
        .await
        .expect("the checker could reach the server")
}

/// Asserts that exactly `broken` rules failed or warned, and that every other
/// rule passed, was non-strict or informational, or was skipped.
pub fn assert_only_broken(report: &Report, broken: &[&str]) {
    let mut problems = Vec::new();
    for id in broken {
        match report.outcome(id) {
            Some(o) if matches!(o.verdict, Verdict::Fail | Verdict::Warn) => {}
            Some(o) => problems.push(format!(
                "{id} should fail or warn but was {}: {}",
                o.verdict.as_str(),
                o.message
            )),
            None => problems.push(format!("{id} was not checked")),
        }
    }
    for o in &report.outcomes {
        if !broken.contains(&o.id.as_str()) && matches!(o.verdict, Verdict::Fail | Verdict::Warn) {
            problems.push(format!(
                "unrelated rule {} was misjudged as {}: {}",
                o.id,
                o.verdict.as_str(),
                o.message
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Asserts that every rule in `report` passed (informational rules informed) and that the
/// exit status is 0.
pub fn assert_all_pass(report: &Report) {
    for o in &report.outcomes {
        let expected = if o.level == Level::Info {
            Verdict::Info
        } else {
            Verdict::Pass
        };
        assert_eq!(o.verdict, expected, "{}: {}", o.id, o.message);
    }
    assert_eq!(report.exit_code(), 0);
}

/// How many rules of `profile` the report holds.
pub fn rules_of(report: &Report, profile: Profile) -> usize {
    report
        .outcomes
        .iter()
        .filter(|o| o.profile == profile)
        .count()
}

/// Replaces the random port and HTTP-dates (the `Date` header) in rendered
/// output so snapshots are stable.
pub fn stable(text: &str, base_url: &str) -> String {
    let mut out = text.replace(base_url, "http://SERVER");
    // An IMF-fixdate is 29 characters, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
    while let Some(at) = out.match_indices(" GMT").map(|(i, _)| i + 4).find(|&end| {
        end >= 29
            && out.is_char_boundary(end - 29)
            && httpdate::parse_http_date(&out[end - 29..end]).is_ok()
    }) {
        out.replace_range(at - 29..at, "<date>");
    }
    out
}
