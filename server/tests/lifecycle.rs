//! Starting, stopping and restarting servers: persistence, tag uniqueness over time, errors.

mod support;

use std::collections::HashSet;

use ifmatch_server::{spawn, Config, Error, Storage};
use serde_json::{json, Value};

async fn put(client: &reqwest::Client, url: &str, body: &str) -> (reqwest::StatusCode, String) {
    let response = client
        .put(url)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    (response.status(), etag)
}

async fn get(client: &reqwest::Client, url: &str) -> (Value, String) {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    (response.json().await.unwrap(), etag)
}

#[tokio::test]
async fn sqlite_keeps_documents_and_never_reuses_tags_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new().with_storage(Storage::Sqlite(dir.path().join("items.db")));
    let client = reqwest::Client::new();
    let mut seen = HashSet::new();

    let first = spawn(config.clone()).await.unwrap();
    let (status, kept) = put(
        &client,
        &format!("{}/items/kept", first.base_url()),
        r#"{"n":1}"#,
    )
    .await;
    assert_eq!(status, 201);
    let (_, gone) = put(&client, &format!("{}/items/gone", first.base_url()), "{}").await;
    client
        .delete(format!("{}/items/gone", first.base_url()))
        .send()
        .await
        .unwrap();
    seen.extend([kept.clone(), gone]);
    first.shutdown().await;

    let second = spawn(config).await.unwrap();
    let base = second.base_url();
    assert_eq!(
        get(&client, &format!("{base}/items/kept")).await,
        (json!({"n": 1}), kept)
    );
    let (status, recreated) = put(&client, &format!("{base}/items/gone"), "{}").await;
    assert_eq!(status, 201);
    let (_, replaced) = put(&client, &format!("{base}/items/kept"), r#"{"n":2}"#).await;
    for etag in [recreated, replaced] {
        assert!(seen.insert(etag.clone()), "tag {etag} reused after restart");
    }
    second.shutdown().await;
}

#[tokio::test]
async fn memory_tags_differ_between_boots() {
    let client = reqwest::Client::new();
    let mut seen = HashSet::new();
    for boot in 0..3 {
        let server = spawn(Config::new()).await.unwrap();
        let (_, etag) = put(&client, &format!("{}/items/doc", server.base_url()), "{}").await;
        assert!(seen.insert(etag.clone()), "boot {boot} reused tag {etag}");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn base_url_has_no_trailing_slash_and_matches_the_bound_port() {
    let server = spawn(Config::new()).await.unwrap();
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);
    assert_eq!(
        server.base_url(),
        format!("http://127.0.0.1:{}", addr.port())
    );
    server.shutdown().await;
}

#[tokio::test]
async fn binding_an_address_in_use_is_a_bind_error() {
    let running = spawn(Config::new()).await.unwrap();
    let err = spawn(Config::new().with_addr(running.local_addr()))
        .await
        .expect_err("the port is taken");
    assert!(
        matches!(err, Error::Bind { addr, .. } if addr == running.local_addr()),
        "{err:?}"
    );
    assert!(err.to_string().contains("cannot listen on"), "{err}");
    running.shutdown().await;
}

#[tokio::test]
async fn an_unusable_sqlite_path_is_an_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        Config::new().with_storage(Storage::Sqlite(dir.path().join("missing/dir/items.db")));
    let err = spawn(config)
        .await
        .expect_err("the directory does not exist");
    assert!(matches!(err, Error::SqliteOpen { .. }), "{err:?}");
    assert!(err.to_string().contains("missing/dir/items.db"), "{err}");
}

#[tokio::test]
async fn router_can_be_embedded_in_another_application() {
    let router = ifmatch_server::router(&Config::new()).unwrap();
    let app = axum::Router::new().merge(router);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let (status, _) = put(&client, &format!("http://{addr}/items/doc"), "[1]").await;
    assert_eq!(status, 201);
    task.abort();
}
