//! Conflict notifications against the reference server: many writers causing conflicts while
//! several subscribers listen (each sees every conflict once, in order), and the resolution
//! flows with tokens (403 for another client, 401 anonymous, 412 stale, 409 resolved).

use std::collections::BTreeSet;

use ifmatch::{
    conflicts::Resolution, Client, ConflictEvent, ConflictFilter, EntityTag, Subscription,
};
use ifmatch_server::{spawn, Config};
use serde_json::{json, Value};

const WRITERS: usize = 4;
const REFUSALS_EACH: usize = 5;
const SUBSCRIBERS: usize = 3;

fn client(base: &str, token: Option<&str>) -> Client {
    let builder = Client::builder().base_url(base).unwrap();
    match token {
        Some(token) => builder.bearer_token(token).unwrap(),
        None => builder,
    }
    .build()
    .unwrap()
}

/// Reads `subscription` until it has seen `count` conflict events; returns their ids in order.
async fn collect(mut subscription: Subscription, count: usize) -> Vec<(u64, String)> {
    let mut seen = Vec::new();
    while seen.len() < count {
        match subscription
            .next()
            .await
            .expect("the stream ended")
            .expect("a stream error")
        {
            ConflictEvent::Conflict(record) => seen.push((record.seq, record.id)),
            other => panic!("unexpected {other:?}"),
        }
    }
    seen
}

