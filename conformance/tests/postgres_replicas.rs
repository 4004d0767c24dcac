//! Three reference servers (replicas) on one PostgreSQL database behave as one server for
//! conditional writes: exactly one winner among concurrent writers spread over the replicas,
//! `stress` over all replicas loses no update (reapply and merge), a replica restarted mid-run
//! loses no acknowledged write and reuses no tag, and `check` with every profile passes through
//! one replica while writers use the others (core, errors, locking, transactions, versions and
//! notifications on replicas as `check` starts its own; require-preconditions, idempotency and
//! rate-limit on replicas configured for them).
//!
//! Each test starts a throwaway PostgreSQL cluster (Debian's `postgresql`, see
//! `server/src/storage/postgres/cluster.rs`); without it installed the tests print why they
//! are skipped, except under `CI=true`, where that is a failure.
//!
//! Locks are shared through the database (see `postgres_replica_locks.rs`), and so are conflict
//! notifications (see `postgres_replicas_notify.rs`) and transactions (see
//! `postgres_replica_txns.rs`).

mod pg;
mod support;

use std::collections::HashSet;
use std::time::Duration;

use ifmatch_conformance::rules::{Level, Profile};
use ifmatch_conformance::stress::{self, StrategyArg, StressConfig, StressSummary};
use ifmatch_conformance::verdict::Verdict;
use reqwest::StatusCode;

use pg::{bases, replica, replicas, shutdown};

/// The check judges lock queue order and a full queue by when requests are sent, 150 ms apart:
/// it runs alone (write), the other tests of this file together (read), so their load on the
/// shared two cores does not reorder what it sends.
static TIMING: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Sends one PUT of `body` to every base at once, each with `header: value`; the statuses.
async fn race(
    http: &reqwest::Client,
    urls: &[String],
    header: &str,
    value: &str,
) -> Vec<StatusCode> {
    let sends = urls.iter().enumerate().map(|(n, url)| {
        http.put(url)
            .header(header, value)
            .header("content-type", "application/json")
            .body(format!("{{\"writer\":{n}}}"))
            .send()
    });
    futures_join(sends).await
}

async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<StatusCode>
where
    F: std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap().unwrap().status());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_conditional_writers_on_three_replicas_have_exactly_one_winner() {
    let _together = TIMING.read().await;
    let Some((_cluster, _, servers)) = replicas("replicas: one winner", 3).await else {
        return;
    };
    let http = reqwest::Client::new();
    let bases = bases(&servers);
    for round in 0..10 {
        // Create only if absent, four writers per replica.
        let urls: Vec<String> = (0..12)
            .map(|n| format!("{}/items/race{round}", bases[n % 3]))
            .collect();
        let created = race(&http, &urls, "if-none-match", "*").await;
        let wins = created
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        let refused = created
            .iter()
            .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
            .count();
        assert_eq!((wins, refused), (1, 11), "round {round}: {created:?}");
        // Replace only the version all of them read.
        let read = http.get(&urls[0]).send().await.unwrap();
        let etag = read.headers()["etag"].to_str().unwrap().to_owned();
        let replaced = race(&http, &urls, "if-match", &etag).await;
        let wins = replaced.iter().filter(|s| s.is_success()).count();
        let refused = replaced
            .iter()
            .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
            .count();
        assert_eq!((wins, refused), (1, 11), "round {round}: {replaced:?}");
    }
    shutdown(servers).await;
}

fn stress_config(bases: &[String], strategy: StrategyArg) -> StressConfig {
    let mut config = StressConfig::new(&bases[0]);
    config.base_urls = bases.to_vec();
    config.clients = 6;
    config.updates = 15;
    config.strategy = strategy;
    config.max_duration = Duration::from_secs(120);
    config
}

fn assert_nothing_lost(s: &StressSummary) {
    assert_eq!(s.lost_updates, 0, "{s:#?}");
    assert_eq!(
        s.final_value,
        i64::try_from(s.acknowledged).unwrap(),
        "{s:#?}"
    );
}

