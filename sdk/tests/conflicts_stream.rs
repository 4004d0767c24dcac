//! The conflict subscription against a hand-rolled event-stream server: resume after the server
//! closes or stalls (Last-Event-ID, no duplicates), the server's `retry:`, gaps, 401, cancel,
//! drop. Bounded by a generous safety timeout; nothing asserts on timing.

mod support;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use ifmatch::{
    testing::RecordingSleeper, CancelToken, Client, ConflictEvent, ConflictFilter, Event,
    RetryConfig,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    sync::mpsc,
};

/// What one connection is answered with.
struct Answer {
    head: &'static str,
    body: String,
    /// Keep the connection open (silent) after the body instead of closing it.
    hold: bool,
}

fn stream(body: impl Into<String>, hold: bool) -> Answer {
    Answer {
        head: "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n",
        body: body.into(),
        hold,
    }
}

fn event(name: &str, seq: u64) -> String {
    format!(
        "id: {seq}\nevent: {name}\ndata: {{\"id\":\"c-{seq}\",\"seq\":{seq},\"resource\":\"/items/a\",\"state\":\"{}\"}}\n\n",
        if name == "resolved" { "resolved" } else { "open" }
    )
}

/// A server answering its n-th connection with `answers[n]` (the last one again after that);
/// it reports each request head, and a connection the client closed, on the channels.
struct Server {
    url: String,
    heads: mpsc::UnboundedReceiver<String>,
    closed: mpsc::UnboundedReceiver<()>,
}

async fn serve(answers: Vec<Answer>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (head_tx, heads) = mpsc::unbounded_channel();
    let (closed_tx, closed) = mpsc::unbounded_channel();
    let answers = Arc::new(answers);
    tokio::spawn(async move {
        for n in 0.. {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let answers = answers.clone();
            let (head_tx, closed_tx) = (head_tx.clone(), closed_tx.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let _ = head_tx.send(String::from_utf8_lossy(&head).to_lowercase());
                let answer = &answers[n.min(answers.len() - 1)];
                let framing = if answer.hold {
                    "transfer-encoding: chunked\r\n\r\n".to_owned()
                } else {
                    format!(
                        "content-length: {}\r\nconnection: close\r\n\r\n",
                        answer.body.len()
                    )
                };
                let mut out = format!("{}{framing}", answer.head).into_bytes();
                if answer.hold {
                    if !answer.body.is_empty() {
                        out.extend(
                            format!("{:x}\r\n{}\r\n", answer.body.len(), answer.body).into_bytes(),
                        );
                    }
                } else {
                    out.extend(answer.body.as_bytes());
                }
                if socket.write_all(&out).await.is_err() {
                    return;
                }
                if answer.hold {
                    // Silent until the client goes away.
                    while socket.read(&mut byte).await.unwrap_or(0) > 0 {}
                    let _ = closed_tx.send(());
                }
            });
        }
    });
    Server { url, heads, closed }
}

fn client(server: &Server, sleeper: &RecordingSleeper, events: Arc<Mutex<Vec<Event>>>) -> Client {
    Client::builder()
        .base_url(&server.url)
        .unwrap()
        .retry(RetryConfig::default().with_jitter(false))
        .sleeper(sleeper.clone())
        .on_event(move |e| events.lock().unwrap().push(e.clone()))
        .build()
        .unwrap()
}

/// Bounds a test step; a hang fails instead of blocking CI.
async fn bounded<T>(work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), work)
        .await
        .expect("the test step hung")
}

