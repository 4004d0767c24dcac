//! Versions through the SDK against the reference server: history, past versions, restore and
//! diff on v1; the version-field mode against v2 (`/v2/items/…`, `{"data", "version"}`),
//! including concurrent increments on one shared client with no update lost; v1's deprecation
//! notice; `Api-Version` on unprefixed URLs.

mod support;

use std::sync::{Arc, Mutex};

use ifmatch::{Client, Event, RetryConfig, Strategy, Version, VersionField};
use ifmatch_server::{spawn, Config, RunningServer};
use serde_json::{json, Value};

async fn server() -> (RunningServer, String) {
    let server = spawn(Config::new().with_history_max_versions(3))
        .await
        .unwrap();
    let base = server.base_url();
    (server, base)
}

fn client(base: &str) -> Client {
    Client::builder().base_url(base).unwrap().build().unwrap()
}

/// A document written three times: versions a, b, c of `{"title": …}`.
async fn three_versions(client: &Client) -> (String, Vec<u64>) {
    let item = client
        .create("/items", &json!({"title": "a"}))
        .await
        .unwrap()
        .location
        .unwrap();
    for title in ["b", "c"] {
        client
            .update::<Value>(&item, move |doc| {
                doc["title"] = title.into();
                Ok(())
            })
            .await
            .unwrap();
    }
    let history = client.versions(&item).await.unwrap();
    let numbers = history.versions.iter().map(|v| v.version).collect();
    (item, numbers)
}

#[tokio::test]
async fn history_past_versions_diff_and_restore() {
    let (server, base) = server().await;
    let client = client(&base);
    let (item, numbers) = three_versions(&client).await;
    assert_eq!(numbers.len(), 3);
    assert!(
        numbers.windows(2).all(|w| w[0] > w[1]),
        "newest first: {numbers:?}"
    );
    let first = numbers[2];

    let old = client.version::<Value>(&item, first).await.unwrap();
    assert_eq!(old.value, json!({"title": "a"}));
    assert_eq!(old.version, Some(Version::number(first)));
    let current = client.get::<Value>(&item).await.unwrap();
    assert_eq!(
        current.version,
        Some(Version::number(numbers[0])),
        "the Version header"
    );

    let patch = client.diff(&item, first, numbers[0]).await.unwrap();
    assert_eq!(
        serde_json::to_value(&patch).unwrap(),
        json!([{"op": "replace", "path": "/title", "value": "c"}])
    );

    let restored = client.restore(&item, first).await.unwrap();
    assert_eq!(restored.value, json!({"title": "a"}));
    assert!(restored.version.unwrap().as_u64().unwrap() > numbers[0]);
    assert_eq!(
        client.get::<Value>(&item).await.unwrap().value,
        json!({"title": "a"})
    );

    // Retention keeps 3: the first version is gone now, and the error says which is oldest.
    let history = client.versions(&item).await.unwrap();
    assert_eq!(history.policy.unwrap().max_versions, Some(3));
    let oldest = history.oldest().unwrap().version;
    let err = client.version::<Value>(&item, first).await.unwrap_err();
    assert_eq!(err.code(), "version_not_found", "{err}");
    assert_eq!(err.oldest_version(), Some(oldest));
    server.shutdown().await;
}

#[tokio::test]
async fn a_restore_refuses_to_overwrite_a_write_it_did_not_see() {
    let (server, base) = server().await;
    let client = client(&base);
    let (item, numbers) = three_versions(&client).await;
    let first = numbers[2];
    // Restores race with another client's updates: a restore that loses is refused, never
    // written over the update it did not see.
    let other = self::client(&base);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (client, path) = (client.clone(), item.clone());
        tasks.push(tokio::spawn(
            async move { client.restore(&path, first).await },
        ));
        let (other, path) = (other.clone(), item.clone());
        tasks.push(tokio::spawn(async move {
            other
                .update::<Value>(&path, |doc| {
                    doc["touched"] = true.into();
                    Ok(())
                })
                .await
        }));
    }
    for task in tasks {
        if let Err(err) = task.await.unwrap() {
            assert!(
                err.is_conflict(),
                "only conflicts, never an overwrite: {err}"
            );
        }
    }
    server.shutdown().await;
}

