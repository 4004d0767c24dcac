//! `stress` on replicas (two stubs on one store, two reference servers on one
//! SQLite file), with the version in the body, through the configuration file,
//! and on a server that serves half-written documents.

use ifmatch_conformance::stress::{self, StrategyArg};
use ifmatch_conformance::target::TargetShape;

use super::assert_accounting;
use super::cli;
use super::stub::{self, Create, Shape, Store};
use super::targets::{assert_all_acknowledged, config, started};

#[tokio::test]
async fn clients_are_spread_over_replicas() {
    let store = Store::default();
    let a = stub::start(Shape::default(), store.clone()).await;
    let b = stub::start(Shape::default(), store.clone()).await;
    let mut c = config(
        &a.uri(),
        "/things",
        TargetShape::default(),
        StrategyArg::Reapply,
    );
    c.base_urls.push(b.uri());
    c.clients = 4;
    let s = stress::run(&c).await.expect("runs");
    assert_accounting(&s, 16);
    assert_eq!((s.acknowledged, s.final_value), (16, 16), "{s:#?}");
    for (counts, server) in s.base_urls.iter().zip([&a, &b]) {
        assert_eq!(counts.base_url, server.uri());
        assert_eq!(
            (counts.clients, counts.updates, counts.acknowledged),
            (2, 8, 8)
        );
        let requests = server.received_requests().await.unwrap();
        let puts = requests
            .iter()
            .filter(|r| r.method.as_str() == "PUT")
            .count();
        assert!(puts >= 8, "{} received {puts} PUTs", server.uri());
    }
    let text = s.to_text();
    assert!(text.contains("base URLs"), "{text}");
}

#[tokio::test]
async fn two_reference_servers_on_one_sqlite_file_are_replicas() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("items.db");
    let config_for =
        || ifmatch_server::Config::new().with_storage(ifmatch_server::Storage::Sqlite(db.clone()));
    let a = ifmatch_server::spawn(config_for()).await.unwrap();
    let b = ifmatch_server::spawn(config_for()).await.unwrap();
    let mut c = config(
        &a.base_url(),
        "/items",
        TargetShape::default(),
        StrategyArg::Reapply,
    );
    c.base_urls.push(b.base_url());
    c.clients = 4;
    let s = stress::run(&c).await.expect("runs");
    a.shutdown().await;
    b.shutdown().await;
    assert_accounting(&s, 16);
    assert_eq!(
        (s.acknowledged, s.final_value, s.lost_updates),
        (16, 16, 0),
        "{s:#?}"
    );
    assert_eq!(s.base_urls[1].acknowledged, 8, "{s:#?}");
}

#[tokio::test]
async fn a_version_in_the_body_is_sent_back_in_the_body() {
    let shape = Shape {
        rev_in_body: true,
        require_preconditions: true,
        ..Shape::default()
    };
    let (server, _) = started(shape).await;
    let mut target = TargetShape::default();
    target.version.read = "body:/_rev".parse().unwrap();
    target.version.send = "body:/_rev".parse().unwrap();
    target.version.stale_statuses = vec![409];
    let c = config(
        &server.uri(),
        "/things",
        target.clone(),
        StrategyArg::Reapply,
    );
    let s = stress::run(&c).await.expect("runs");
    assert_all_acknowledged(&s);

    // Naive writes leave the version out, so this server refuses them.
    let c = config(&server.uri(), "/things", target.clone(), StrategyArg::Naive);
    let s = stress::run(&c).await.expect("runs");
    assert_eq!(s.failures_by_status.get("428"), Some(&12), "{s:#?}");

    // Sent back as ?rev= instead (the body's _rev is then left as read).
    let mut query = target.clone();
    query.version.send = "query:rev".parse().unwrap();
    let c = config(&server.uri(), "/things", query, StrategyArg::Merge);
    let s = stress::run(&c).await.expect("runs");
    assert_all_acknowledged(&s);
    let c = config(&server.uri(), "/things", c.shape, StrategyArg::Naive);
    let s = stress::run(&c).await.expect("runs");
    assert_eq!(s.failures_by_status.get("428"), Some(&12), "{s:#?}");

    // A version the SDK cannot find stops the run before anything is created.
    let mut header = target;
    header.version.read = "header:x-rev".parse().unwrap();
    let c = config(&server.uri(), "/things", header, StrategyArg::Reapply);
    let err = stress::run(&c).await.unwrap_err();
    assert!(err.contains("read = \"header:x-rev\""), "{err}");
}

