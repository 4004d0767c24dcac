//! The reports of a hand-built run with everything a reader needs to fix a server:
//! the headline when `If-Match` is ignored, rules a prerequisite kept from running,
//! the write that broke a rule with its `curl`, the diff of what was sent against
//! what was stored, the likely cause and fix, a warning and a harness error.
//! Rendered in all four formats and snapshotted.

#[path = "report_evidence/xml.rs"]
mod xml;

use ifmatch_conformance::http::{Exchange, RecordedRequest, RecordedResponse};
use ifmatch_conformance::report::hints::{harness_hint, hint_for};
use ifmatch_conformance::report::{
    render_html, render_json, render_junit, render_text, Failure, Outcome, Report,
};
use ifmatch_conformance::rules::{Level, Profile};
use ifmatch_conformance::verdict::Verdict;

const BASE: &str = "http://127.0.0.1:8080";
const NEVER: &str = "\"ifmatch-conformance-never-a-version\"";

fn exchange(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    status: u16,
    answer_headers: &[(&str, &str)],
    answer: &str,
) -> Exchange {
    let pairs = |h: &[(&str, &str)]| -> Vec<(String, String)> {
        h.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    };
    Exchange {
        request: RecordedRequest {
            method: method.into(),
            url: format!("{BASE}{path}"),
            headers: pairs(headers),
            body: body.map(str::to_owned),
        },
        response: RecordedResponse {
            status,
            headers: pairs(answer_headers),
            body: answer.into(),
        },
    }
}

fn outcome(id: &str, level: Level, verdict: Verdict, message: &str) -> Outcome {
    Outcome {
        id: id.into(),
        level,
        profile: Profile::Core,
        rfc: "RFC 9110 §13.1.1".into(),
        summary: format!("What a conforming server does for {id}."),
        verdict,
        message: message.into(),
        failure: None,
        hint: None,
        blocked_by: None,
        harness_error: false,
        duration_ms: 12,
    }
}

/// A rule broken by `write` and shown by `reread`, with its hint.
fn broken(
    id: &str,
    level: Level,
    verdict: Verdict,
    observed: &str,
    write: Option<&Exchange>,
    reread: &Exchange,
) -> Outcome {
    let mut o = outcome(id, level, verdict, observed);
    let failure = Failure::new(
        "what a conforming server does",
        observed,
        Some(reread),
        write,
    );
    o.hint = Some(hint_for(id, Some(&failure)));
    o.failure = Some(failure);
    o
}

fn blocked(id: &str, by: &str, by_verdict: &str) -> Outcome {
    let mut o = outcome(
        id,
        Level::Must,
        Verdict::Skip,
        &format!("prerequisite {by} was {by_verdict}"),
    );
    o.blocked_by = Some(by.into());
    o.duration_ms = 0;
    o
}

