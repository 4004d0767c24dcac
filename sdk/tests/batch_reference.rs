//! Atomic batches through the SDK against the reference server: all or nothing, local ids,
//! failures named by operation, and a cache that follows the results.

use ifmatch::{Client, Precondition, Target};
use ifmatch_server::{spawn, Config};
use serde_json::{json, Value};

#[tokio::test]
async fn a_batch_applies_all_its_operations_and_the_cache_follows() {
    let server = spawn(Config::new()).await.unwrap();
    let client = Client::builder()
        .base_url(&server.base_url())
        .unwrap()
        .build()
        .unwrap();
    let a = client.create("/items", &json!({"n": 1})).await.unwrap();
    let a_path = a.location.clone().unwrap();
    let b = client
        .create("/items", &json!({"gone": false}))
        .await
        .unwrap();
    let b_path = b.location.clone().unwrap();
    let a_read = client.get::<Value>(&a_path).await.unwrap();
    let b_read = client.get::<Value>(&b_path).await.unwrap();

    let done = client
        .batch()
        .create_as("order", &json!({"total": 0}))
        .put(&a_path, &json!({"n": 2}), &a_read)
        .patch(
            Target::lid("order"),
            &json!({"total": 10}),
            Precondition::unconditional(),
        )
        .delete(&b_path, &b_read)
        .check(&a_path, Precondition::unconditional())
        .await
        .unwrap();
    assert_eq!(done.len(), 5);
    let order = done.created("order").unwrap();
    assert_eq!(order.status(), 201);
    assert_eq!(
        done[2].url(),
        order.url(),
        "the patch acted on the created document"
    );
    assert_eq!(
        done[4].etag(),
        done[1].etag(),
        "the check sees the put's version"
    );

    let order_now = client.get::<Value>(order.url()).await.unwrap();
    assert_eq!(order_now.value, json!({"total": 10}));
    assert_eq!(order_now.etag.as_ref(), done[2].etag());
    assert!(
        order_now.from_cache,
        "the batch's last result for it was cached"
    );
    let a_now = client.get::<Value>(&a_path).await.unwrap();
    assert!(a_now.from_cache && a_now.value == json!({"n": 2}));
    let err = client.get::<Value>(&b_path).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_stale_operation_fails_the_batch_and_nothing_changes() {
    let server = spawn(Config::new()).await.unwrap();
    let client = Client::builder()
        .base_url(&server.base_url())
        .unwrap()
        .build()
        .unwrap();
    let a = client.create("/items", &json!({"n": 1})).await.unwrap();
    let a_path = a.location.clone().unwrap();
    let stale = client.get::<Value>(&a_path).await.unwrap();
    client.put(&a_path, &json!({"n": 5}), &stale).await.unwrap();

    let err = client
        .batch()
        .create_as("x", &json!({"made": true}))
        .put(&a_path, &json!({"n": 2}), &stale)
        .await
        .unwrap_err();
    assert_eq!(err.failed_operation(), Some(1), "{err}");
    assert!(err.is_precondition_failed(), "{err}");
    assert_eq!(err.problem().unwrap().extensions["op"], "put");
    let current = client.get::<Value>(&a_path).await.unwrap();
    assert_eq!(current.value, json!({"n": 5}));
    assert_eq!(err.current_etag(), current.etag.as_ref());
    let items = client.get::<Value>("/items").await.unwrap().value;
    assert_eq!(
        items["items"].as_array().unwrap().len(),
        1,
        "the create before the failed put was not applied: {items}"
    );
    server.shutdown().await;
}
