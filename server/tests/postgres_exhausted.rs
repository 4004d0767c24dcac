//! PostgreSQL out of connections (`max_connections` reached: SQLSTATE 53300, "too many
//! clients"), as happens when replicas' pools together want more than the database allows:
//! the server answers 503 `storage-unavailable` with `Retry-After`, never 500, and serves again
//! once connections are free. Skipped (with a message) when PostgreSQL is not installed, a
//! failure under `CI=true`.
#![cfg(unix)]

#[path = "../src/storage/postgres/cluster.rs"]
#[allow(dead_code)]
mod cluster;

use ifmatch_server::{Config, Storage};

/// Every connection the database still accepts, held until dropped.
struct Hog(Vec<postgres::Client>);

fn hog(url: &str) -> Hog {
    let mut held = Vec::new();
    while let Ok(client) = postgres::Client::connect(url, postgres::NoTls) {
        held.push(client);
        assert!(held.len() < 500, "max_connections is not being enforced");
    }
    Hog(held)
}

impl Drop for Hog {
    fn drop(&mut self) {
        // A `postgres` client must not be dropped on an async worker thread.
        let held = std::mem::take(&mut self.0);
        let _ = std::thread::spawn(move || drop(held)).join();
    }
}

async fn put(http: reqwest::Client, base: String, id: String) -> reqwest::Response {
    http.put(format!("{base}/items/{id}"))
        .header("If-None-Match", "*")
        .header("Content-Type", "application/json")
        .body(r#"{"n":1}"#)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_out_of_connections_answers_503_and_recovers() {
    let test = "a_database_out_of_connections_answers_503_and_recovers";
    let settings = format!("{} -c max_connections=40", cluster::FAST_UNSAFE);
    let Some(cluster) = cluster::Cluster::start_or_skip(test, &settings) else {
        return;
    };
    let url = cluster.create_database();
    let config = Config::new().with_storage(Storage::Postgres(url.clone()));
    let server = ifmatch_server::spawn(config).await.unwrap();
    let (http, base) = (reqwest::Client::new(), server.base_url());
    assert_eq!(
        put(http.clone(), base.clone(), "warm".into())
            .await
            .status(),
        201
    );

    let hog_url = url.clone();
    let held = tokio::task::spawn_blocking(move || hog(&hog_url))
        .await
        .unwrap();
    // Concurrent writes want more connections than the pool has idle: new ones are refused.
    let mut unavailable = 0;
    for round in 0..20 {
        let writes = (0..16).map(|n| put(http.clone(), base.clone(), format!("r{round}-{n}")));
        for answer in futures_join(writes).await {
            let status = answer.status().as_u16();
            assert!(
                status == 201 || status == 503,
                "a refused connection must not be a {status}: {:?}",
                answer.text().await
            );
            if status == 503 {
                unavailable += 1;
                assert!(answer.headers().contains_key("retry-after"));
                let body = answer.text().await.unwrap();
                assert!(body.contains("storage-unavailable"), "{body}");
            }
        }
        if unavailable > 0 {
            break;
        }
    }
    assert!(
        unavailable > 0,
        "no write needed a new connection in 20 rounds"
    );
    drop(held);
    assert_eq!(
        put(http.clone(), base.clone(), "after".into())
            .await
            .status(),
        201
    );
    server.shutdown().await;
}

/// Runs every future at once (the server sees the requests concurrently).
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for (n, future) in futures.enumerate() {
        set.spawn(async move { (n, future.await) });
    }
    let mut out: Vec<_> = set.join_all().await;
    out.sort_by_key(|(n, _)| *n);
    out.into_iter().map(|(_, answer)| answer).collect()
}

/// The connections of the database `url` names that are open now, the asker's own left out.
fn connections_open(url: &str) -> i64 {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0)
    })
    .join()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_opens_at_most_its_connection_budget() {
    let test = "a_server_opens_at_most_its_connection_budget";
    let Some(cluster) = cluster::Cluster::start_or_skip(test, cluster::FAST_UNSAFE) else {
        return;
    };
    let url = cluster.create_database();
    let budget = 7;
    let config = Config::new()
        .with_storage(Storage::Postgres(url.clone()))
        .with_postgres_connections(budget);
    let server = ifmatch_server::spawn(config).await.unwrap();
    let (http, base) = (reqwest::Client::new(), server.base_url());
    let mut most = 0;
    for round in 0..5 {
        // Writes to distinct documents run in parallel, each wanting a connection.
        let writes = (0..32).map(|n| put(http.clone(), base.clone(), format!("r{round}-{n}")));
        for answer in futures_join(writes).await {
            assert_eq!(answer.status(), 201);
        }
        most = most.max(connections_open(&url));
    }
    eprintln!("at most {most} connections open with a budget of {budget}");
    // The pools' connections, plus the one listening; no conflict was resolved.
    assert!(
        most <= budget as i64 + 1,
        "{most} connections open, budget {budget} + 1 listening"
    );
    server.shutdown().await;
}