/// A document written twice (its path on the server, as records name it), and the tag of its
/// first version (stale from then on).
async fn stale_document(client: &Client) -> (String, EntityTag) {
    let created = client.create("/items", &json!({"n": 0})).await.unwrap();
    let location = created.location.clone().unwrap();
    let path = url::Url::parse(&location).unwrap().path().to_owned();
    let first = client.get::<Value>(&path).await.unwrap();
    client.put(&path, &json!({"n": 1}), &first).await.unwrap();
    (path, first.etag.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_sees_every_conflict_once_in_order() {
    let server = spawn(Config::new()).await.unwrap();
    let base = server.base_url();
    let shared = client(&base, None);
    let (path, stale) = stale_document(&shared).await;
    let total = WRITERS * REFUSALS_EACH;

    // From sequence 0: whether a subscriber connects before or after a conflict, it gets it
    // (live, or replayed from the log), exactly once.
    let mut listeners = Vec::new();
    for n in 0..SUBSCRIBERS {
        // One subscriber on a client of its own, the others on the shared one.
        let via = if n == 0 {
            client(&base, None)
        } else {
            shared.clone()
        };
        let subscription = via
            .conflicts()
            .subscribe(ConflictFilter::new().resource(path.as_str()))
            .after(0);
        listeners.push(tokio::spawn(collect(subscription, total)));
    }
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (client, path, stale) = (shared.clone(), path.clone(), stale.clone());
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..REFUSALS_EACH {
                let err = client
                    .put(&path, &json!({"writer": w, "i": i}), stale.clone())
                    .await
                    .unwrap_err();
                assert!(err.is_precondition_failed(), "{err}");
                ids.push(
                    err.conflict_id()
                        .expect("the server recorded it")
                        .to_owned(),
                );
            }
            ids
        }));
    }
    let mut caused = BTreeSet::new();
    for writer in writers {
        caused.extend(writer.await.unwrap());
    }
    assert_eq!(caused.len(), total);
    for listener in listeners {
        let seen = tokio::time::timeout(std::time::Duration::from_secs(30), listener)
            .await
            .expect("a subscriber hung")
            .unwrap();
        assert!(
            seen.windows(2).all(|w| w[0].0 < w[1].0),
            "in order: {seen:?}"
        );
        let ids: BTreeSet<String> = seen.into_iter().map(|(_, id)| id).collect();
        assert_eq!(ids, caused, "each conflict exactly once");
    }
    assert!(shared.stats().conflict_stream_connects >= (SUBSCRIBERS - 1) as u64);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolutions_with_tokens_reach_subscribers_and_refusals_are_clear() {
    let config = Config::new()
        .with_client_token("alice", "t-alice")
        .with_client_token("bob", "t-bob")
        .with_admin_token("root", "t-root");
    let server = spawn(config).await.unwrap();
    let base = server.base_url();
    let (alice, bob, admin, anonymous) = (
        client(&base, Some("t-alice")),
        client(&base, Some("t-bob")),
        client(&base, Some("t-root")),
        client(&base, None),
    );
    let (path, stale) = stale_document(&alice).await;
    let mut events = admin
        .conflicts()
        .subscribe(ConflictFilter::new().resource(path.as_str()))
        .after(0);

    let refused = alice
        .put(&path, &json!({"mine": true}), stale.clone())
        .await
        .unwrap_err();
    let id = refused.conflict_id().unwrap().to_owned();
    let record = alice.conflicts().get(&id).await.unwrap();
    assert_eq!(record.client.as_deref(), Some("alice"));
    assert_eq!(
        record.rejected.as_ref().unwrap().body,
        Some(json!({"mine": true}))
    );

    let err = bob
        .conflicts()
        .resolve(&id, Resolution::Theirs)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden", "{err}");
    let err = anonymous
        .conflicts()
        .resolve(&id, Resolution::Theirs)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unauthorized", "{err}");

    let merged = json!({"n": 1, "mine": true});
    let done = alice
        .conflicts()
        .resolve(&id, Resolution::Merged(merged.clone()))
        .await
        .unwrap();
    assert!(!done.is_open());
    let read = alice.get::<Value>(&path).await.unwrap();
    assert!(
        read.from_cache,
        "the resolution's tag was cached with the merged document"
    );
    assert_eq!(read.value, merged);
    let again = admin
        .conflicts()
        .resolve(&id, Resolution::Theirs)
        .await
        .unwrap_err();
    assert_eq!(again.code(), "conflict_resolved", "{again}");

    // A resolution against a version that moved on is refused and leaves the conflict open.
    let second = alice
        .put(&path, &json!({"late": 1}), stale)
        .await
        .unwrap_err();
    let second_id = second.conflict_id().unwrap().to_owned();
    let current = alice.get::<Value>(&path).await.unwrap();
    alice.put(&path, &json!({"n": 2}), &current).await.unwrap();
    let stale_resolution = admin
        .conflicts()
        .resolve(&second_id, Resolution::Theirs)
        .await
        .unwrap_err();
    assert!(
        stale_resolution.is_precondition_failed(),
        "{stale_resolution}"
    );
    assert!(admin.conflicts().get(&second_id).await.unwrap().is_open());
    let now = admin.get::<Value>(&path).await.unwrap();
    admin
        .conflicts()
        .resolve(&second_id, Resolution::Theirs)
        .if_match(now.etag.as_ref().unwrap())
        .await
        .unwrap();

    let mut order = Vec::new();
    while order.len() < 4 {
        let event = tokio::time::timeout(std::time::Duration::from_secs(20), events.next())
            .await
            .expect("the subscriber hung")
            .unwrap()
            .unwrap();
        let record = event.record().unwrap().clone();
        let kind = if matches!(event, ConflictEvent::Resolved(_)) {
            "resolved"
        } else {
            "conflict"
        };
        order.push((kind, record.id));
    }
    assert_eq!(
        order,
        [
            ("conflict", id.clone()),
            ("resolved", id),
            ("conflict", second_id.clone()),
            ("resolved", second_id)
        ]
    );
    // The server's graceful shutdown waits for open requests, a stream included.
    drop(events);
    server.shutdown().await;
}

#[tokio::test]
async fn a_stream_without_valid_credentials_ends_with_unauthorized() {
    let server = spawn(
        Config::new()
            .with_client_token("alice", "t-alice")
            .with_require_auth(true),
    )
    .await
    .unwrap();
    let anonymous = client(&server.base_url(), None);
    let mut events = anonymous.conflicts().subscribe(ConflictFilter::new());
    let err = events.next().await.unwrap().unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert!(events.next().await.is_none());
    server.shutdown().await;
}
