//! The real reference server passes the notifications profile: started as the
//! embedded server is (the run's identities as its clients and admin, a short
//! heartbeat) with memory and SQLite storage and in 409 mode; without tokens it
//! passes every rule that needs none and skips the rest; and `check` without
//! `--base-url` runs the profile against the embedded server with generated tokens.

mod support;

use ifmatch_conformance::cli::{self, Io};
use ifmatch_conformance::embedded::start_with;
use ifmatch_conformance::rules::{NotifyConfig, Profile};
use ifmatch_conformance::verdict::Verdict;
use ifmatch_server::{Config, MismatchStatus, Storage};
use support::{check, config};

/// Checks `profiles` against a server configured from `base` like the embedded one.
async fn run(
    base: Config,
    profiles: &[Profile],
    mismatch: u16,
    notify: NotifyConfig,
) -> ifmatch_conformance::report::Report {
    let server = ifmatch_server::spawn(with_notifications(base, profiles, &notify))
        .await
        .expect("server starts");
    let mut cfg = config(&server.base_url(), profiles, mismatch);
    cfg.notifications = notify;
    let report = check(&cfg).await;
    let listed: serde_json::Value = reqwest::get(format!("{}/items", server.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.shutdown().await;
    assert_eq!(
        listed["items"],
        serde_json::json!([]),
        "the suite left documents behind"
    );
    report
}

/// What `embedded::start_with` adds for the profile, on top of `base`.
fn with_notifications(base: Config, profiles: &[Profile], notify: &NotifyConfig) -> Config {
    let clients = [&notify.writer, &notify.other].into_iter().flatten();
    let config = clients.fold(base, |c, id| c.with_client_token(&id.name, &id.token));
    let config = match &notify.admin {
        Some(admin) => config.with_admin_token(&admin.name, &admin.token),
        None => config,
    };
    if profiles.contains(&Profile::Notifications) {
        config.with_sse_heartbeat(ifmatch_conformance::embedded::EMBEDDED_SSE_HEARTBEAT)
    } else {
        config
    }
}

fn identities() -> NotifyConfig {
    NotifyConfig::default().with_generated_identities()
}

fn assert_all_pass(report: &ifmatch_conformance::report::Report, mismatch: u16) {
    for o in &report.outcomes {
        let ok = match o.verdict {
            Verdict::Pass => true,
            Verdict::NonStrict => mismatch == 409,
            Verdict::Info => o.level == ifmatch_conformance::rules::Level::Info,
            _ => false,
        };
        assert!(ok, "{} was {}: {}", o.id, o.verdict.as_str(), o.message);
    }
    assert_eq!(report.exit_code(), 0);
}

#[tokio::test]
async fn memory_storage_passes_core_and_notifications_together() {
    let profiles = [Profile::Core, Profile::Notifications];
    let report = run(Config::new(), &profiles, 412, identities()).await;
    assert_all_pass(&report, 412);
    let judged = report
        .outcomes
        .iter()
        .filter(|o| o.profile == Profile::Notifications);
    assert_eq!(judged.count(), 16);
}

#[tokio::test]
async fn sqlite_storage_passes_notifications() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::new().with_storage(Storage::Sqlite(dir.path().join("items.db")));
    let report = run(cfg, &[Profile::Notifications], 412, identities()).await;
    assert_all_pass(&report, 412);
}

#[tokio::test]
async fn notifications_pass_in_409_mode() {
    let cfg = Config::new().with_mismatch_status(MismatchStatus::Conflict);
    let report = run(cfg, &[Profile::Notifications], 409, identities()).await;
    assert_all_pass(&report, 409);
}

#[tokio::test]
async fn without_tokens_anyone_resolves_and_the_authorization_rules_are_skipped() {
    let report = run(
        Config::new(),
        &[Profile::Notifications],
        412,
        NotifyConfig::default(),
    )
    .await;
    for o in &report.outcomes {
        let needs_tokens = ["requires-auth", "other-client-403", "resolve-admin"]
            .iter()
            .any(|s| o.id.ends_with(s));
        let expected = if needs_tokens {
            Verdict::Skip
        } else {
            Verdict::Pass
        };
        assert_eq!(o.verdict, expected, "{}: {}", o.id, o.message);
    }
}

#[tokio::test]
async fn check_without_base_url_runs_notifications_with_generated_tokens() {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args = [
        "ifmatch-conformance",
        "check",
        "--profile",
        "notifications",
        "--format",
        "json",
    ];
    let io = Io {
        out: &mut out,
        err: &mut err,
        progress: false,
    };
    let code = cli::run(args, io).await;
    let report: serde_json::Value = serde_json::from_slice(&out).expect("a JSON report");
    assert_eq!(code, 0, "{report:#}\n{}", String::from_utf8_lossy(&err));
    assert_eq!(report["counts"]["pass"], 16, "{report:#}");
    let text = String::from_utf8_lossy(&out);
    assert!(!text.contains("Bearer "), "a token leaked into the report");
    // The function the CLI uses, for a server given explicit identities.
    let server = start_with(&[Profile::Notifications], 412, &identities())
        .await
        .unwrap();
    server.shutdown().await;
}
