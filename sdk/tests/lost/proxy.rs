//! A proxy in front of the reference server that forwards a write, lets the server commit it,
//! reads the answer, and then closes the client's connection instead of answering: the answer
//! is lost after the write was applied. It can also drop reads: close the connection of a GET
//! before forwarding it (the connection drops before any answer). Independent of the server's
//! own fault injection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Every request forwarded: method, path and its `Idempotency-Key` (if any).
type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

/// Reads to let through, then reads to drop.
type ReadPlan = Arc<Mutex<(usize, usize)>>;

/// The proxy's address and what it saw.
pub struct LosingProxy {
    pub base_url: String,
    /// Writes whose answer is still to be lost.
    drops: Arc<AtomicUsize>,
    /// Every request received (dropped reads included): method, path and its
    /// `Idempotency-Key` (if any).
    pub seen: Seen,
    reads: ReadPlan,
}

impl LosingProxy {
    /// Proxies to `upstream` (`127.0.0.1:PORT`) and loses the answers of the first `drops`
    /// writes (any method but GET and HEAD).
    pub async fn start(upstream: std::net::SocketAddr, drops: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let drops = Arc::new(AtomicUsize::new(drops));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let reads: ReadPlan = Arc::default();
        let (d, s, r) = (drops.clone(), seen.clone(), reads.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let plan = Plan {
                    drops: d.clone(),
                    seen: s.clone(),
                    reads: r.clone(),
                };
                tokio::spawn(serve(client, upstream, plan));
            }
        });
        Self {
            base_url,
            drops,
            seen,
            reads,
        }
    }

    /// From now on, lets `pass` reads (GET, HEAD) through, then closes the connection of each
    /// of the next `lose` reads without forwarding it.
    pub fn lose_reads(&self, pass: usize, lose: usize) {
        *self.reads.lock().unwrap() = (pass, lose);
    }

    /// Writes whose answer is still to be lost.
    pub fn drops_left(&self) -> usize {
        self.drops.load(Ordering::SeqCst)
    }

    /// The requests forwarded with `method`.
    pub fn seen(&self, method: &str) -> Vec<(String, Option<String>)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _, _)| m == method)
            .map(|(_, path, key)| (path.clone(), key.clone()))
            .collect()
    }
}

/// What a connection's task shares with the proxy.
struct Plan {
    drops: Arc<AtomicUsize>,
    seen: Seen,
    reads: ReadPlan,
}

impl Plan {
    /// Whether this read is one to drop.
    fn lose_read(&self) -> bool {
        let mut reads = self.reads.lock().unwrap();
        let (pass, lose) = &mut *reads;
        if *pass > 0 {
            *pass -= 1;
            false
        } else if *lose > 0 {
            *lose -= 1;
            true
        } else {
            false
        }
    }
}

/// One client connection: requests forwarded one at a time (keep-alive), until one write's
/// answer is lost, a read is dropped or the client closes.
async fn serve(mut client: TcpStream, upstream: std::net::SocketAddr, plan: Plan) {
    let Plan { drops, seen, .. } = &plan;
    loop {
        let Some((request, head)) = read_message(&mut client).await else {
            return;
        };
        let mut words = head.lines().next().unwrap_or_default().split(' ');
        let method = words.next().unwrap_or_default().to_owned();
        let path = words.next().unwrap_or_default().to_owned();
        seen.lock()
            .unwrap()
            .push((method.clone(), path, field(&head, "idempotency-key")));
        let read = method == "GET" || method == "HEAD";
        if read && plan.lose_read() {
            return; // the connection drops before the request reaches the server
        }
        let mut server = TcpStream::connect(upstream).await.unwrap();
        server.write_all(&request).await.unwrap();
        let Some((response, _)) = read_message(&mut server).await else {
            return;
        };
        let lose = !read
            && drops
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        if lose {
            return; // the server committed and answered; the client never hears it
        }
        if client.write_all(&response).await.is_err() {
            return;
        }
    }
}

/// One HTTP/1.1 message with a `Content-Length` body (or none): its bytes and its head.
async fn read_message(stream: &mut TcpStream) -> Option<(Vec<u8>, String)> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        bytes.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let length: usize = field(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while bytes.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    Some((bytes, head))
}

fn field(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_owned())
    })
}
