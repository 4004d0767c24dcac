//! The optional token bucket: 429 with Retry-After and consistent RateLimit fields.

mod support;

use ifmatch_server::{Config, RateLimit};
use reqwest::StatusCode;
use support::{expect_problem, header, Backend, TestServer};

both_storages!(exhausted_bucket_answers_429_with_consistent_headers);

/// Far more than the burst; the bucket refills one token a second, so it runs dry long before.
const MAX_REQUESTS: usize = 50;

async fn exhausted_bucket_answers_429_with_consistent_headers(backend: Backend) {
    let limit = RateLimit {
        per_second: 1,
        burst: 3,
    };
    let server = TestServer::start(backend, Config::new().with_rate_limit(Some(limit))).await;
    let first = server.get("/items", &[]).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(header(&first, "ratelimit-policy"), "\"default\";q=3;w=3");
    assert_eq!(header(&first, "ratelimit"), "\"default\";r=2;t=1");
    let mut successes = 1;
    let mut limited = None;
    for _ in 1..MAX_REQUESTS {
        let response = server.get("/items/any", &[]).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
        successes += 1;
    }
    let limited = limited.expect("the bucket ran dry within the bounded number of requests");
    assert!(
        successes >= 3,
        "only {successes} requests passed before 429"
    );
    let retry_after: u64 = header(&limited, "retry-after")
        .parse()
        .expect("delay-seconds");
    assert!(retry_after >= 1);
    assert_eq!(
        header(&limited, "ratelimit"),
        format!("\"default\";r=0;t={retry_after}")
    );
    assert_eq!(header(&limited, "ratelimit-policy"), "\"default\";q=3;w=3");
    expect_problem(limited, 429, "rate-limited").await;
    server.shutdown().await;
}

#[tokio::test]
async fn no_rate_limit_fields_when_the_limit_is_off() {
    let server = TestServer::start_default(Backend::Memory).await;
    for _ in 0..20 {
        let response = server.get("/items", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get("ratelimit").is_none());
    }
    server.shutdown().await;
}
