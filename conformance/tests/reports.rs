//! Snapshot tests of the human- and machine-facing reports, from a deterministic
//! run against the emulated server with two faults (one MUST, one SHOULD).

mod support;

use ifmatch_conformance::check::CheckConfig;
use ifmatch_conformance::report::{render_html, render_json, render_junit, render_text, Report};
use ifmatch_conformance::rules::{Profile, CATALOGUE};
use ifmatch_conformance::verdict::Verdict;
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
    let mut cfg = serial_config(&server.uri(), &[Profile::Core], 412);
    cfg.headers = vec![("Authorization".into(), "Bearer secret-token".into())];
    cfg.rule_patterns = CATALOGUE
        .iter()
        .filter(|r| r.profile == Profile::Core && !r.id.starts_with("core.concurrency"))
        .map(|r| r.id.to_owned())
        .collect();
    (without_durations(check(&cfg).await), server.uri())
}

/// [`config`] with the rules run one after another: the emulated server numbers its tags
/// by request, so the reports (and their snapshots) need one order.
fn serial_config(base_url: &str, profiles: &[Profile], mismatch_status: u16) -> CheckConfig {
    let mut cfg = config(base_url, profiles, mismatch_status);
    cfg.parallel_rules = 1;
    cfg
}

/// The report with every duration set to 0: timings differ between runs.
fn without_durations(mut report: Report) -> Report {
    for o in &mut report.outcomes {
        o.duration_ms = 0;
    }
    report.elapsed_ms = 0;
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
        html.matches(" data-verdict=").count(),
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
    let mut cfg = serial_config(&server.uri(), &[Profile::Locking], 412);
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

/// A stale write that was applied is shown with the write itself (its request and
/// its curl), the re-read that proved it, a diff of the two bodies and the atomic
/// UPDATE as the fix, in every format.
#[tokio::test]
async fn an_applied_stale_write_is_shown_with_its_write_diff_and_fix() {
    let server = emulated(Options {
        faults: vec![Fault::StalePutAccepted],
        mismatch_status: 412,
        ..Options::default()
    })
    .await;
    let mut cfg = serial_config(&server.uri(), &[Profile::Core], 412);
    cfg.rule_patterns = vec!["core.if-match.stale-put".into()];
    let report = without_durations(check(&cfg).await);
    let outcome = report.outcome("core.if-match.stale-put").unwrap();
    assert_eq!(outcome.verdict, Verdict::Fail, "{}", outcome.message);
    let failure = outcome.failure.as_ref().unwrap();
    let write = failure.write.as_ref().expect("the stale write is evidence");
    assert_eq!(write.request.method, "PUT");
    assert!(write.curl.starts_with("curl -i -X PUT"), "{}", write.curl);
    assert_eq!(failure.request.as_ref().unwrap().method, "GET");
    assert!(failure.diff.is_some(), "a diff of sent vs stored");
    let hint = outcome.hint.as_ref().unwrap();
    assert!(
        hint.fix.contains("WHERE id = ? AND version = ?"),
        "{hint:?}"
    );

    let text = render_text(&report);
    assert!(text.contains("  write:     PUT "), "{text}");
    assert!(text.contains("  then read: curl -i -X GET"), "{text}");
    assert!(text.contains("stored as sent:"), "{text}");
    assert!(text.contains("  fix:       Make the comparison part of the write"));
    let json: serde_json::Value = serde_json::from_str(&render_json(&report)).unwrap();
    let rule = &json["rules"][0];
    assert_eq!(rule["failure"]["write"]["request"]["method"], "PUT");
    assert!(rule["failure"]["diff"].is_array());
    assert!(rule["hint"]["cause"]
        .as_str()
        .unwrap()
        .contains("stale If-Match"));
    assert!(render_junit(&report).contains("reproduce: curl -i -X PUT"));
    assert!(render_html(&report).contains("<b>Reproduce the write</b>"));
}

/// A server that answers the start-up check and then drops every connection:
/// rules it cannot answer are harness errors (`<error>` in JUnit), still `fail`.
#[tokio::test]
async fn a_server_that_stops_answering_gives_harness_errors() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let mut first = true;
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            if first {
                first = false;
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n[]")
                    .await;
            }
            drop(socket);
        }
    });
    let mut cfg = serial_config(&base, &[Profile::Core], 412);
    cfg.rule_patterns = vec!["core.create.post-201".into()];
    let report = without_durations(check(&cfg).await);
    server.abort();
    let outcome = &report.outcomes[0];
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(outcome.harness_error, "{}", outcome.message);
    assert!(outcome
        .hint
        .as_ref()
        .unwrap()
        .cause
        .contains("did not answer"));
    assert_eq!(report.exit_code(), 1);
    assert_eq!(
        report.failure_reasons(),
        ["1 rule could not be judged: the server did not answer"]
    );
    let xml = render_junit(&report);
    assert!(xml.contains("failures=\"0\" errors=\"1\""), "{xml}");
    assert!(xml.contains("<error message="), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
}

