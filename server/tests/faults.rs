//! `--faults`: each kind does what it says, on the wire. The draws are predicted with the
//! same seeded generator, so every request's fate is known before it is sent.

use std::time::Duration;

use ifmatch_server::{spawn, Config, FaultKind, FaultSpec, RunningServer};
use reqwest::header::{ETAG, IF_MATCH, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server injecting `kind` at rate 0.5, and the generator that predicts its draws.
struct Faulty {
    server: RunningServer,
    mirror: fastrand::Rng,
    http: reqwest::Client,
}

impl Faulty {
    async fn start(kind: FaultKind) -> Self {
        let extra = if kind == FaultKind::Delay {
            ":50ms"
        } else {
            ""
        };
        let spec: FaultSpec = format!("seed=11,{kind}=0.5{extra}").parse().unwrap();
        let server = spawn(Config::new().with_faults(Some(spec))).await.unwrap();
        Faulty {
            server,
            mirror: fastrand::Rng::with_seed(11),
            http: reqwest::Client::new(),
        }
    }

    /// Whether the next request draws the fault.
    fn next_faulted(&mut self) -> bool {
        self.mirror.u32(..1_000_000) < 500_000
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    /// A clean read: reads until one draws no fault; the body and ETag.
    async fn read(&mut self, path: &str) -> (Value, String) {
        loop {
            let faulted = self.next_faulted();
            let sent = self.http.get(self.url(path)).send().await;
            if !faulted {
                let r = sent.unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                let tag = r.headers()[ETAG].to_str().unwrap().to_owned();
                return (r.json().await.unwrap(), tag);
            }
        }
    }

    /// Creates `/items/a` = `{"n": 0}` with clean requests.
    async fn seed(&mut self) {
        loop {
            let faulted = self.next_faulted();
            let sent = self
                .http
                .put(self.url("/items/a"))
                .json(&json!({"n": 0}))
                .send()
                .await;
            if !faulted {
                assert!(sent.unwrap().status().is_success());
                return;
            }
        }
    }

    /// Skips clean draws with harmless reads until the next request will draw the fault.
    async fn until_faulted(&mut self) {
        let mut probe = self.mirror.clone();
        while probe.u32(..1_000_000) >= 500_000 {
            self.read("/items/a").await;
            probe = self.mirror.clone();
        }
        assert!(self.next_faulted());
    }
}

/// Sends `request` raw and returns every byte the server sent before closing.
async fn raw_exchange(addr: std::net::SocketAddr, request: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    // A reset after nothing was sent is the same as a close here: no answer arrived.
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut got)).await;
    got
}