/// Nothing lost, and an update that failed only gave up after its attempts were refused (412)
/// as a loaded machine can make a contended writer do: it was never applied.
fn assert_nothing_lost_under_contention(s: &StressSummary) {
    assert_nothing_lost(s);
    assert!(s.acknowledged > 0, "{s:#?}");
    assert!(
        s.failures_by_status.keys().all(|status| status == "412"),
        "{s:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stress_over_three_replicas_loses_no_update() {
    let _together = TIMING.read().await;
    let Some((_cluster, _, servers)) = replicas("replicas: stress", 3).await else {
        return;
    };
    let bases = bases(&servers);
    for strategy in [StrategyArg::Reapply, StrategyArg::Merge] {
        let s = stress::run(&stress_config(&bases, strategy)).await.unwrap();
        assert_nothing_lost_under_contention(&s);
        assert_eq!(s.acknowledged + s.failed, 90, "{strategy:?}: {s:#?}");
        assert!(s.base_urls.iter().all(|b| b.acknowledged > 0), "{s:#?}");
    }
    // The lossy strategy, for contrast: the test can see a loss.
    let s = stress::run(&stress_config(&bases, StrategyArg::Naive))
        .await
        .unwrap();
    assert_eq!(
        s.final_value + s.lost_updates,
        i64::try_from(s.acknowledged).unwrap()
    );
    shutdown(servers).await;
}

/// The sum of the stress counter's slots (0 before it exists).
async fn counter_value(http: &reqwest::Client, base: &str) -> i64 {
    let listed: serde_json::Value = http
        .get(format!("{base}/items"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| item["value"]["slots"].as_object())
        .flat_map(|slots| slots.values().filter_map(serde_json::Value::as_i64))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_restarted_mid_run_loses_no_acknowledged_write_and_reuses_no_tag() {
    let _together = TIMING.read().await;
    let Some((_cluster, url, mut servers)) = replicas("replicas: restart", 3).await else {
        return;
    };
    let bases = bases(&servers);
    let http = reqwest::Client::new();
    let doc = format!("{}/items/tags", bases[2]);
    let mut tags = HashSet::new();
    let write_doc = |http: reqwest::Client, doc: String| async move {
        let response = http
            .put(&doc)
            .header("content-type", "application/json")
            .body("{\"n\":1}")
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.headers()["etag"].to_str().unwrap().to_owned()
    };
    for _ in 0..5 {
        assert!(tags.insert(write_doc(http.clone(), doc.clone()).await));
    }
    let run = tokio::spawn({
        let config = stress_config(&bases, StrategyArg::Reapply);
        async move { stress::run(&config).await }
    });
    // Restart once the run is under way: the counter exists and has increments.
    let before_restart = loop {
        let value = counter_value(&http, &bases[0]).await;
        if value >= 10 {
            break value;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let restarted = servers.pop().unwrap();
    let addr = restarted.local_addr().to_string();
    restarted.shutdown().await;
    servers.push(replica(&url, &addr).await);
    let s = run.await.unwrap().unwrap();
    eprintln!(
        "restart mid-run: {} acknowledged ({before_restart} before the restart), {} failed {:?}",
        s.acknowledged, s.failed, s.failures_by_status
    );
    // Writes refused while the replica was down are failures (no connection), never losses;
    // so are updates that gave up after refused attempts (412) on a loaded machine.
    assert_nothing_lost(&s);
    assert!(
        s.failures_by_status
            .keys()
            .all(|status| status == "connection" || status == "412"),
        "{s:#?}"
    );
    assert_eq!(s.acknowledged + s.failed, 90, "{s:#?}");
    // Tags after the restart are new, through the restarted replica and the others.
    for base in &bases {
        let doc = format!("{base}/items/tags");
        for _ in 0..3 {
            let tag = write_doc(http.clone(), doc.clone()).await;
            assert!(tags.insert(tag.clone()), "tag {tag} reused after a restart");
        }
    }
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn check_passes_through_one_replica_while_writers_use_the_others() {
    let _alone = TIMING.write().await;
    let Some((_cluster, _, servers)) = replicas("replicas: check", 3).await else {
        return;
    };
    let bases = bases(&servers);
    let writers = tokio::spawn({
        let config = stress_config(&bases[1..], StrategyArg::Reapply);
        async move { stress::run(&config).await }
    });
    let profiles = [
        Profile::Core,
        Profile::Errors,
        Profile::Locking,
        Profile::Transactions,
        Profile::Versions,
        Profile::Notifications,
    ];
    let report = support::check(&support::config(&bases[0], &profiles, 412)).await;
    for o in &report.outcomes {
        let ok = match o.level {
            Level::Info => o.verdict == Verdict::Info,
            _ => {
                o.verdict == Verdict::Pass
                    || (o.verdict == Verdict::Skip && o.profile == Profile::Notifications)
            }
        };
        assert!(ok, "{} was {}: {}", o.id, o.verdict.as_str(), o.message);
    }
    assert_eq!(report.exit_code(), 0);
    let s = writers.await.unwrap().unwrap();
    assert_nothing_lost_under_contention(&s);
    assert_eq!(s.acknowledged + s.failed, 90, "{s:#?}");
    shutdown(servers).await;
}

/// The profiles the replicas of `check_passes_through_one_replica_while_writers_use_the_others`
/// cannot run as configured there (they need `--require-preconditions` and a rate limit): on
/// replicas configured for them, through one replica, while writers use the others with a token
/// of their own (so their rate-limit bucket is not the checker's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_remaining_profiles_pass_through_one_replica_while_writers_use_the_others() {
    let _alone = TIMING.write().await;
    let configure = |config: ifmatch_server::Config| {
        config
            .with_require_preconditions(true)
            .with_rate_limit(Some(ifmatch_conformance::embedded::EMBEDDED_RATE_LIMIT))
            .with_client_token("writers", "writers-secret")
    };
    let Some((_cluster, _, servers)) =
        pg::replicas_with("replicas: remaining profiles", 3, configure).await
    else {
        return;
    };
    let bases = bases(&servers);
    let writers = tokio::spawn({
        let mut config = stress_config(&bases[1..], StrategyArg::Reapply);
        config.headers = vec![("Authorization".into(), "Bearer writers-secret".into())];
        async move { stress::run(&config).await }
    });
    let profiles = [
        Profile::RequirePreconditions,
        Profile::Idempotency,
        Profile::RateLimit,
    ];
    let report = support::check(&support::config(&bases[0], &profiles, 412)).await;
    support::assert_all_pass(&report);
    for profile in profiles {
        assert!(
            report.outcomes.iter().any(|o| o.profile == profile),
            "no {profile:?} rule ran"
        );
    }
    assert_eq!(report.exit_code(), 0);
    let s = writers.await.unwrap().unwrap();
    assert_nothing_lost_under_contention(&s);
    assert_eq!(s.acknowledged + s.failed, 90, "{s:#?}");
    shutdown(servers).await;
}
