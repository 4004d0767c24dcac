//! `stress` on targets not shaped like the reference server (stubs from `stub.rs`).

use std::time::Duration;

use ifmatch_conformance::stress::{self, exit_code, StrategyArg, StressConfig, StressSummary};
use ifmatch_conformance::target::{CreateMethod, LocationFrom, TargetShape};
use wiremock::MockServer;

use super::stub::{self, Create, Shape, Store};
use super::{assert_accounting, cli};

pub fn config(
    base: &str,
    collection: &str,
    shape: TargetShape,
    strategy: StrategyArg,
) -> StressConfig {
    let mut c = StressConfig::new(base);
    c.collection = collection.into();
    c.shape = shape;
    c.clients = 3;
    c.updates = 4;
    c.strategy = strategy;
    c.max_duration = Duration::from_secs(30);
    c
}

pub async fn started(shape: Shape) -> (MockServer, Store) {
    let store = Store::default();
    (stub::start(shape, store.clone()).await, store)
}

pub fn assert_all_acknowledged(s: &StressSummary) {
    assert_accounting(s, 12);
    assert_eq!(
        (s.acknowledged, s.final_value, s.failed),
        (12, 12, 0),
        "{s:#?}"
    );
}

fn put_shape() -> TargetShape {
    let mut shape = TargetShape::default();
    shape.create.method = CreateMethod::Put;
    shape.create.url = "{collection}{id}".into();
    shape.create.location = LocationFrom::Template;
    shape
}

#[tokio::test]
async fn a_put_create_target_is_created_at_the_template_with_if_none_match() {
    let shape = Shape {
        collection: "/dav/".into(),
        create: Create::Put,
        ..Shape::default()
    };
    let (server, store) = started(shape).await;
    let c = config(&server.uri(), "/dav/", put_shape(), StrategyArg::Reapply);
    let s = stress::run(&c).await.expect("runs");
    assert_all_acknowledged(&s);
    assert!(
        s.counter_url
            .starts_with(&format!("{}/dav/ifmatch-stress-", server.uri())),
        "{}",
        s.counter_url
    );
    assert_eq!(store.count("POST"), 0);
    assert_eq!(store.len(), 0, "the counter is deleted at the end");
}

#[tokio::test]
async fn an_id_in_the_create_body_is_put_into_the_url_template() {
    let shape = Shape {
        create: Create::PostBodyId,
        ..Shape::default()
    };
    let (server, _) = started(shape).await;
    let mut target = TargetShape::default();
    target.create.location = "body:/meta/id".parse().unwrap();
    let c = config(&server.uri(), "/things", target.clone(), StrategyArg::Merge);
    let s = stress::run(&c).await.expect("runs");
    assert_all_acknowledged(&s);
    assert_eq!(s.counter_url, format!("{}/things/n1", server.uri()));

    // Without the pointer, the error says where to look.
    let plain = config(
        &server.uri(),
        "/things",
        TargetShape::default(),
        StrategyArg::Reapply,
    );
    let err = stress::run(&plain).await.unwrap_err();
    assert!(
        err.contains("without a usable Location header") && err.contains("location = \"body:/id\""),
        "{err}"
    );
}

#[tokio::test]
async fn a_trailing_slash_collection_is_kept() {
    let shape = Shape {
        collection: "/dav/".into(),
        ..Shape::default()
    };
    let (server, _) = started(shape).await;
    let c = config(
        &server.uri(),
        "/dav/",
        TargetShape::default(),
        StrategyArg::Reapply,
    );
    let s = stress::run(&c).await.expect("runs");
    assert_all_acknowledged(&s);
    assert_eq!(s.counter_url, format!("{}/dav/n1", server.uri()));
    // The same collection without its slash does not exist on this server.
    let c = config(
        &server.uri(),
        "/dav",
        TargetShape::default(),
        StrategyArg::Reapply,
    );
    let err = stress::run(&c).await.unwrap_err();
    assert!(
        err.contains("POST") && err.contains("/dav answered 404"),
        "{err}"
    );
}

