//! Three reference servers (replicas) on one PostgreSQL database behave as one server for
//! `Idempotency-Key`: a retry through another replica is replayed (`Idempotent-Replayed: true`)
//! and the write applied once; the key with another payload on another replica is refused (422);
//! a retry while the first is in flight on another replica is refused (409); and
//! `check --profile idempotency` passes through one replica.
//!
//! Each test starts a throwaway PostgreSQL cluster (see `postgres_replicas.rs`); without it
//! installed the tests print why they are skipped, except under `CI=true`.

mod pg;
mod support;

use std::process::Command;
use std::time::Duration;

use ifmatch_conformance::rules::Profile;
use reqwest::StatusCode;
use serde_json::Value;

use pg::{bases, replicas, shutdown};

/// One number `sql` gives on the database at `url` (through `psql`).
fn sql_number(url: &str, sql: &str) -> u64 {
    let psql = pg::cluster::bindir().unwrap().join("psql");
    let out = Command::new(psql)
        .args([url, "-tAc", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

async fn post_item(http: &reqwest::Client, base: &str, key: &str, body: &str) -> reqwest::Response {
    http.post(format!("{base}/items"))
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn items(http: &reqwest::Client, base: &str) -> usize {
    let listed: Value = http
        .get(format!("{base}/items"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listed
        .as_array()
        .or_else(|| listed["items"].as_array())
        .map_or_else(|| panic!("unexpected list {listed}"), Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_keyed_create_is_applied_once_whichever_replicas_the_retries_reach() {
    let Some((_cluster, _, servers)) = replicas("replicas: idempotent create", 3).await else {
        return;
    };
    let http = reqwest::Client::new();
    let bases = bases(&servers);
    let first = post_item(&http, &bases[0], "\"create-1\"", r#"{"a":1}"#).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let location = first.headers()["location"].clone();
    let body = first.bytes().await.unwrap();
    for base in &bases {
        let again = post_item(&http, base, "\"create-1\"", r#"{"a":1}"#).await;
        assert_eq!(again.status(), StatusCode::CREATED, "through {base}");
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.headers()["location"], location);
        assert_eq!(again.bytes().await.unwrap(), body);
    }
    assert_eq!(
        items(&http, &bases[2]).await,
        1,
        "the create was applied once"
    );
    // The same key with another payload, on another replica: 422, nothing created.
    let other = post_item(&http, &bases[1], "\"create-1\"", r#"{"a":2}"#).await;
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(items(&http, &bases[0]).await, 1);
    // Racing the same new key on all three replicas at once: one applies it, the others
    // replay it or hear it is in flight; never two creates.
    for round in 0..10 {
        let key = format!("\"race-{round}\"");
        let sends = bases.iter().map(|base| {
            let (http, base, key) = (http.clone(), base.clone(), key.clone());
            tokio::spawn(async move { post_item(&http, &base, &key, "{}").await })
        });
        let mut fresh = 0;
        for send in sends.collect::<Vec<_>>() {
            let answer = send.await.unwrap();
            match (answer.status(), answer.headers().get("idempotent-replayed")) {
                (StatusCode::CREATED, None) => fresh += 1,
                (StatusCode::CREATED, Some(_)) | (StatusCode::CONFLICT, None) => {}
                (status, replayed) => panic!("round {round}: {status} {replayed:?}"),
            }
        }
        assert_eq!(fresh, 1, "round {round}");
    }
    assert_eq!(items(&http, &bases[0]).await, 11);
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retry_while_the_first_is_in_flight_on_another_replica_is_refused_with_409() {
    let Some((_cluster, url, servers)) = replicas("replicas: idempotent in flight", 2).await else {
        return;
    };
    let http = reqwest::Client::new();
    let bases = bases(&servers);
    let created = post_item(&http, &bases[0], "\"doc\"", "{}").await;
    let doc = created.headers()["location"].to_str().unwrap().to_owned();
    let lock_url = format!("{}{doc}/lock", bases[0]);
    // Hold the document's lock on A, so that a keyed lock request on A waits in its queue:
    // in flight, with its record claimed.
    let held = http.post(&lock_url).send().await.unwrap();
    assert_eq!(held.status(), StatusCode::CREATED);
    let token = held.headers()["lock-token"].to_str().unwrap().to_owned();
    let waiting = tokio::spawn({
        let (http, lock_url) = (http.clone(), lock_url.clone());
        async move {
            http.post(&lock_url)
                .header("idempotency-key", "\"wait-1\"")
                .header("content-type", "application/json")
                .body(r#"{"wait_ms":60000}"#)
                .send()
                .await
                .unwrap()
        }
    });
    let in_flight =
        "SELECT count(*) FROM ifmatch_idempotency WHERE key = '\"wait-1\"' AND status IS NULL";
    for _ in 0..3000 {
        if sql_number(&url, in_flight) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        sql_number(&url, in_flight),
        1,
        "the keyed request never got in flight"
    );
    let retry = http
        .post(format!("{}{doc}/lock", bases[1]))
        .header("idempotency-key", "\"wait-1\"")
        .header("content-type", "application/json")
        .body(r#"{"wait_ms":60000}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), StatusCode::CONFLICT);
    let problem: Value = retry.json().await.unwrap();
    assert_eq!(
        problem["type"], "urn:ifmatch:problem:idempotency-key-in-flight",
        "{problem}"
    );
    // Released, the first gets the lock; its answer is replayed through B afterwards.
    let released = http
        .delete(&lock_url)
        .header("lock-token", &token)
        .send()
        .await
        .unwrap();
    assert!(released.status().is_success(), "{}", released.status());
    let first = waiting.await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let granted = first.headers()["lock-token"].clone();
    let replayed = http
        .post(format!("{}{doc}/lock", bases[1]))
        .header("idempotency-key", "\"wait-1\"")
        .header("content-type", "application/json")
        .body(r#"{"wait_ms":60000}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), StatusCode::CREATED);
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    assert_eq!(replayed.headers()["lock-token"], granted);
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotency_check_passes_through_one_replica() {
    let Some((_cluster, _, servers)) = replicas("replicas: idempotency check", 2).await else {
        return;
    };
    let bases = bases(&servers);
    let report = support::check(&support::config(&bases[0], &[Profile::Idempotency], 412)).await;
    support::assert_all_pass(&report);
    shutdown(servers).await;
}
