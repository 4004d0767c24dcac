//! API versions over HTTP: selection by prefix and `Api-Version`, the v2 envelope and its own
//! tags, v2 write bodies with `version`, cross-version `If-Match`, unknown versions, and the
//! retirement headers of v1 (parsed, not just compared as text).

mod support;

use std::time::{Duration, UNIX_EPOCH};

use ifmatch_server::{Config, MismatchStatus, Timestamp};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use support::atomic::tx_header;
use support::versions::{number_in, version_of};
use support::{etag_of, expect_problem, Backend, TestServer};

both_storages!(
    v2_answers_are_envelopes_under_their_own_tags,
    the_header_and_the_prefixes_pick_the_same_representations,
    a_body_version_is_a_precondition,
    version_zero_means_the_document_must_not_exist,
    either_versions_tag_works_in_if_match,
    if_none_match_compares_with_the_answers_own_representation,
    locks_and_history_work_under_v2,
    transactions_speak_v2_on_v2_urls,
);

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn v2(body: Value) -> String {
    body.to_string()
}

async fn v2_answers_are_envelopes_under_their_own_tags(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let created = server
        .put("/v2/items/doc", &[], &v2(json!({"data": {"n": 1}})))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(header(&created, "location"), Some("/v2/items/doc"));
    let tag = etag_of(created.headers());
    assert!(tag.ends_with(".v2\""), "{tag}");
    let version = version_of(created.headers());
    assert_eq!(number_in(&tag), version);
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["id"], "doc");
    assert_eq!(body["version"], version);
    assert_eq!(body["data"], json!({"n": 1}));
    let modified = body["modified_at_ms"].as_u64().unwrap();
    assert!(modified > 1_600_000_000_000);

    let read = server.get("/v2/items/doc", &[]).await;
    assert_eq!(etag_of(read.headers()), tag);
    assert!(
        header(&read, "deprecation").is_none(),
        "v2 is not deprecated"
    );
    assert_eq!(read.json::<Value>().await.unwrap(), body);
    // The same stored version through v1: the plain document and the plain tag.
    let (plain, v1_tag) = server.read("/items/doc").await;
    assert_eq!(plain, json!({"n": 1}));
    assert_eq!(format!("{}.v2\"", v1_tag.trim_end_matches('"')), tag);

    let posted = server
        .post("/v2/items", &[], &v2(json!({"data": [1, 2]})))
        .await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    let location = header(&posted, "location").unwrap().to_owned();
    assert!(location.starts_with("/v2/items/"), "{location}");
    let posted: Value = posted.json().await.unwrap();
    let patched = server
        .patch("/v2/items/doc", &[], &v2(json!({"data": {"m": 2}})))
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["data"], json!({"n": 1, "m": 2}));
    let list = server.get("/v2/items", &[]).await;
    let list: Value = list.json().await.unwrap();
    assert_eq!(list["items"], json!([patched, posted]));
    server.shutdown().await;
}

