//! Workers take turns under a lock: each reads, appends to a log, and writes without If-Match,
//! because the lock makes the write exclusive. A writer without the lock is refused with 423.
//!
//! Run with `cargo run -p ifmatch --example locks`. It starts the reference server in-process.

use std::time::Duration;

use ifmatch::{Client, Precondition};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ifmatch_server::spawn(ifmatch_server::Config::new()).await?;
    let base = server.base_url();
    let client = Client::builder().base_url(&base)?.build()?;
    let doc = client
        .create("/items", &json!({"log": []}))
        .await?
        .location
        .ok_or("the server names the new item")?;

    let mut workers = Vec::new();
    for worker in 0..4 {
        // One client per worker, as separate processes would have.
        let client = Client::builder().base_url(&base)?.build()?;
        let doc = doc.clone();
        workers.push(tokio::spawn(async move {
            for round in 0..3 {
                let lock = client
                    .lock(&doc)
                    .ttl(Duration::from_secs(10))
                    .wait(Duration::from_secs(10)) // queue behind the current holder
                    .owner(format!("worker {worker}"))
                    .await?;
                let mut read = client.get::<Value>(&doc).await?.value;
                let entry = format!(
                    "worker {worker} round {round} (fencing {:?})",
                    lock.fencing()
                );
                read["log"]
                    .as_array_mut()
                    .ok_or("log is a list")?
                    .push(entry.into());
                // Exclusive under the lock: no If-Match needed; the write carries Lock-Token.
                client
                    .put(&doc, &read, Precondition::unconditional())
                    .await?;
                lock.release().await?;
            }
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        }));
    }
    for worker in workers {
        worker.await?.map_err(|e| e.to_string())?;
    }

    let holder = client.lock(&doc).owner("holder").await?;
    let outsider = Client::builder().base_url(&base)?.build()?;
    let current = outsider.get::<Value>(&doc).await?;
    let refused = outsider
        .put(&doc, &current.value, &current)
        .await
        .expect_err("the resource is locked");
    println!("a write without the lock: {} ({refused})", refused.code());
    holder.release().await?;

    let log = client.get::<Value>(&doc).await?.value["log"].clone();
    let entries = log.as_array().map_or(0, Vec::len);
    println!("{entries} log entries from 4 workers x 3 rounds (expected 12)");
    server.shutdown().await;
    Ok(())
}
