//! The real reference server passes every core rule (and the errors profile) in
//! 412 and 409 modes with both storages, the optional profiles when configured for them, and the
//! locking, transactions and versions profiles (which it always offers) with both
//! storages.

mod support;

use ifmatch_conformance::embedded::{EMBEDDED_MAX_LOCK_WAITERS, EMBEDDED_RATE_LIMIT};
use ifmatch_conformance::rules::{Level, Profile};
use ifmatch_conformance::verdict::Verdict;
use ifmatch_server::{Config, MismatchStatus, Storage};
use support::{check, config};

async fn assert_passes(server_config: Config, profiles: &[Profile], mismatch: u16) {
    let server = ifmatch_server::spawn(server_config)
        .await
        .expect("server starts");
    let report = check(&config(&server.base_url(), profiles, mismatch)).await;
    let left = leftovers(&server.base_url()).await;
    server.shutdown().await;
    assert_eq!(
        left,
        Vec::<String>::new(),
        "the suite left resources behind"
    );
    for o in &report.outcomes {
        let ok = match o.level {
            Level::Info => o.verdict == Verdict::Info,
            _ if mismatch == 409 => matches!(o.verdict, Verdict::Pass | Verdict::NonStrict),
            _ => o.verdict == Verdict::Pass,
        };
        assert!(ok, "{} was {}: {}", o.id, o.verdict.as_str(), o.message);
    }
    assert_eq!(report.exit_code(), 0);
    if mismatch == 409 {
        let stale = [
            "core.if-match.stale-put",
            "transactions.batch-all-or-nothing",
            "versions.body-version-stale",
        ];
        let judged: Vec<_> = stale.iter().filter_map(|id| report.outcome(id)).collect();
        assert!(!judged.is_empty(), "a stale write was judged");
        for o in judged {
            assert_eq!(
                o.verdict,
                Verdict::NonStrict,
                "409 mode is reported as non-strict: {}",
                o.id
            );
        }
    }
}

/// The documents still in the collection: the suite deletes what it creates
/// (locked ones included).
async fn leftovers(base_url: &str) -> Vec<String> {
    let listed: serde_json::Value = reqwest::get(format!("{base_url}/items"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["value"].to_string())
        .collect()
}

fn sqlite(dir: &tempfile::TempDir) -> Storage {
    Storage::Sqlite(dir.path().join("items.db"))
}

#[tokio::test]
async fn memory_storage_412_mode_passes_core_and_errors() {
    assert_passes(Config::new(), &[Profile::Core, Profile::Errors], 412).await;
}

#[tokio::test]
async fn memory_storage_409_mode_passes_core_as_declared() {
    let cfg = Config::new().with_mismatch_status(MismatchStatus::Conflict);
    assert_passes(cfg, &[Profile::Core], 409).await;
}

#[tokio::test]
async fn sqlite_storage_412_mode_passes_core() {
    let dir = tempfile::tempdir().unwrap();
    assert_passes(
        Config::new().with_storage(sqlite(&dir)),
        &[Profile::Core],
        412,
    )
    .await;
}

#[tokio::test]
async fn sqlite_storage_409_mode_passes_core_as_declared() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::new()
        .with_storage(sqlite(&dir))
        .with_mismatch_status(MismatchStatus::Conflict);
    assert_passes(cfg, &[Profile::Core, Profile::Errors], 409).await;
}

#[tokio::test]
async fn require_preconditions_and_rate_limit_profiles_pass_when_enabled() {
    let cfg = Config::new()
        .with_require_preconditions(true)
        .with_rate_limit(Some(EMBEDDED_RATE_LIMIT));
    let profiles = [
        Profile::Core,
        Profile::RequirePreconditions,
        Profile::RateLimit,
    ];
    assert_passes(cfg, &profiles, 412).await;
}

#[tokio::test]
async fn memory_storage_passes_locking_with_the_default_queue_of_64() {
    let profiles = [Profile::Core, Profile::Locking];
    assert_passes(Config::new(), &profiles, 412).await;
}

#[tokio::test]
async fn sqlite_storage_passes_locking_as_the_embedded_server_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::new()
        .with_storage(sqlite(&dir))
        .with_max_lock_waiters(EMBEDDED_MAX_LOCK_WAITERS);
    assert_passes(cfg, &[Profile::Core, Profile::Locking], 412).await;
}

#[tokio::test]
async fn locking_passes_in_409_mode_as_declared() {
    let cfg = Config::new().with_mismatch_status(MismatchStatus::Conflict);
    assert_passes(cfg, &[Profile::Core, Profile::Locking], 409).await;
}

#[tokio::test]
async fn memory_storage_passes_core_locking_and_transactions_together() {
    let profiles = [Profile::Core, Profile::Locking, Profile::Transactions];
    assert_passes(Config::new(), &profiles, 412).await;
}

#[tokio::test]
async fn sqlite_storage_passes_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::new().with_storage(sqlite(&dir));
    assert_passes(cfg, &[Profile::Transactions], 412).await;
}

#[tokio::test]
async fn transactions_pass_in_409_mode_as_declared() {
    let cfg = Config::new().with_mismatch_status(MismatchStatus::Conflict);
    assert_passes(cfg, &[Profile::Transactions], 409).await;
}

#[tokio::test]
async fn memory_storage_passes_core_and_versions_together() {
    assert_passes(Config::new(), &[Profile::Core, Profile::Versions], 412).await;
}

#[tokio::test]
async fn sqlite_storage_passes_versions() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::new().with_storage(sqlite(&dir));
    assert_passes(cfg, &[Profile::Versions], 412).await;
}

#[tokio::test]
async fn versions_pass_in_409_mode_as_declared() {
    let cfg = Config::new().with_mismatch_status(MismatchStatus::Conflict);
    assert_passes(cfg, &[Profile::Versions], 409).await;
}

#[tokio::test]
async fn profiles_fail_when_the_server_does_not_enable_them() {
    let server = ifmatch_server::spawn(Config::new()).await.unwrap();
    let profiles = [Profile::RequirePreconditions, Profile::RateLimit];
    let report = check(&config(&server.base_url(), &profiles, 412)).await;
    server.shutdown().await;
    let put = report.outcome("require-preconditions.put-428").unwrap();
    assert_eq!(put.verdict, Verdict::Fail, "{}", put.message);
    let limited = report.outcome("rate-limit.retry-after").unwrap();
    assert_eq!(limited.verdict, Verdict::Skip);
    assert!(
        limited.message.contains("does not appear to rate-limit"),
        "{}",
        limited.message
    );
}