fn ignoring_server_report(fail_on_skipped: bool) -> Report {
    let auth = ("Authorization", "<redacted>");
    let json = ("Content-Type", "application/json");
    let ignored_put = exchange(
        "PUT",
        "/items/7",
        &[auth, json, ("If-Match", NEVER)],
        Some(r#"{"n":2,"rule":"core.if-match.honoured"}"#),
        200,
        &[("etag", "\"8\"")],
        "",
    );
    let reread = exchange(
        "GET",
        "/items/7",
        &[auth],
        None,
        200,
        &[("content-type", "application/json"), ("etag", "\"8\"")],
        r#"{"id":7,"n":2,"rule":"core.if-match.honoured"}"#,
    );
    let patch = exchange(
        "PATCH",
        "/items/9",
        &[
            auth,
            ("Content-Type", "application/merge-patch+json"),
            ("If-Match", "\"3\""),
        ],
        Some(r#"{"n":2,"gone":null}"#),
        200,
        &[("etag", "\"3\"")],
        "",
    );
    let patch_reread = exchange(
        "GET",
        "/items/9",
        &[auth],
        None,
        200,
        &[("etag", "\"3\"")],
        r#"{"gone":true,"id":9,"n":1}"#,
    );
    let created = exchange(
        "POST",
        "/items",
        &[auth, json],
        Some(r#"{"n":1}"#),
        201,
        &[("location", "/items/5"), ("etag", "W/\"d-xyz\"")],
        r#"{"id":5,"n":1}"#,
    );
    let mut harness = outcome(
        "core.if-match.stale-delete",
        Level::Must,
        Verdict::Fail,
        "error sending request: connection reset by peer",
    );
    harness.failure = Some(Failure::new(
        "the server answers every request",
        "error sending request: connection reset by peer",
        None,
        None,
    ));
    harness.hint = Some(harness_hint());
    harness.harness_error = true;
    Report {
        tool_version: "0.0.0-test".into(),
        target: BASE.into(),
        collection: "/items".into(),
        profiles: vec![Profile::Core],
        mismatch_status: 412,
        fail_on_skipped,
        elapsed_ms: 345,
        outcomes: vec![
            outcome(
                "core.create.post-201",
                Level::Must,
                Verdict::Pass,
                "201 Created with Location /items/5",
            ),
            broken(
                "core.create.etag",
                Level::Should,
                Verdict::Warn,
                "201 said W/\"d-xyz\", the next GET said W/\"d-xyz\"",
                None,
                &created,
            ),
            outcome(
                "core.etag.strong-on-get",
                Level::Must,
                Verdict::Pass,
                "GET returned strong ETag \"7\"",
            ),
            broken(
                "core.if-match.honoured",
                Level::Must,
                Verdict::Fail,
                "This server ignores If-Match: a PUT with If-Match \"ifmatch-conformance-never-a-version\" answered 200 and the re-read shows the body it sent.",
                Some(&ignored_put),
                &reread,
            ),
            broken(
                "core.if-match.current-patch",
                Level::Must,
                Verdict::Fail,
                "member \"n\" is 1",
                Some(&patch),
                &patch_reread,
            ),
            blocked(
                "core.etag.changes-on-patch",
                "core.if-match.current-patch",
                "fail",
            ),
            blocked(
                "core.concurrency.single-winner",
                "core.if-match.honoured",
                "fail",
            ),
            blocked(
                "core.concurrency.no-lost-update",
                "core.concurrency.single-winner",
                "skip",
            ),
            harness,
            outcome(
                "core.validators.last-modified",
                Level::Info,
                Verdict::Info,
                "GET sends no Last-Modified",
            ),
            outcome(
                "core.if-none-match.star-creates",
                Level::Must,
                Verdict::Skip,
                "not applicable: this server does not create by PUT",
            ),
        ],
    }
}

#[test]
fn text_report_leads_with_the_headline_and_shows_the_write() {
    let text = render_text(&ignoring_server_report(true));
    let first_lines: Vec<&str> = text.lines().take(4).collect();
    assert!(
        first_lines
            .iter()
            .any(|l| l.starts_with("!!! This server ignores If-Match:")),
        "{first_lines:?}"
    );
    insta::assert_snapshot!("evidence_text", text);
}

#[test]
fn json_report_carries_write_diff_hint_and_not_run() {
    let report = ignoring_server_report(true);
    let value: serde_json::Value = serde_json::from_str(&render_json(&report)).unwrap();
    assert!(value["headline"]
        .as_str()
        .unwrap()
        .starts_with("This server ignores If-Match:"));
    assert_eq!(
        value["not_run"][0]["prerequisite"],
        "core.if-match.current-patch"
    );
    assert_eq!(
        value["not_run"][1]["rules"],
        serde_json::json!([
            "core.concurrency.single-winner",
            "core.concurrency.no-lost-update"
        ])
    );
    let honoured = &value["rules"][3];
    assert_eq!(honoured["failure"]["write"]["request"]["method"], "PUT");
    assert_eq!(honoured["failure"]["diff"][2]["pointer"], "/id");
    assert_eq!(honoured["failure"]["diff"][2]["change"], "added");
    assert_eq!(value["exit_code"], 1);
    insta::assert_snapshot!("evidence_json", render_json(&report));
}

#[test]
fn junit_report_is_well_formed_with_times_warnings_and_errors() {
    let report = ignoring_server_report(true);
    let junit = render_junit(&report);
    let suite = xml::check(&junit).expect("well-formed JUnit XML");
    assert_eq!(suite.testcases, report.outcomes.len());
    // 2 failures + 3 not run under --fail-on-skipped; 1 harness error; 1 plain skip.
    assert_eq!(suite.attr("testsuite", "tests"), "11");
    assert_eq!(suite.attr("testsuite", "failures"), "5");
    assert_eq!(suite.attr("testsuite", "errors"), "1");
    assert_eq!(suite.attr("testsuite", "skipped"), "1");
    assert_eq!(suite.attr("testsuite", "time"), "0.096");
    assert_eq!(suite.count("failure"), 5);
    assert_eq!(suite.count("error"), 1);
    assert_eq!(suite.count("skipped"), 1);
    assert!(junit.contains("name=\"core.create.etag [warn]\" time=\"0.012\""));
    assert!(junit.contains("<system-err>WARN: 201 said W/"));
    insta::assert_snapshot!("evidence_junit", junit);

    let lenient = render_junit(&ignoring_server_report(false));
    let suite = xml::check(&lenient).expect("well-formed JUnit XML");
    assert_eq!(suite.attr("testsuite", "failures"), "2");
    assert_eq!(suite.attr("testsuite", "skipped"), "4");
    assert_eq!(suite.count("skipped"), 4);
}

#[test]
fn html_report_is_self_contained_with_headline_first() {
    let html = render_html(&ignoring_server_report(true));
    let headline = html.find("class=\"headline\"").expect("a headline");
    assert!(headline < html.find("<h1>").unwrap());
    assert!(headline < html.find("<table id=\"rules\"").unwrap());
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    assert!(html.contains("<b>Reproduce the write</b><pre>curl -i -X PUT"));
    assert!(html.contains("added by the server (allowed)"));
    // The filter walks the rules table's own rows, not the diff tables nested in them
    // (those have no verdict and would vanish on the first filter).
    assert!(html.contains("querySelectorAll('#rules > tbody > tr')"));
    // The rules-not-run box links each prerequisite to its row.
    assert!(html.contains("<a href=\"#rule-core.if-match.honoured\">"));
    assert!(html.contains("<tr id=\"rule-core.if-match.honoured\""));
    insta::assert_snapshot!("evidence_html", html);
}

#[test]
fn fail_on_skipped_decides_whether_blocked_rules_fail_the_run() {
    let mut report = ignoring_server_report(false);
    report.outcomes.retain(|o| o.verdict != Verdict::Fail);
    assert_eq!(report.exit_code(), 0, "{:?}", report.failure_reasons());
    report.fail_on_skipped = true;
    assert_eq!(report.exit_code(), 1);
    assert_eq!(
        report.failure_reasons(),
        ["3 rules not run because a prerequisite failed or was skipped, and --fail-on-skipped is set"]
    );
    let text = render_text(&report);
    assert!(text.contains("result:   FAILED (3 rules not run because a prerequisite failed"));
}

#[test]
fn not_run_groups_chains_under_their_root() {
    let report = ignoring_server_report(false);
    let sentences: Vec<String> = report.not_run().iter().map(|g| g.sentence()).collect();
    assert_eq!(
        sentences,
        [
            "1 rule not run because core.if-match.current-patch failed: core.etag.changes-on-patch",
            "2 rules not run because core.if-match.honoured failed: core.concurrency.single-winner, core.concurrency.no-lost-update",
        ]
    );
}
