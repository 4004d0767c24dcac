//! The concurrency proof of conflict notifications: many writers causing conflicts while
//! several subscribers listen, and resolutions racing for the same conflict.

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;
use support::conflicts::{resolve, stale_and_current, stale_put};
use support::sse::Stream;
use support::{Backend, TestServer};

const WRITERS: usize = 8;
const WRITES: usize = 10;
const SUBSCRIBERS: usize = 3;
/// One raced conflict per document: a `mine` resolution writes the document, which would
/// make the other conflicts of that document stale (412) whoever races for them.
const RACES: usize = WRITERS;

both_storages!(every_conflict_reaches_every_subscriber_once_and_in_order);

async fn every_conflict_reaches_every_subscriber_once_and_in_order(backend: Backend) {
    let server = Arc::new(TestServer::start_default(backend).await);
    let mut streams = Vec::new();
    for _ in 0..SUBSCRIBERS {
        // Subscribed once the answer's head arrives.
        streams.push(Stream::new(server.get("/conflicts/stream", &[]).await));
    }
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let server = Arc::clone(&server);
        writers.push(tokio::spawn(async move {
            let path = format!("/items/w{writer}");
            let (stale, _) = stale_and_current(&server, &path).await;
            let mut ids = Vec::new();
            for n in 0..WRITES {
                let problem =
                    stale_put(&server, &path, &stale, None, &json!({"n": n}).to_string()).await;
                ids.push(problem["conflict_id"].as_str().unwrap().to_owned());
            }
            ids
        }));
    }
    let mut caused = HashSet::new();
    let mut targets = Vec::new();
    for writer in writers {
        let ids = writer.await.expect("writer finishes");
        targets.push(ids[0].clone());
        caused.extend(ids);
    }
    assert_eq!(
        caused.len(),
        WRITERS * WRITES,
        "every refusal has its own conflict"
    );

    // Resolutions racing: two clients resolve each conflict at once.
    let mut races = Vec::new();
    for id in targets {
        for choice in ["mine", "theirs"] {
            let server = Arc::clone(&server);
            let id = id.clone();
            races.push(tokio::spawn(async move {
                let body = json!({"resolution": choice}).to_string();
                (
                    id.clone(),
                    resolve(&server, &id, None, &body).await.status().as_u16(),
                )
            }));
        }
    }
    let mut winners = HashSet::new();
    for race in races {
        let (id, status) = race.await.expect("resolver finishes");
        match status {
            200 => assert!(winners.insert(id.clone()), "{id} resolved twice"),
            409 | 412 => {}
            other => panic!("resolution of {id} answered {other}"),
        }
    }
    assert_eq!(
        winners.len(),
        RACES,
        "every raced conflict was resolved exactly once"
    );

    for mut stream in streams {
        let events = stream.events(WRITERS * WRITES + RACES).await;
        let seqs: Vec<u64> = events.iter().map(|e| e.seq()).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "in seq order: {seqs:?}"
        );
        let conflict_ids: HashSet<String> = events
            .iter()
            .filter(|e| e.event.as_deref() == Some("conflict"))
            .map(|e| e.json()["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(conflict_ids, caused, "each conflict exactly once");
        let resolved: Vec<String> = events
            .iter()
            .filter(|e| e.event.as_deref() == Some("resolved"))
            .map(|e| e.json()["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            resolved.len(),
            RACES,
            "one resolved event per resolved conflict"
        );
        assert_eq!(resolved.iter().cloned().collect::<HashSet<_>>(), winners);
    }
    Arc::into_inner(server)
        .expect("no task holds the server")
        .shutdown()
        .await;
}
