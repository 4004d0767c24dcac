//! Request shapes: per-request options, the raw escape hatch, and the standard transport seams
//! (reqwest-middleware and tower) carrying every request, retries included.

mod support;

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::atomic::{AtomicU32, Ordering},
    task::{Context, Poll},
    time::Duration,
};

use ifmatch::{
    http::{Extensions, Method},
    transport::{Bytes, MiddlewareTransport, TowerTransport},
    Client, RetryConfig,
};
use serde_json::{json, Value};
use support::{harness, header, json as json_response, received};
use wiremock::{
    matchers::{header as has_header, method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

#[tokio::test]
async fn per_request_headers_and_query_reach_the_server_and_key_the_cache() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .and(query_param("page", "2"))
        .and(has_header("x-request-id", "abc"))
        .respond_with(json_response(200, json!([2]), Some("\"p2\"")))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let page = h
        .client
        .get::<Value>("/items")
        .query(&[("page", "2")])
        .header("x-request-id", "abc")
        .await
        .unwrap();
    assert_eq!(page.value, json!([2]));
    // Another request of the client does not inherit them.
    h.client.get::<Value>("/items").await.unwrap_err();
    let gets = received(&server, "GET").await;
    assert_eq!(header(&gets[1], "x-request-id"), None);
}

#[tokio::test]
async fn an_invalid_per_request_header_fails_before_sending() {
    let server = MockServer::start().await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .get::<Value>("/items/1")
        .header("bad header", "v")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_config");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_per_request_timeout_overrides_the_clients() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({}), None).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .get::<Value>("/slow")
        .timeout(Some(Duration::from_millis(100)))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(!err.is_outcome_unknown(), "a read changed nothing");
}

#[tokio::test]
async fn a_raw_request_carries_its_precondition_and_goes_through_the_write_rules() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/items/1/archive"))
        .and(has_header("if-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/elsewhere"))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    let err = h
        .client
        .request(Method::POST, "/items/1/archive")
        .json(&json!({"reason": "done"}))
        .precondition(&read)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "redirected", "{err}");
    // A raw GET uses the cache like get().
    let again = h.client.request(Method::GET, "/items/1").await.unwrap();
    assert_eq!(again.etag.unwrap().opaque(), "v1");
    let gets = received(&server, "GET").await;
    assert_eq!(header(&gets[1], "if-none-match"), Some("\"v1\""));
}

static SEEN_BY_MIDDLEWARE: AtomicU32 = AtomicU32::new(0);

/// A middleware that counts requests and stamps a header on each.
fn stamp<'a>(
    mut request: reqwest::Request,
    extensions: &'a mut Extensions,
    next: reqwest_middleware::Next<'a>,
) -> Pin<Box<dyn Future<Output = reqwest_middleware::Result<reqwest::Response>> + Send + 'a>> {
    SEEN_BY_MIDDLEWARE.fetch_add(1, Ordering::SeqCst);
    request
        .headers_mut()
        .insert("x-middleware", "stamped".parse().unwrap());
    Box::pin(next.run(request, extensions))
}

#[tokio::test]
async fn a_reqwest_middleware_stack_sees_every_request_retries_included() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(has_header("x-middleware", "stamped"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .expect(1)
        .mount(&server)
        .await;
    let inner = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let stack = reqwest_middleware::ClientBuilder::new(inner)
        .with(stamp)
        .build();
    let client = Client::builder()
        .base_url(&server.uri())
        .unwrap()
        .transport(MiddlewareTransport::new(stack))
        .sleeper(ifmatch::testing::RecordingSleeper::new())
        .build()
        .unwrap();
    client.get::<Value>("/items/1").await.unwrap();
    assert_eq!(SEEN_BY_MIDDLEWARE.load(Ordering::SeqCst), 2);
}

/// A tower service standing in for the network: answers from a script and counts calls.
#[derive(Clone)]
struct Scripted {
    calls: std::sync::Arc<AtomicU32>,
}

impl tower_service::Service<http::Request<Bytes>> for Scripted {
    type Response = http::Response<Bytes>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let mut response = http::Response::new(Bytes::new());
        if request.method() == http::Method::PUT {
            assert_eq!(request.headers()["if-match"], "\"v1\"");
            assert_eq!(&request.body()[..], br#"{"n":2}"#);
            *response.status_mut() = if call == 1 {
                http::StatusCode::SERVICE_UNAVAILABLE
            } else {
                http::StatusCode::NO_CONTENT
            };
        } else {
            *response.body_mut() = Bytes::from_static(br#"{"n":1}"#);
            response
                .headers_mut()
                .insert("etag", "\"v1\"".parse().unwrap());
        }
        std::future::ready(Ok(response))
    }
}

#[tokio::test]
async fn a_tower_service_carries_reads_writes_and_resends() {
    let calls = std::sync::Arc::new(AtomicU32::new(0));
    let client = Client::builder()
        .base_url("http://service.invalid")
        .unwrap()
        .transport(TowerTransport::new(Scripted {
            calls: calls.clone(),
        }))
        .sleeper(ifmatch::testing::RecordingSleeper::new())
        .build()
        .unwrap();
    let read = client.get::<Value>("/items/1").await.unwrap();
    client
        .put("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "GET, PUT answered 503, PUT again"
    );
}