#[tokio::test]
async fn the_configuration_file_describes_the_target() {
    let shape = Shape {
        collection: "/dav/".into(),
        create: Create::Put,
        // `${CARGO_PKG_NAME}` in the file: cargo sets it for test runs, so no test has to
        // change the environment (which races with other threads reading it).
        authorization: Some(format!("Bearer {}", env!("CARGO_PKG_NAME"))),
        ..Shape::default()
    };
    let (a, _) = started(shape.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stress.toml");
    std::fs::write(
        &path,
        format!(
            "base-url = \"{}\"\ncollection = \"/dav/\"\nheader = [\"Authorization: Bearer ${{CARGO_PKG_NAME}}\"]\n\
             [create]\nmethod = \"put\"\nurl = \"{{collection}}{{id}}\"\nlocation = \"template\"\n\
             [body]\nfixture = {{ title = \"stress\" }}\n",
            a.uri()
        ),
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let (code, out, err) = cli(&[
        "stress",
        "--config",
        file,
        "--clients",
        "2",
        "--updates",
        "3",
        "--json",
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["final_value"], 6);
    assert_eq!(
        summary["headers"],
        serde_json::json!(["Authorization: <redacted>"])
    );

    // A --header replaces the file's header of its name.
    let (code, _, err) = cli(&[
        "stress",
        "--config",
        file,
        "--header",
        "Authorization: Bearer flag",
        "--updates",
        "1",
    ])
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("401 Unauthorized: check your credentials"),
        "{err}"
    );

    // Comma-separated base URLs on the command line win over the file's.
    let (b, _) = started(shape).await;
    let bases = format!("{},{}", b.uri(), b.uri());
    let (code, out, err) = cli(&[
        "stress",
        "--config",
        file,
        "--base-url",
        &bases,
        "--updates",
        "2",
        "--clients",
        "2",
        "--json",
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["base_urls"].as_array().unwrap().len(), 2);
    assert!(summary["counter_url"]
        .as_str()
        .unwrap()
        .starts_with(&b.uri()));
}

#[tokio::test]
async fn replicas_that_do_not_share_their_store_are_named() {
    let a = stub::start(Shape::default(), Store::default()).await;
    let b = stub::start(Shape::default(), Store::default()).await;
    let mut c = config(
        &a.uri(),
        "/things",
        TargetShape::default(),
        StrategyArg::Reapply,
    );
    c.base_urls.push(b.uri());
    c.clients = 2;
    let s = stress::run(&c).await.expect("runs");
    assert_accounting(&s, 8);
    assert_eq!((s.acknowledged, s.failed), (4, 4), "{s:#?}");
    assert_eq!(s.failures_by_status.get("404"), Some(&4), "{s:#?}");
    assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    assert!(
        s.notes[0].starts_with(&format!(
            "every update through {} failed while {}",
            b.uri(),
            a.uri()
        )),
        "{:?}",
        s.notes
    );
}

#[tokio::test]
async fn reads_of_half_written_documents_are_named() {
    let shape = Shape {
        torn_reads: 6,
        ..Shape::default()
    };
    let (server, _) = started(shape).await;
    let c = config(
        &server.uri(),
        "/things",
        TargetShape::default(),
        StrategyArg::Naive,
    );
    let s = stress::run(&c).await.expect("runs");
    assert_accounting(&s, 12);
    assert_eq!(s.failures_by_status.get("not_json"), Some(&6), "{s:#?}");
    assert!(s.first_failures[0]
        .reason
        .contains("answered 2xx with a body that is not JSON"));
    assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    assert!(s.notes[0].contains("half-written"), "{:?}", s.notes);
}
