//! Rate limits across three reference servers (replicas) on one PostgreSQL database: the
//! replicas share each client's buckets, so together they admit a client's burst once, not
//! three times; another client keeps its own bucket; the `rate-limit` profile passes through
//! one replica; and a database that cannot be reached gets 503, not 500, and never admits
//! requests unchecked.
//!
//! Each test starts a throwaway PostgreSQL cluster (Debian's `postgresql`, see
//! `server/src/storage/postgres/cluster.rs`); without it installed the tests print why they
//! are skipped, except under `CI=true`, where that is a failure.

mod pg;
mod support;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ifmatch_conformance::embedded::EMBEDDED_RATE_LIMIT;
use ifmatch_conformance::rate_limit::{parse_fields, parse_retry_after};
use ifmatch_conformance::rules::Profile;
use ifmatch_server::{Config, RateLimit};
use reqwest::StatusCode;

use pg::{bases, replicas_with, shutdown};

/// One token a second, so that refills during a burst are few and counted.
const LIMIT: RateLimit = RateLimit {
    per_second: 1,
    burst: 30,
};

fn limited(limit: RateLimit) -> impl Fn(Config) -> Config {
    move |config| config.with_rate_limit(Some(limit))
}

/// A client whose connections come from `address` (any of 127.0.0.0/8 on Linux).
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// What a limited answer said.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    /// `RateLimit`'s `r` and `t`.
    remaining: i64,
    reset: i64,
    retry_after: Option<u64>,
    policy: String,
}

async fn get(http: &reqwest::Client, base: &str) -> Answer {
    let answer = http.get(format!("{base}/items/none")).send().await.unwrap();
    let header = |name: &str| {
        answer
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let state = parse_fields(&header("ratelimit")).expect("a RateLimit field");
    let item = &state[0];
    Answer {
        status: answer.status(),
        remaining: item.param("r").expect("r"),
        reset: item.param("t").expect("t"),
        retry_after: answer
            .headers()
            .get("retry-after")
            .map(|v| parse_retry_after(v.to_str().unwrap()).unwrap().as_secs()),
        policy: header("ratelimit-policy"),
    }
}

/// `n` requests of `http` at once, spread round-robin over `bases`.
async fn burst(http: &reqwest::Client, bases: &[String], n: usize) -> Vec<Answer> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (http, base) = (http.clone(), bases[i % bases.len()].clone());
            tokio::spawn(async move { get(&http, &base).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_spread_over_three_replicas_admits_one_burst_in_total() {
    let Some((_cluster, _, servers)) = replicas_with("rate limits: burst", 3, limited(LIMIT)).await
    else {
        return;
    };
    let bases = bases(&servers);
    let http = reqwest::Client::new();
    let burst_size = LIMIT.burst as usize;
    let started = Instant::now();
    let answers = burst(&http, &bases, 3 * burst_size).await;
    // A token comes back every second; count the ones that may have come during the burst.
    let refills = started.elapsed().as_secs() as usize + 1;
    let admitted: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status != StatusCode::TOO_MANY_REQUESTS)
        .collect();
    // Without shared buckets every replica admits a whole burst: 90 here.
    assert!(
        admitted.len() >= burst_size && admitted.len() <= burst_size + refills,
        "{} admitted of {}; the burst is {burst_size} (+{refills} refilled)",
        admitted.len(),
        answers.len()
    );
    // The replicas took turns on one bucket: every admitted request saw a different count of
    // tokens left (a refilled token may repeat one), down to none.
    let remaining: BTreeSet<i64> = admitted.iter().map(|a| a.remaining).collect();
    assert!(remaining.len() + refills >= admitted.len(), "{remaining:?}");
    assert!(remaining.contains(&0), "{remaining:?}");
    assert!(remaining
        .iter()
        .all(|r| (0..LIMIT.burst.into()).contains(r)));
    for answer in &answers {
        assert_eq!(answer.policy, "\"default\";q=30;w=30");
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            // Retry-After and RateLimit agree: no token, the next in a second.
            assert_eq!(answer.retry_after, Some(1), "{answer:?}");
            assert_eq!((answer.remaining, answer.reset), (0, 1), "{answer:?}");
        } else {
            assert_eq!(answer.status, StatusCode::NOT_FOUND);
            assert_eq!(answer.retry_after, None);
            // A spent token is back within a second per token missing.
            let missing = i64::from(LIMIT.burst) - answer.remaining;
            assert!(answer.reset >= 1 && answer.reset <= missing, "{answer:?}");
        }
    }
    // Waiting as told is enough, through any replica.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let again = get(&http, &bases[2]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{again:?}");
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_is_not_throttled_by_another_clients_burst_through_other_replicas() {
    let limit = RateLimit {
        per_second: 1,
        burst: 5,
    };
    let Some((_cluster, _, servers)) =
        replicas_with("rate limits: clients", 3, limited(limit)).await
    else {
        return;
    };
    let bases = bases(&servers);
    let (x, y) = (client_from("127.0.0.1"), client_from("127.0.0.2"));
    // X spends its burst and more through the first two replicas...
    let answers = burst(&x, &bases[..2], 20).await;
    assert!(answers
        .iter()
        .any(|a| a.status == StatusCode::TOO_MANY_REQUESTS));
    // ...so the third, which X never used, refuses X too (without shared buckets it admits).
    let third = get(&x, &bases[2]).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS, "{third:?}");
    // Y's bucket is full, on every replica.
    for base in &bases {
        let answer = get(&y, base).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{answer:?}");
    }
    let fourth = get(&y, &bases[0]).await;
    assert_eq!(fourth.remaining, 1, "Y spent 4 of 5: {fourth:?}");
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_rate_limit_profile_passes_through_one_replica() {
    let Some((_cluster, _, servers)) =
        replicas_with("rate limits: check", 3, limited(EMBEDDED_RATE_LIMIT)).await
    else {
        return;
    };
    let bases = bases(&servers);
    let report = support::check(&support::config(&bases[0], &[Profile::RateLimit], 412)).await;
    support::assert_all_pass(&report);
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_database_gets_503_with_retry_after_not_an_unchecked_request() {
    let Some((cluster, _, servers)) =
        replicas_with("rate limits: database down", 1, limited(LIMIT)).await
    else {
        return;
    };
    let base = &bases(&servers)[0];
    let http = reqwest::Client::new();
    assert_eq!(get(&http, base).await.status, StatusCode::NOT_FOUND);
    drop(cluster);
    // A path no route serves: only the rate limit needs the database to answer it (404).
    let answer = http
        .get(format!("{base}/no-such-route"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers()["retry-after"], "1");
    assert!(answer.headers().get("ratelimit").is_none());
    let problem: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(problem["type"], "urn:ifmatch:problem:storage-unavailable");
    shutdown(servers).await;
}
