//! The command line: listings, dry runs, exit statuses and error messages.

mod support;

use ifmatch_conformance::cli::{run, Io};
use support::{emulated, stable, Fault, Options};

struct Output {
    code: i32,
    out: String,
    err: String,
}

async fn cli(args: &[&str]) -> Output {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let argv = std::iter::once("ifmatch-conformance").chain(args.iter().copied());
    let code = run(
        argv,
        Io {
            out: &mut out,
            err: &mut err,
            progress: false,
        },
    )
    .await;
    Output {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

/// A loopback port that nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn rules_lists_every_rule() {
    let listed = cli(&["rules"]).await;
    assert_eq!(listed.code, 0);
    insta::assert_snapshot!("rules_text", listed.out);
    let json = cli(&["rules", "--format", "json"]).await;
    let rules: Vec<serde_json::Value> = serde_json::from_str(&json.out).unwrap();
    assert_eq!(rules.len(), ifmatch_conformance::rules::CATALOGUE.len());
    assert!(rules
        .iter()
        .all(|r| r["id"].is_string() && r["level"].is_string() && r["rfc"].is_string()));
}

#[tokio::test]
async fn help_documents_every_check_flag() {
    let help = cli(&["check", "--help"]).await;
    assert_eq!(help.code, 0);
    insta::assert_snapshot!("check_help", help.out);
}

#[tokio::test]
async fn dry_run_prints_the_plan_and_sends_nothing() {
    let port = closed_port();
    let base = format!("http://127.0.0.1:{port}");
    let planned = cli(&[
        "check",
        "--base-url",
        &base,
        "--dry-run",
        "--rule",
        "core.if-match.stale-put",
        "--rule",
        "core.precondition",
    ])
    .await;
    assert_eq!(planned.code, 0, "{}", planned.err);
    insta::assert_snapshot!("dry_run", stable(&planned.out, &base));
}

#[tokio::test]
async fn dry_run_shows_lock_requests_at_the_lock_path() {
    let base = format!("http://127.0.0.1:{}", closed_port());
    let planned = cli(&[
        "check",
        "--base-url",
        &base,
        "--dry-run",
        "--profile",
        "locking",
        "--lock-path",
        "/locks/{id}",
        "--rule",
        "locking.acquire-missing-404",
        "--rule",
        "locking.stale-token-412",
    ])
    .await;
    assert_eq!(planned.code, 0, "{}", planned.err);
    insta::assert_snapshot!("dry_run_locking", stable(&planned.out, &base));
}

#[tokio::test]
async fn dry_run_shows_batches_and_transactions_at_their_paths() {
    let base = format!("http://127.0.0.1:{}", closed_port());
    let planned = cli(&[
        "check",
        "--base-url",
        &base,
        "--dry-run",
        "--profile",
        "transactions",
        "--batch-path",
        "v2/batch/",
        "--transactions-path",
        "/v2/tx",
        "--rule",
        "transactions.batch-order",
        "--rule",
        "transactions.tx-rollback",
    ])
    .await;
    assert_eq!(planned.code, 0, "{}", planned.err);
    insta::assert_snapshot!("dry_run_transactions", stable(&planned.out, &base));
}

#[tokio::test]
async fn dry_run_shows_the_conflict_log_at_its_path_and_no_token() {
    let base = format!("http://127.0.0.1:{}", closed_port());
    let planned = cli(&[
        "check",
        "--base-url",
        &base,
        "--dry-run",
        "--profile",
        "notifications",
        "--conflicts-path",
        "v2/conflicts/",
        "--token",
        "alice=hunter2",
        "--rule",
        "notifications.stream-resume",
        "--rule",
        "notifications.resolve-other-client-403",
    ])
    .await;
    assert_eq!(planned.code, 0, "{}", planned.err);
    assert!(!planned.out.contains("hunter2"), "{}", planned.out);
    insta::assert_snapshot!("dry_run_notifications", stable(&planned.out, &base));
}

#[tokio::test]
async fn dry_run_shows_history_and_api_versions_at_their_places() {
    let base = format!("http://127.0.0.1:{}", closed_port());
    let planned = cli(&[
        "check",
        "--base-url",
        &base,
        "--dry-run",
        "--profile",
        "versions",
        "--versions-path",
        "/history/{id}",
        "--api-prefixes",
        "v1=,v2=/api/v2",
        "--rule",
        "versions.read-past-version",
        "--rule",
        "versions.cross-etag-stale",
        "--rule",
        "versions.body-version-create-only",
    ])
    .await;
    assert_eq!(planned.code, 0, "{}", planned.err);
    insta::assert_snapshot!("dry_run_versions", stable(&planned.out, &base));
}

#[tokio::test]
async fn unreachable_server_exits_2_and_says_what_to_fix() {
    let base = format!("http://127.0.0.1:{}", closed_port());
    let failed = cli(&["check", "--base-url", &base]).await;
    assert_eq!(failed.code, 2);
    assert!(
        failed
            .err
            .starts_with(&format!("error: cannot reach {base}: ")),
        "{}",
        failed.err
    );
    assert!(failed
        .err
        .contains("Check that the server is running and that --base-url is right."));
}

#[tokio::test]
async fn missing_collection_exits_2_and_names_the_flag() {
    let server = emulated(Options::default()).await;
    let failed = cli(&[
        "check",
        "--base-url",
        &server.uri(),
        "--collection",
        "/nope",
    ])
    .await;
    assert_eq!(failed.code, 2);
    insta::assert_snapshot!("missing_collection", stable(&failed.err, &server.uri()));
}

#[tokio::test]
async fn usage_errors_exit_2_with_advice() {
    let cases = [
        vec!["check", "--header", "Authorization Bearer x", "--dry-run"],
        vec!["check", "--profile", "core,batch", "--dry-run"],
        vec![
            "check",
            "--profile",
            "locking",
            "--lock-path",
            "/locks",
            "--dry-run",
        ],
        vec![
            "check",
            "--profile",
            "transactions",
            "--batch-path",
            "/",
            "--dry-run",
        ],
        vec![
            "check",
            "--profile",
            "versions",
            "--versions-path",
            "/history",
            "--dry-run",
        ],
        vec!["check", "--api-prefixes", "v3=/v3", "--dry-run"],
        vec!["check", "--rule", "core.nothing-like-this", "--dry-run"],
        vec!["check", "--base-url", "127.0.0.1:8080"],
        vec!["check", "--mismatch-status", "418"],
    ];
    let mut messages = String::new();
    for args in cases {
        let failed = cli(&args).await;
        assert_eq!(failed.code, 2, "{args:?}");
        messages.push_str(&format!(
            "$ {}\n{}\n",
            args.join(" "),
            failed.err.trim_end()
        ));
    }
    insta::assert_snapshot!("usage_errors", messages);
}

#[tokio::test]
async fn failing_server_exits_1_and_conforming_server_exits_0() {
    let broken = emulated(Options {
        faults: vec![Fault::StaleDeleteAccepted],
        ..Options::default()
    })
    .await;
    let failed = cli(&[
        "check",
        "--base-url",
        &broken.uri(),
        "--rule",
        "core.if-match",
    ])
    .await;
    assert_eq!(failed.code, 1, "{}", failed.out);
    assert!(failed.out.starts_with("ifmatch conformance report"));
    assert!(failed.out.contains("FAIL core.if-match.stale-delete"));
    let good = emulated(Options::default()).await;
    let passed = cli(&[
        "check",
        "--base-url",
        &good.uri(),
        "--rule",
        "core.if-match",
    ])
    .await;
    assert_eq!(passed.code, 0, "{}", passed.out);
}

#[tokio::test]
async fn output_file_receives_the_report_and_stderr_a_summary() {
    let server = emulated(Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.xml");
    let done = cli(&[
        "check",
        "--base-url",
        &server.uri(),
        "--rule",
        "core.etag",
        "--format",
        "junit",
        "--output",
        path.to_str().unwrap(),
    ])
    .await;
    assert_eq!(done.code, 0);
    assert!(done.out.is_empty());
    assert!(
        done.err.starts_with(
            "passed (0 fail, 0 warn, 0 non-strict, 4 pass, 0 info, 0 skip); report written to"
        ),
        "{}",
        done.err
    );
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("<testsuites"));
}

#[tokio::test]
async fn a_failed_run_written_to_a_file_says_why_on_stderr() {
    let server = emulated(Options {
        faults: vec![Fault::IgnoreIfMatch],
        ..Options::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.xml");
    let done = cli(&[
        "check",
        "--base-url",
        &server.uri(),
        "--rule",
        "core.if-match",
        "--format",
        "junit",
        "--output",
        path.to_str().unwrap(),
    ])
    .await;
    assert_eq!(done.code, 1, "{}", done.err);
    let lines: Vec<&str> = done.err.lines().collect();
    assert!(lines[0].starts_with("FAILED ("), "{}", done.err);
    assert!(
        lines[1].starts_with("  This server ignores If-Match:"),
        "{}",
        done.err
    );
    assert!(
        lines[2..].iter().any(|l| l.contains("required rule")),
        "{}",
        done.err
    );
}

#[tokio::test]
async fn show_secrets_reveals_extra_headers_only_when_asked() {
    let server = emulated(Options {
        faults: vec![Fault::RejectCurrentDelete],
        ..Options::default()
    })
    .await;
    let base = server.uri();
    let args = [
        "check",
        "--base-url",
        &base,
        "--rule",
        "core.if-match.current-delete",
        "--header",
        "X-Api-Key: k-123",
    ];
    let hidden = cli(&args).await;
    assert!(hidden.out.contains("X-Api-Key: <redacted>") && !hidden.out.contains("k-123"));
    let shown = cli(&[&args[..], &["--show-secrets"]].concat()).await;
    assert!(shown.out.contains("X-Api-Key: k-123"), "{}", shown.out);
}

#[tokio::test]
async fn check_without_base_url_uses_the_embedded_reference_server() {
    let done = cli(&["check", "--format", "json"]).await;
    assert_eq!(done.code, 0, "{}{}", done.out, done.err);
    let report: serde_json::Value = serde_json::from_str(&done.out).unwrap();
    assert_eq!(report["passed"], true);
    assert!(report["target"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert_eq!(report["counts"]["fail"], 0);
}

#[tokio::test]
async fn https_targets_are_accepted_and_other_schemes_refused() {
    let base = format!("https://127.0.0.1:{}", closed_port());
    let failed = cli(&["check", "--base-url", &base]).await;
    assert_eq!(failed.code, 2);
    assert!(
        failed
            .err
            .starts_with(&format!("error: cannot reach {base}: ")),
        "{}",
        failed.err
    );
    let wrong = cli(&["check", "--base-url", "ftp://127.0.0.1/"]).await;
    assert_eq!(wrong.code, 2);
    assert!(
        wrong.err.contains("the scheme must be http or https"),
        "{}",
        wrong.err
    );
}

#[tokio::test]
async fn shape_and_run_flag_errors_exit_2_with_advice() {
    let cases: [&[&str]; 9] = [
        &["--repeat", "0"],
        &["--wait-for", "5000"],
        &["--create", "patch"],
        &["--location", "body:id"],
        &["--version-send", "header:x"],
        &["--stale-status", "400"],
        &["--fixture", "[1]"],
        &["--create", "put", "--create-url", "/things"],
        &["--format", "text,pdf"],
    ];
    let mut messages = String::new();
    for extra in cases {
        let args = [&["check", "--dry-run"][..], extra].concat();
        let failed = cli(&args).await;
        assert_eq!(failed.code, 2, "{args:?}");
        messages.push_str(&format!(
            "$ {}\n{}\n",
            args.join(" "),
            failed.err.trim_end()
        ));
    }
    insta::assert_snapshot!("shape_flag_errors", messages);
}
