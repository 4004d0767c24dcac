//! Crash durability with SQLite: writers run against `ifmatch-server --storage sqlite:PATH`
//! as a child process, the server is killed with SIGKILL mid-run and restarted on the same
//! file. Every write a client saw acknowledged must be there, and no ETag comes back.
#![cfg(unix)]

#[path = "support/crash_run.rs"]
mod crash_run;

use crash_run::{sigkill_and_restart, WRITERS};

#[tokio::test]
async fn sigkill_mid_run_loses_no_acknowledged_write_and_reuses_no_etag() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("items.db");
    let before = sigkill_and_restart(&format!("sqlite:{}", db.display())).await;
    eprintln!(
        "crash: {before} writes acknowledged by {WRITERS} writers before SIGKILL, all present after restart"
    );
}
