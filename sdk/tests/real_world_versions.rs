//! `update()` against stubs shaped like APIs that keep the version in the body or send it back
//! in a query (issue #13, the SDK, items 1 and 4): Kubernetes, CouchDB (`_rev` in the body, and
//! `?rev=`), GitHub contents and GCS. Each is driven by one client shared by many tasks making
//! concurrent increments, each task in its own cache partition (one client's updates of one
//! resource take turns, so within one partition they would not race): every acknowledged
//! increment must be in the final count.

mod shapes;
mod support;

use ifmatch::{Client, RetryConfig, VersionField};
use serde_json::{json, Value};
use shapes::{increment, Shape, Stub};
use support::{header, received, YieldSleeper};
use wiremock::{matchers::method, Mock, MockServer};

const TASKS: usize = 4;
const EACH: usize = 5;

async fn client_for(server: &MockServer, field: VersionField) -> Client {
    Client::builder()
        .base_url(&server.uri())
        .unwrap()
        .retry(RetryConfig::contended())
        .sleeper(YieldSleeper)
        .version_field(field)
        .build()
        .unwrap()
}

/// TASKS tasks on one client, each in its own partition (so that they race), each make EACH
/// increments with `update()`; none may be lost.
async fn concurrent_increments(client: &Client, stub: &Stub, path: &str) {
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (client, path) = (client.with_partition(format!("t{task}")), path.to_owned());
        tasks.push(tokio::spawn(async move {
            for _ in 0..EACH {
                client
                    .update::<Value>(&path, shapes::increment)
                    .await
                    .unwrap_or_else(|e| panic!("update failed: {e}"));
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let total = (TASKS * EACH) as i64;
    assert_eq!(stub.n(), total, "every acknowledged increment is stored");
    assert_eq!(stub.state.lock().unwrap().applied, total as u32);
}

async fn start(shape: Shape) -> (MockServer, Stub) {
    let server = MockServer::start().await;
    let stub = Stub::new(shape);
    stub.mount(&server).await;
    (server, stub)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_resource_version_in_the_body_and_409_status_lose_nothing() {
    let (server, stub) = start(Shape::Kubernetes).await;
    let client = client_for(&server, VersionField::at("/metadata/resourceVersion")).await;
    concurrent_increments(&client, &stub, "/api/v1/namespaces/default/configmaps/cfg").await;
    for put in received(&server, "PUT").await {
        assert_eq!(
            header(&put, "if-match"),
            None,
            "the body carries the version"
        );
        let body: Value = put.body_json().unwrap();
        assert!(
            body.pointer("/metadata/resourceVersion").is_some(),
            "{body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn couchdb_rev_in_the_body_loses_nothing() {
    let (server, stub) = start(Shape::CouchBody).await;
    let client = client_for(&server, VersionField::at("/_rev")).await;
    concurrent_increments(&client, &stub, "/db/doc").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn couchdb_rev_in_the_query_loses_nothing_and_stays_out_of_the_cache_key() {
    let (server, stub) = start(Shape::CouchQuery).await;
    let client = client_for(&server, VersionField::at("/_rev").sent_in_query("rev")).await;
    concurrent_increments(&client, &stub, "/db/doc").await;
    for put in received(&server, "PUT").await {
        let rev = put.url.query_pairs().find(|(k, _)| k == "rev");
        assert!(rev.is_some_and(|(_, v)| v.ends_with("-abc")), "{}", put.url);
    }
    for get in received(&server, "GET").await {
        assert_eq!(get.url.query(), None, "reads are of the document itself");
    }
    // Reads are cached under the plain URL: the second one revalidates the first.
    client.get::<Value>("/db/doc").await.unwrap();
    client.get::<Value>("/db/doc").await.unwrap();
    let gets = received(&server, "GET").await;
    assert!(header(gets.last().unwrap(), "if-none-match").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_contents_sha_in_the_body_and_409_lose_nothing() {
    let (server, stub) = start(Shape::GitHub).await;
    // GitHub sends weak ETags: the sha in the body is the version, so no waiting for a strong tag.
    let client = client_for(&server, VersionField::at("/sha")).await;
    concurrent_increments(&client, &stub, "/repos/o/r/contents/n.json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcs_generation_sent_as_if_generation_match_and_412_lose_nothing() {
    let (server, stub) = start(Shape::Gcs).await;
    let client = client_for(
        &server,
        VersionField::at("/generation").sent_in_query("ifGenerationMatch"),
    )
    .await;
    concurrent_increments(&client, &stub, "/storage/v1/b/bucket/o/obj").await;
    assert!(
        stub.state.lock().unwrap().refused > 0,
        "the race was exercised"
    );
}

#[tokio::test]
async fn the_version_field_can_be_set_per_resource() {
    let server = MockServer::start().await;
    let couch = Stub::new(Shape::CouchQuery);
    couch.mount(&server).await;
    let plain = Client::builder()
        .base_url(&server.uri())
        .unwrap()
        .build()
        .unwrap();
    let view = plain
        .with_version_field(VersionField::at("/_rev").sent_in_query("rev"))
        .unwrap();
    view.update::<Value>("/db/doc", increment).await.unwrap();
    assert_eq!(couch.n(), 1);
    let err = plain
        .with_version_field(VersionField::at("/_rev").sent_in_query(""))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_config");
    // The client without it knows only ETags: CouchDB's is the rev, so If-Match is sent, and
    // this stub (as CouchDB does with ?rev= configured) checks only the query: refused.
    let err = plain
        .update::<Value>("/db/doc", increment)
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
}

#[tokio::test]
async fn a_409_of_another_shape_to_a_versioned_write_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(support::json(
            200,
            json!({"metadata": {"name": "cfg", "resourceVersion": "7"}, "data": {"n": 1}}),
            None,
        ))
        .mount(&server)
        .await;
    // Kubernetes' AlreadyExists (and any 409 body not saying "stale version") is a business
    // refusal: retrying would fail the same way.
    Mock::given(method("PUT"))
        .respond_with(support::json(
            409,
            json!({"kind": "Status", "status": "Failure", "reason": "AlreadyExists", "code": 409}),
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server, VersionField::at("/metadata/resourceVersion")).await;
    let err = client.update::<Value>("/cfg", increment).await.unwrap_err();
    assert_eq!(err.code(), "http_status", "{err}");
    assert!(!err.is_conflict());
}
