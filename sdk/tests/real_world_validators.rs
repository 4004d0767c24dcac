//! `update()` against stubs shaped like APIs that version by ETag but not as RFC 9110's strong
//! tags alone (issue #13, the SDK, items 2 to 4): S3 (create with `If-None-Match: *`, 409 for a
//! concurrent conditional write, 412 XML), WebDAV (weak for a moment after a write, HTML error
//! pages), FHIR (weak by design), Azure (412 XML), a server that is only ever weak, and one
//! whose 412 carries the ETag of its error page.

mod shapes;
mod support;

use std::time::Duration;

use ifmatch::{Client, MissingEtagPolicy, Precondition, RetryConfig, Strategy, WeakValidators};
use serde_json::{json, Value};
use shapes::{increment, Shape, Stub, DATE};
use support::{header, received, YieldSleeper};
use wiremock::MockServer;

async fn start(stub: &Stub) -> MockServer {
    let server = MockServer::start().await;
    stub.mount(&server).await;
    server
}

fn client_for(server: &MockServer, weak: WeakValidators) -> Client {
    Client::builder()
        .base_url(&server.uri())
        .unwrap()
        .retry(RetryConfig::contended())
        .sleeper(YieldSleeper)
        .weak_validators(weak)
        .build()
        .unwrap()
}

