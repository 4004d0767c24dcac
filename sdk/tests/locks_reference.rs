//! Locks through the SDK against the reference server: many tasks on one shared client and on
//! separate clients, each increment made under the lock without If-Match, none lost.

use std::time::Duration;

use ifmatch::{Client, Precondition};
use ifmatch_server::{spawn, Config};
use serde_json::{json, Value};

const TASKS: usize = 8;
const ROUNDS: usize = 5;

async fn increments_under_the_lock(shared: bool) {
    let server = spawn(Config::new()).await.unwrap();
    let base = server.base_url();
    let build = || Client::builder().base_url(&base).unwrap().build().unwrap();
    let one = build();
    let item = one
        .create("/items", &json!({"n": 0, "holder": null}))
        .await
        .unwrap()
        .location
        .unwrap();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let client = if shared { one.clone() } else { build() };
        let item = item.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..ROUNDS {
                let lock = client
                    .lock(&item)
                    .ttl(Duration::from_secs(10))
                    .wait(Duration::from_secs(20))
                    .owner(format!("task {task}"))
                    .await
                    .unwrap();
                let read = client.get::<Value>(&item).await.unwrap();
                assert_eq!(read.value["holder"], Value::Null, "two holders at once");
                let mut doc = read.value.clone();
                doc["holder"] = task.into();
                // Pessimistic: no If-Match needed, the lock makes the write exclusive.
                client
                    .put(&item, &doc, Precondition::unconditional())
                    .under(&lock)
                    .await
                    .unwrap();
                doc["holder"] = Value::Null;
                doc["n"] = (doc["n"].as_i64().unwrap() + 1).into();
                client
                    .put(&item, &doc, Precondition::unconditional())
                    .under(&lock)
                    .await
                    .unwrap();
                lock.release().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let last = one.get::<Value>(&item).await.unwrap().value;
    server.shutdown().await;
    assert_eq!(last["n"], json!(TASKS * ROUNDS), "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn locked_increments_on_one_shared_client_lose_nothing() {
    increments_under_the_lock(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn locked_increments_on_separate_clients_lose_nothing() {
    increments_under_the_lock(false).await;
}
