//! `--max-documents`: a write that would create a document in a full store answers 507
//! problem+json naming the flag and writes nothing; updates and deletes still work, and a
//! delete makes room again. Memory and SQLite here; PostgreSQL (several replicas creating at
//! once) in the storage suite (`server/src/storage/suite_cap.rs`, `suite_postgres.rs`).

mod support;

use ifmatch_server::Config;
use reqwest::Method;
use serde_json::{json, Value};
use support::{etag_of, expect_problem, Backend, TestServer};

async fn post(server: &TestServer, path: &str, body: &Value) -> reqwest::Response {
    server
        .send(
            Method::POST,
            path,
            &[("content-type", "application/json")],
            Some(&body.to_string()),
        )
        .await
}

async fn count(server: &TestServer) -> usize {
    let response = server.get("/items", &[]).await;
    assert_eq!(response.status(), 200);
    let items: Value = response.json().await.unwrap();
    items
        .as_array()
        .map_or_else(|| items["items"].as_array().unwrap().len(), Vec::len)
}

#[tokio::test]
async fn creates_beyond_the_cap_get_507_and_deletes_make_room() {
    for backend in [Backend::Memory, Backend::Sqlite] {
        let server = TestServer::start(backend, Config::new().with_max_documents(2)).await;
        assert_eq!(
            post(&server, "/items", &json!({"n": 1})).await.status(),
            201
        );
        let a = server.seed("/items/a", r#"{"n":1}"#).await;

        let response = post(&server, "/items", &json!({"n": 2})).await;
        let problem = expect_problem(response, 507, "storage-full").await;
        assert_eq!(problem["max_documents"], 2);
        insta::assert_snapshot!(
            "storage_full_problem",
            serde_json::to_string_pretty(&problem).unwrap()
        );

        let response = server
            .put("/items/b", &[("if-none-match", "*")], r#"{"n":1}"#)
            .await;
        let problem = expect_problem(response, 507, "storage-full").await;
        assert!(problem["detail"]
            .as_str()
            .unwrap()
            .contains("--max-documents"));
        assert_eq!(
            server.get("/items/b", &[]).await.status(),
            404,
            "nothing written"
        );
        let response = server
            .batch(json!([{"op": "create", "body": {"n": 3}}]))
            .await;
        expect_problem(response, 507, "storage-full").await;
        assert_eq!(count(&server).await, 2);

        // Full, yet an existing document is still updated.
        let response = server
            .put("/items/a", &[("if-match", &a)], r#"{"n":2}"#)
            .await;
        assert_eq!(response.status(), 200, "{backend:?}");
        let a = etag_of(response.headers());

        // A batch that deletes as many as it creates fits.
        server
            .batch_ok(json!([
                {"op": "delete", "path": "/items/a", "if_match": a},
                {"op": "put", "path": "/items/c", "body": {"n": 1}},
            ]))
            .await;

        let (_, c) = server.read("/items/c").await;
        assert_eq!(
            server
                .delete("/items/c", &[("if-match", &c)])
                .await
                .status(),
            204
        );
        assert_eq!(
            server
                .put("/items/b", &[("if-none-match", "*")], r#"{"n":1}"#)
                .await
                .status(),
            201,
            "a delete made room"
        );
        assert_eq!(count(&server).await, 2);
        server.shutdown().await;
    }
}