async fn the_header_and_the_prefixes_pick_the_same_representations(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    server.seed("/items/doc", r#"{"n":1}"#).await;
    let by_prefix = server.get("/v2/items/doc", &[]).await;
    let by_header = server.get("/items/doc", &[("api-version", "2")]).await;
    assert_eq!(etag_of(by_prefix.headers()), etag_of(by_header.headers()));
    for response in [&by_prefix, &by_header] {
        assert!(header(response, "vary").unwrap().contains("Api-Version"));
    }
    let v2_body: Value = by_header.json().await.unwrap();
    assert_eq!(v2_body, by_prefix.json::<Value>().await.unwrap());

    let plain = server.get("/items/doc", &[]).await;
    let v1 = server.get("/v1/items/doc", &[("api-version", "1")]).await;
    assert_eq!(etag_of(plain.headers()), etag_of(v1.headers()));
    assert!(header(&plain, "vary").unwrap().contains("Api-Version"));
    assert_eq!(plain.text().await.unwrap(), v1.text().await.unwrap());

    for (path, value) in [
        ("/items/doc", "3"),
        ("/items", "two"),
        ("/v1/items/doc", "2"),
    ] {
        let response = server.get(path, &[("api-version", value)]).await;
        let body = expect_problem(response, 400, "unsupported-api-version").await;
        assert_eq!(body["supported"], json!(["1", "2"]), "{path} {value}");
    }
    for path in ["/v3/items", "/v0/items/doc", "/v10/items/doc/versions"] {
        let body =
            expect_problem(server.get(path, &[]).await, 404, "unsupported-api-version").await;
        assert_eq!(body["supported"], json!(["1", "2"]));
        assert!(body["detail"].as_str().unwrap().contains("/v2"), "{body}");
    }
    let wrong = server.send(Method::PATCH, "/v2/items", &[], None).await;
    let body = expect_problem(wrong, 405, "method-not-allowed").await;
    assert!(body["detail"].as_str().unwrap().contains("POST"));
    server.shutdown().await;
}

async fn a_body_version_is_a_precondition(backend: Backend) {
    let config = Config::new()
        .with_mismatch_status(MismatchStatus::Conflict)
        .with_require_preconditions(true);
    let server = TestServer::start(backend, config).await;
    let seeded = server
        .put(
            "/v2/items/doc",
            &[("if-none-match", "*")],
            &v2(json!({"data": {"n": 1}})),
        )
        .await;
    let version = version_of(seeded.headers());
    // A body version counts as the condition --require-preconditions asks for.
    let unconditional = server
        .put("/v2/items/doc", &[], &v2(json!({"data": {"n": 2}})))
        .await;
    expect_problem(unconditional, 428, "precondition-required").await;
    let ok = server
        .put(
            "/v2/items/doc",
            &[],
            &v2(json!({"data": {"n": 2}, "version": version})),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let current = version_of(ok.headers());
    let current_tag = etag_of(ok.headers());
    let stale = server
        .patch(
            "/v2/items/doc",
            &[],
            &v2(json!({"data": {"n": 3}, "version": version})),
        )
        .await;
    let body = expect_problem(stale, 409, "version-conflict").await;
    assert_eq!(body["current_version"], current);
    assert_eq!(body["current_etag"], current_tag.as_str());
    // With both If-Match and version, both must hold.
    let both = server
        .put(
            "/v2/items/doc",
            &[("if-match", &current_tag)],
            &v2(json!({"data": {}, "version": version})),
        )
        .await;
    expect_problem(both, 409, "version-conflict").await;
    let missing = server
        .put(
            "/v2/items/nope",
            &[],
            &v2(json!({"data": {}, "version": 5})),
        )
        .await;
    let body = expect_problem(missing, 412, "precondition-failed").await;
    assert!(body.get("current_version").is_none());
    let missing_patch = server
        .patch(
            "/v2/items/nope",
            &[],
            &v2(json!({"data": {}, "version": 5})),
        )
        .await;
    expect_problem(missing_patch, 404, "not-found").await;
    for bad in [
        json!({"n": 1}),
        json!({"data": 1, "version": -1}),
        json!({"data": 1, "x": 0}),
    ] {
        let response = server.put("/v2/items/doc", &[], &bad.to_string()).await;
        expect_problem(response, 400, "malformed-body").await;
    }
    assert_eq!(server.read("/items/doc").await.0, json!({"n": 2}));
    server.shutdown().await;
}

async fn version_zero_means_the_document_must_not_exist(backend: Backend) {
    let config = Config::new().with_mismatch_status(MismatchStatus::Conflict);
    let server = TestServer::start(backend, config).await;
    let create = v2(json!({"data": {"first": true}, "version": 0}));
    let created = server.put("/v2/items/doc", &[], &create).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let again = server.put("/v2/items/doc", &[], &create).await;
    let body = expect_problem(again, 412, "precondition-failed").await;
    assert_eq!(body["current_version"], version_of(created.headers()));
    let posted = server.post("/v2/items", &[], &create).await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    let posted_stale = server
        .post("/v2/items", &[], &v2(json!({"data": {}, "version": 3})))
        .await;
    expect_problem(posted_stale, 412, "precondition-failed").await;
    server.shutdown().await;
}

async fn either_versions_tag_works_in_if_match(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let v1_tag = server.seed("/items/doc", r#"{"n":1}"#).await;
    let from_v1 = server
        .put(
            "/v2/items/doc",
            &[("if-match", &v1_tag)],
            &v2(json!({"data": {"n": 2}})),
        )
        .await;
    assert_eq!(from_v1.status(), StatusCode::OK);
    let v2_tag = etag_of(from_v1.headers());
    let from_v2 = server
        .put("/items/doc", &[("if-match", &v2_tag)], r#"{"n":3}"#)
        .await;
    assert_eq!(from_v2.status(), StatusCode::OK);
    // Both tags of the replaced version are stale now, on either URL.
    for (path, body) in [
        ("/items/doc", r#"{"n":4}"#.to_owned()),
        ("/v2/items/doc", v2(json!({"data": 4}))),
    ] {
        for tag in [&v1_tag, &v2_tag] {
            let response = server.put(path, &[("if-match", tag)], &body).await;
            expect_problem(response, 412, "precondition-failed").await;
        }
    }
    let deleted = server
        .delete(
            "/v2/items/doc",
            &[("if-match", &etag_of(from_v2.headers()))],
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    server.shutdown().await;
}

async fn if_none_match_compares_with_the_answers_own_representation(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let v1_tag = server.seed("/items/doc", "{}").await;
    let v2_tag = etag_of(server.get("/v2/items/doc", &[]).await.headers());
    let cached = server
        .get("/v2/items/doc", &[("if-none-match", &v2_tag)])
        .await;
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(etag_of(cached.headers()), v2_tag);
    // A v1 tag names other bytes: the v2 answer is sent in full.
    let other = server
        .get("/v2/items/doc", &[("if-none-match", &v1_tag)])
        .await;
    assert_eq!(other.status(), StatusCode::OK);
    let other = server
        .get("/items/doc", &[("if-none-match", &v2_tag)])
        .await;
    assert_eq!(other.status(), StatusCode::OK);
    server.shutdown().await;
}

async fn locks_and_history_work_under_v2(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let first = server.seed("/items/doc", r#"{"n":1}"#).await;
    server.seed("/items/doc", r#"{"n":2}"#).await;
    let v1_history = server.history("/items/doc").await;
    assert_eq!(server.history("/v2/items/doc").await, v1_history);
    let n = number_in(&first);
    let old = server
        .get(&format!("/v2/items/doc/versions/{n}"), &[])
        .await;
    assert_eq!(
        etag_of(old.headers()),
        format!("{}.v2\"", first.trim_end_matches('"'))
    );
    let old: Value = old.json().await.unwrap();
    assert_eq!(old["version"], n);
    assert_eq!(old["data"], json!({"n": 1}));
    let lock = server
        .send(Method::POST, "/v2/items/doc/lock", &[], None)
        .await;
    assert_eq!(lock.status(), StatusCode::CREATED);
    let token = header(&lock, "lock-token").unwrap().to_owned();
    let refused = server
        .put("/v2/items/doc", &[], &v2(json!({"data": {}})))
        .await;
    expect_problem(refused, 423, "locked").await;
    let allowed = server
        .put(
            "/v2/items/doc",
            &[("lock-token", &token)],
            &v2(json!({"data": {}})),
        )
        .await;
    assert_eq!(allowed.status(), StatusCode::OK);
    server.shutdown().await;
}

async fn transactions_speak_v2_on_v2_urls(backend: Backend) {
    let server = TestServer::start_default(backend).await;
    let seeded = server.seed("/items/doc", r#"{"n":1}"#).await;
    let tx = server.begin().await;
    let read = server.get("/v2/items/doc", &[tx_header(&tx)]).await;
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["version"], number_in(&seeded));
    let staged = server
        .put(
            "/v2/items/doc",
            &[tx_header(&tx)],
            &v2(json!({"data": {"n": 2}, "version": number_in(&seeded)})),
        )
        .await;
    assert_eq!(staged.status(), StatusCode::OK);
    assert!(etag_of(staged.headers()).ends_with(".v2\""));
    let staged: Value = staged.json().await.unwrap();
    assert_eq!(staged["data"], json!({"n": 2}));
    assert_eq!(server.commit(&tx).await.status(), StatusCode::OK);
    assert_eq!(server.read("/items/doc").await.0, json!({"n": 2}));
    server.shutdown().await;
}

fn seconds_of_deprecation(value: &str) -> u64 {
    value
        .strip_prefix('@')
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("Deprecation `{value}` is not @<unix seconds>"))
}

fn seconds_of_sunset(value: &str) -> u64 {
    let at =
        httpdate::parse_http_date(value).unwrap_or_else(|err| panic!("Sunset `{value}`: {err}"));
    at.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_answers_announce_their_retirement() {
    let server = TestServer::start_default(Backend::Memory).await;
    server.seed("/items/doc", "{}").await;
    let absent = server.get("/items/absent", &[]).await;
    for response in [
        server.get("/items/doc", &[]).await,
        server.get("/v1/items/doc", &[]).await,
        server.get("/items", &[]).await,
        absent,
    ] {
        let deprecation = header(&response, "deprecation").expect("Deprecation");
        assert_eq!(seconds_of_deprecation(deprecation), 1_780_272_000);
        let sunset = header(&response, "sunset").expect("Sunset");
        assert_eq!(seconds_of_sunset(sunset), 1_811_808_000);
        let link = header(&response, "link").expect("Link");
        let path = response.url().path();
        let unprefixed = path.strip_prefix("/v1").unwrap_or(path);
        assert_eq!(
            link,
            format!("</v2{unprefixed}>; rel=\"successor-version\"")
        );
    }
    for response in [
        server.get("/v2/items/doc", &[]).await,
        server.get("/items/doc", &[("api-version", "2")]).await,
        server.send(Method::POST, "/transactions", &[], None).await,
    ] {
        assert!(
            header(&response, "deprecation").is_none(),
            "{}",
            response.url()
        );
        assert!(header(&response, "sunset").is_none());
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retirement_dates_are_configurable_and_can_be_turned_off() {
    let deprecation: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    let config = Config::new()
        .with_v1_deprecation(Some(deprecation))
        .with_v1_sunset(None);
    let server = TestServer::start(Backend::Memory, config).await;
    let response = server.get("/items", &[]).await;
    let announced = seconds_of_deprecation(header(&response, "deprecation").unwrap());
    assert_eq!(announced, deprecation.unix_seconds());
    let expected = deprecation
        .to_system_time()
        .duration_since(UNIX_EPOCH)
        .unwrap();
    assert_eq!(Duration::from_secs(announced), expected);
    assert!(header(&response, "sunset").is_none());
    server.shutdown().await;

    let server = TestServer::start(Backend::Memory, Config::new().with_v1_deprecation(None)).await;
    let response = server.get("/items", &[]).await;
    for name in ["deprecation", "sunset", "link"] {
        assert!(header(&response, name).is_none(), "{name}");
    }
    server.shutdown().await;

    let backwards = Config::new()
        .with_v1_deprecation(Some(Timestamp::from_unix_seconds(2_000)))
        .with_v1_sunset(Some(Timestamp::from_unix_seconds(1_000)));
    let err = ifmatch_server::router(&backwards).unwrap_err().to_string();
    assert!(err.contains("--v1-deprecation"), "{err}");
}
