//! The crash round shared by `crash.rs` (SQLite) and `crash_postgres.rs`: writers run against
//! `ifmatch-server` as a child process, the server is killed with SIGKILL mid-run and
//! restarted on the same storage. Every write a client saw acknowledged must be there, and no
//! ETag comes back.
#![allow(dead_code)]

use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

use reqwest::header::{ETAG, IF_MATCH};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinSet;

pub const BIN: &str = env!("CARGO_BIN_EXE_ifmatch-server");
/// Concurrent writers, each on its own document.
pub const WRITERS: usize = 4;
/// Acknowledged writes (all writers together) after which the server is killed.
pub const KILL_AFTER: usize = 120;
/// The most writes one writer makes in a round (bounds the run if the kill is late).
const MAX_WRITES: usize = 400;

/// Starts the server on a free port; the child and its base URL (read from its start-up line).
pub async fn start(storage: &str) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0", "--storage", storage])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some((_, url)) = line.split_once("listening on ") {
                return url.trim().to_owned();
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("the server starts within 30 s");
    // Keep draining its log so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base)
}

/// One acknowledged write: the `seq` written, its ETag and its version.
#[derive(Debug, Clone)]
struct Ack {
    seq: u64,
    etag: String,
    version: u64,
}

fn version_of(response: &reqwest::Response) -> u64 {
    response.headers()["version"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Writes `{"seq": n}` to `url` with If-Match, n = 1, 2, …, until the server stops answering
/// or `stop` says so; the acknowledged writes, in order.
async fn writer(
    url: String,
    first: Ack,
    acked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<Ack> {
    use std::sync::atomic::Ordering;
    let http = reqwest::Client::new();
    let mut acks = vec![first];
    for _ in 0..MAX_WRITES {
        let last = acks.last().unwrap().clone();
        let seq = last.seq + 1;
        let sent = http
            .put(&url)
            .header(IF_MATCH, &last.etag)
            .json(&json!({ "seq": seq }))
            .send()
            .await;
        let Ok(response) = sent else { break };
        assert_eq!(response.status(), 200, "only this writer writes {url}");
        let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
        acks.push(Ack {
            seq,
            etag,
            version: version_of(&response),
        });
        acked.fetch_add(1, Ordering::Relaxed);
    }
    acks
}

/// Runs the writers against `ifmatch-server --storage STORAGE`, kills the server with SIGKILL
/// after [`KILL_AFTER`] acknowledged writes, restarts it on the same storage and checks every
/// acknowledged write; returns how many were acknowledged before the kill.
pub async fn sigkill_and_restart(storage: &str) -> usize {
    let http = reqwest::Client::new();
    let (mut child, base) = start(storage).await;

    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut writers = JoinSet::new();
    for i in 0..WRITERS {
        let url = format!("{base}/items/w{i}");
        let created = http
            .put(&url)
            .json(&json!({"seq": 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let first = Ack {
            seq: 0,
            etag: created.headers()[ETAG].to_str().unwrap().to_owned(),
            version: version_of(&created),
        };
        let acked = acked.clone();
        writers.spawn(async move { (i, writer(url, first, acked).await) });
    }
    // Kill while every writer has a request in flight or about to be.
    while acked.load(std::sync::atomic::Ordering::Relaxed) < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.start_kill().unwrap(); // SIGKILL: no graceful shutdown, no final checkpoint
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), None, "killed by a signal, not exited");
    // Writers end in any order: put each one's writes back at its document's index.
    let mut rounds = vec![Vec::new(); WRITERS];
    while let Some(done) = writers.join_next().await {
        let (i, acks) = done.unwrap();
        rounds[i] = acks;
    }
    let before: usize = rounds.iter().map(|a| a.len() - 1).sum();
    assert!(before >= KILL_AFTER, "{before}");

    let (mut child, base) = start(storage).await;
    let mut seen: HashSet<String> = HashSet::new();
    for acks in &rounds {
        seen.extend(acks.iter().map(|a| a.etag.clone()));
    }
    for (i, acks) in rounds.iter().enumerate() {
        let url = format!("{base}/items/w{i}");
        let last = acks.last().unwrap();
        let response = http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let version = version_of(&response);
        let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
        let doc: Value = response.json().await.unwrap();
        let seq = doc["seq"].as_u64().unwrap();
        // The write in flight at the kill may or may not have landed; nothing before it is lost.
        if seq != last.seq && seq != last.seq + 1 {
            let history = http.get(format!("{url}/versions")).send().await.unwrap();
            let history = history.text().await.unwrap();
            let tail: Vec<&Ack> = acks.iter().rev().take(4).collect();
            panic!("w{i}: found seq {seq} version {version} {etag}, last acknowledged {tail:?}; history {history}");
        }
        assert!(
            version >= last.version,
            "w{i}: version {version} < {last:?}"
        );
        if seq == last.seq {
            assert_eq!(etag, last.etag, "w{i}");
        }
        // The newest acknowledged versions are still in the history, with their bodies.
        for ack in acks.iter().rev().take(5) {
            let past = http
                .get(format!("{url}/versions/{}", ack.version))
                .send()
                .await
                .unwrap();
            assert_eq!(past.status(), 200, "w{i} version {}", ack.version);
            assert_eq!(past.headers()[ETAG].to_str().unwrap(), ack.etag);
            let body: Value = past.json().await.unwrap();
            assert_eq!(
                body,
                json!({ "seq": ack.seq }),
                "w{i} version {}",
                ack.version
            );
        }
        // Writes after the restart get tags never handed out before.
        let mut tag = etag;
        for n in 1..=5 {
            let written = http
                .put(&url)
                .header(IF_MATCH, &tag)
                .json(&json!({ "seq": seq + n }))
                .send()
                .await
                .unwrap();
            assert_eq!(written.status(), 200);
            tag = written.headers()[ETAG].to_str().unwrap().to_owned();
            assert!(
                seen.insert(tag.clone()),
                "w{i}: {tag} was handed out before the crash"
            );
        }
    }
    child.start_kill().unwrap();
    let _ = child.wait().await;
    before
}
