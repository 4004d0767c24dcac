//! Interactive transactions across three reference servers (replicas) on one PostgreSQL
//! database: the replicas behave as one server. A transaction begun through one replica is
//! read, written, shown, committed and rolled back through the others; two transactions on
//! different replicas touching one document cannot both commit; concurrent requests of one
//! transaction through two replicas take turns (none is lost); a commit repeated through
//! another replica answers the same; expiry is seen everywhere; `--max-transactions` and
//! `--max-client-transactions` count every replica's transactions; and the
//! `transactions` profile of `check` passes through each replica.
//!
//! Each test starts a throwaway PostgreSQL cluster (Debian's `postgresql`, see
//! `server/src/storage/postgres/cluster.rs`); without it installed the tests print why they
//! are skipped, except under `CI=true`, where that is a failure.

mod pg;
mod support;

use ifmatch_conformance::embedded::EMBEDDED_MAX_LOCK_WAITERS;
use ifmatch_conformance::rules::{Level, Profile};
use ifmatch_conformance::verdict::Verdict;
use ifmatch_server::{Config, RunningServer, Storage};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{json, Value};

use pg::{bases, create, replicas, shutdown, Cluster, FAST_UNSAFE};

const TX: &str = "transaction-id";

/// `n` replicas on one fresh database, each configured by `tune`.
async fn tuned(
    test: &str,
    n: usize,
    tune: impl Fn(Config) -> Config,
) -> Option<(Cluster, Vec<RunningServer>)> {
    let cluster = Cluster::start_or_skip(test, FAST_UNSAFE)?;
    let url = cluster.create_database();
    let mut servers = Vec::new();
    for _ in 0..n {
        let config = Config::new()
            .with_storage(Storage::Postgres(url.clone()))
            .with_max_lock_waiters(EMBEDDED_MAX_LOCK_WAITERS)
            .with_addr("127.0.0.1:0".parse().unwrap());
        servers.push(
            ifmatch_server::spawn(tune(config))
                .await
                .expect("replica starts"),
        );
    }
    Some((cluster, servers))
}

