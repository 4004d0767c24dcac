//! Shared helpers for the SDK's integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::{Arc, Mutex};

use ifmatch::{testing::RecordingSleeper, Client, ClientBuilder, Event, RetryConfig};
use serde_json::Value;
use wiremock::{MockServer, Request, ResponseTemplate};

/// A JSON response with an optional ETag.
pub fn json(status: u16, body: Value, etag: Option<&str>) -> ResponseTemplate {
    let mut template = ResponseTemplate::new(status)
        .insert_header("content-type", "application/json")
        .set_body_string(body.to_string());
    if let Some(etag) = etag {
        template = template.insert_header("etag", etag);
    }
    template
}

/// A problem+json response.
pub fn problem(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/problem+json")
        .set_body_string(body.to_string())
}

/// Everything a test needs to look at after driving a client.
pub struct Harness {
    pub client: Client,
    pub sleeper: RecordingSleeper,
    pub events: Arc<Mutex<Vec<Event>>>,
}

impl Harness {
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }
}

/// A client for `server` with a recording sleeper, seeded jitter and an event log.
pub fn harness(server: &MockServer, retry: RetryConfig) -> Harness {
    harness_with(server, retry, |b| b)
}

pub fn harness_with(
    server: &MockServer,
    retry: RetryConfig,
    extra: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Harness {
    let sleeper = RecordingSleeper::new();
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = events.clone();
    let builder = Client::builder()
        .base_url(&server.uri())
        .unwrap()
        .retry(retry)
        .sleeper(sleeper.clone())
        .on_event(move |e| log.lock().unwrap().push(e.clone()));
    let client = extra(builder).build().unwrap();
    Harness {
        client,
        sleeper,
        events,
    }
}

/// Requests the server received with this method.
pub async fn received(server: &MockServer, method: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == method)
        .collect()
}

/// A header of a received request as text.
pub fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

/// A sleeper that yields to the scheduler instead of waiting: conflict pauses still let the
/// other writers run, but no test sleeps in real time.
#[derive(Clone, Copy, Debug, Default)]
pub struct YieldSleeper;

impl ifmatch::rt::Sleeper for YieldSleeper {
    fn sleep(&self, _delay: std::time::Duration) -> ifmatch::rt::BoxFuture<'static, ()> {
        Box::pin(tokio::task::yield_now())
    }
}