fn authorized() -> Shape {
    Shape {
        authorization: Some("Bearer right".into()),
        ..Shape::default()
    }
}

#[tokio::test]
async fn credentials_reach_every_request() {
    let (server, _) = started(authorized()).await;
    for strategy in [StrategyArg::Reapply, StrategyArg::Naive] {
        let mut c = config(&server.uri(), "/things", TargetShape::default(), strategy);
        c.headers = vec![("Authorization".into(), "Bearer right".into())];
        let s = stress::run(&c).await.expect("runs");
        assert_accounting(&s, 12);
        assert_eq!(s.failed, 0, "{strategy:?}: {s:#?}");
        assert_eq!(s.headers, vec!["Authorization: <redacted>".to_owned()]);
        assert!(!s.to_text().contains("right") && !s.to_json().contains("right"));
    }
}

#[tokio::test]
async fn a_401_says_check_your_credentials() {
    let (server, _) = started(authorized()).await;
    let (code, out, err) = cli(&[
        "stress",
        "--base-url",
        &server.uri(),
        "--collection",
        "/things",
        "--header",
        "Authorization: Bearer wrong",
    ])
    .await;
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    let err = err.replace(&server.uri(), "http://127.0.0.1:PORT");
    assert!(!err.contains("wrong"), "{err}");
    snapshot("stress_unauthorized_create", &err);
}

#[tokio::test]
async fn failed_updates_are_explained_and_exit_1() {
    let shape = Shape {
        broken_updates: Some(500),
        ..Shape::default()
    };
    let (server, _) = started(shape).await;
    let (code, out, err) = cli(&[
        "stress",
        "--base-url",
        &server.uri(),
        "--collection",
        "/things",
        "--clients",
        "2",
        "--updates",
        "3",
    ])
    .await;
    assert_eq!(code, 1, "any failed update fails the run: {out}{err}");
    let text = out.replace(&server.uri(), "http://127.0.0.1:PORT");
    let text = redact_timings(&text);
    snapshot("stress_text_broken_updates", &text);

    let c = config(
        &server.uri(),
        "/things",
        TargetShape::default(),
        StrategyArg::Reapply,
    );
    let s = stress::run(&c).await.expect("runs");
    assert_accounting(&s, 12);
    assert_eq!((s.acknowledged, s.failed), (0, 12), "{s:#?}");
    assert_eq!(s.failures_by_status.get("500"), Some(&12));
    let first = &s.first_failures[0];
    assert_eq!(
        (first.client, first.update, first.status),
        (0, 1, Some(500))
    );
    assert_eq!(
        first.request.as_deref(),
        Some(format!("PUT {}", s.counter_url).as_str())
    );
    assert!(
        first.reason.contains("<p>database is locked</p>"),
        "{first:?}"
    );
    assert!(first.reason.len() <= stress::EXCERPT_CHARS + 3);
    assert_eq!(exit_code(StrategyArg::Reapply, &s), 1);

    // A credential the server echoes in its error page is redacted from the excerpt.
    let mut c = c;
    c.headers = vec![("Authorization".into(), "Bearer s3cret-token".into())];
    let s = stress::run(&c).await.expect("runs");
    let reason = &s.first_failures[0].reason;
    assert!(reason.contains("<!-- <redacted> -->"), "{reason}");
    assert!(!s.to_text().contains("s3cret") && !s.to_json().contains("s3cret"));
}

/// Snapshots live with the other stress snapshots in `tests/snapshots/`.
fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ snapshot_path => "../snapshots" }, {
        insta::assert_snapshot!(name, text);
    });
}