async fn send(request: RequestBuilder) -> (StatusCode, Value) {
    let answer = request.send().await.unwrap();
    let status = answer.status();
    let body = answer.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// `POST /transactions` through `base` with `body`; the status and the id (empty if none).
async fn begin(http: &reqwest::Client, base: &str, body: Value) -> (StatusCode, String) {
    let (status, answer) = send(http.post(format!("{base}/transactions")).json(&body)).await;
    let id = answer["id"].as_str().unwrap_or_default().to_owned();
    (status, id)
}

async fn commit(http: &reqwest::Client, base: &str, tx: &str) -> (StatusCode, Value) {
    send(http.post(format!("{base}/transactions/{tx}/commit"))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transaction_begun_on_one_replica_works_through_the_others() {
    let Some((_cluster, _, servers)) = replicas("replica txns: across", 3).await else {
        return;
    };
    let [a, b, c] = &bases(&servers)[..] else {
        unreachable!()
    };
    let http = reqwest::Client::new();
    create(&http, a, "read").await;
    let (status, tx) = begin(&http, a, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let read = http.get(format!("{b}/items/read")).header(TX, &tx);
    assert_eq!(send(read).await.0, StatusCode::OK, "read through b");
    let write = http
        .put(format!("{c}/items/written"))
        .header(TX, &tx)
        .json(&json!({"n": 1}));
    assert_eq!(send(write).await.0, StatusCode::CREATED, "write through c");
    let outside = http.get(format!("{a}/items/written"));
    assert_eq!(send(outside).await.0, StatusCode::NOT_FOUND, "staged only");
    let (status, shown) = send(http.get(format!("{b}/transactions/{tx}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["state"], "open");
    assert_eq!(shown["reads"].as_array().unwrap().len(), 2, "{shown}");
    assert_eq!(shown["writes"][0]["path"], "/items/written", "{shown}");
    let (status, committed) = commit(&http, a, &tx).await;
    assert_eq!(status, StatusCode::OK, "{committed}");
    for base in [a, b, c] {
        let (status, doc) = send(http.get(format!("{base}/items/written"))).await;
        assert_eq!((status, doc), (StatusCode::OK, json!({"n": 1})));
    }
    // The client lost the answer and commits again through another replica: the same answer.
    assert_eq!(commit(&http, c, &tx).await, (StatusCode::OK, committed));
    let (status, shown) = send(http.get(format!("{c}/transactions/{tx}"))).await;
    assert_eq!(
        (status, &shown["state"]),
        (StatusCode::OK, &json!("committed"))
    );
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_transactions_on_two_replicas_on_one_document_commit_once() {
    let Some((_cluster, _, servers)) = replicas("replica txns: conflict", 3).await else {
        return;
    };
    let [a, b, c] = &bases(&servers)[..] else {
        unreachable!()
    };
    let http = reqwest::Client::new();
    create(&http, a, "doc").await;
    let (_, first) = begin(&http, a, json!({})).await;
    let (_, second) = begin(&http, b, json!({})).await;
    for (base, tx, n) in [(a, &first, 1), (c, &second, 2)] {
        let put = http
            .put(format!("{base}/items/doc"))
            .header(TX, tx)
            .json(&json!({"n": n}));
        assert_eq!(send(put).await.0, StatusCode::OK);
    }
    let (one, two) = tokio::join!(commit(&http, b, &first), commit(&http, c, &second));
    let mut statuses = [one.0, two.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{one:?} {two:?}"
    );
    let (loser, refused, winner_n) = if one.0 == StatusCode::CONFLICT {
        (&first, one.1, 2)
    } else {
        (&second, two.1, 1)
    };
    assert_eq!(refused["type"], "urn:ifmatch:problem:transaction-conflict");
    assert_eq!(refused["conflicts"][0]["path"], "/items/doc", "{refused}");
    let (_, doc) = send(http.get(format!("{a}/items/doc"))).await;
    assert_eq!(
        doc,
        json!({"n": winner_n}),
        "the winner's write, and only it"
    );
    assert_eq!(
        commit(&http, a, loser).await,
        (StatusCode::CONFLICT, refused),
        "a repeated refused commit answers the same through another replica"
    );
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_of_one_transaction_through_two_replicas_all_count() {
    let Some((_cluster, _, servers)) = replicas("replica txns: serialized", 2).await else {
        return;
    };
    let bases = bases(&servers);
    let http = reqwest::Client::new();
    let (_, tx) = begin(&http, &bases[0], json!({})).await;
    let writes: Vec<_> = (0..24)
        .map(|n| {
            let put = http
                .put(format!("{}/items/doc-{n}", bases[n % 2]))
                .header(TX, &tx)
                .json(&json!({"n": n}));
            tokio::spawn(send(put))
        })
        .collect();
    for write in writes {
        let (status, body) = write.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, shown) = send(http.get(format!("{}/transactions/{tx}", bases[1]))).await;
    assert_eq!(
        shown["writes"].as_array().unwrap().len(),
        24,
        "none lost: {shown}"
    );
    let (status, committed) = commit(&http, &bases[1], &tx).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        committed["results"].as_array().unwrap().len(),
        24,
        "{committed}"
    );
    for n in 0..24 {
        let (status, doc) = send(http.get(format!("{}/items/doc-{n}", bases[n % 2]))).await;
        assert_eq!((status, doc), (StatusCode::OK, json!({"n": n})));
    }
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rollback_and_expiry_are_seen_through_another_replica() {
    let Some((_cluster, _, servers)) = replicas("replica txns: ending", 3).await else {
        return;
    };
    let [a, b, c] = &bases(&servers)[..] else {
        unreachable!()
    };
    let http = reqwest::Client::new();
    let (_, rolled) = begin(&http, a, json!({})).await;
    let put = http
        .put(format!("{a}/items/never"))
        .header(TX, &rolled)
        .json(&json!({"n": 1}));
    assert_eq!(send(put).await.0, StatusCode::CREATED);
    let rollback = http.delete(format!("{b}/transactions/{rolled}"));
    assert_eq!(send(rollback).await.0, StatusCode::NO_CONTENT);
    let (status, gone) = send(http.get(format!("{c}/transactions/{rolled}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        gone["detail"].as_str().unwrap().contains("rolled back"),
        "{gone}"
    );
    assert_eq!(commit(&http, a, &rolled).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        send(http.get(format!("{b}/items/never"))).await.0,
        StatusCode::NOT_FOUND
    );

    let (_, short) = begin(&http, a, json!({"ttl_ms": 200})).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (status, gone) = send(http.get(format!("{b}/transactions/{short}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        gone["detail"].as_str().unwrap().contains("expired"),
        "{gone}"
    );
    let put = http
        .put(format!("{c}/items/late"))
        .header(TX, &short)
        .json(&json!({"n": 1}));
    let (status, late) = send(put).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        late["detail"].as_str().unwrap().contains("expired"),
        "{late}"
    );
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_open_limits_count_every_replica() {
    let tune = |config: Config| {
        config
            .with_max_transactions(3)
            .with_max_client_transactions(2)
            .with_client_token("x", "token-of-client-x")
            .with_client_token("y", "token-of-client-y")
    };
    let Some((_cluster, servers)) = tuned("replica txns: limits", 3, tune).await else {
        return;
    };
    let [a, b, c] = &bases(&servers)[..] else {
        unreachable!()
    };
    let http = reqwest::Client::new();
    let as_client = |base: &str, token: &str| {
        http.post(format!("{base}/transactions"))
            .bearer_auth(token)
            .json(&json!({}))
    };
    let x = "token-of-client-x";
    assert_eq!(send(as_client(a, x)).await.0, StatusCode::CREATED);
    assert_eq!(send(as_client(b, x)).await.0, StatusCode::CREATED);
    let (status, refused) = send(as_client(c, x)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "x is at its cap");
    assert_eq!(
        refused["type"],
        "urn:ifmatch:problem:too-many-client-transactions"
    );
    assert_eq!(refused["status"], 429);
    let (status, _) = send(as_client(c, "token-of-client-y")).await;
    assert_eq!(status, StatusCode::CREATED, "x at its cap does not stop y");
    let (status, full) = send(as_client(a, "token-of-client-y")).await;
    assert_eq!(
        (status, &full["type"]),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            &json!("urn:ifmatch:problem:too-many-transactions")
        ),
        "3 open over all replicas"
    );
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_transactions_profile_passes_through_each_replica() {
    let Some((_cluster, _, servers)) = replicas("replica txns: check", 3).await else {
        return;
    };
    for base in bases(&servers) {
        let config = support::config(&base, &[Profile::Transactions], 412);
        let report = support::check(&config).await;
        for o in &report.outcomes {
            let ok = match o.level {
                Level::Info => o.verdict == Verdict::Info,
                _ => o.verdict == Verdict::Pass,
            };
            assert!(
                ok,
                "{base}: {} was {}: {}",
                o.id,
                o.verdict.as_str(),
                o.message
            );
        }
        assert_eq!(report.exit_code(), 0);
    }
    shutdown(servers).await;
}