/// 4 tasks on one client, 5 increments each; none may be lost.
async fn concurrent_increments(client: &Client, stub: &Stub) {
    let before = stub.n();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..5 {
                    let out = client.update::<Value>("/doc", increment).await;
                    out.unwrap_or_else(|e| panic!("update failed: {e}"));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        stub.n(),
        before + 20,
        "every acknowledged increment is stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_create_only_then_409_and_412_are_version_conflicts() {
    let stub = Stub::empty(Shape::S3);
    let server = start(&stub).await;
    let client = client_for(&server, WeakValidators::default());
    let created = client
        .put("/doc", &json!({"n": 0}), Precondition::create_only())
        .await
        .unwrap();
    assert!(created.etag.is_some());
    let again = client
        .put("/doc", &json!({"n": 9}), Precondition::create_only())
        .await
        .unwrap_err();
    assert!(again.is_conflict(), "{again}");
    assert_eq!(stub.n(), 0, "the second create did not overwrite");
    // The first conditional write meets S3's 409 ConditionalRequestConflict: retried.
    let out = client.update::<Value>("/doc", increment).await.unwrap();
    assert_eq!(out.attempts, 2);
    assert_eq!(stub.n(), 1);
    concurrent_increments(&client, &stub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_412_with_an_xml_body_is_recovered() {
    let stub = Stub::new(Shape::Azure);
    let server = start(&stub).await;
    concurrent_increments(&client_for(&server, WeakValidators::default()), &stub).await;
}

#[tokio::test]
async fn webdav_weak_for_a_moment_after_a_write_waits_for_the_strong_tag() {
    let stub = Stub::new(Shape::WebDav);
    let server = start(&stub).await;
    let h = support::harness_with(&server, RetryConfig::default(), |b| b);
    h.client.update::<Value>("/doc", increment).await.unwrap();
    // Right after that write the server's tag is weak: the next update reads again.
    h.client.update::<Value>("/doc", increment).await.unwrap();
    assert_eq!(stub.n(), 2);
    // The first of the default's doubling pauses (250 ms, 500 ms, 1 s) was enough.
    assert_eq!(h.sleeper.delays(), vec![Duration::from_millis(250)]);
    let puts = received(&server, "PUT").await;
    assert_eq!(header(&puts[1], "if-match"), Some("\"dav-2\""));
    assert_eq!(received(&server, "GET").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webdav_html_412_pages_and_weak_moments_lose_nothing() {
    let stub = Stub::new(Shape::WebDav);
    let server = start(&stub).await;
    // Under constant writes the tag is weak after each one: wait (yielding) long enough.
    let patient = WeakValidators::wait(100, Duration::from_secs(1));
    concurrent_increments(&client_for(&server, patient), &stub).await;
    for put in received(&server, "PUT").await {
        assert!(!header(&put, "if-match").unwrap().starts_with("W/"));
    }
}

#[tokio::test]
async fn fhir_weak_etags_stop_with_weak_validator_unless_sent_as_is() {
    let stub = Stub::new(Shape::Fhir);
    let server = start(&stub).await;
    let h = support::harness_with(&server, RetryConfig::default(), |b| b);
    let err = h
        .client
        .update::<Value>("/Basic/1", increment)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "weak_validator", "{err}");
    assert!(
        err.to_string().contains("W/\"1\"") && err.to_string().contains("send_as_is"),
        "{err}"
    );
    assert!(received(&server, "PUT").await.is_empty(), "nothing written");
    assert_eq!(
        received(&server, "GET").await.len(),
        4,
        "1 read + 3 re-reads"
    );
    // Doubling pauses that outlast Apache mod_dav's weak second, bounded by 1.75 s.
    assert_eq!(
        h.sleeper.delays(),
        [250, 500, 1000].map(Duration::from_millis).to_vec()
    );
    assert_eq!(h.sleeper.total(), WeakValidators::DEFAULT_WITHIN);
    // A plain put with the weak tag it read is refused locally by default...
    let read = h.client.get::<Value>("/Basic/1").await.unwrap();
    let err = h
        .client
        .put("/Basic/1", &read.value, &read)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "missing_etag");
    assert!(received(&server, "PUT").await.is_empty(), "nothing written");
    // ... and sent as it is on purpose.
    let fhir = h.client.with_weak_validators(WeakValidators::send_as_is());
    fhir.update::<Value>("/Basic/1", increment).await.unwrap();
    let mut doc = read.value.clone();
    doc["n"] = 7.into();
    let stale = fhir.put("/Basic/1", &doc, &read).await.unwrap_err();
    assert!(
        stale.is_precondition_failed(),
        "the FHIR server compared: {stale}"
    );
    let puts = received(&server, "PUT").await;
    assert_eq!(header(&puts[0], "if-match"), Some("W/\"1\""));
    assert_eq!(header(&puts[1], "if-match"), Some("W/\"1\""));
    assert_eq!(stub.n(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fhir_sent_as_is_loses_nothing() {
    let stub = Stub::new(Shape::Fhir);
    let server = start(&stub).await;
    concurrent_increments(&client_for(&server, WeakValidators::send_as_is()), &stub).await;
}

#[tokio::test]
async fn only_weak_with_last_modified_uses_if_unmodified_since_only_when_allowed() {
    let stub = Stub::new(Shape::AlwaysWeak);
    let server = start(&stub).await;
    let h = support::harness_with(&server, RetryConfig::default(), |b| b);
    let err = h
        .client
        .update::<Value>("/doc", increment)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "weak_validator");
    assert!(err.to_string().contains("sends Last-Modified"), "{err}");
    assert!(received(&server, "PUT").await.is_empty());

    let dated = h.client.with_weak_validators(
        WeakValidators::wait(1, Duration::from_millis(100)).or_unmodified_since(true),
    );
    dated.update::<Value>("/doc", increment).await.unwrap();
    let puts = received(&server, "PUT").await;
    assert_eq!(header(&puts[0], "if-unmodified-since"), Some(DATE));
    assert_eq!(header(&puts[0], "if-match"), None);
    assert_eq!(
        header(&puts[0], "idempotency-key"),
        None,
        "a conditional write"
    );

    // Only the explicit MissingEtagPolicy::Unconditional writes without any condition.
    let lossy = h
        .client
        .with_weak_validators(WeakValidators::wait(0, Duration::ZERO))
        .with_missing_etag(MissingEtagPolicy::Unconditional);
    lossy.update::<Value>("/doc", increment).await.unwrap();
    let puts = received(&server, "PUT").await;
    assert_eq!(header(&puts[1], "if-unmodified-since"), None);
    assert_eq!(header(&puts[1], "if-match"), None);
    assert_eq!(stub.n(), 2);
}

#[tokio::test]
async fn a_412_etag_that_is_not_the_resources_is_never_written_with() {
    for strategy in [Strategy::LastWriteWins, Strategy::Reapply] {
        let stub = Stub::new(Shape::BogusRefusalEtag);
        let server = start(&stub).await;
        let h = support::harness_with(&server, RetryConfig::default(), |b| b);
        h.client.get::<Value>("/doc").await.unwrap();
        // Someone else writes: the cached tag is stale, the first write is refused.
        {
            let mut s = stub.state.lock().unwrap();
            s.version += 1;
            s.n = 10;
        }
        let out = h
            .client
            .update::<Value>("/doc", increment)
            .strategy(strategy.clone())
            .await
            .unwrap();
        assert_eq!(out.attempts, 2, "{strategy:?} converged at once");
        let puts = received(&server, "PUT").await;
        assert_eq!(puts.len(), 2);
        for put in &puts {
            assert_ne!(header(put, "if-match"), Some("\"hash-of-this-error-page\""));
        }
        assert_eq!(
            header(&puts[1], "if-match"),
            Some("\"2\""),
            "the re-read's tag"
        );
        assert_eq!(
            received(&server, "GET").await.len(),
            2,
            "re-read after the 412"
        );
    }
}