/// Timings vary from run to run; the snapshot keeps the rest.
fn redact_timings(text: &str) -> String {
    text.lines()
        .map(|l| {
            for label in ["goodput", "latency", "all running"] {
                if l.starts_with(label) {
                    return format!("{label:<13} <varies>");
                }
            }
            l.to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_naive_run_refused_with_428_is_good_news() {
    let shape = Shape {
        require_preconditions: true,
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
    assert_eq!(
        (s.acknowledged, s.failures_by_status.get("428")),
        (0, Some(&12))
    );
    assert_eq!(s.notes, vec!["the server refused unconditional writes (428 Precondition Required): it requires preconditions — good news; the naive strategy cannot run here".to_owned()]);
    // The same server takes conditional writes.
    let c = config(
        &server.uri(),
        "/things",
        TargetShape::default(),
        StrategyArg::Reapply,
    );
    let s = stress::run(&c).await.expect("runs");
    assert_all_acknowledged(&s);
    assert!(s.notes.is_empty());
}

#[tokio::test]
async fn a_server_without_etags_is_explained_by_the_sdk_error() {
    // The version is in the body, but the target is described as using ETags.
    let shape = Shape {
        rev_in_body: true,
        ..Shape::default()
    };
    let (server, _) = started(shape).await;
    let c = config(
        &server.uri(),
        "/things",
        TargetShape::default(),
        StrategyArg::Reapply,
    );
    let s = stress::run(&c).await.expect("runs");
    assert_accounting(&s, 12);
    assert_eq!(s.failed, 12, "{s:#?}");
    let (key, _) = s.failures_by_status.iter().next().unwrap();
    assert!(
        !key.chars().all(|c| c.is_ascii_digit()) && key != "connection",
        "{key}"
    );
    let first = &s.first_failures[0];
    assert_eq!(
        (first.status, first.request.as_deref()),
        (None, None),
        "{first:?}"
    );
    assert!(first.reason.to_lowercase().contains("etag"), "{first:?}");
    assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    assert!(s.notes[0].contains("[version]"), "{:?}", s.notes);
    assert!(first.reason.chars().count() <= stress::EXCERPT_CHARS + 1);
}

#[tokio::test]
async fn wait_for_gives_up_on_a_server_that_never_answers() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let (code, _, err) = cli(&["stress", "--base-url", &url, "--wait-for", "1"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("did not answer within --wait-for 1 s"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_counter_that_cannot_be_read_back_ends_the_run_saying_why() {
    let shape = Shape {
        broken_reads: Some(503),
        ..Shape::default()
    };
    let (server, _) = started(shape).await;
    let c = config(
        &server.uri(),
        "/things",
        TargetShape::default(),
        StrategyArg::Naive,
    );
    let err = stress::run(&c).await.unwrap_err();
    assert_eq!(
        err,
        format!(
            "reading the counter back, GET {}/things/n1 answered 503 Service Unavailable: upstream timed out",
            server.uri()
        )
    );
}

#[tokio::test]
async fn a_409_the_sdk_cannot_read_as_a_version_conflict_is_explained() {
    let shape = Shape {
        broken_updates: Some(409),
        ..Shape::default()
    };
    let (server, _) = started(shape).await;
    let c = config(
        &server.uri(),
        "/things",
        TargetShape::default(),
        StrategyArg::Reapply,
    );
    let s = stress::run(&c).await.expect("runs");
    assert_eq!(s.failures_by_status.get("409"), Some(&12), "{s:#?}");
    assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    assert!(
        s.notes[0].contains("not retried")
            && s.notes[0].contains("urn:ifmatch:problem:version-conflict"),
        "{:?}",
        s.notes
    );
    // A naive run refused with 409 is the good news instead.
    let c = config(
        &server.uri(),
        "/things",
        TargetShape::default(),
        StrategyArg::Naive,
    );
    let s = stress::run(&c).await.expect("runs");
    assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    assert!(
        s.notes[0].contains("(409 Conflict): it requires preconditions"),
        "{:?}",
        s.notes
    );
}
