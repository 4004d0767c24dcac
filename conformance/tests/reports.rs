//! Snapshot tests of the human- and machine-facing reports, from a deterministic
//! run against the emulated server with two faults (one MUST, one SHOULD).

mod support;

use ifmatch_conformance::report::{render_html, render_json, render_junit, render_text, Report};
use ifmatch_conformance::rules::{Profile, CATALOGUE};
use support::{check, config, emulated, stable, Fault, Options};

/// A report with a failure, its skipped dependants, a warning and passes. The
/// concurrency rules are left out: their evidence depends on thread timing.
async fn faulty_report() -> (Report, String) {
    let server = emulated(Options {
        faults: vec![Fault::RejectCurrentPut, Fault::NoCurrentEtagOnConflict],
        mismatch_status: 412,
        ..Options::default()
    })
    .await;
    let mut cfg = config(&server.uri(), &[Profile::Core], 412);
    cfg.headers = vec![("Authorization".into(), "Bearer secret-token".into())];
    cfg.rule_patterns = CATALOGUE
        .iter()
        .filter(|r| r.profile == Profile::Core && !r.id.starts_with("core.concurrency"))
        .map(|r| r.id.to_owned())
        .collect();
    (without_durations(check(&cfg).await), server.uri())
}

/// The report with every rule's duration set to 0: timings differ between runs.
fn without_durations(mut report: Report) -> Report {
    for o in &mut report.outcomes {
        o.duration_ms = 0;
    }
    report
}

#[tokio::test]
async fn text_report_lists_failures_first_with_evidence() {
    let (report, base) = faulty_report().await;
    insta::assert_snapshot!("text_report", stable(&render_text(&report), &base));
}

#[tokio::test]
async fn json_report_has_stable_fields() {
    let (report, base) = faulty_report().await;
    insta::assert_snapshot!("json_report", stable(&render_json(&report), &base));
}

#[tokio::test]
async fn junit_report_has_one_testcase_per_rule() {
    let (report, base) = faulty_report().await;
    let xml = render_junit(&report);
    assert_eq!(xml.matches("<testcase ").count(), report.outcomes.len());
    insta::assert_snapshot!("junit_report", stable(&xml, &base));
}

#[tokio::test]
async fn secrets_never_reach_a_report() {
    let (report, _) = faulty_report().await;
    for text in [
        render_text(&report),
        render_json(&report),
        render_junit(&report),
        render_html(&report),
    ] {
        assert!(
            !text.contains("secret-token"),
            "a report leaked the Authorization value"
        );
    }
    assert!(render_text(&report).contains("Authorization: <redacted>"));
}

#[tokio::test]
async fn html_report_is_self_contained_with_filters_and_curl() {
    let (report, _) = faulty_report().await;
    let html = render_html(&report);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no external assets"
    );
    assert!(html.contains("id=\"filters\"") && html.contains("<script>"));
    assert_eq!(
        html.matches("<tr data-verdict=").count(),
        report.outcomes.len()
    );
    assert!(html.contains("<b>Reproduce</b><pre>curl -i -X PUT"));
    // Quotes in ETags inside the curl command are escaped, not raw.
    assert!(html.contains("If-Match: &quot;e"));
}

/// A locking failure reads like any other: the rule, what a conforming server
/// does, the write that got through, and a curl command that repeats it.
#[tokio::test]
async fn locking_failures_show_the_unlocked_write_and_its_repro() {
    let server = emulated(Options {
        faults: vec![Fault::WritesIgnoreLock],
        mismatch_status: 412,
        ..Options::default()
    })
    .await;
    let mut cfg = config(&server.uri(), &[Profile::Locking], 412);
    cfg.rule_patterns = vec![
        "locking.acquire-201".into(),
        "locking.write-without-token-423".into(),
    ];
    let report = without_durations(check(&cfg).await);
    assert_eq!(report.exit_code(), 1);
    let xml = render_junit(&report);
    assert_eq!(xml.matches("<testcase ").count(), 2);
    assert!(render_html(&report).contains("locking.write-without-token-423"));
    insta::assert_snapshot!(
        "locking_text_report",
        stable(&render_text(&report), &server.uri())
    );
}