/// Rules a failed prerequisite kept from running are marked, counted at the top,
/// and fail the run only with `fail_on_skipped`.
#[tokio::test]
async fn blocked_rules_are_marked_and_fail_the_run_only_when_asked() {
    let (report, _) = faulty_report().await;
    let blocked: Vec<&str> = report
        .outcomes
        .iter()
        .filter(|o| o.blocked_by.is_some())
        .map(|o| o.id.as_str())
        .collect();
    assert!(
        !blocked.is_empty(),
        "the RejectCurrentPut fault blocks rules"
    );
    for o in report.outcomes.iter().filter(|o| o.blocked_by.is_some()) {
        assert_eq!(o.verdict, Verdict::Skip);
        assert!(o.message.starts_with("prerequisite "), "{}", o.message);
    }
    let groups = report.not_run();
    assert_eq!(
        groups.iter().map(|g| g.rules.len()).sum::<usize>(),
        blocked.len()
    );
    assert!(render_text(&report).contains("\nnot run:  "));
    assert!(!report.fail_on_skipped);
    assert!(report
        .failure_reasons()
        .iter()
        .all(|r| !r.contains("--fail-on-skipped")));
}

/// A server that ignores `If-Match` is told so first, in every format, before any
/// verdict, with the write that proved it and the fix.
#[tokio::test]
async fn a_server_ignoring_if_match_is_the_headline_of_every_format() {
    let server = emulated(Options {
        faults: vec![Fault::IgnoreIfMatch],
        mismatch_status: 412,
        ..Options::default()
    })
    .await;
    let mut cfg = serial_config(&server.uri(), &[Profile::Core], 412);
    cfg.rule_patterns = vec![
        "core.create.post-201".into(),
        "core.etag.strong-on-get".into(),
        "core.if-match.honoured".into(),
        "core.if-match.stale-put".into(),
    ];
    let report = without_durations(check(&cfg).await);
    let headline = report.headline().expect("a headline").to_owned();
    assert!(
        headline.starts_with("This server ignores If-Match:"),
        "{headline}"
    );
    let text = render_text(&report);
    let at = text.find(&headline).unwrap();
    assert!(at < text.find("summary:").unwrap() && at < text.find("\nFAIL ").unwrap());
    let html = render_html(&report);
    let escaped = headline
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;");
    assert!(html.find(&escaped).unwrap() < html.find("<h1>").unwrap());
    let json: serde_json::Value = serde_json::from_str(&render_json(&report)).unwrap();
    assert_eq!(json["headline"], headline.as_str());
    let xml = render_junit(&report);
    assert!(xml.contains("<property name=\"headline\" value=\"This server ignores If-Match:"));
    let honoured = report.outcome("core.if-match.honoured").unwrap();
    let write = &honoured.failure.as_ref().unwrap().write;
    assert!(write.is_some(), "the write that was applied is shown");
    insta::assert_snapshot!("ignores_if_match_text", stable(&text, &server.uri()));
}

/// A rule skipped for its own reason (no 429 came) keeps its dependants from
/// running: with `fail_on_skipped` that fails the run, and every format says why.
#[tokio::test]
async fn fail_on_skipped_fails_a_run_whose_rules_a_skip_kept_from_running() {
    let server = emulated(Options::default()).await;
    let mut cfg = serial_config(&server.uri(), &[Profile::RateLimit], 412);
    let lenient = check(&cfg).await;
    let blocked: Vec<&str> = lenient
        .outcomes
        .iter()
        .filter(|o| o.blocked_by.is_some())
        .map(|o| o.id.as_str())
        .collect();
    assert!(!blocked.is_empty(), "a server without 429 blocks rules");
    assert_eq!(lenient.exit_code(), 0, "{:?}", lenient.failure_reasons());

    cfg.fail_on_skipped = true;
    let strict = without_durations(check(&cfg).await);
    assert_eq!(strict.exit_code(), 1);
    let group = &strict.not_run()[0];
    assert_eq!(group.verdict, Verdict::Skip);
    assert!(
        group.sentence().contains("was skipped"),
        "{}",
        group.sentence()
    );
    let text = render_text(&strict);
    assert!(text.contains("and --fail-on-skipped is set"), "{text}");
    let xml = render_junit(&strict);
    assert!(xml.contains("type=\"not-run\""), "{xml}");
    let json: serde_json::Value = serde_json::from_str(&render_json(&strict)).unwrap();
    assert_eq!(json["passed"], false);
    assert_eq!(json["fail_on_skipped"], true);
}

/// Rules whose prerequisite does not apply to the target (`[errors] format = "any"`)
/// do not apply either: skipped saying so, not counted as kept from running, and
/// `fail_on_skipped` does not fail the run for them.
#[tokio::test]
async fn dependants_of_a_rule_that_does_not_apply_do_not_apply_either() {
    let server = emulated(Options::default()).await;
    let mut cfg = serial_config(&server.uri(), &[Profile::Errors], 412);
    cfg.shape.errors.format = ifmatch_conformance::target::ErrorFormat::Any;
    cfg.fail_on_skipped = true;
    let report = check(&cfg).await;
    let media = report.outcome("errors.problem.media-type").unwrap();
    assert!(
        media.message.starts_with("not applicable"),
        "{}",
        media.message
    );
    let status = report.outcome("errors.problem.status-member").unwrap();
    assert_eq!(status.verdict, Verdict::Skip);
    assert!(
        status.message.starts_with(
            "not applicable (errors.problem.media-type is not, and this rule builds on it): "
        ),
        "{}",
        status.message
    );
    assert!(report.outcomes.iter().all(|o| o.blocked_by.is_none()));
    assert!(report.not_run().is_empty());
    assert_eq!(report.exit_code(), 0, "{:?}", report.failure_reasons());
}
