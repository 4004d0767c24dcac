//! Runs against servers: the collection's trailing slash kept, several report
//! formats in one run, and `--wait-for` with a server that starts late.

use std::time::{Duration, Instant};

use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{emulated, Emulator, Options};
use super::{cli_in, closed_port, write};

/// A WebDAV-like server whose collection is `/dav/` (with the slash) and whose
/// `/dav` (without) does not exist.
async fn dav_server() -> MockServer {
    let server = MockServer::start().await;
    let tagged = |status: u16| {
        ResponseTemplate::new(status)
            .insert_header("ETag", "\"v1\"")
            .insert_header("Content-Type", "application/json")
            .set_body_string("{}")
    };
    Mock::given(method("GET"))
        .and(path("/dav/"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/dav/"))
        .respond_with(tagged(201).insert_header("Location", "/dav/x"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/dav/x"))
        .respond_with(tagged(200))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/dav/x"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn the_collection_is_used_exactly_as_given_with_its_trailing_slash() {
    let server = dav_server().await;
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "check",
        "--base-url",
        &server.uri(),
        "--collection",
        "dav/",
        "--rule",
        "core.etag.strong-on-get",
    ];
    let done = cli_in(dir.path(), &[], &args, false).await;
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(done.code, 0, "{paths:?}\n{}{}", done.out, done.err);
    assert!(done.out.contains("collection /dav/"), "{}", done.out);
    for expected in ["GET /dav/", "POST /dav/", "GET /dav/x", "DELETE /dav/x"] {
        assert!(
            paths.contains(&expected.to_owned()),
            "{expected}: {paths:?}"
        );
    }
    assert!(!paths.iter().any(|p| p.ends_with("/dav")), "{paths:?}");
}

#[tokio::test]
async fn several_formats_are_written_in_one_run() {
    let server = emulated(Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "check",
        "--base-url",
        &server.uri(),
        "--rule",
        "core.etag",
        "--format",
        "text,junit,html",
        "--output",
        "junit=report.xml",
        "--output",
        "html=report.html",
    ];
    let done = cli_in(dir.path(), &[], &args, false).await;
    assert_eq!(done.code, 0, "{}", done.err);
    assert!(
        done.out.starts_with("ifmatch conformance report"),
        "{}",
        done.out
    );
    let junit = std::fs::read_to_string(dir.path().join("report.xml")).unwrap();
    assert!(junit.contains("<testsuites"));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("<html"));
    let summary = done.err.replace(&dir.path().display().to_string(), "DIR");
    assert!(
        summary.ends_with("reports written to DIR/report.xml, DIR/report.html\n"),
        "{summary}"
    );
    // The same from the file: an output table adds its formats to the text on stdout.
    write(
        dir.path(),
        "c.toml",
        &format!(
            "base-url = \"{}\"\nrule = \"core.etag\"\noutput = {{ json = \"r.json\" }}\n",
            server.uri()
        ),
    );
    let from_file = cli_in(dir.path(), &[], &["check", "--config", "c.toml"], false).await;
    assert_eq!(from_file.code, 0, "{}", from_file.err);
    assert!(from_file.out.starts_with("ifmatch conformance report"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(json["passed"], true);
    // Two formats for standard output, or one file for two formats, are refused.
    let mut messages = String::new();
    for extra in [
        vec!["--format", "text,json"],
        vec!["--format", "text,junit", "--output", "r.txt"],
        vec!["--output", "a.txt", "--output", "b.txt"],
        vec!["--output", "junit=a.xml", "--output", "junit=b.xml"],
    ] {
        let failed = cli_in(
            dir.path(),
            &[],
            &[&["check", "--dry-run"][..], &extra].concat(),
            false,
        )
        .await;
        assert_eq!(failed.code, 2, "{extra:?}");
        messages.push_str(&format!("$ {}\n{}", extra.join(" "), failed.err));
    }
    insta::assert_snapshot!("output_errors", messages);
}

/// Starts the emulator on `port` after `delay`, and keeps it until the test ends.
fn listen_late(port: u16, delay: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let server = MockServer::builder().listener(listener).start().await;
        Mock::given(any())
            .respond_with(Emulator::new(Options::default()))
            .mount(&server)
            .await;
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(server);
    })
}

#[tokio::test]
async fn wait_for_waits_for_a_server_that_starts_late() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let base = format!("http://127.0.0.1:{port}");
    let late = listen_late(port, Duration::from_millis(800));
    let start = Instant::now();
    let done = cli_in(
        dir.path(),
        &[],
        &[
            "check",
            "--base-url",
            &base,
            "--rule",
            "core.etag",
            "--wait-for",
            "10",
        ],
        false,
    )
    .await;
    assert_eq!(done.code, 0, "{}{}", done.out, done.err);
    assert!(start.elapsed() >= Duration::from_millis(800));
    late.abort();
    // Without waiting the same late server is not there yet.
    let port = closed_port();
    let late = listen_late(port, Duration::from_millis(800));
    let base = format!("http://127.0.0.1:{port}");
    let early = cli_in(
        dir.path(),
        &[],
        &["check", "--base-url", &base, "--rule", "core.etag"],
        false,
    )
    .await;
    assert_eq!(early.code, 2);
    assert!(
        early
            .err
            .starts_with(&format!("error: cannot reach {base}")),
        "{}",
        early.err
    );
    late.abort();
}

#[tokio::test]
async fn wait_for_gives_up_with_the_usual_error() {
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://127.0.0.1:{}", closed_port());
    write(dir.path(), "c.toml", "wait-for = 1\n");
    let start = Instant::now();
    let failed = cli_in(
        dir.path(),
        &[],
        &["check", "--config", "c.toml", "--base-url", &base],
        false,
    )
    .await;
    let took = start.elapsed();
    assert_eq!(failed.code, 2);
    assert!(
        failed
            .err
            .starts_with(&format!("error: cannot reach {base}")),
        "{}",
        failed.err
    );
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "{took:?}"
    );
}