fn seqs(events: &[ConflictEvent]) -> Vec<(String, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            ConflictEvent::Conflict(r) => Some(("conflict".into(), r.seq)),
            ConflictEvent::Resolved(r) => Some(("resolved".into(), r.seq)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_closed_stream_resumes_with_last_event_id_and_never_repeats_an_event() {
    let mut server = serve(vec![
        stream(
            format!(
                "retry: 1500\n\n{}{}",
                event("conflict", 1),
                event("conflict", 2)
            ),
            false,
        ),
        // The replay overlaps what was seen (as a server may after a reconnect).
        stream(
            format!(
                "{}{}{}",
                event("conflict", 2),
                event("resolved", 3),
                event("conflict", 4)
            ),
            true,
        ),
    ])
    .await;
    let sleeper = RecordingSleeper::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let c = client(&server, &sleeper, log.clone());
    let mut sub = c
        .conflicts()
        .subscribe(ConflictFilter::new().prefix("/items/"));
    let mut got = Vec::new();
    while got.len() < 4 {
        got.push(bounded(sub.next()).await.unwrap().unwrap());
    }
    assert_eq!(
        seqs(&got),
        [
            ("conflict".into(), 1),
            ("conflict".into(), 2),
            ("resolved".into(), 3),
            ("conflict".into(), 4)
        ]
    );
    let first = server.heads.recv().await.unwrap();
    assert!(
        first.starts_with("get /conflicts/stream?prefix=%2fitems%2f "),
        "{first}"
    );
    assert!(first.contains("accept: text/event-stream") && !first.contains("last-event-id"));
    let second = server.heads.recv().await.unwrap();
    assert!(second.contains("last-event-id: 2\r\n"), "{second}");
    // The server's retry: is the wait before reconnecting after a clean end.
    assert_eq!(sleeper.delays(), [Duration::from_millis(1500)]);
    assert_eq!(
        (
            c.stats().conflict_stream_connects,
            c.stats().conflict_stream_reconnects
        ),
        (2, 1)
    );
    assert!(log
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, Event::ConflictStreamReconnect { attempt: 1, .. })));
    drop(sub);
    bounded(server.closed.recv())
        .await
        .expect("dropping the subscription closes the connection");
}

#[tokio::test]
async fn a_stalled_stream_is_dropped_and_resumed() {
    let mut server = serve(vec![
        stream(format!(": heartbeat\n\n{}", event("conflict", 7)), true),
        stream(event("conflict", 8), true),
    ])
    .await;
    let sleeper = RecordingSleeper::new();
    let c = client(&server, &sleeper, Arc::default());
    let mut sub = c
        .conflicts()
        .subscribe(ConflictFilter::new())
        .stall_timeout(Some(Duration::from_millis(300)));
    let a = bounded(sub.next()).await.unwrap().unwrap();
    let b = bounded(sub.next()).await.unwrap().unwrap();
    assert_eq!(
        seqs(&[a, b]),
        [("conflict".into(), 7), ("conflict".into(), 8)]
    );
    bounded(server.closed.recv())
        .await
        .expect("the stalled connection was closed");
    let _ = server.heads.recv().await;
    assert!(server
        .heads
        .recv()
        .await
        .unwrap()
        .contains("last-event-id: 7\r\n"));
}

#[tokio::test]
async fn a_gap_is_delivered_and_after_starts_from_a_known_sequence() {
    let mut server = serve(vec![stream(
        format!(
            "event: gap\ndata: {{\"after\":3,\"oldest\":9}}\n\n{}",
            event("conflict", 9)
        ),
        true,
    )])
    .await;
    let c = client(&server, &RecordingSleeper::new(), Arc::default());
    let mut sub = c.conflicts().subscribe(ConflictFilter::new()).after(3);
    let gap = bounded(sub.next()).await.unwrap().unwrap();
    assert_eq!(
        gap,
        ConflictEvent::Gap {
            after: 3,
            oldest: 9
        }
    );
    assert_eq!(
        seqs(&[bounded(sub.next()).await.unwrap().unwrap()]),
        [("conflict".into(), 9)]
    );
    assert!(server
        .heads
        .recv()
        .await
        .unwrap()
        .contains("last-event-id: 3\r\n"));
}

#[tokio::test]
async fn unauthorized_ends_the_stream_without_reconnecting() {
    let mut server = serve(vec![Answer {
        head: "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/problem+json\r\nwww-authenticate: Bearer realm=\"ifmatch\"\r\n",
        body: r#"{"type":"urn:ifmatch:problem:unauthorized","status":401,"detail":"unknown token"}"#.into(),
        hold: false,
    }])
    .await;
    let sleeper = RecordingSleeper::new();
    let c = client(&server, &sleeper, Arc::default());
    let mut sub = c
        .conflicts()
        .subscribe(ConflictFilter::new())
        .bearer_token("wrong");
    let err = bounded(sub.next()).await.unwrap().unwrap_err();
    assert_eq!(err.code(), "unauthorized", "{err}");
    assert!(bounded(sub.next()).await.is_none(), "the stream has ended");
    assert!(server
        .heads
        .recv()
        .await
        .unwrap()
        .contains("authorization: bearer wrong"));
    assert!(server.heads.try_recv().is_err(), "no second attempt");
    assert!(sleeper.delays().is_empty());
}

