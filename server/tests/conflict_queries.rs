//! `GET /conflicts` filters and paging, `GET /conflicts/{id}`, and the bounded log.

mod support;

use ifmatch_server::Config;
use serde_json::{json, Value};
use support::conflicts::{get_json, resolve, stale_and_current, stale_put};
use support::{expect_problem, Backend, TestServer};

fn resources(list: &Value) -> Vec<String> {
    list["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource"].as_str().unwrap().to_owned())
        .collect()
}

/// One conflict on each of `/items/a1`, `/items/a2`, `/items/b1`, in that order; the one on
/// `/items/a2` resolved.
async fn three_conflicts(server: &TestServer) {
    for path in ["/items/a1", "/items/a2", "/items/b1"] {
        let (stale, _) = stale_and_current(server, path).await;
        let problem = stale_put(server, path, &stale, None, "{}").await;
        if path == "/items/a2" {
            let id = problem["conflict_id"].as_str().unwrap();
            assert_eq!(
                resolve(server, id, None, r#"{"resolution":"theirs"}"#)
                    .await
                    .status(),
                200
            );
        }
    }
}

#[tokio::test]
async fn filters_choose_records_by_resource_prefix_and_state() {
    let server = TestServer::start_default(Backend::Memory).await;
    three_conflicts(&server).await;
    let all = get_json(&server, "/conflicts").await;
    assert_eq!(resources(&all), ["/items/a1", "/items/a2", "/items/b1"]);
    assert_eq!(all["next_after"], Value::Null);
    for (query, expected) in [
        ("resource=/items/b1", vec!["/items/b1"]),
        (
            "resource=%2Fitems%2Fa1&resource=/items/b1",
            vec!["/items/a1", "/items/b1"],
        ),
        ("prefix=/items/a", vec!["/items/a1", "/items/a2"]),
        (
            "prefix=/items/b&resource=/items/a2",
            vec!["/items/a2", "/items/b1"],
        ),
        ("state=open", vec!["/items/a1", "/items/b1"]),
        ("state=resolved", vec!["/items/a2"]),
        ("prefix=/items/a&state=open", vec!["/items/a1"]),
        ("resource=/items/zzz", vec![]),
    ] {
        let list = get_json(&server, &format!("/conflicts?{query}")).await;
        assert_eq!(resources(&list), expected, "{query}");
    }
    let resolved = get_json(&server, "/conflicts?state=resolved").await;
    assert_eq!(resolved["conflicts"][0]["resolution"]["choice"], "theirs");
    server.shutdown().await;
}

#[tokio::test]
async fn pages_follow_next_after_until_it_is_null() {
    let server = TestServer::start_default(Backend::Memory).await;
    let (stale, _) = stale_and_current(&server, "/items/p").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let problem = stale_put(
            &server,
            "/items/p",
            &stale,
            None,
            &json!({"n": n}).to_string(),
        )
        .await;
        ids.push(problem["conflict_id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut after = 0;
    for _ in 0..10 {
        let page = get_json(&server, &format!("/conflicts?limit=2&after={after}")).await;
        let records = page["conflicts"].as_array().unwrap();
        assert!(records.len() <= 2);
        seen.extend(records.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        match page["next_after"].as_u64() {
            Some(next) => {
                assert_eq!(json!(next), records.last().unwrap()["seq"]);
                after = next;
            }
            None => break,
        }
    }
    assert_eq!(seen, ids);
    server.shutdown().await;
}

#[tokio::test]
async fn the_log_keeps_the_newest_records_and_forgets_the_rest() {
    let server = TestServer::start(Backend::Memory, Config::new().with_conflict_log_size(2)).await;
    let (stale, _) = stale_and_current(&server, "/items/f").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let problem = stale_put(&server, "/items/f", &stale, None, "{}").await;
        ids.push(problem["conflict_id"].as_str().unwrap().to_owned());
    }
    let list = get_json(&server, "/conflicts").await;
    let kept: Vec<&str> = list["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(kept, [ids[1].as_str(), ids[2].as_str()]);
    let forgotten = server.get(&format!("/conflicts/{}", ids[0]), &[]).await;
    expect_problem(forgotten, 404, "conflict-not-found").await;
    let gone = resolve(&server, &ids[0], None, r#"{"resolution":"theirs"}"#).await;
    expect_problem(gone, 404, "conflict-not-found").await;
    for unknown in ["/conflicts/c-999", "/conflicts/12", "/conflicts/c-x"] {
        expect_problem(server.get(unknown, &[]).await, 404, "conflict-not-found").await;
    }
    server.shutdown().await;
}

#[tokio::test]
async fn malformed_queries_and_methods_are_explained() {
    let server = TestServer::start_default(Backend::Memory).await;
    for query in [
        "state=closed",
        "limit=0",
        "after=x",
        "colour=red",
        "last_event_id=3",
    ] {
        let response = server.get(&format!("/conflicts?{query}"), &[]).await;
        let body = expect_problem(response, 400, "invalid-query").await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("resource, prefix"),
            "{body}"
        );
    }
    let stream = server.get("/conflicts/stream?limit=3", &[]).await;
    expect_problem(stream, 400, "invalid-query").await;
    let response = server
        .send(reqwest::Method::DELETE, "/conflicts/c-1", &[], None)
        .await;
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    expect_problem(response, 405, "method-not-allowed").await;
    let response = server.get("/conflicts/c-1/resolve", &[]).await;
    assert_eq!(response.headers()["allow"], "POST");
    expect_problem(response, 405, "method-not-allowed").await;
    server.shutdown().await;
}
