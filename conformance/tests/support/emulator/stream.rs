//! The conflict stream of the emulated server. wiremock answers each request
//! with a finished body, so a stream cannot come from it: a small loopback front
//! serves `GET /conflicts/stream` itself (Server-Sent Events read from the
//! emulator's conflict log) and passes every other request through to wiremock
//! unchanged (one request per connection, `Connection: close`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::conflicts::Log;
use super::{Emulator, Options};
use crate::support::faults::Fault;

/// How often a quiet stream sends `: heartbeat`.
pub const HEARTBEAT: Duration = Duration::from_millis(200);
/// How often a stream looks for new events.
const POLL: Duration = Duration::from_millis(10);
/// Longest a stream stays open: every wait of a test is bounded.
const MAX_STREAM: Duration = Duration::from_secs(60);
/// Largest request head the front reads.
const MAX_HEAD: usize = 64 * 1024;

/// What the front needs of the emulator: its conflict log and its faults.
#[derive(Debug, Clone)]
pub struct StreamSource {
    log: Arc<Mutex<Log>>,
    options: Arc<Options>,
}

impl Emulator {
    /// The log and faults the stream front reads.
    pub fn stream_source(&self) -> StreamSource {
        StreamSource {
            log: self.conflicts.clone(),
            options: self.options.clone(),
        }
    }
}

/// Starts the front on an ephemeral loopback port before the wiremock server at
/// `backend`; its tasks end with the test's runtime.
pub async fn start_front(backend: SocketAddr, source: StreamSource) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the front");
    let addr = listener.local_addr().expect("the front's address");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(serve(client, backend, source.clone()));
        }
    });
    addr
}

/// A request as read off the wire: its head (without the blank line) and body.
struct Raw {
    head: String,
    body: Vec<u8>,
}

impl Raw {
    fn target(&self) -> &str {
        self.head.split_whitespace().nth(1).unwrap_or("/")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

async fn read_request(client: &mut TcpStream) -> Option<Raw> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        let n = client.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut body = buf[end + 4..].to_vec();
    let raw = Raw {
        head,
        body: Vec::new(),
    };
    let length: usize = raw
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while body.len() < length {
        let n = client.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Raw { body, ..raw })
}

async fn serve(mut client: TcpStream, backend: SocketAddr, source: StreamSource) {
    let Some(request) = read_request(&mut client).await else {
        return;
    };
    let url = reqwest::Url::parse(&format!("http://front{}", request.target()));
    let is_stream = request.head.starts_with("GET ")
        && url
            .as_ref()
            .is_ok_and(|u| u.path().trim_end_matches('/') == "/conflicts/stream")
        && source.options.conflicts;
    match (is_stream, url) {
        (true, Ok(url)) => stream(client, &request, &url, &source).await,
        _ => pass_through(client, request, backend).await,
    }
}

/// Sends the request to wiremock with `Connection: close` and copies the answer back.
async fn pass_through(mut client: TcpStream, request: Raw, backend: SocketAddr) {
    let Ok(mut upstream) = TcpStream::connect(backend).await else {
        return;
    };
    let mut head: Vec<&str> = request
        .head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    head.push("Connection: close");
    let mut out = head.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(&request.body);
    if upstream.write_all(&out).await.is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = upstream.read_to_end(&mut answer).await;
    let lower = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    if !lower.contains("\r\nconnection: close") {
        if let Some(at) = answer.windows(2).position(|w| w == b"\r\n") {
            answer.splice(at..at, b"\r\nconnection: close".iter().copied());
        }
    }
    let _ = client.write_all(&answer).await;
    let _ = client.shutdown().await;
}

/// Serves Server-Sent Events from the log: a replay after `Last-Event-ID`, then
/// live events, filtered by `resource`, with heartbeats.
async fn stream(mut client: TcpStream, request: &Raw, url: &reqwest::Url, source: &StreamSource) {
    let has = |fault| source.options.faults.contains(&fault);
    let query = |key: &str| -> Vec<String> {
        url.query_pairs()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
            .collect()
    };
    let (resources, prefixes) = (query("resource"), query("prefix"));
    let from_query = query("last_event_id")
        .pop()
        .filter(|_| !has(Fault::ResumeQueryIgnored));
    let last: Option<u64> = request
        .header("last-event-id")
        .map(str::to_owned)
        .or(from_query)
        .and_then(|v| v.parse().ok());
    let wanted = |resource: &String| {
        (resources.is_empty() && prefixes.is_empty())
            || (!resources.is_empty() && has(Fault::StreamIgnoresFilter))
            || (!prefixes.is_empty() && has(Fault::StreamIgnoresPrefix))
            || resources.contains(resource)
            || prefixes.iter().any(|p| resource.starts_with(p.as_str()))
    };
    let mut cursor = match last {
        Some(id) if has(Fault::ResumeRepeatsLastEvent) => id.saturating_sub(1),
        Some(id) => id,
        None => source.log.lock().expect("conflict log poisoned").seq,
    };
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\nconnection: close\r\n\r\nretry: 2000\n\n";
    if client.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let opened = Instant::now();
    let mut beat = Instant::now();
    while opened.elapsed() < MAX_STREAM {
        let fresh: Vec<String> = {
            let log = source.log.lock().expect("conflict log poisoned");
            let fresh = log
                .events
                .iter()
                .filter(|e| e.seq > cursor)
                .filter(|e| wanted(&e.resource))
                .map(|e| format!("id: {}\nevent: {}\ndata: {}\n\n", e.seq, e.kind, e.data))
                .collect();
            cursor = cursor.max(log.seq);
            fresh
        };
        let mut out = fresh.concat();
        if beat.elapsed() >= HEARTBEAT && !has(Fault::NoHeartbeat) {
            out.push_str(": heartbeat\n\n");
            beat = Instant::now();
        }
        if !out.is_empty() && client.write_all(out.as_bytes()).await.is_err() {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
}
