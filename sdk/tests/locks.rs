//! Pessimistic locks through the SDK: acquire, the token on writes, background renewal, losing
//! the lock, release and release on drop (against a scripted server; the reference server's
//! behaviour is tested in server/tests/locks.rs).

mod support;

use std::time::Duration;

use ifmatch::{Event, RetryConfig};
use serde_json::{json, Value};
use support::{harness, header, json as json_response, problem, received};
use wiremock::{
    matchers::{body_partial_json, header as has_header, method, path},
    Mock, MockServer, ResponseTemplate,
};

fn grant(ttl_ms: u64) -> ResponseTemplate {
    json_response(
        201,
        json!({"token": "tok-1", "owner": "me", "ttl_ms": ttl_ms, "fencing": 7, "expires_at_ms": 1}),
        None,
    )
    .insert_header("lock-token", "\"tok-1\"")
}

async fn lockable(server: &MockServer, ttl_ms: u64) {
    Mock::given(method("POST"))
        .and(path("/items/1/lock"))
        .and(body_partial_json(json!({"owner": "me", "wait_ms": 0})))
        .respond_with(grant(ttl_ms))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items/1"))
        .respond_with(json_response(200, json!({"n": 1}), Some("\"v1\"")))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/items/1"))
        .respond_with(ResponseTemplate::new(204).insert_header("etag", "\"v2\""))
        .mount(server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/items/1/lock"))
        .and(has_header("lock-token", "\"tok-1\""))
        .respond_with(ResponseTemplate::new(204))
        .mount(server)
        .await;
}

async fn puts(server: &MockServer) -> Vec<wiremock::Request> {
    received(server, "PUT")
        .await
        .into_iter()
        .filter(|r| r.url.path() == "/items/1")
        .collect()
}

#[tokio::test]
async fn writes_under_a_lock_carry_its_token_until_it_is_released() {
    let server = MockServer::start().await;
    lockable(&server, 30_000).await;
    let h = harness(&server, RetryConfig::default());
    let lock = h.client.lock("/items/1").owner("me").await.unwrap();
    assert_eq!(lock.token(), "tok-1");
    assert_eq!(lock.fencing(), Some(7));
    assert_eq!(lock.ttl(), Duration::from_secs(30));
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    h.client
        .put("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap();
    lock.release().await.unwrap();
    h.client
        .put("/items/1", &json!({"n": 3}), &read)
        .await
        .unwrap();
    let puts = puts(&server).await;
    assert_eq!(header(&puts[0], "lock-token"), Some("\"tok-1\""));
    assert_eq!(
        header(&puts[0], "if-match"),
        Some("\"v1\""),
        "If-Match still sent"
    );
    assert_eq!(header(&puts[1], "lock-token"), None, "released: no token");
}

#[tokio::test]
async fn the_guard_renews_before_the_lease_ends() {
    let server = MockServer::start().await;
    lockable(&server, 300).await;
    Mock::given(method("PUT"))
        .and(path("/items/1/lock"))
        .and(has_header("lock-token", "\"tok-1\""))
        .respond_with(json_response(
            200,
            json!({"token": "tok-1", "ttl_ms": 300}),
            None,
        ))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let lock = h.client.lock("/items/1").owner("me").await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let renewals = received(&server, "PUT")
        .await
        .into_iter()
        .filter(|r| r.url.path() == "/items/1/lock")
        .count();
    assert!(
        renewals >= 2,
        "renewed {renewals} times in 700 ms of a 300 ms lease"
    );
    assert_eq!(lock.lost(), None);
    lock.release().await.unwrap();
}

#[tokio::test]
async fn a_refused_renewal_loses_the_lock_and_later_writes_are_not_sent() {
    let server = MockServer::start().await;
    lockable(&server, 150).await;
    Mock::given(method("PUT"))
        .and(path("/items/1/lock"))
        .respond_with(problem(
            412,
            json!({"type": "urn:ifmatch:problem:lock-token-invalid", "status": 412}),
        ))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let lock = h.client.lock("/items/1").owner("me").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(lock.lost().is_some());
    assert!(h
        .events()
        .iter()
        .any(|e| matches!(e, Event::LockLost { url, .. } if url.ends_with("/items/1"))));
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    let err = h
        .client
        .put("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "lock_lost", "{err}");
    assert!(
        puts(&server).await.is_empty(),
        "a lost lock's write is never sent"
    );
    assert_eq!(lock.release().await.unwrap_err().code(), "lock_lost");
}

#[tokio::test]
async fn a_write_whose_token_the_server_refuses_marks_the_lock_lost() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/items/1"))
        .respond_with(problem(
            412,
            json!({"type": "urn:ifmatch:problem:lock-token-invalid", "status": 412}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    lockable(&server, 30_000).await;
    let h = harness(&server, RetryConfig::default());
    let lock = h.client.lock("/items/1").owner("me").await.unwrap();
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    let err = h
        .client
        .put("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "lock_lost", "not a version conflict: {err}");
    assert!(!err.is_conflict());
    assert!(lock.lost().is_some());
    let again = h
        .client
        .put("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap_err();
    assert_eq!(again.code(), "lock_lost");
}

#[tokio::test]
async fn a_lock_held_by_someone_else_is_refused_with_its_expiry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/items/1/lock"))
        .and(body_partial_json(json!({"wait_ms": 2000, "ttl_ms": 5000})))
        .respond_with(
            problem(
                423,
                json!({"type": "urn:ifmatch:problem:locked", "status": 423, "owner": "other", "expires_at_ms": 1}),
            )
            .insert_header("retry-after", "4"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let err = h
        .client
        .lock("/items/1")
        .ttl(Duration::from_secs(5))
        .wait(Duration::from_secs(2))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "locked", "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(4)));
    assert_eq!(err.problem().unwrap().extensions["owner"], "other");
    assert!(err.to_string().contains("423 Locked"), "{err}");
}

#[tokio::test]
async fn dropping_the_guard_releases_the_lock_in_the_background() {
    let server = MockServer::start().await;
    lockable(&server, 30_000).await;
    let h = harness(&server, RetryConfig::default());
    let lock = h.client.lock("/items/1").owner("me").await.unwrap();
    drop(lock);
    for _ in 0..50 {
        if !received(&server, "DELETE").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deletes = received(&server, "DELETE").await;
    assert_eq!(deletes.len(), 1, "released once");
    assert_eq!(header(&deletes[0], "lock-token"), Some("\"tok-1\""));
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    h.client
        .put("/items/1", &json!({"n": 2}), &read)
        .await
        .unwrap();
    assert_eq!(header(&puts(&server).await[0], "lock-token"), None);
}

#[tokio::test]
async fn tasks_sharing_a_client_say_which_lock_a_write_is_under() {
    let server = MockServer::start().await;
    for token in ["a", "b"] {
        Mock::given(method("POST"))
            .and(path("/items/1/lock"))
            .respond_with(
                json_response(201, json!({"token": token, "ttl_ms": 30_000}), None)
                    .insert_header("lock-token", format!("\"{token}\"").as_str()),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("PUT"))
        .and(path("/items/1"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    // A first task's lock expired at the server and a second task of the same client took it.
    let first = h.client.lock("/items/1").await.unwrap();
    let second = h.client.lock("/items/1").await.unwrap();
    let doc = json!({"n": 1});
    let unconditional = ifmatch::Precondition::unconditional;
    let err = h
        .client
        .put("/items/1", &doc, unconditional())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_config", "{err}");
    assert!(err.to_string().contains(".under(&lock)"), "{err}");
    h.client
        .put("/items/1", &doc, unconditional())
        .under(&second)
        .await
        .unwrap();
    assert_eq!(header(&puts(&server).await[0], "lock-token"), Some("\"b\""));
    first.release().await.unwrap();
    // One guard left: used by itself again.
    h.client
        .put("/items/1", &doc, unconditional())
        .await
        .unwrap();
    assert_eq!(header(&puts(&server).await[1], "lock-token"), Some("\"b\""));
    second.release().await.unwrap();
}

#[tokio::test]
async fn a_lock_ended_by_its_holders_delete_releases_without_a_request() {
    let server = MockServer::start().await;
    lockable(&server, 30_000).await;
    Mock::given(method("DELETE"))
        .and(path("/items/1"))
        .and(has_header("lock-token", "\"tok-1\""))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let lock = h.client.lock("/items/1").owner("me").await.unwrap();
    let read = h.client.get::<Value>("/items/1").await.unwrap();
    h.client.delete("/items/1", &read).await.unwrap();
    lock.release().await.unwrap();
    let lock_deletes = received(&server, "DELETE")
        .await
        .into_iter()
        .filter(|r| r.url.path() == "/items/1/lock")
        .count();
    assert_eq!(
        lock_deletes, 0,
        "the DELETE ended the lock with the resource"
    );
}

#[tokio::test]
async fn a_write_cannot_borrow_the_token_of_a_lock_on_another_resource() {
    let server = MockServer::start().await;
    lockable(&server, 30_000).await;
    Mock::given(method("PUT"))
        .and(path("/items/2"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let lock = h.client.lock("/items/1").owner("me").await.unwrap();
    let err = h
        .client
        .put(
            "/items/2",
            &json!({}),
            ifmatch::Precondition::unconditional(),
        )
        .under(&lock)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_config", "{err}");
    assert!(err.to_string().contains("another resource"), "{err}");
    lock.release().await.unwrap();
}

#[tokio::test]
async fn renewals_and_the_release_repeat_the_acquires_headers() {
    let server = MockServer::start().await;
    lockable(&server, 300).await;
    Mock::given(method("PUT"))
        .and(path("/items/1/lock"))
        .and(has_header("authorization", "Bearer per-request"))
        .respond_with(json_response(
            200,
            json!({"token": "tok-1", "ttl_ms": 300}),
            None,
        ))
        .mount(&server)
        .await;
    let h = harness(&server, RetryConfig::default());
    let lock = h
        .client
        .lock("/items/1")
        .owner("me")
        .header("authorization", "Bearer per-request")
        .await
        .unwrap();
    lock.renew().await.unwrap();
    lock.release().await.unwrap();
    let deletes = received(&server, "DELETE").await;
    assert_eq!(
        header(&deletes[0], "authorization"),
        Some("Bearer per-request")
    );
}
