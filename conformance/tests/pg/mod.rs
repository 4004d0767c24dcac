//! Reference servers (replicas) sharing one throwaway PostgreSQL database, for the tests that
//! prove they behave as one server. Without PostgreSQL installed, [`replicas`] says why the test
//! is skipped and returns `None` (under `CI=true` it fails instead: see `cluster.rs`).
#![allow(dead_code)]

#[path = "../../../server/src/storage/postgres/cluster.rs"]
pub mod cluster;

use ifmatch_conformance::embedded::EMBEDDED_MAX_LOCK_WAITERS;
use ifmatch_server::{Config, RunningServer, Storage};

pub use cluster::{Cluster, FAST_UNSAFE};

/// A replica on the database at `url`, listening on `addr`, with the lock queue bound the
/// checker's `locking.queue-full-503` expects (as for `check` without a URL).
pub async fn replica(url: &str, addr: &str) -> RunningServer {
    replica_with(url, addr, |config| config).await
}

/// [`replica`], its configuration changed by `configure` first.
pub async fn replica_with(
    url: &str,
    addr: &str,
    configure: impl Fn(Config) -> Config,
) -> RunningServer {
    let config = Config::new()
        .with_storage(Storage::Postgres(url.to_owned()))
        .with_max_lock_waiters(EMBEDDED_MAX_LOCK_WAITERS)
        .with_addr(addr.parse().unwrap());
    ifmatch_server::spawn(configure(config))
        .await
        .expect("replica starts")
}

/// A cluster, the URL of one fresh database of it, and `n` replicas on that database.
pub async fn replicas(test: &str, n: usize) -> Option<(Cluster, String, Vec<RunningServer>)> {
    replicas_with(test, n, |config| config).await
}

/// [`replicas`], each replica's configuration changed by `configure`.
pub async fn replicas_with(
    test: &str,
    n: usize,
    configure: impl Fn(Config) -> Config,
) -> Option<(Cluster, String, Vec<RunningServer>)> {
    let cluster = Cluster::start_or_skip(test, FAST_UNSAFE)?;
    let url = cluster.create_database();
    let mut servers = Vec::new();
    for _ in 0..n {
        servers.push(replica_with(&url, "127.0.0.1:0", &configure).await);
    }
    Some((cluster, url, servers))
}

/// Creates document `id` (`{"n": 0}`) through `base`, asserting the 201.
pub async fn create(http: &reqwest::Client, base: &str, id: &str) {
    let created = http
        .put(format!("{base}/items/{id}"))
        .header("if-none-match", "*")
        .json(&serde_json::json!({"n": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);
}

/// The replicas' base URLs.
pub fn bases(servers: &[RunningServer]) -> Vec<String> {
    servers.iter().map(RunningServer::base_url).collect()
}

/// Stops every replica.
pub async fn shutdown(servers: Vec<RunningServer>) {
    for server in servers {
        server.shutdown().await;
    }
}