fn raw_put(tag: &str, body: &str) -> String {
    format!(
        "PUT /items/a HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIf-Match: {tag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn drop_before_closes_without_an_answer_and_applies_nothing() {
    let mut f = Faulty::start(FaultKind::DropBefore).await;
    f.seed().await;
    let (_, tag) = f.read("/items/a").await;
    f.until_faulted().await;
    let got = raw_exchange(f.server.local_addr(), &raw_put(&tag, r#"{"n":1}"#)).await;
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    assert_eq!(f.read("/items/a").await.0, json!({"n": 0}));
    assert_eq!(
        f.server.fault_counts().unwrap().of(FaultKind::DropBefore),
        1
    );
}

#[tokio::test]
async fn drop_after_commits_then_closes_without_a_status_line() {
    let mut f = Faulty::start(FaultKind::DropAfter).await;
    f.seed().await;
    let (_, tag) = f.read("/items/a").await;
    f.until_faulted().await;
    let got = raw_exchange(f.server.local_addr(), &raw_put(&tag, r#"{"n":1}"#)).await;
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    let (doc, now) = f.read("/items/a").await;
    assert_eq!(doc, json!({"n": 1}), "the write was applied");
    assert_ne!(now, tag);
    assert_eq!(f.server.fault_counts().unwrap().of(FaultKind::DropAfter), 1);
}

#[tokio::test]
async fn injected_statuses_answer_without_applying() {
    for (kind, status, retry_after) in [
        (FaultKind::Status500, 500, None),
        (FaultKind::Status502, 502, None),
        (FaultKind::Status503, 503, None),
        (FaultKind::Status503RetryAfter, 503, Some("1")),
        (FaultKind::AbsurdRetryAfter, 503, Some("1000000000000")),
        (FaultKind::Stale409, 409, None),
    ] {
        let mut f = Faulty::start(kind).await;
        f.seed().await;
        let (_, tag) = f.read("/items/a").await;
        f.until_faulted().await;
        let r = f
            .http
            .put(f.url("/items/a"))
            .header(IF_MATCH, &tag)
            .json(&json!({"n": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{kind}");
        assert_eq!(
            r.headers().get(RETRY_AFTER).map(|v| v.to_str().unwrap()),
            retry_after,
            "{kind}"
        );
        let answered_tag = r
            .headers()
            .get(ETAG)
            .map(|v| v.to_str().unwrap().to_owned());
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["status"], status, "{kind}");
        if kind == FaultKind::Stale409 {
            assert_eq!(problem["type"], "urn:ifmatch:problem:version-conflict");
            let stale = answered_tag.unwrap();
            assert_ne!(
                stale, tag,
                "the 409 names a tag that is not the current one"
            );
            assert_eq!(problem["current_etag"], stale.as_str());
        }
        assert_eq!(f.read("/items/a").await, (json!({"n": 0}), tag), "{kind}");
        assert_eq!(f.server.fault_counts().unwrap().of(kind), 1, "{kind}");
        f.server.shutdown().await;
    }
}

#[tokio::test]
async fn spoiled_answers_keep_the_write_and_spoil_only_what_they_say() {
    for kind in [
        FaultKind::BadEtag,
        FaultKind::TruncatedBody,
        FaultKind::NonJsonBody,
        FaultKind::Delay,
    ] {
        let mut f = Faulty::start(kind).await;
        f.seed().await;
        let (doc, tag) = f.read("/items/a").await;
        f.until_faulted().await;
        let r = f.http.get(f.url("/items/a")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{kind}");
        let etag = r.headers()[ETAG].to_str().unwrap().to_owned();
        let body = r.bytes().await.unwrap();
        let exact = serde_json::to_vec(&doc).unwrap();
        match kind {
            FaultKind::BadEtag => {
                assert!(
                    etag.contains("ifmatch-fault") && !etag.starts_with("\"ifmatch-fault-stale")
                );
                assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), doc);
            }
            FaultKind::TruncatedBody => {
                assert_eq!(etag, tag);
                assert_eq!(&body[..], &exact[..exact.len() / 2]);
            }
            FaultKind::NonJsonBody => {
                assert_eq!(etag, tag);
                assert!(serde_json::from_slice::<Value>(&body).is_err());
            }
            _ => assert_eq!(
                (etag, serde_json::from_slice::<Value>(&body).unwrap()),
                (tag, doc)
            ),
        }
        assert_eq!(f.server.fault_counts().unwrap().of(kind), 1, "{kind}");
        f.server.shutdown().await;
    }
}

#[tokio::test]
async fn a_made_up_tag_sent_back_is_counted() {
    let mut f = Faulty::start(FaultKind::BadEtag).await;
    f.seed().await;
    assert_eq!(f.server.fault_counts().unwrap().fault_tags_sent_back, 0);
    let _ = f
        .http
        .put(f.url("/items/a"))
        .header(IF_MATCH, "\"ifmatch-fault-stale-0\"")
        .json(&json!({"n": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(f.server.fault_counts().unwrap().fault_tags_sent_back, 1);
}

#[tokio::test]
async fn without_faults_there_are_no_counts() {
    let server = spawn(Config::new()).await.unwrap();
    assert_eq!(server.fault_counts(), None);
    server.shutdown().await;
}
