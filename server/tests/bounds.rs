//! Connection bounds: oversized heads get 431, slow heads and idle connections are closed,
//! slow bodies get 408 without a write, and the connection cap holds further clients back.

mod support;

use std::time::Duration;

use ifmatch_server::{spawn, Config};
use support::{expect_problem, Backend, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A bound on every wait in these tests, far above the timeouts configured, so a server that
/// never cuts a client off fails the test instead of hanging it.
const GIVE_UP: Duration = Duration::from_secs(20);

fn addr(server: &TestServer) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection (or resets it); what it sent before.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(GIVE_UP, stream.read(&mut buf)).await {
            Err(_) => panic!("the server kept the connection open; it sent {seen:?}"),
            Ok(Ok(0) | Err(_)) => return seen,
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_head_over_the_limit_gets_a_431_problem() {
    for backend in [Backend::Memory, Backend::Sqlite] {
        let server = TestServer::start(backend, Config::new().with_max_header_bytes(4096)).await;
        let big = "a".repeat(5000);
        let response = server.get("/items", &[("x-padding", &big)]).await;
        let problem = expect_problem(response, 431, "headers-too-large").await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("limit of 4096 bytes"), "{detail}");
        // Just under the limit is served.
        let fits = "a".repeat(3000);
        let response = server.get("/items", &[("x-padding", &fits)]).await;
        assert_eq!(response.status(), 200);
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_two_mebibyte_head_gets_431_and_the_connection_is_closed() {
    let server = TestServer::start_default(Backend::Memory).await;
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    let mut head = b"GET /items HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..2100 {
        head.extend_from_slice(format!("x-pad-{i}: {}\r\n", "b".repeat(1000)).as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    assert!(head.len() > 2 * 1024 * 1024);
    // The server stops reading at its hard limit and may reset the connection under the write.
    let _ = stream.write_all(&head).await;
    let answer = read_until_closed(&mut stream).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 431"), "{text:?}");
    // The server is fine afterwards.
    assert_eq!(server.get("/items", &[]).await.status(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_sending_its_head_byte_by_byte_is_cut_off() {
    let config = Config::new().with_header_timeout(Duration::from_millis(500));
    let server = TestServer::start(Backend::Memory, config).await;
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    let (mut reader, mut writer) = stream.split();
    // 400 bytes at one every 50 ms would take 20 s: far past the 500 ms allowed.
    let head = format!(
        "GET /items HTTP/1.1\r\nHost: x\r\nX-Slow: {}\r\n\r\n",
        "c".repeat(360)
    );
    let trickle = async {
        for byte in head.as_bytes() {
            if writer.write_all(&[*byte]).await.is_err() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    };
    let closed = async {
        let mut buf = [0u8; 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::select! {
        finished = trickle => panic!("the whole slow head was sent (accepted: {finished}); the server never cut the client off"),
        () = closed => {}
    }
    // Other clients are served as usual.
    assert_eq!(server.get("/items", &[]).await.status(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let config = Config::new().with_header_timeout(Duration::from_millis(300));
    let server = TestServer::start(Backend::Memory, config).await;
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    stream
        .write_all(b"GET /items HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // One answer, then the connection idles until the server closes it.
    let answer = read_until_closed(&mut stream).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text:?}");
    assert_eq!(text.matches("HTTP/1.1").count(), 1, "{text:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_body_slower_than_the_body_timeout_gets_408_and_nothing_is_written() {
    for backend in [Backend::Memory, Backend::Sqlite] {
        let config = Config::new().with_body_timeout(Duration::from_millis(400));
        let server = TestServer::start(backend, config).await;
        let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
        // `12` of `123`: valid JSON if the server wrongly took the part that arrived.
        stream
            .write_all(
                b"PUT /items/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n12",
            )
            .await
            .unwrap();
        let answer = read_until_closed(&mut stream).await;
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 408"), "{text:?}");
        assert!(
            text.contains("urn:ifmatch:problem:request-timeout"),
            "{text:?}"
        );
        assert!(
            text.contains("within this server's limit of 400 ms"),
            "{text:?}"
        );
        let response = server.get("/items/slow", &[]).await;
        assert_eq!(
            response.status(),
            404,
            "a body cut short must not be written"
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_never_written() {
    // The client goes away mid-body: the part that arrived must not be parsed and stored.
    let server = TestServer::start_default(Backend::Memory).await;
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    stream
        .write_all(
            b"PUT /items/cut HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n12",
        )
        .await
        .unwrap();
    stream.shutdown().await.unwrap();
    let _ = read_until_closed(&mut stream).await;
    let response = server.get("/items/cut", &[]).await;
    assert_eq!(response.status(), 404);
    server.shutdown().await;
}

#[tokio::test]
async fn at_the_connection_cap_a_new_client_waits_until_one_closes() {
    let server = spawn(Config::new().with_max_connections(1)).await.unwrap();
    let addr = server.local_addr();
    let request = b"GET /items HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut first = TcpStream::connect(addr).await.unwrap();
    first.write_all(request).await.unwrap();
    let mut buf = [0u8; 4096];
    let n = first.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    // The first connection stays open (keep-alive): the second is not served meanwhile.
    let mut second = TcpStream::connect(addr).await.unwrap();
    second.write_all(request).await.unwrap();
    let early = tokio::time::timeout(Duration::from_millis(300), second.read(&mut buf)).await;
    assert!(early.is_err(), "served beyond the cap: {early:?}");
    drop(first);
    let n = tokio::time::timeout(GIVE_UP, second.read(&mut buf))
        .await
        .expect("served once the first connection closed")
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_reads_nothing_of_its_answers_is_cut_off_after_the_write_timeout() {
    let config = Config::new().with_write_timeout(Duration::from_millis(300));
    let server = TestServer::start(Backend::Memory, config).await;
    // A document of 512 KiB, and a client that asks for it 400 times (200 MiB of answers)
    // without reading: the socket buffers fill, the server's write waits, and the timeout
    // closes the connection long before all answers could have been sent.
    let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(512 * 1024));
    let created = server.put("/items/big", &[], &body).await;
    assert!(created.status().is_success(), "{}", created.status());
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    let asks = 400;
    let request = "GET /items/big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(asks);
    // The requests are small: they fit in the buffers even though nobody reads the answers.
    stream.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = read_until_closed(&mut stream).await;
    assert!(
        seen.len() < asks * body.len() / 2,
        "the server kept writing to a client that read nothing: {} bytes",
        seen.len()
    );
    // The server goes on serving others.
    let response = server.get("/items/big", &[]).await;
    assert_eq!(response.status(), 200);
    server.shutdown().await;
}
