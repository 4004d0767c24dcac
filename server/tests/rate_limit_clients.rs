//! Rate limits per client (token name, else address) and per policy (reads, writes), and the
//! bounded table of buckets.

mod support;

use std::net::IpAddr;
use std::time::Duration;

use ifmatch_server::{Config, RateLimit, RateLimits};
use reqwest::{Method, StatusCode};
use support::{expect_problem, header, Backend, TestServer};

/// Far more than any burst below; the buckets refill one token a second at most.
const MAX_REQUESTS: usize = 50;

const fn limit(per_second: u32, burst: u32) -> RateLimit {
    RateLimit { per_second, burst }
}

fn tokens(config: Config) -> Config {
    config
        .with_client_token("alice", "alice-token")
        .with_client_token("bob", "bob-token")
        .with_client_token("carol", "carol-token")
        .with_client_token("dave", "dave-token")
}

async fn get_as(server: &TestServer, token: &str) -> reqwest::Response {
    let bearer = format!("Bearer {token}");
    server.get("/items", &[("authorization", &bearer)]).await
}

/// Sends `send` until it answers 429; fails when it never does within [`MAX_REQUESTS`].
async fn until_429<F, Fut>(mut send: F) -> reqwest::Response
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    for _ in 0..MAX_REQUESTS {
        let response = send().await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            return response;
        }
        assert!(response.status().is_success(), "{}", response.status());
    }
    panic!("no 429 within {MAX_REQUESTS} requests");
}

#[tokio::test]
async fn a_burst_from_one_client_does_not_throttle_another() {
    let config = tokens(Config::new().with_rate_limit(Some(limit(1, 3))));
    let server = TestServer::start(Backend::Memory, config).await;
    let limited = until_429(|| get_as(&server, "alice-token")).await;
    assert_eq!(header(&limited, "ratelimit-policy"), "\"default\";q=3;w=3");
    let problem = expect_problem(limited, 429, "rate-limited").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("from each client"),
        "{problem}"
    );
    let bob = get_as(&server, "bob-token").await;
    assert_eq!(bob.status(), StatusCode::OK);
    assert_eq!(header(&bob, "ratelimit"), "\"default\";r=2;t=1");
    // Anonymous requests are keyed by address, not by alice's name.
    let anonymous = server.get("/items", &[]).await;
    assert_eq!(anonymous.status(), StatusCode::OK);
    assert_eq!(header(&anonymous, "ratelimit"), "\"default\";r=2;t=1");
    server.shutdown().await;
}

#[tokio::test]
async fn anonymous_clients_are_told_apart_by_address() {
    let server = TestServer::start(
        Backend::Memory,
        Config::new().with_rate_limit(Some(limit(1, 2))),
    )
    .await;
    let from = |address: &str| {
        reqwest::Client::builder()
            .local_address(address.parse::<IpAddr>().unwrap())
            .build()
            .unwrap()
    };
    let (first, second) = (from("127.0.0.1"), from("127.0.0.2"));
    let url = server.url("/items");
    until_429(|| async { first.get(&url).send().await.unwrap() }).await;
    let other = second.get(&url).send().await.unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "127.0.0.2 has its own bucket"
    );
    assert_eq!(header(&other, "ratelimit"), "\"default\";r=1;t=1");
    server.shutdown().await;
}

#[tokio::test]
async fn reads_are_not_throttled_by_a_write_burst_and_headers_name_the_policy() {
    let limits = RateLimits::Split {
        reads: Some(limit(1, 5)),
        writes: Some(limit(1, 2)),
    };
    let server = TestServer::start(
        Backend::Memory,
        Config::new().with_rate_limits(Some(limits)),
    )
    .await;
    let first = server
        .put("/items/a", &[("content-type", "application/json")], "{}")
        .await;
    assert_eq!(header(&first, "ratelimit-policy"), "\"writes\";q=2;w=2");
    assert_eq!(header(&first, "ratelimit"), "\"writes\";r=1;t=1");
    let limited =
        until_429(|| server.put("/items/a", &[("content-type", "application/json")], "{}")).await;
    let retry_after = header(&limited, "retry-after");
    assert_eq!(header(&limited, "ratelimit-policy"), "\"writes\";q=2;w=2");
    assert_eq!(
        header(&limited, "ratelimit"),
        format!("\"writes\";r=0;t={retry_after}")
    );
    let problem = expect_problem(limited, 429, "rate-limited").await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("writes per second"));
    for method in [Method::GET, Method::HEAD] {
        let read = server.send(method.clone(), "/items/a", &[], None).await;
        assert_eq!(read.status(), StatusCode::OK, "{method}");
        assert_eq!(header(&read, "ratelimit-policy"), "\"reads\";q=5;w=5");
    }
    let read = server.get("/items/a", &[]).await;
    assert_eq!(header(&read, "ratelimit"), "\"reads\";r=2;t=3");
    // Every method but GET and HEAD is a write.
    let delete = server.delete("/items/a", &[]).await;
    assert_eq!(delete.status(), StatusCode::TOO_MANY_REQUESTS);
    server.shutdown().await;
}

#[tokio::test]
async fn a_policy_left_out_leaves_that_kind_of_request_unlimited() {
    let limits: RateLimits = "writes=1:1".parse().unwrap();
    let server = TestServer::start(
        Backend::Memory,
        Config::new().with_rate_limits(Some(limits)),
    )
    .await;
    for _ in 0..10 {
        let read = server.get("/items", &[]).await;
        assert_eq!(read.status(), StatusCode::OK);
        assert!(read.headers().get("ratelimit").is_none());
    }
    let write = server
        .put("/items/a", &[("content-type", "application/json")], "{}")
        .await;
    assert_eq!(header(&write, "ratelimit"), "\"writes\";r=0;t=1");
    server.shutdown().await;
}

#[tokio::test]
async fn a_full_table_shares_one_overflow_bucket_and_refilled_buckets_are_forgotten() {
    // One token a second, bursts of 2: a bucket is full again 2 s after its last use.
    let config = tokens(
        Config::new()
            .with_rate_limit(Some(limit(1, 2)))
            .with_rate_limit_clients(1),
    );
    let server = TestServer::start(Backend::Memory, config).await;
    assert_eq!(
        get_as(&server, "alice-token").await.status(),
        StatusCode::OK
    );
    // alice fills the table: bob and carol share the overflow bucket.
    assert_eq!(get_as(&server, "bob-token").await.status(), StatusCode::OK);
    assert_eq!(get_as(&server, "bob-token").await.status(), StatusCode::OK);
    let carol = get_as(&server, "carol-token").await;
    assert_eq!(
        carol.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the overflow is shared"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // alice's bucket has refilled and is forgotten: carol gets a bucket of her own, so her
    // burst leaves the overflow bucket to dave.
    assert_eq!(
        get_as(&server, "carol-token").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        get_as(&server, "carol-token").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        get_as(&server, "dave-token").await.status(),
        StatusCode::OK,
        "dave is not throttled by carol's burst"
    );
    server.shutdown().await;
}
