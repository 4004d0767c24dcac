//! `GET /conflicts/stream`: Server-Sent Events read with a raw HTTP client.

mod support;

use std::time::Duration;

use ifmatch_server::Config;
use serde_json::{json, Value};
use support::conflicts::{resolve, stale_and_current, stale_put};
use support::sse::Stream;
use support::{expect_problem, Backend, TestServer};

async fn open(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> Stream {
    Stream::new(server.get(path, headers).await)
}

/// `n` stale writes to `path`; their conflict ids.
async fn conflicts(server: &TestServer, path: &str, n: usize) -> Vec<String> {
    let (stale, _) = stale_and_current(server, path).await;
    let mut ids = Vec::new();
    for i in 0..n {
        let problem = stale_put(server, path, &stale, None, &json!({"i": i}).to_string()).await;
        ids.push(problem["conflict_id"].as_str().unwrap().to_owned());
    }
    ids
}

fn ids(events: &[support::sse::Block]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.json()["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn events_arrive_in_order_after_a_retry_field() {
    let server = TestServer::start_default(Backend::Memory).await;
    let mut stream = open(&server, "/conflicts/stream", &[]).await;
    let first = stream.block().await.unwrap();
    assert_eq!(first.retry.as_deref(), Some("2000"));
    let expected = conflicts(&server, "/items/a", 3).await;
    let events = stream.events(3).await;
    assert_eq!(ids(&events), expected);
    for event in &events {
        assert_eq!(event.event.as_deref(), Some("conflict"));
        let record = event.json();
        assert_eq!(event.seq(), record["seq"].as_u64().unwrap());
        assert_eq!(record["state"], "open");
        assert_eq!(record["resource"], "/items/a");
    }
    let resolved = resolve(&server, &expected[0], None, r#"{"resolution":"theirs"}"#).await;
    assert_eq!(resolved.status(), 200);
    let event = stream.event().await;
    assert_eq!(event.event.as_deref(), Some("resolved"));
    assert!(event.seq() > events[2].seq());
    assert_eq!(event.json()["resolution"]["choice"], "theirs");
    server.shutdown().await;
}

#[tokio::test]
async fn last_event_id_resumes_without_missing_or_repeating_anything() {
    let server = TestServer::start_default(Backend::Memory).await;
    let mut stream = open(&server, "/conflicts/stream", &[]).await;
    let early = conflicts(&server, "/items/r", 3).await;
    let seen = stream.events(3).await;
    assert_eq!(ids(&seen), early);
    let last = seen[2].id.clone().unwrap();
    drop(stream);
    let mut missed = conflicts(&server, "/items/s", 2).await;
    for resume in [
        open(&server, "/conflicts/stream", &[("last-event-id", &last)]).await,
        open(
            &server,
            &format!("/conflicts/stream?last_event_id={last}"),
            &[],
        )
        .await,
    ] {
        let mut resume = resume;
        let replayed = resume.events(missed.len()).await;
        assert_eq!(ids(&replayed), missed);
        // Then live, with nothing repeated.
        let live = conflicts(&server, "/items/t", 1).await;
        let next = resume.event().await;
        assert_eq!(ids(&[next]), live);
        // The next resume from the same id also replays that one.
        missed.extend(live);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn forgotten_events_are_announced_with_a_gap() {
    let server = TestServer::start(Backend::Memory, Config::new().with_conflict_log_size(2)).await;
    let all = conflicts(&server, "/items/g", 4).await;
    let first_seq: u64 = all[0][2..].parse().unwrap();
    let mut stream = open(
        &server,
        "/conflicts/stream",
        &[("last-event-id", &first_seq.to_string())],
    )
    .await;
    let gap = stream.event().await;
    assert_eq!(gap.event.as_deref(), Some("gap"));
    assert_eq!(gap.id, None);
    let oldest: u64 = all[2][2..].parse().unwrap();
    assert_eq!(gap.json(), json!({"after": first_seq, "oldest": oldest}));
    assert_eq!(ids(&stream.events(2).await), all[2..]);
    server.shutdown().await;
}

#[tokio::test]
async fn silence_is_broken_by_heartbeats() {
    let config = Config::new().with_sse_heartbeat(Duration::from_millis(50));
    let server = TestServer::start(Backend::Memory, config).await;
    let mut stream = open(&server, "/conflicts/stream", &[]).await;
    let mut heartbeats = 0;
    while heartbeats < 2 {
        let block = stream.block().await.unwrap();
        if block.comments.iter().any(|c| c == "heartbeat") {
            heartbeats += 1;
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn filters_choose_the_events() {
    let server = TestServer::start_default(Backend::Memory).await;
    let mut only_b = open(&server, "/conflicts/stream?resource=/items/b", &[]).await;
    let mut prefix = open(
        &server,
        "/conflicts/stream?prefix=/items/a&state=resolved",
        &[],
    )
    .await;
    let a = conflicts(&server, "/items/a1", 1).await;
    let b = conflicts(&server, "/items/b", 1).await;
    assert_eq!(
        resolve(&server, &a[0], None, r#"{"resolution":"theirs"}"#)
            .await
            .status(),
        200
    );
    assert_eq!(
        resolve(&server, &b[0], None, r#"{"resolution":"theirs"}"#)
            .await
            .status(),
        200
    );
    let events = only_b.events(2).await;
    assert_eq!(ids(&events), [b[0].clone(), b[0].clone()]);
    assert_eq!(events[1].event.as_deref(), Some("resolved"));
    let resolved = prefix.event().await;
    assert_eq!(
        (
            resolved.event.as_deref(),
            ids(std::slice::from_ref(&resolved))
        ),
        (Some("resolved"), a.clone())
    );
    server.shutdown().await;
}

#[tokio::test]
async fn one_subscriber_too_many_is_503_until_one_leaves() {
    let config = Config::new()
        .with_max_subscribers(1)
        .with_sse_heartbeat(Duration::from_millis(20));
    let server = TestServer::start(Backend::Memory, config).await;
    let first = open(&server, "/conflicts/stream", &[]).await;
    let refused = server.get("/conflicts/stream", &[]).await;
    assert!(refused.headers().contains_key("retry-after"));
    expect_problem(refused, 503, "too-many-subscribers").await;
    drop(first);
    // The server notices the client left when a heartbeat cannot be written.
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(attempts <= 200, "the slot was never freed");
        let response = server.get("/conflicts/stream", &[]).await;
        if response.status() == 200 {
            break;
        }
        assert_eq!(response.status(), 503);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    server.shutdown().await;
}

/// Opens `/conflicts/stream` with `client` until it answers 200 (the server notices a closed
/// stream when a heartbeat cannot be written); fails when it never does.
async fn open_once_freed(client: &reqwest::Client, url: &str, bearer: &str) -> Stream {
    for _ in 0..200 {
        let response = client
            .get(url)
            .header("authorization", bearer)
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            return Stream::new(response);
        }
        assert_eq!(response.status(), 429);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the slot was never freed");
}

#[tokio::test]
async fn a_client_at_its_stream_cap_gets_429_and_others_are_not_refused() {
    let config = Config::new()
        .with_client_token("x", "x-token")
        .with_client_token("y", "y-token")
        .with_max_subscribers(10)
        .with_max_subscribers_per_client(2)
        .with_sse_heartbeat(Duration::from_millis(20));
    let server = TestServer::start(Backend::Memory, config).await;
    let (x, y) = (
        &[("authorization", "Bearer x-token")],
        &[("authorization", "Bearer y-token")],
    );
    let x1 = open(&server, "/conflicts/stream", x).await;
    let _x2 = open(&server, "/conflicts/stream", x).await;
    let refused = server.get("/conflicts/stream", x).await;
    assert_eq!(refused.headers()["retry-after"], "2");
    let problem = expect_problem(refused, 429, "too-many-client-subscribers").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("you hold 2 conflict streams open"),
        "{detail}"
    );
    // x at its cap takes nothing from y, nor from anonymous clients.
    let _y1 = open(&server, "/conflicts/stream", y).await;
    let _y2 = open(&server, "/conflicts/stream", y).await;
    expect_problem(
        server.get("/conflicts/stream", y).await,
        429,
        "too-many-client-subscribers",
    )
    .await;
    let _anonymous = open(&server, "/conflicts/stream", &[]).await;
    let metrics = server.get("/metrics", &[]).await.text().await.unwrap();
    assert!(
        metrics.contains("\nifmatch_sse_subscribers 5\n"),
        "{metrics}"
    );
    // Closing one of x's streams frees its slot for x.
    drop(x1);
    let url = server.url("/conflicts/stream");
    let _x3 = open_once_freed(&server.client, &url, "Bearer x-token").await;
    expect_problem(
        server.get("/conflicts/stream", x).await,
        429,
        "too-many-client-subscribers",
    )
    .await;
    server.shutdown().await;
}

#[tokio::test]
async fn anonymous_clients_are_capped_by_address() {
    let config = Config::new().with_max_subscribers_per_client(1);
    let server = TestServer::start(Backend::Memory, config).await;
    let from = |address: &str| {
        reqwest::Client::builder()
            .local_address(address.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap()
    };
    let (first, second) = (from("127.0.0.1"), from("127.0.0.2"));
    let url = server.url("/conflicts/stream");
    let _one = Stream::new(first.get(&url).send().await.unwrap());
    let refused = first.get(&url).send().await.unwrap();
    expect_problem(refused, 429, "too-many-client-subscribers").await;
    let _other = Stream::new(second.get(&url).send().await.unwrap());
    server.shutdown().await;
}

#[tokio::test]
async fn a_malformed_last_event_id_is_400() {
    let server = TestServer::start_default(Backend::Memory).await;
    let response = server
        .get("/conflicts/stream", &[("last-event-id", "abc")])
        .await;
    let body: Value = expect_problem(response, 400, "invalid-header").await;
    assert!(body["detail"].as_str().unwrap().contains("Last-Event-ID"));
    server.shutdown().await;
}
