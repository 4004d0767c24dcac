//! Crash durability with PostgreSQL: the writers of `crash.rs` run against
//! `ifmatch-server --storage postgres://…` on a throwaway cluster with PostgreSQL's default
//! durability settings (`fsync=on`, `synchronous_commit=on`); the server is killed with SIGKILL
//! mid-run and restarted on the same database. Every acknowledged write must be there, versions
//! not lower, no ETag handed out again. Skipped (with a message) when PostgreSQL is not
//! installed, a failure under `CI=true`.
#![cfg(unix)]

#[path = "../src/storage/postgres/cluster.rs"]
#[allow(dead_code)]
mod cluster;
#[path = "support/crash_run.rs"]
mod crash_run;

use crash_run::{sigkill_and_restart, WRITERS};

#[tokio::test]
async fn sigkill_of_the_server_on_postgres_loses_no_acknowledged_write() {
    let test = "sigkill_of_the_server_on_postgres_loses_no_acknowledged_write";
    // "": PostgreSQL's defaults, durable commits (not the tests' usual FAST_UNSAFE).
    let Some(cluster) = cluster::Cluster::start_or_skip(test, "") else {
        return;
    };
    let url = cluster.create_database();
    let before = sigkill_and_restart(&url).await;
    eprintln!(
        "crash (postgres): {before} writes acknowledged by {WRITERS} writers before SIGKILL, all present after restart"
    );
}