#[tokio::test]
async fn failures_back_off_until_the_limit_and_503_hints_are_honoured() {
    let unavailable = || {
        Answer {
        head: "HTTP/1.1 503 Service Unavailable\r\nretry-after: 2\r\ncontent-type: application/problem+json\r\n",
        body: r#"{"type":"urn:ifmatch:problem:too-many-subscribers","status":503}"#.into(),
        hold: false,
    }
    };
    let failing = || Answer {
        head: "HTTP/1.1 500 Internal Server Error\r\n",
        body: String::new(),
        hold: false,
    };
    let server = serve(vec![unavailable(), failing(), failing(), failing()]).await;
    let sleeper = RecordingSleeper::new();
    let c = client(&server, &sleeper, Arc::default());
    let mut sub = c
        .conflicts()
        .subscribe(ConflictFilter::new())
        .max_failures(4);
    let err = bounded(sub.next()).await.unwrap().unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500), "{err}");
    assert!(sub.next().await.is_none());
    let s = Duration::from_secs;
    // The 503's hint, then the client's schedule from 1 s (the server sent no retry: yet).
    assert_eq!(sleeper.delays(), [s(2), s(2), s(4)]);
}

#[tokio::test]
async fn a_cancel_token_ends_the_stream_and_closes_the_connection() {
    let mut server = serve(vec![stream(event("conflict", 1), true)]).await;
    let c = client(&server, &RecordingSleeper::new(), Arc::default());
    let token = CancelToken::new();
    let mut sub = c
        .conflicts()
        .subscribe(ConflictFilter::new())
        .cancel_on(&token);
    assert!(bounded(sub.next()).await.unwrap().is_ok());
    let canceller = token.clone();
    tokio::spawn(async move { canceller.cancel() });
    let err = bounded(sub.next()).await.unwrap().unwrap_err();
    assert!(err.is_cancelled(), "{err}");
    assert!(sub.next().await.is_none());
    bounded(server.closed.recv())
        .await
        .expect("the connection was closed");
}

#[tokio::test]
async fn a_transport_that_cannot_stream_is_a_clear_configuration_error() {
    #[derive(Clone)]
    struct WholeBodies;
    impl ifmatch::transport::Transport for WholeBodies {
        fn send(
            &self,
            _: http::Request<ifmatch::transport::Bytes>,
        ) -> ifmatch::rt::BoxFuture<
            '_,
            Result<http::Response<ifmatch::transport::Bytes>, ifmatch::rt::BoxError>,
        > {
            Box::pin(async { Ok(http::Response::new(ifmatch::transport::Bytes::new())) })
        }
    }
    let c = Client::builder()
        .base_url("http://127.0.0.1:9")
        .unwrap()
        .transport(WholeBodies)
        .build()
        .unwrap();
    let mut sub = c.conflicts().subscribe(ConflictFilter::new());
    let err = sub.next().await.unwrap().unwrap_err();
    assert_eq!(err.code(), "invalid_config");
    assert!(err.to_string().contains("send_streaming"), "{err}");
    assert!(sub.next().await.is_none());
}

#[tokio::test]
async fn an_event_over_max_event_bytes_is_a_clear_error_and_the_stream_goes_on() {
    let huge = format!(
        "id: 2\nevent: conflict\ndata: {}\n\n",
        "x".repeat(200 * 1024)
    );
    let body = format!("{}{huge}{}", event("conflict", 1), event("conflict", 3));
    let server = serve(vec![stream(body, true)]).await;
    let c = client(&server, &RecordingSleeper::new(), Arc::default());
    let mut sub = c
        .conflicts()
        .subscribe(ConflictFilter::new())
        .max_event_bytes(64 * 1024);
    let first = bounded(sub.next()).await.unwrap().unwrap();
    assert_eq!(seqs(&[first]), [("conflict".into(), 1)]);
    let err = bounded(sub.next()).await.unwrap().unwrap_err();
    assert_eq!(err.code(), "decode");
    insta::assert_snapshot!(
        "event_over_max_event_bytes",
        format!("{err}\ncause: {}", std::error::Error::source(&err).unwrap())
            .replace(&server.url, "http://127.0.0.1:PORT")
    );
    let next = bounded(sub.next()).await.unwrap().unwrap();
    assert_eq!(seqs(&[next]), [("conflict".into(), 3)]);
}