fn v2_client(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .unwrap()
        .version_field(VersionField::at("/version").document_at("/data"))
        .retry(RetryConfig::contended())
        .build()
        .unwrap()
}

#[tokio::test]
async fn v2_keeps_the_version_in_the_body_and_no_increment_is_lost() {
    const TASKS: usize = 8;
    const ROUNDS: usize = 10;
    let (server, base) = server().await;
    let id = client(&base)
        .create("/items", &json!({"n": 0}))
        .await
        .unwrap()
        .location
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let path = format!("/v2/items/{id}");
    let shared = v2_client(&base);
    let read = shared.get::<Value>(&path).await.unwrap();
    assert_eq!(read.value["data"], json!({"n": 0}));
    assert_eq!(
        read.version,
        read.value["version"].as_u64().map(Version::number)
    );

    // Each task in its own partition of the shared client, so that they race (one partition's
    // updates of one resource take turns and would never conflict).
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (client, path) = (shared.with_partition(format!("t{task}")), path.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..ROUNDS {
                client
                    .update::<Value>(&path, |envelope| {
                        let n = envelope["data"]["n"].as_i64().unwrap();
                        envelope["data"]["n"] = (n + 1).into();
                        Ok(())
                    })
                    .strategy(Strategy::Reapply)
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let done = shared.get::<Value>(&path).await.unwrap();
    assert_eq!(
        done.value["data"]["n"],
        (TASKS * ROUNDS) as i64,
        "no update lost"
    );
    let stats = shared.stats();
    assert!(
        stats.conflicts_412 + stats.conflicts_409 > 0,
        "the body version was checked: {stats:?}"
    );

    // A put with what was read: the version goes in the body, If-Match is not needed.
    let mut envelope = done.value.clone();
    envelope["data"]["n"] = 0.into();
    let written = shared.put(&path, &envelope, &done).await.unwrap();
    assert_eq!(written.value["data"]["n"], 0);
    let stale = shared.put(&path, &envelope, &done).await.unwrap_err();
    assert!(stale.is_conflict(), "{stale}");
    server.shutdown().await;
}

#[tokio::test]
async fn v1_answers_announce_their_deprecation_once_with_the_successor() {
    let (server, base) = server().await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = events.clone();
    let client = Client::builder()
        .base_url(&base)
        .unwrap()
        .on_event(move |e| log.lock().unwrap().push(e.clone()))
        .build()
        .unwrap();
    let item = client
        .create("/items", &json!({"n": 1}))
        .await
        .unwrap()
        .location
        .unwrap();
    client.get::<Value>(&item).await.unwrap();
    client.get::<Value>(&item).await.unwrap();
    let notices: Vec<_> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::Deprecated { notice } => Some(notice.clone()),
            _ => None,
        })
        .collect();
    // One notice per origin and dates: the first answer's (the POST's, whose successor is the
    // v2 collection).
    assert_eq!(notices.len(), 1, "{notices:#?}");
    let notice = &notices[0];
    assert_eq!(
        notice.successor.as_deref(),
        Some(format!("{base}/v2/items").as_str())
    );
    assert!(notice.deprecation.is_some() && notice.sunset.is_some());
    assert!(notice.deprecation < notice.sunset);
    assert!(notices.iter().all(|n| n.malformed.is_empty()));
    assert_eq!(client.stats().deprecated_responses, 3);

    // The same document through Api-Version: 2 is an envelope, and v2 is not deprecated.
    let v2 = Client::builder()
        .base_url(&base)
        .unwrap()
        .api_version("2")
        .build()
        .unwrap();
    let envelope = v2.get::<Value>(&item).await.unwrap();
    assert_eq!(envelope.value["data"], json!({"n": 1}));
    assert_eq!(v2.stats().deprecated_responses, 0);
    server.shutdown().await;
}
